//! Alerts for the staff chat, rendered with the learner's name, course and group and the
//! buttons for the action they call for, queued in `staff_alerts` in the transaction of the
//! change they report. The staff-alert worker ([`super::staff_alerts`]) hands them to the
//! outbox one by one, or as a digest per kind when many come at once, each kind in its own
//! forum topic when the staff chat is a forum.
//!
//! Callers: the journey (`Command::AlertStaff`, through [`queue`]); the mail channel
//! ([`StaffAlert::DocumentsByEmail`], [`StaffAlert::UnknownSender`] with [`queue_general`],
//! [`StaffAlert::LetterBounced`]); attestation ([`StaffAlert::TestResult`]); certificates
//! ([`StaffAlert::CertificateConfirmed`], [`StaffAlert::CertificateCorrected`]); adapters
//! ([`integration_failure`]).
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::outbox::OutButton;
use super::staff_auth::{signer, Signer, StaffAction};
use super::App;
use crate::domain::catalog::Money;
use crate::journey::application::{label, Field};
use crate::journey::reply::{escape, Button, Reply};
use crate::journey::StaffAlert;
use crate::store::{self, audit, enrollments, learners, LearnerRecord};
use crate::texts::Html;
use crate::tr;

/// The kind of an alert: its forum topic, and the unit of digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    Learners,
    Payments,
    Applications,
    Mail,
    Tests,
    Certificates,
    Integrations,
}

impl AlertKind {
    pub const ALL: [AlertKind; 7] = [
        Self::Learners,
        Self::Payments,
        Self::Applications,
        Self::Mail,
        Self::Tests,
        Self::Certificates,
        Self::Integrations,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Learners => "learners",
            Self::Payments => "payments",
            Self::Applications => "applications",
            Self::Mail => "mail",
            Self::Tests => "tests",
            Self::Certificates => "certificates",
            Self::Integrations => "integrations",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The topic's name in the staff forum, and the title of a digest.
    pub fn title(self, t: &crate::texts::Texts) -> String {
        match self {
            Self::Learners => tr!(t, "alert-kind-learners"),
            Self::Payments => tr!(t, "alert-kind-payments"),
            Self::Applications => tr!(t, "alert-kind-applications"),
            Self::Mail => tr!(t, "alert-kind-mail"),
            Self::Tests => tr!(t, "alert-kind-tests"),
            Self::Certificates => tr!(t, "alert-kind-certificates"),
            Self::Integrations => tr!(t, "alert-kind-integrations"),
        }
    }
}

/// A file that follows an alert (a document of the learner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertFile {
    pub storage_key: String,
    pub file_name: String,
    pub caption: String,
}

/// An alert as queued: the message with its (signed) buttons and the files that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPayload {
    pub text: String,
    pub buttons: Vec<Vec<OutButton>>,
    #[serde(default)]
    pub files: Vec<AlertFile>,
}

struct Rendered {
    key: String,
    kind: AlertKind,
    /// One line for a digest (HTML).
    summary: String,
    reply: Reply,
    files: Vec<AlertFile>,
}

/// «Иванова Мария (@masha), m@example.org, слушатель № 12»
fn who(app: &App, learner: &LearnerRecord, form_name: Option<String>) -> String {
    let name = form_name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| learner.display_name.clone());
    tr!(
        app.texts,
        "alert-who",
        name = name,
        username = learner
            .tg_username
            .as_ref()
            .map(|u| format!(" (@{u})"))
            .unwrap_or_default(),
        email = learner
            .email
            .as_ref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default(),
        id = learner.id
    )
}

/// The learner's name as staff know it: from the application form when there is one.
pub async fn person_name(
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
) -> store::Result<String> {
    let name = enrollments::last_application_of(conn, learner.id)
        .await?
        .map(|f| crate::journey::application::full_name(&f))
        .filter(|n| !n.is_empty());
    Ok(name.unwrap_or_else(|| learner.display_name.clone()))
}

