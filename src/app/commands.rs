//! Carrying out the journey's commands: state changes inside the step's transaction, outside
//! work (mail, payments, downloads) after it, with the result fed back as an event.
use rand::Rng;
use sqlx::AnyConnection;

use super::engine::Origin;
use super::files::{accepted_type, sha256_hex};
use super::letters::QueuedLetter;
use super::messenger::{Messenger, SendError};
use super::outbox::enqueue_letter;
use super::{alerts, payments, App};
use crate::journey::documents::{FileRefusal, IncomingFile};
use crate::journey::registration::{code_hash, CODE_ATTEMPTS, CODE_TTL_SECONDS};
use crate::journey::{Command, Event};
use crate::store::{self, audit, enrollments, learners, LearnerRecord};
use crate::tr;

/// Applies a state-changing command inside the step's transaction. False when a guard found
/// the work already done (the whole step is then dropped).
pub async fn apply(
    app: &App,
    tx: &mut AnyConnection,
    learner: &LearnerRecord,
    command: &Command,
    now: i64,
) -> store::Result<bool> {
    match command {
        Command::RecordConsent { granted } => {
            let version = &app.school.consent_version;
            learners::record_consent(tx, learner.id, *granted, version, now).await?;
            let action = if *granted {
                "consent-given"
            } else {
                "consent-refused"
            };
            audit::record(tx, now, "learner", action, Some(learner.id), version).await?;
        }
        Command::SpendCodeAttempt => learners::spend_code_attempt(tx, learner.id).await?,
        Command::MarkPaid { enrollment, via } => {
            let Some(order) = owned_order(tx, learner, *enrollment).await? else {
                return Ok(false);
            };
            if !enrollments::mark_paid(tx, order.id, via, None, None, now).await? {
                return Ok(false);
            }
            audit::record(
                tx,
                now,
                via,
                "order-paid",
                Some(learner.id),
                &format!("order {}", order.id),
            )
            .await?;
        }
        Command::SaveForm {
            enrollment,
            fields,
            completed,
        } => {
            if owned(tx, learner, *enrollment).await?.is_none() {
                return Ok(false);
            }
            enrollments::save_application(tx, *enrollment, fields, *completed, now).await?;
        }
        Command::Submit { enrollment } => {
            if owned(tx, learner, *enrollment).await?.is_none()
                || !enrollments::submit_for_review(tx, *enrollment, now).await?
            {
                return Ok(false);
            }
            audit::record(
                tx,
                now,
                "learner",
                "application-submitted",
                Some(learner.id),
                &format!("enrollment {enrollment}"),
            )
            .await?;
            crate::scheduler::on_enrolled(tx, *enrollment, now).await?;
            if let Some(e) = enrollments::by_id(tx, *enrollment).await? {
                let catalog = app.catalog_in(tx).await?;
                crate::scheduler::attestation::on_enrolled(tx, &catalog, app.school.tz, &e, now)
                    .await?;
            }
        }
        Command::AlertStaff(alert) => alerts::queue(app, tx, learner, alert, now).await?,
        Command::SetTimezone { tz } => learners::set_timezone(tx, learner.id, tz, now).await?,
        Command::CompleteJob(job) => {
            if !store::jobs::complete(tx, job.id, &job.worker, now).await? {
                return Ok(false);
            }
        }
        Command::SortDocument { document, kind } => {
            if !store::mail::sort_document(tx, learner.id, *document, kind.key()).await? {
                return Ok(false);
            }
        }
        Command::StartAttempt { .. }
        | Command::UpdateAttempt { .. }
        | Command::IssueSample { .. }
        | Command::ConfirmSample { .. } => {
            return super::attestation::apply(app, tx, learner, command, now).await;
        }
        // Outside work runs after the transaction.
        Command::SendEmailCode { .. }
        | Command::ConfirmEmail { .. }
        | Command::AcceptOffer { .. }
        | Command::RequestPayment { .. }
        | Command::CheckPayment { .. }
        | Command::StoreDocument { .. }
        | Command::ExportData
        | Command::Forget => {}
    }
    Ok(true)
}

async fn owned(
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
    enrollment: i64,
) -> store::Result<Option<crate::store::EnrollmentRecord>> {
    Ok(enrollments::by_id(conn, enrollment)
        .await?
        .filter(|e| e.learner_id == learner.id))
}

async fn owned_order(
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
    enrollment: i64,
) -> store::Result<Option<crate::store::OrderRecord>> {
    if owned(conn, learner, enrollment).await?.is_none() {
        return Ok(None);
    }
    enrollments::order_of(conn, enrollment).await
}

