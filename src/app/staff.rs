//! Staff decisions from the staff chat: accept an application file or return one document
//! with a reason. Every press is checked against the user who pressed it.
use super::engine::{handle, Origin};
use super::messenger::Messenger;
use super::App;
use crate::journey::action::Action;
use crate::journey::documents::DocKind;
use crate::journey::reply::{Button, Reply};
use crate::journey::{Event, Input};
use crate::store::{audit, enrollments, learners};
use crate::tr;

pub struct Press<'a> {
    pub user_id: i64,
    pub user_name: &'a str,
    pub chat_id: i64,
    pub message_id: i32,
    pub callback_id: &'a str,
}

/// A staff button. Anyone else gets a refusal and changes nothing.
pub async fn button(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    action: Action,
) -> anyhow::Result<()> {
    let t = &app.texts;
    if app.staff.role(press.user_id).is_none() {
        tracing::warn!(
            user = press.user_id,
            "staff button pressed by a non-staff user"
        );
        messenger
            .answer_button(press.callback_id, Some(&tr!(t, "staff-only")))
            .await
            .ok();
        return Ok(());
    }
    let now = app.now().timestamp();
    let actor = format!("staff:{}", press.user_id);
    match action {
        Action::StaffAccept(enrollment) => {
            let mut tx = app.store.begin().await?;
            let applied =
                enrollments::accept_review(&mut tx, enrollment, press.user_id, now).await?;
            let learner_id = enrollments::by_id(&mut tx, enrollment)
                .await?
                .map(|e| e.learner_id);
            if applied {
                audit::record(
                    &mut tx,
                    now,
                    &actor,
                    "application-accepted",
                    learner_id,
                    &format!("enrollment {enrollment}"),
                )
                .await?;
            }
            tx.commit().await?;
            let (Some(learner_id), true) = (learner_id, applied) else {
                messenger
                    .answer_button(press.callback_id, Some(&tr!(t, "staff-already-done")))
                    .await
                    .ok();
                return Ok(());
            };
            messenger
                .answer_button(press.callback_id, Some(&tr!(t, "staff-accepted-toast")))
                .await
                .ok();
            let note = Reply::text(tr!(
                t,
                "staff-accepted",
                staff = press.user_name,
                enrollment = enrollment
            ));
            messenger.send(press.chat_id, &note).await.ok();
            notify_learner(
                app,
                messenger,
                learner_id,
                Event::ReviewAccepted { enrollment },
            )
            .await
        }
        Action::StaffReturn(enrollment) => {
            let mut conn = app.store.pool().acquire().await?;
            let docs = enrollments::documents_of_enrollment(&mut conn, enrollment).await?;
            let mut reply = Reply::text(tr!(t, "staff-return-which", enrollment = enrollment));
            for d in docs.iter().filter(|d| d.status != "replaced") {
                reply = reply.button(Button::action(
                    tr!(
                        t,
                        "staff-return-doc-button",
                        kind = d.kind.clone(),
                        file = d.file_name.clone()
                    ),
                    Action::StaffReturnDoc(d.id),
                ));
            }
            messenger.answer_button(press.callback_id, None).await.ok();
            messenger.send(press.chat_id, &reply).await?;
            Ok(())
        }
        Action::StaffReturnDoc(document) => {
            let mut conn = app.store.pool().acquire().await?;
            let Some(doc) = enrollments::document(&mut conn, document).await? else {
                messenger
                    .answer_button(press.callback_id, Some(&tr!(t, "staff-already-done")))
                    .await
                    .ok();
                return Ok(());
            };
            messenger.answer_button(press.callback_id, None).await.ok();
            let ask = tr!(t, "staff-return-reason", file = doc.file_name, id = doc.id);
            messenger
                .ask_reply(press.chat_id, &crate::journey::reply::plain_text(&ask))
                .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The document a reason prompt was about: its text ends with «№ <id>».
pub fn prompted_document(prompt: &str) -> Option<i64> {
    let tail = prompt.rsplit('№').next()?;
    let digits: String = tail
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A staff member's reply to a reason prompt: the document goes back to the learner.
pub async fn return_reason(
    app: &App,
    messenger: &dyn Messenger,
    user_id: i64,
    chat_id: i64,
    document: i64,
    reason: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    if app.staff.role(user_id).is_none() {
        return Ok(());
    }
    let reason = reason.trim();
    if reason.is_empty() {
        messenger
            .send(chat_id, &Reply::text(tr!(t, "staff-reason-empty")))
            .await?;
        return Ok(());
    }
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    let doc = enrollments::document(&mut tx, document).await?;
    let applied = match &doc {
        Some(_) => enrollments::return_document(&mut tx, document, reason, user_id, now).await?,
        None => false,
    };
    if applied {
        audit::record(
            &mut tx,
            now,
            &format!("staff:{user_id}"),
            "document-returned",
            doc.as_ref().map(|d| d.learner_id),
            &format!("document {document}"),
        )
        .await?;
    }
    tx.commit().await?;
    let (Some(doc), true) = (doc, applied) else {
        messenger
            .send(chat_id, &Reply::text(tr!(t, "staff-already-done")))
            .await?;
        return Ok(());
    };
    messenger
        .send(
            chat_id,
            &Reply::text(tr!(t, "staff-returned", file = doc.file_name.clone())),
        )
        .await?;
    let (Some(enrollment), Some(kind)) = (doc.enrollment_id, DocKind::from_key(&doc.kind)) else {
        return Ok(());
    };
    notify_learner(
        app,
        messenger,
        doc.learner_id,
        Event::DocumentReturned {
            enrollment,
            kind,
            file_name: doc.file_name,
            reason: reason.to_owned(),
        },
    )
    .await
}

/// Marks an order paid by hand (bank transfer) and tells the learner.
pub async fn mark_paid_by_hand(
    app: &App,
    messenger: &dyn Messenger,
    enrollment: i64,
) -> anyhow::Result<bool> {
    let mut conn = app.store.pool().acquire().await?;
    let Some(e) = enrollments::by_id(&mut conn, enrollment).await? else {
        return Ok(false);
    };
    drop(conn);
    notify_learner(
        app,
        messenger,
        e.learner_id,
        Event::PaymentConfirmed {
            enrollment,
            via: "manual",
        },
    )
    .await?;
    Ok(true)
}

async fn notify_learner(
    app: &App,
    messenger: &dyn Messenger,
    learner_id: i64,
    event: Event,
) -> anyhow::Result<()> {
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = learners::by_id(&mut conn, learner_id).await? else {
        return Ok(());
    };
    drop(conn);
    handle(
        app,
        messenger,
        learner.id,
        &Origin::system(&learner),
        Input::Event(event),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompted_document_is_read_back_from_the_prompt() {
        assert_eq!(
            prompted_document("Причина возврата «скан.pdf»? Ответьте на это сообщение. № 42"),
            Some(42)
        );
        assert_eq!(prompted_document("без номера"), None);
    }
}