struct Subject {
    enrollment: store::EnrollmentRecord,
    course: String,
    group: String,
    form_name: Option<String>,
}

async fn subject(
    app: &App,
    conn: &mut AnyConnection,
    enrollment: i64,
) -> store::Result<Option<Subject>> {
    let Some(e) = enrollments::by_id(conn, enrollment).await? else {
        return Ok(None);
    };
    let catalog = app.catalog_in(conn).await?;
    let (course, group) = match catalog.group(&e.group_id) {
        Some((c, g)) => (c.title.clone(), g.title.clone()),
        None => (e.course_id.clone(), e.group_id.clone()),
    };
    let form = enrollments::application(conn, e.id).await?.fields;
    let form_name = Some(crate::journey::application::full_name(&form)).filter(|n| !n.is_empty());
    Ok(Some(Subject {
        enrollment: e,
        course,
        group,
        form_name,
    }))
}

fn card_button(app: &App, signer: &Signer, learner: i64) -> Button {
    Button::action(
        tr!(app.texts, "btn-staff-card"),
        signer.sign(app.staff.chat_id, &StaffAction::Card(learner)),
    )
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Queues an alert about a learner (nothing when no staff chat is configured).
pub async fn queue(
    app: &App,
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
    alert: &StaffAlert,
    now: i64,
) -> store::Result<()> {
    enqueue(app, conn, Some(learner), alert, now).await
}

/// Queues an alert that concerns no known learner: [`StaffAlert::UnknownSender`],
/// [`StaffAlert::LetterBounced`] to an address nobody has, [`StaffAlert::IntegrationFailure`].
pub async fn queue_general(
    app: &App,
    conn: &mut AnyConnection,
    alert: &StaffAlert,
    now: i64,
) -> store::Result<()> {
    enqueue(app, conn, None, alert, now).await
}

async fn enqueue(
    app: &App,
    conn: &mut AnyConnection,
    learner: Option<&LearnerRecord>,
    alert: &StaffAlert,
    now: i64,
) -> store::Result<()> {
    if app.staff.chat_id == 0 {
        return Ok(());
    }
    let signer = signer(app, conn).await?;
    let Some(r) = render(app, conn, &signer, learner, alert, now).await? else {
        tracing::warn!(?alert, "staff alert about a record that is gone; not sent");
        return Ok(());
    };
    let payload = AlertPayload {
        text: r.reply.text.clone(),
        buttons: match super::outbox::QueuedTelegram::message(app.staff.chat_id, &r.reply) {
            super::outbox::QueuedTelegram::Message { buttons, .. } => buttons,
            _ => Vec::new(),
        },
        files: r.files,
    };
    let new = store::staff::insert_alert(
        conn,
        &r.key,
        r.kind.code(),
        learner.map(|l| l.id),
        &r.summary,
        &store::to_json(&payload),
        now,
    )
    .await?;
    if new && !payload.files.is_empty() {
        // Documents shown in the staff chat are an access to the learner's data.
        let names: Vec<&str> = payload.files.iter().map(|f| f.file_name.as_str()).collect();
        audit::record(
            conn,
            now,
            "system",
            "documents-sent-to-staff-chat",
            learner.map(|l| l.id),
            &names.join(", "),
        )
        .await?;
    }
    Ok(())
}

async fn render(
    app: &App,
    conn: &mut AnyConnection,
    signer: &Signer,
    learner: Option<&LearnerRecord>,
    alert: &StaffAlert,
    now: i64,
) -> store::Result<Option<Rendered>> {
    let t = &app.texts;
    let chat = app.staff.chat_id;
    let line = |who: &str, what: String| {
        tr!(
            t,
            "alert-line",
            who = Html(who.to_owned()),
            what = Html(what)
        )
    };
    let course_line =
        |s: &Subject| tr!(t, "alert-line-course", course = &s.course, group = &s.group);
    // Alerts without a learner first.
    match alert {
        StaffAlert::UnknownSender { from, subject } => {
            let day = now / 86_400;
            return Ok(Some(Rendered {
                key: format!(
                    "alert:unknown-sender:{}:{day}",
                    short_hash(&format!("{from}\n{subject}"))
                ),
                kind: AlertKind::Mail,
                summary: tr!(
                    t,
                    "alert-line-unknown-sender",
                    from = from,
                    subject = subject
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-unknown-sender",
                    from = from,
                    subject = subject
                )),
                files: Vec::new(),
            }));
        }
        StaffAlert::IntegrationFailure { service, detail } => {
            // One alert per outage when the outage is tracked (so every «снова работает»
            // follows its own failure alert); otherwise at most one an hour.
            let period = match app.health.failing_since(service) {
                Some(since) => format!("since-{since}"),
                None => (now / 3600).to_string(),
            };
            return Ok(Some(Rendered {
                key: format!("alert:integration:{service}:{period}"),
                kind: AlertKind::Integrations,
                summary: tr!(
                    t,
                    "alert-line-integration",
                    service = service,
                    detail = detail
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-integration",
                    service = service,
                    detail = detail
                )),
                files: Vec::new(),
            }));
        }
        StaffAlert::IntegrationRecovered { service, since } => {
            let minutes = ((now - since).max(0) + 59) / 60;
            return Ok(Some(Rendered {
                key: format!("alert:integration-recovered:{service}:{since}"),
                kind: AlertKind::Integrations,
                summary: tr!(
                    t,
                    "alert-line-integration-recovered",
                    service = service,
                    minutes = minutes
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-integration-recovered",
                    service = service,
                    minutes = minutes
                )),
                files: Vec::new(),
            }));
        }
        StaffAlert::LetterBounced { to, reason } => {
            let person = match learner {
                Some(l) => who(app, l, Some(person_name(conn, l).await?)),
                None => tr!(t, "alert-nobody"),
            };
            let mut reply = Reply::text(tr!(
                t,
                "alert-letter-bounced",
                to = to,
                reason = reason,
                who = Html(person.clone())
            ));
            if let Some(l) = learner {
                reply = reply.button(card_button(app, signer, l.id));
            }
            return Ok(Some(Rendered {
                key: format!("alert:bounce:{}:{}", short_hash(to), now / 3600),
                kind: AlertKind::Mail,
                summary: line(&person, tr!(t, "alert-line-bounced", to = to)),
                reply,
                files: Vec::new(),
            }));
        }
        _ => {}
    }
    let Some(learner) = learner else {
        tracing::error!(
            ?alert,
            "a learner's staff alert was queued without the learner"
        );
        return Ok(None);
    };
    if let StaffAlert::ConsentWithdrawn { documents } = alert {
        // By number only: the person's data is being destroyed.
        let text = tr!(
            t,
            "alert-consent-withdrawn",
            id = learner.id,
            documents = *documents
        );
        return Ok(Some(Rendered {
            key: format!("alert:consent-withdrawn:{}", learner.id),
            kind: AlertKind::Learners,
            summary: tr!(t, "alert-line-consent-withdrawn", id = learner.id),
            reply: Reply::text(text),
            files: Vec::new(),
        }));
    }
    let card = card_button(app, signer, learner.id);
    if let Some(rendered) = mail_alert(app, conn, signer, learner, alert, card.clone()).await? {
        return Ok(Some(rendered));
    }
    if let StaffAlert::NewLearner = alert {
        let person = who(app, learner, None);
        return Ok(Some(Rendered {
            key: format!("alert:new-learner:{}", learner.id),
            kind: AlertKind::Learners,
            summary: line(&person, tr!(t, "alert-line-new")),
            reply: Reply::text(tr!(t, "alert-new-learner", who = Html(person))).button(card),
            files: Vec::new(),
        }));
    }
    if let StaffAlert::DocumentsByEmail {
        enrollment,
        documents,
    } = alert
    {
        let mut docs = Vec::new();
        for id in documents {
            if let Some(d) = enrollments::document(conn, *id).await? {
                if d.learner_id == learner.id {
                    docs.push(d);
                }
            }
        }
        let s = match enrollment {
            Some(e) => subject(app, conn, *e).await?,
            None => None,
        };
        let person = who(app, learner, Some(person_name(conn, learner).await?));
        let course = s.as_ref().map(&course_line).unwrap_or_default();
        let names: Vec<String> = docs.iter().map(|d| escape(&d.file_name)).collect();
        let ids: Vec<String> = documents.iter().map(i64::to_string).collect();
        let files = docs
            .iter()
            .map(|d| AlertFile {
                storage_key: d.storage_key.clone(),
                file_name: d.file_name.clone(),
                caption: tr!(
                    t,
                    "alert-document-caption",
                    id = d.id,
                    kind = doc_kind_name(app, &d.kind),
                    learner = learner.id
                ),
            })
            .collect();
        return Ok(Some(Rendered {
            key: format!("alert:mail-docs:{}:{}", learner.id, ids.join("-")),
            kind: AlertKind::Applications,
            summary: line(&person, tr!(t, "alert-line-mail-docs", count = docs.len())),
            reply: Reply::text(tr!(
                t,
                "alert-documents-by-email",
                who = Html(person),
                course = Html(course),
                files = Html(names.join(", ")),
                count = docs.len()
            ))
            .button(card),
            files,
        }));
    }
    let enrollment = match alert {
        StaffAlert::OfferAccepted { enrollment }
        | StaffAlert::Paid { enrollment }
        | StaffAlert::PaymentCanceled { enrollment }
        | StaffAlert::ApplicationReady { enrollment }
        | StaffAlert::TestResult { enrollment, .. }
        | StaffAlert::CertificateConfirmed { enrollment }
        | StaffAlert::CertificateCorrected { enrollment, .. }
        | StaffAlert::SampleDataMissing { enrollment, .. }
        | StaffAlert::TestNotTakenByLetter { enrollment } => *enrollment,
        _ => return Ok(None),
    };
    let Some(s) = subject(app, conn, enrollment).await? else {
        return Ok(None);
    };
    if s.enrollment.learner_id != learner.id {
        tracing::error!(
            enrollment,
            learner = learner.id,
            "alert about another learner's enrollment"
        );
        return Ok(None);
    }
    let person = who(app, learner, s.form_name.clone());
    let e = &s.enrollment;
    let course = course_line(&s);
    let rendered = match alert {
        StaffAlert::OfferAccepted { .. } => Rendered {
            key: format!("alert:offer:{}", e.id),
            kind: AlertKind::Learners,
            summary: line(
                &person,
                tr!(t, "alert-line-offer", course = Html(course.clone())),
            ),
            reply: Reply::text(tr!(
                t,
                "alert-offer-accepted",
                who = Html(person.clone()),
                course = Html(course)
            ))
            .button(card),
            files: Vec::new(),
        },
        StaffAlert::Paid { .. } => {
            let order = enrollments::order_of(conn, e.id).await?;
            let (amount, via) = order
                .map(|o| {
                    (
                        Money(o.amount_kopecks).display_rub(),
                        o.paid_via.unwrap_or_default(),
                    )
                })
                .unwrap_or_default();
            Rendered {
                key: format!("alert:paid:{}", e.id),
                kind: AlertKind::Payments,
                summary: line(
                    &person,
                    tr!(
                        t,
                        "alert-line-paid",
                        amount = &amount,
                        course = Html(course.clone())
                    ),
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-paid",
                    who = Html(person.clone()),
                    course = Html(course),
                    amount = amount,
                    via = via_name(app, &via)
                ))
                .button(card),
                files: Vec::new(),
            }
        }
        StaffAlert::PaymentCanceled { .. } => Rendered {
            key: format!("alert:canceled:{}:{now}", e.id),
            kind: AlertKind::Payments,
            summary: line(
                &person,
                tr!(t, "alert-line-canceled", course = Html(course.clone())),
            ),
            reply: Reply::text(tr!(
                t,
                "alert-payment-canceled",
                who = Html(person.clone()),
                course = Html(course)
            ))
            .button(card),
            files: Vec::new(),
        },
        StaffAlert::ApplicationReady { .. } => {
            let form = enrollments::application(conn, e.id).await?.fields;
            let lines: Vec<String> = Field::ALL
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        escape(&label(&app.texts, *f)),
                        escape(&shown_field(app, *f, form.get(f.key()).map(String::as_str)))
                    )
                })
                .collect();
            let docs: Vec<_> = enrollments::documents_of_enrollment(conn, e.id)
                .await?
                .into_iter()
                .filter(|d| d.status != "replaced")
                .collect();
            let reply = Reply::text(tr!(
                t,
                "alert-application",
                who = Html(person.clone()),
                course = Html(course.clone()),
                fields = Html(lines.join("\n")),
                count = docs.len()
            ))
            .row(vec![
                Button::action(
                    tr!(t, "btn-staff-accept"),
                    signer.sign(chat, &StaffAction::Accept(e.id)),
                ),
                Button::action(
                    tr!(t, "btn-staff-return"),
                    signer.sign(chat, &StaffAction::Return(e.id)),
                ),
            ])
            .button(card);
            let stamp = e.submitted_at.unwrap_or(now);
            let files = docs
                .into_iter()
                .map(|d| AlertFile {
                    caption: tr!(
                        t,
                        "alert-document-caption",
                        id = d.id,
                        kind = doc_kind_name(app, &d.kind),
                        learner = learner.id
                    ),
                    storage_key: d.storage_key,
                    file_name: d.file_name,
                })
                .collect();
            Rendered {
                key: format!("alert:application:{}:{stamp}", e.id),
                kind: AlertKind::Applications,
                summary: line(
                    &person,
                    tr!(t, "alert-line-application", course = Html(course)),
                ),
                reply,
                files,
            }
        }
        StaffAlert::TestResult {
            attempt,
            score,
            total,
            passed,
            ..
        } => {
            let result = if *passed {
                tr!(t, "alert-test-passed", score = *score, total = *total)
            } else {
                tr!(t, "alert-test-failed", score = *score, total = *total)
            };
            Rendered {
                key: format!("alert:test:{}:{attempt}", e.id),
                kind: AlertKind::Tests,
                summary: line(&person, format!("{result} · {course}")),
                reply: Reply::text(tr!(
                    t,
                    "alert-test-result",
                    who = Html(person.clone()),
                    course = Html(course),
                    result = Html(result),
                    attempt = *attempt
                ))
                .button(card),
                files: Vec::new(),
            }
        }
        StaffAlert::CertificateConfirmed { .. } => {
            let certificate = store::staff::certificate(conn, e.id).await?;
            let number = certificate
                .map(|c| c.registration_number)
                .unwrap_or_default();
            Rendered {
                key: format!("alert:certificate-confirmed:{}", e.id),
                kind: AlertKind::Certificates,
                summary: line(
                    &person,
                    tr!(t, "alert-line-certificate-confirmed", number = &number),
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-certificate-confirmed",
                    who = Html(person.clone()),
                    course = Html(course),
                    number = number
                ))
                .row(vec![
                    Button::action(
                        tr!(t, "btn-staff-printed"),
                        signer.sign(chat, &StaffAction::Printed(e.id)),
                    ),
                    card,
                ]),
                files: Vec::new(),
            }
        }
        StaffAlert::CertificateCorrected { note, .. } => Rendered {
            key: format!("alert:certificate-corrected:{}:{}", e.id, short_hash(note)),
            kind: AlertKind::Certificates,
            summary: line(&person, tr!(t, "alert-line-certificate-corrected")),
            reply: Reply::text(tr!(
                t,
                "alert-certificate-corrected",
                who = Html(person.clone()),
                course = Html(course),
                note = note
            ))
            .button(card),
            files: Vec::new(),
        },
        StaffAlert::SampleDataMissing { name, address, .. } => {
            let missing = match (name, address) {
                (true, true) => tr!(t, "alert-missing-name-address"),
                (true, false) => tr!(t, "alert-missing-name"),
                _ => tr!(t, "alert-missing-address"),
            };
            Rendered {
                key: format!("alert:sample-data:{}", e.id),
                kind: AlertKind::Certificates,
                summary: line(
                    &person,
                    tr!(t, "alert-line-sample-data", missing = &missing),
                ),
                reply: Reply::text(tr!(
                    t,
                    "alert-sample-data",
                    who = Html(person.clone()),
                    course = Html(course),
                    missing = missing
                ))
                .button(card),
                files: Vec::new(),
            }
        }
        StaffAlert::TestNotTakenByLetter { .. } => Rendered {
            key: format!("alert:test-by-letter:{}", e.id),
            kind: AlertKind::Tests,
            summary: line(&person, tr!(t, "alert-line-test-by-letter")),
            reply: Reply::text(tr!(
                t,
                "alert-test-by-letter",
                who = Html(person.clone()),
                course = Html(course)
            ))
            .button(card),
            files: Vec::new(),
        },
        _ => return Ok(None),
    };
    Ok(Some(rendered))
}

