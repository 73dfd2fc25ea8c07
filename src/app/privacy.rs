//! `/mydata` and `/forget` in the runtime: the export file, and the withdrawal of consent with
//! its act of destruction in the audit log.
use base64::Engine;

use super::engine::Origin;
use super::letters::{QueuedAttachment, QueuedLetter};
use super::messenger::Messenger;
use super::outbox::enqueue_letter;
use super::{alerts, App};
use crate::journey::privacy::CONTRACT_RETENTION_YEARS;
use crate::journey::{Event, StaffAlert};
use crate::store::{audit, privacy, LearnerRecord};
use crate::tr;

/// Sends the learner a JSON file of everything stored about them.
pub async fn export(
    app: &App,
    messenger: &dyn Messenger,
    learner: &LearnerRecord,
    origin: &Origin,
) -> anyhow::Result<()> {
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    let Some(data) = privacy::export(&mut tx, learner.id).await? else {
        return Ok(());
    };
    audit::record(
        &mut tx,
        now,
        "learner",
        "data-exported",
        Some(learner.id),
        "",
    )
    .await?;
    let bytes = serde_json::to_vec_pretty(&data)?;
    let file_name = tr!(app.texts, "mydata-file-name");
    let caption = tr!(app.texts, "mydata-caption");
    match (
        origin.chat_id.or(learner.tg_chat_id),
        learner.email.as_ref(),
    ) {
        (Some(chat), _) => {
            tx.commit().await?;
            messenger
                .send_file(chat, &file_name, bytes, &caption)
                .await
                .map_err(|e| anyhow::anyhow!("export not delivered: {e}"))?;
        }
        (None, Some(email)) => {
            let letter = QueuedLetter {
                to: email.clone(),
                subject: tr!(app.texts, "mydata-subject", school = &app.school.name),
                text: caption,
                reply_to: None,
                message_id: crate::email::smtp::new_message_id(app.mail_domain()),
                in_reply_to: None,
                attachments: vec![QueuedAttachment {
                    file_name,
                    mime: "application/json".into(),
                    content: base64::engine::general_purpose::STANDARD.encode(bytes),
                }],
            };
            enqueue_letter(
                &mut tx,
                &format!("mydata:{}:{now}", learner.id),
                &letter,
                now,
            )
            .await?;
            tx.commit().await?;
        }
        (None, None) => tx.commit().await?,
    }
    Ok(())
}

/// Withdraws consent: personal data and document files destroyed, the act recorded, staff
/// told (by number, not by name); contract records kept for the legal term.
pub async fn forget(app: &App, learner: &LearnerRecord) -> anyhow::Result<Event> {
    let now = app.now().timestamp();
    let keep_until = now + CONTRACT_RETENTION_YEARS * 365 * 24 * 3600;
    let mut tx = app.store.begin().await?;
    let destroyed = privacy::forget(&mut tx, learner.id, now, keep_until).await?;
    audit::record(
        &mut tx,
        now,
        "learner",
        "consent-withdrawn",
        Some(learner.id),
        "",
    )
    .await?;
    let act = format!(
        "act of destruction: application forms {}, document files {}; contract records kept until {} (402-FZ art. 29)",
        destroyed.applications,
        destroyed.documents,
        chrono::DateTime::from_timestamp(keep_until, 0).map(|d| d.date_naive().to_string()).unwrap_or_default()
    );
    audit::record(
        &mut tx,
        now,
        "system",
        "destruction-act",
        Some(learner.id),
        &act,
    )
    .await?;
    let alert = StaffAlert::ConsentWithdrawn {
        documents: destroyed.documents,
    };
    alerts::queue(app, &mut tx, learner, &alert, now).await?;
    tx.commit().await?;
    for key in &destroyed.storage_keys {
        // The same scan may be filed by someone else too (files are kept by content).
        let (still_used,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM documents WHERE storage_key = $1 AND status <> 'destroyed'",
        )
        .bind(key.clone())
        .fetch_one(app.store.pool())
        .await?;
        if still_used == 0 {
            app.files.delete(key).await?;
        }
    }
    Ok(Event::Forgotten {
        documents: destroyed.documents,
    })
}