/// Runs a command that talks to the outside world; its result comes back as an event.
pub async fn run_external(
    app: &App,
    messenger: &dyn Messenger,
    learner: &LearnerRecord,
    origin: &Origin,
    command: &Command,
) -> anyhow::Result<Option<Event>> {
    let now = app.now().timestamp();
    Ok(match command {
        Command::SendEmailCode { email } => {
            let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
            let mut tx = app.store.begin().await?;
            learners::start_verification(
                &mut tx,
                learner.id,
                email,
                &code_hash(learner.id, email, &code),
                CODE_ATTEMPTS,
                now,
                now + CODE_TTL_SECONDS,
            )
            .await?;
            let sends = learners::verification(&mut tx, learner.id)
                .await?
                .map_or(1, |v| v.sends);
            let letter = QueuedLetter {
                to: email.clone(),
                subject: tr!(app.texts, "letter-code-subject", school = &app.school.name),
                text: tr!(
                    app.texts,
                    "letter-code",
                    code = &code,
                    minutes = CODE_TTL_SECONDS / 60,
                    school = &app.school.name
                ),
                // Not yet the learner's verified address: the token finds them if they
                // answer the letter (with the code, or a question).
                reply_to: learner
                    .mail_token
                    .as_deref()
                    .and_then(|token| super::mail_in::plus_address(&app.school_mailbox, token)),
                message_id: crate::email::smtp::new_message_id(app.mail_domain()),
                in_reply_to: None,
                attachments: Vec::new(),
            };
            let key = format!("letter:code:{}:{email}:{sends}:{now}", learner.id);
            enqueue_letter(&mut tx, &key, &letter, now).await?;
            tx.commit().await?;
            Some(Event::EmailCodeSent {
                email: email.clone(),
            })
        }
        Command::ConfirmEmail { email } => {
            let mut tx = app.store.begin().await?;
            let ok = learners::confirm_email(&mut tx, learner.id, email, now).await?;
            if ok {
                audit::record(
                    &mut tx,
                    now,
                    "learner",
                    "email-verified",
                    Some(learner.id),
                    "",
                )
                .await?;
            }
            tx.commit().await?;
            Some(if ok {
                Event::EmailConfirmed {
                    email: email.clone(),
                }
            } else {
                Event::EmailTaken {
                    email: email.clone(),
                }
            })
        }
        Command::AcceptOffer { group_id } => {
            let catalog = app.catalog().await?;
            let Some((course, _)) = catalog.group(group_id) else {
                return Ok(None);
            };
            let Some(offer) = catalog.offer_for(course) else {
                return Ok(None);
            };
            let mut tx = app.store.begin().await?;
            let acceptance = enrollments::OfferAcceptance {
                learner_id: learner.id,
                course_id: &course.id,
                group_id,
                offer_version: &offer.version,
                offer_sha256: &offer.sha256,
                tg_user_id: origin.tg_user_id,
                tg_message_id: origin.message_id.map(i64::from),
                amount_kopecks: course.price.kopecks(),
            };
            let (enrollment, new) = enrollments::accept_offer(&mut tx, &acceptance, now).await?;
            if new {
                let evidence = format!(
                    "offer {} sha256 {} group {group_id} tg_user {:?} tg_message {:?}",
                    offer.version, offer.sha256, origin.tg_user_id, origin.message_id
                );
                audit::record(
                    &mut tx,
                    now,
                    "learner",
                    "offer-accepted",
                    Some(learner.id),
                    &evidence,
                )
                .await?;
            }
            tx.commit().await?;
            new.then(|| Event::OfferAccepted {
                enrollment,
                group_id: group_id.clone(),
            })
        }
        Command::RequestPayment { enrollment, fresh } => {
            Some(payments::request_link(app, *enrollment, *fresh).await?)
        }
        Command::CheckPayment { enrollment } => match payments::check(app, *enrollment).await {
            Ok(event) => Some(event),
            Err(e) => {
                tracing::warn!(enrollment, error = %e, "payment check failed");
                Some(Event::PaymentCheckUnavailable {
                    enrollment: *enrollment,
                })
            }
        },
        Command::StoreDocument {
            enrollment,
            kind,
            file,
            replace,
        } => {
            Some(store_document(app, messenger, learner, *enrollment, *kind, file, *replace).await?)
        }
        Command::ExportData => {
            super::privacy::export(app, messenger, learner, origin).await?;
            None
        }
        Command::Forget => Some(super::privacy::forget(app, learner).await?),
        _ => None,
    })
}

async fn store_document(
    app: &App,
    messenger: &dyn Messenger,
    learner: &LearnerRecord,
    enrollment: i64,
    kind: crate::journey::documents::DocKind,
    file: &IncomingFile,
    replace: bool,
) -> anyhow::Result<Event> {
    let limit = app.school.max_document_bytes;
    let refused = |reason| Ok(Event::DocumentRefused { enrollment, reason });
    let bytes = match messenger.download(&file.file_id, limit).await {
        Ok(b) => b,
        Err(SendError::Permanent(why)) if why.contains("too large") => {
            return refused(FileRefusal::TooLarge {
                limit_mb: limit / (1024 * 1024),
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "document download failed");
            return refused(FileRefusal::DownloadFailed);
        }
    };
    if bytes.is_empty() {
        return refused(FileRefusal::Empty);
    }
    if bytes.len() as u64 > limit {
        return refused(FileRefusal::TooLarge {
            limit_mb: limit / (1024 * 1024),
        });
    }
    let Some(mime) = accepted_type(&bytes) else {
        return refused(FileRefusal::UnsupportedType);
    };
    let storage_key = app.files.put(&bytes).await?;
    let file_name = file
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            let ext = mime
                .rsplit('/')
                .next()
                .unwrap_or("bin")
                .replace("jpeg", "jpg");
            tr!(
                app.texts,
                "photo-file-name",
                n = &storage_key[..6],
                ext = ext
            )
        });
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    if replace {
        enrollments::replace_documents(&mut tx, enrollment, kind.key()).await?;
    }
    let sha = sha256_hex(&bytes);
    let (_, new) = enrollments::add_document(
        &mut tx,
        &enrollments::NewDocument {
            learner_id: learner.id,
            enrollment_id: Some(enrollment),
            kind: kind.key(),
            file_name: &file_name,
            mime,
            size_bytes: bytes.len() as i64,
            sha256: &sha,
            storage_key: &storage_key,
            source: "telegram",
            source_ref: Some(&file.file_id),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Event::DocumentStored {
        enrollment,
        kind,
        file_name,
        duplicate: !new,
    })
}