/// Alerts of the email channel about a known learner: a question by email, a letter
/// held because its sender is not proven.
async fn mail_alert(
    app: &App,
    conn: &mut AnyConnection,
    signer: &Signer,
    learner: &LearnerRecord,
    alert: &StaffAlert,
    card: Button,
) -> store::Result<Option<Rendered>> {
    if !matches!(
        alert,
        StaffAlert::QuestionByEmail { .. } | StaffAlert::LetterHeld { .. }
    ) {
        return Ok(None);
    }
    let t = &app.texts;
    let person = who(app, learner, Some(person_name(conn, learner).await?));
    let line = |what: String| {
        tr!(
            t,
            "alert-line",
            who = Html(person.clone()),
            what = Html(what)
        )
    };
    Ok(Some(match alert {
        StaffAlert::QuestionByEmail {
            enrollment,
            subject: topic,
            text,
        } => {
            let course = match enrollment {
                Some(e) => subject(app, conn, *e)
                    .await?
                    .map(|s| tr!(t, "alert-line-course", course = &s.course, group = &s.group))
                    .unwrap_or_default(),
                None => String::new(),
            };
            Rendered {
                key: format!(
                    "alert:mail-question:{}:{}",
                    learner.id,
                    short_hash(&format!("{topic}\n{text}"))
                ),
                kind: AlertKind::Mail,
                summary: line(tr!(t, "alert-line-mail-question", subject = topic)),
                reply: Reply::text(tr!(
                    t,
                    "alert-mail-question",
                    who = Html(person.clone()),
                    course = Html(course),
                    subject = topic,
                    text = text
                ))
                .button(card),
                files: Vec::new(),
            }
        }
        StaffAlert::LetterHeld {
            letter,
            from,
            subject: topic,
        } => Rendered {
            key: format!("alert:mail-held:{letter}"),
            kind: AlertKind::Mail,
            summary: line(tr!(t, "alert-line-mail-held", from = from)),
            reply: Reply::text(tr!(
                t,
                "alert-mail-held",
                who = Html(person.clone()),
                from = from,
                subject = topic
            ))
            .row(vec![
                Button::action(
                    tr!(t, "btn-staff-release-letter"),
                    signer.sign(app.staff.chat_id, &StaffAction::ReleaseLetter(*letter)),
                ),
                Button::action(
                    tr!(t, "btn-staff-reject-letter"),
                    signer.sign(app.staff.chat_id, &StaffAction::RejectLetter(*letter)),
                ),
            ])
            .button(card),
            files: Vec::new(),
        },
        _ => return Ok(None),
    }))
}

