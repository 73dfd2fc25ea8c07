//! Alerts for the staff chat, rendered with the learner's name, course and group, queued in
//! the outbox in the transaction of the change they report.
use sqlx::AnyConnection;

use super::outbox::{enqueue_telegram, QueuedTelegram};
use super::App;
use crate::domain::catalog::Money;
use crate::journey::action::Action;
use crate::journey::application::{label, Field};
use crate::journey::reply::{Button, Reply};
use crate::journey::StaffAlert;
use crate::store::{self, enrollments, learners, LearnerRecord};
use crate::tr;

/// «Иванова Мария (@masha, m@example.org)»
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
        email = learner.email.clone().unwrap_or_default(),
        id = learner.id
    )
}

struct Subject {
    course: String,
    group: String,
}

async fn subject(
    app: &App,
    conn: &mut AnyConnection,
    enrollment: i64,
) -> store::Result<Option<(crate::store::EnrollmentRecord, Subject)>> {
    let Some(e) = enrollments::by_id(conn, enrollment).await? else {
        return Ok(None);
    };
    let catalog = app.catalog().await?;
    let (course, group) = match catalog.group(&e.group_id) {
        Some((c, g)) => (c.title.clone(), g.title.clone()),
        None => (e.course_id.clone(), e.group_id.clone()),
    };
    Ok(Some((e, Subject { course, group })))
}

/// Queues the alert (nothing when no staff chat is configured).
pub async fn queue(
    app: &App,
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
    alert: &StaffAlert,
    now: i64,
) -> store::Result<()> {
    let chat = app.staff.chat_id;
    if chat == 0 {
        return Ok(());
    }
    let t = &app.texts;
    let (key, reply, files) = match alert {
        StaffAlert::ConsentWithdrawn { documents } => (
            format!("alert:consent-withdrawn:{}", learner.id),
            Reply::text(tr!(
                t,
                "alert-consent-withdrawn",
                id = learner.id,
                documents = *documents
            )),
            Vec::new(),
        ),
        StaffAlert::NewLearner => (
            format!("alert:new-learner:{}", learner.id),
            Reply::text(tr!(t, "alert-new-learner", who = who(app, learner, None))),
            Vec::new(),
        ),
        StaffAlert::OfferAccepted { enrollment }
        | StaffAlert::Paid { enrollment }
        | StaffAlert::PaymentCanceled { enrollment }
        | StaffAlert::ApplicationReady { enrollment } => {
            let Some((e, s)) = subject(app, conn, *enrollment).await? else {
                return Ok(());
            };
            let form = enrollments::application(conn, e.id).await?.fields;
            let person = who(
                app,
                learner,
                Some(crate::journey::application::full_name(&form)),
            );
            match alert {
                StaffAlert::OfferAccepted { .. } => (
                    format!("alert:offer:{}", e.id),
                    Reply::text(tr!(
                        t,
                        "alert-offer-accepted",
                        who = person,
                        course = s.course,
                        group = s.group
                    )),
                    Vec::new(),
                ),
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
                    (
                        format!("alert:paid:{}", e.id),
                        Reply::text(tr!(
                            t,
                            "alert-paid",
                            who = person,
                            course = s.course,
                            group = s.group,
                            amount = amount,
                            via = via
                        )),
                        Vec::new(),
                    )
                }
                StaffAlert::PaymentCanceled { .. } => (
                    format!("alert:canceled:{}:{now}", e.id),
                    Reply::text(tr!(
                        t,
                        "alert-payment-canceled",
                        who = person,
                        course = s.course,
                        group = s.group
                    )),
                    Vec::new(),
                ),
                _ => {
                    let lines: Vec<String> = Field::ALL
                        .iter()
                        .map(|f| {
                            format!(
                                "{}: {}",
                                crate::journey::reply::escape(&label(&app.texts, *f)),
                                crate::journey::reply::escape(
                                    form.get(f.key()).map(String::as_str).unwrap_or("—")
                                )
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
                        who = person,
                        course = s.course,
                        group = s.group,
                        fields = crate::texts::Html(lines.join("\n")),
                        count = docs.len()
                    ))
                    .row(vec![
                        Button::action(tr!(t, "btn-staff-accept"), Action::StaffAccept(e.id)),
                        Button::action(tr!(t, "btn-staff-return"), Action::StaffReturn(e.id)),
                    ]);
                    let stamp = e.submitted_at.unwrap_or(now);
                    let files = docs
                        .into_iter()
                        .map(|d| {
                            (
                                format!("alert:application:{}:{stamp}:doc:{}", e.id, d.id),
                                QueuedTelegram::File {
                                    chat_id: chat,
                                    caption: tr!(
                                        t,
                                        "alert-document-caption",
                                        id = d.id,
                                        kind = d.kind.clone(),
                                        learner = learner.id
                                    ),
                                    storage_key: d.storage_key,
                                    file_name: d.file_name,
                                },
                            )
                        })
                        .collect();
                    (format!("alert:application:{}:{stamp}", e.id), reply, files)
                }
            }
        }
    };
    enqueue_telegram(conn, &key, &QueuedTelegram::message(chat, &reply), now).await?;
    for (key, file) in files {
        enqueue_telegram(conn, &key, &file, now).await?;
    }
    Ok(())
}

/// An outside service failed: staff hear of it at most once an hour per service.
pub async fn integration_failure(app: &App, service: &str, detail: &str) {
    if app.staff.chat_id == 0 {
        return;
    }
    let now = app.now().timestamp();
    let key = format!("alert:integration:{service}:{}", now / 3600);
    let reply = Reply::text(tr!(
        app.texts,
        "alert-integration",
        service = service,
        detail = detail
    ));
    let result = async {
        let mut conn = app.store.pool().acquire().await?;
        enqueue_telegram(
            &mut conn,
            &key,
            &QueuedTelegram::message(app.staff.chat_id, &reply),
            now,
        )
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not queue an integration alert");
    }
}

pub async fn learner(conn: &mut AnyConnection, id: i64) -> store::Result<Option<LearnerRecord>> {
    learners::by_id(conn, id).await
}
