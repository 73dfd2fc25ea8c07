//! The runtime side of the final test and of the document's sample: the journey's attempt
//! and sample commands applied in the step's transaction, the sample rendered (in the
//! binary, `crate::certificate`) and queued in the outbox with the change — the PDF and the
//! check request to Telegram, a letter with the PDF attached.
use base64::Engine as _;
use chrono::Datelike;
use sqlx::AnyConnection;

use super::letters::{QueuedAttachment, QueuedLetter};
use super::outbox::{enqueue_letter, enqueue_telegram, QueuedTelegram};
use super::App;
use crate::certificate::{render_sample, sha256_hex, Field, RenderError, SampleData};
use crate::domain::catalog::DocumentKind;
use crate::journey::reply::{plain_text, Reply};
use crate::journey::Command;
use crate::store::{self, attestation, audit, enrollments, LearnerRecord};
use crate::tr;

/// Applies an attempt or sample command; false when its guard finds the state changed.
pub async fn apply(
    app: &App,
    tx: &mut AnyConnection,
    learner: &LearnerRecord,
    command: &Command,
    now: i64,
) -> store::Result<bool> {
    let enrollment = match command {
        Command::StartAttempt { enrollment, .. }
        | Command::UpdateAttempt { enrollment, .. }
        | Command::IssueSample { enrollment, .. }
        | Command::ConfirmSample { enrollment, .. } => *enrollment,
        _ => return Ok(true),
    };
    let Some(e) = enrollments::by_id(tx, enrollment)
        .await?
        .filter(|e| e.learner_id == learner.id)
    else {
        return Ok(false);
    };
    match command {
        Command::StartAttempt {
            attempt,
            plan,
            token,
            deadline_at,
            ..
        } => {
            if !attestation::insert_attempt(tx, e.id, *attempt, plan, token, *deadline_at, now)
                .await?
            {
                return Ok(false);
            }
            if let Some(deadline) = deadline_at {
                crate::scheduler::attestation::on_attempt_started(
                    tx, e.id, *attempt, *deadline, now,
                )
                .await?;
            }
            audit::record(
                tx,
                now,
                "learner",
                "test-attempt-started",
                Some(learner.id),
                &format!("enrollment {}, attempt {attempt}", e.id),
            )
            .await?;
        }
        Command::UpdateAttempt {
            attempt,
            expected,
            progress,
            result,
            ..
        } => {
            if !attestation::update_attempt(tx, e.id, *attempt, expected, progress, result.as_ref())
                .await?
            {
                return Ok(false);
            }
            if let Some(r) = result {
                audit::record(
                    tx,
                    now,
                    "learner",
                    "test-attempt-finished",
                    Some(learner.id),
                    &format!(
                        "enrollment {}, attempt {attempt}: {} of {}, {}, {}",
                        e.id,
                        r.score,
                        r.total,
                        if r.passed { "passed" } else { "failed" },
                        r.ended_by.code()
                    ),
                )
                .await?;
            }
        }
        Command::IssueSample {
            version,
            full_name,
            postal_address,
            notice,
            letter,
            ..
        } => {
            return issue_sample(
                app,
                tx,
                learner,
                &e,
                *version,
                full_name,
                postal_address,
                notice,
                letter,
                now,
            )
            .await;
        }
        Command::ConfirmSample { version, .. } => {
            if !attestation::confirm_sample(tx, e.id, *version, now).await? {
                return Ok(false);
            }
            audit::record(
                tx,
                now,
                "learner",
                "sample-confirmed",
                Some(learner.id),
                &format!("enrollment {}, sample {version}", e.id),
            )
            .await?;
        }
        _ => {}
    }
    Ok(true)
}

/// «ПК-2027-000045»: the document kind's prefix, the year of issue, the enrollment.
pub fn registration_number(app: &App, kind: DocumentKind, year: i32, enrollment: i64) -> String {
    let t = &app.texts;
    let prefix = match kind {
        DocumentKind::Certificate => tr!(t, "registration-prefix-certificate"),
        DocumentKind::Diploma => tr!(t, "registration-prefix-diploma"),
        DocumentKind::Svidetelstvo => tr!(t, "registration-prefix-svidetelstvo"),
    };
    format!("{prefix}-{year}-{enrollment:06}")
}