/// A form value as staff read it: education by name, empty optional fields said so.
pub fn shown_field(app: &App, field: Field, value: Option<&str>) -> String {
    use crate::domain::personal::EducationLevel;
    let t = &app.texts;
    match (field, value) {
        (_, None) => "—".to_owned(),
        (Field::Patronymic, Some("")) => tr!(t, "field-none"),
        (Field::DiplomaName, Some("")) => tr!(t, "field-diploma-same"),
        (Field::Education, Some(code)) => EducationLevel::parse(code)
            .map(|l| t.get(l.message_id(), None))
            .unwrap_or_else(|_| code.to_owned()),
        (_, Some(v)) => v.to_owned(),
    }
}

/// How an order was paid, as staff read it.
pub fn via_name(app: &App, via: &str) -> String {
    let t = &app.texts;
    match via {
        "yookassa" => tr!(t, "paid-via-yookassa"),
        "manual" => tr!(t, "paid-via-manual"),
        "demo" => tr!(t, "paid-via-demo"),
        other => other.to_owned(),
    }
}

/// A document kind's name from its stored key.
pub fn doc_kind_name(app: &App, key: &str) -> String {
    use crate::journey::documents::DocKind;
    let t = &app.texts;
    match DocKind::from_key(key) {
        Some(DocKind::Passport) => tr!(t, "doc-passport"),
        Some(DocKind::Education) => tr!(t, "doc-education"),
        Some(DocKind::NameChange) => tr!(t, "doc-name-change"),
        None => key.to_owned(),
    }
}