/// The sample's PDF for an enrollment's document with this name.
pub fn render(
    app: &App,
    course: &crate::domain::catalog::Course,
    group: &crate::domain::catalog::Group,
    registration_number: &str,
    full_name: &str,
) -> Result<Vec<u8>, RenderError> {
    let data = SampleData {
        document: course.document,
        full_name: full_name.to_owned(),
        program_title: course.title.clone(),
        hours: course.hours,
        starts_on: group.starts_on,
        ends_on: group.ends_on,
        registration_number: registration_number.to_owned(),
        issued_on: group.ends_on,
        school_name: app.school.name.clone(),
        city: app.school_city.clone(),
    };
    let wording = app.texts.sample_wording(&data).map_err(|e| {
        tracing::error!(error = %e, "document wording");
        RenderError::Pdf(e.to_string())
    })?;
    render_sample(&data, &wording)
}

#[allow(clippy::too_many_arguments)]
async fn issue_sample(
    app: &App,
    tx: &mut AnyConnection,
    learner: &LearnerRecord,
    e: &store::EnrollmentRecord,
    version: i64,
    full_name: &str,
    postal_address: &str,
    notice: &Reply,
    letter: &str,
    now: i64,
) -> store::Result<bool> {
    let t = &app.texts;
    let catalog = app.catalog_in(tx).await?;
    let Some((course, group)) = catalog.group(&e.group_id) else {
        return Ok(false);
    };
    let existing = attestation::certificate(tx, e.id).await?;
    let number = match &existing {
        Some(c) => c.registration_number.clone(),
        None => registration_number(app, course.document, group.ends_on.year(), e.id),
    };
    let pdf = match render(app, course, group, &number, full_name) {
        Ok(pdf) => pdf,
        Err(error) => {
            // The learner hears why; the data stay as they were.
            let text = match error {
                RenderError::UnsupportedCharacter {
                    field: Field::FullName,
                    character,
                } => tr!(
                    t,
                    "doc-sample-error-name-character",
                    character = character.to_string()
                ),
                other => {
                    tracing::error!(enrollment = e.id, error = %other, "sample not rendered");
                    super::alerts::queue_general(
                        app,
                        tx,
                        &crate::journey::StaffAlert::IntegrationFailure {
                            service: "pdf".into(),
                            detail: format!("enrollment {}: {other}", e.id),
                        },
                        now,
                    )
                    .await?;
                    tr!(t, "doc-sample-error-internal")
                }
            };
            let key = format!("sample:{}:{version}:error:{now}", e.id);
            super::outbox::notify(app, tx, learner, &key, &Reply::text(text), now).await?;
            return Ok(true);
        }
    };
    let sha = sha256_hex(&pdf);
    if !attestation::save_sample(
        tx,
        e.id,
        version,
        &number,
        full_name,
        postal_address,
        &sha,
        now,
    )
    .await?
    {
        return Ok(false);
    }
    audit::record(
        tx,
        now,
        "system",
        "sample-issued",
        Some(learner.id),
        &format!(
            "enrollment {}, {number}, sample {version}, sha256 {sha}",
            e.id
        ),
    )
    .await?;
    let file_name = tr!(t, "sample-file-name", number = &number);
    let document = crate::journey::browse::document_name(t, course.document);
    let content = base64::engine::general_purpose::STANDARD.encode(&pdf);
    if let Some(chat) = learner.tg_chat_id {
        let file = QueuedTelegram::Document {
            chat_id: chat,
            file_name: file_name.clone(),
            content: content.clone(),
            caption: plain_text(&tr!(t, "sample-caption", document = &document)),
        };
        enqueue_telegram(tx, &format!("sample:{}:{version}:pdf", e.id), &file, now).await?;
        enqueue_telegram(
            tx,
            &format!("sample:{}:{version}:check", e.id),
            &QueuedTelegram::message(chat, notice),
            now,
        )
        .await?;
    }
    if let (Some(email), Some(_)) = (&learner.email, learner.email_verified_at) {
        let letter = QueuedLetter {
            to: email.clone(),
            subject: tr!(t, "sample-letter-subject", school = &app.school.name),
            text: letter.to_owned(),
            reply_to: None,
            message_id: crate::email::smtp::new_message_id(app.mail_domain()),
            in_reply_to: None,
            attachments: vec![QueuedAttachment {
                file_name,
                mime: "application/pdf".into(),
                content,
            }],
        };
        enqueue_letter(
            tx,
            &format!("sample:{}:{version}:letter", e.id),
            &letter,
            now,
        )
        .await?;
    }
    Ok(true)
}