/// An outside service failed: staff hear of it at most once an hour per service.
pub async fn integration_failure(app: &App, service: &str, detail: &str) {
    let alert = StaffAlert::IntegrationFailure {
        service: service.to_owned(),
        detail: detail.to_owned(),
    };
    queue_outside_transaction(app, &alert, "an integration alert").await;
}

/// Queues a general alert on a connection of its own; a failure to queue is logged, since
/// the caller is already handling the trouble being reported.
async fn queue_outside_transaction(app: &App, alert: &StaffAlert, what: &str) {
    if app.staff.chat_id == 0 {
        return;
    }
    let now = app.now().timestamp();
    let result = async {
        let mut conn = app.store.pool().acquire().await?;
        queue_general(app, &mut conn, alert, now).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not queue {what}");
    }
}

/// A call to an outside service failed: staff hear once it has failed for a while
/// (`[resilience] alert_after_seconds`), or at once when `at_once` (a learner was turned
/// away), and not again until it has worked in between.
pub async fn service_failing(app: &App, service: &str, detail: &str, at_once: bool) {
    let now = app.now().timestamp();
    if app.health.failed(service, now, at_once) == super::health::Verdict::Alert {
        integration_failure(app, service, detail).await;
    }
}

/// A call to an outside service went through: staff hear it recovered when they had been
/// told it failed.
pub async fn service_working(app: &App, service: &str) {
    let super::health::Verdict::Recovered { since } = app.health.succeeded(service) else {
        return;
    };
    tracing::info!(service, since, "service works again");
    integration_recovered(app, service, since).await;
}

/// Queues "the service works again" for staff.
pub async fn integration_recovered(app: &App, service: &str, since: i64) {
    let alert = StaffAlert::IntegrationRecovered {
        service: service.to_owned(),
        since,
    };
    queue_outside_transaction(app, &alert, "a recovery alert").await;
}

pub async fn learner(conn: &mut AnyConnection, id: i64) -> store::Result<Option<LearnerRecord>> {
    learners::by_id(conn, id).await
}
