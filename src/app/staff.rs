//! Staff decisions on an application file: accept it, or return one document with a reason
//! typed as a reply; and marking an order paid by hand. Every press is checked against the
//! user who pressed it (see [`super::staff_commands`] for the routing and the checks).
use super::engine::{handle, Origin};
use super::messenger::Messenger;
use super::staff_auth::{actor, Signer, StaffAction};
use super::staff_card::Place;
use super::App;
use crate::journey::action::Action;
use crate::journey::documents::DocKind;
use crate::journey::reply::{Button, Reply};
use crate::journey::{Event, Input};
use crate::store::{self, audit, enrollments, learners};
use crate::tr;

pub struct Press<'a> {
    pub user_id: i64,
    pub user_name: &'a str,
    pub chat_id: i64,
    /// The forum topic of the pressed message.
    pub thread_id: Option<i32>,
    pub message_id: i32,
    pub callback_id: &'a str,
    /// The Telegram update of the press (claimed, so a repeat changes and posts nothing).
    pub update_id: Option<i64>,
}

impl Press<'_> {
    pub fn place(&self) -> Place {
        Place {
            chat_id: self.chat_id,
            thread_id: self.thread_id,
        }
    }
}

/// Kind of the request row that waits for a document's return reason.
pub const RETURN_REASON: &str = "return-reason";

/// A staff button. Signed actions go to [`super::staff_commands::on_button`]; the old
/// unsigned ones are refused (to anyone not staff as such, to staff as outdated).
pub async fn button(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    action: Action,
) -> anyhow::Result<()> {
    if let Action::Staff(token) = &action {
        return super::staff_commands::on_button(app, messenger, press, token).await;
    }
    let t = &app.texts;
    let text = if app.staff.role(press.user_id).is_none() {
        tracing::warn!(
            user = press.user_id,
            "staff button pressed by a non-staff user"
        );
        tr!(t, "staff-only")
    } else {
        tr!(t, "button-outdated")
    };
    messenger
        .answer_button(press.callback_id, Some(&text))
        .await
        .ok();
    Ok(())
}

/// Accepts the application file of an enrollment (only while it waits for review).
pub async fn accept(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    enrollment: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    if let Some(update_id) = press.update_id {
        if !store::claim_update_in(&mut tx, update_id, now).await? {
            tracing::info!(update_id, "staff update delivered again; already applied");
            tx.rollback().await?;
            messenger.answer_button(press.callback_id, None).await.ok();
            return Ok(());
        }
    }
    let applied = enrollments::accept_review(&mut tx, enrollment, press.user_id, now).await?;
    let learner_id = enrollments::by_id(&mut tx, enrollment)
        .await?
        .map(|e| e.learner_id);
    if applied {
        audit::record(
            &mut tx,
            now,
            &actor(press.user_id),
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
    messenger
        .send_in(press.chat_id, press.thread_id, &note)
        .await
        .ok();
    notify_learner(
        app,
        messenger,
        learner_id,
        Event::ReviewAccepted { enrollment },
    )
    .await
}

/// Offers the enrollment's current documents to choose the one to return.
pub async fn choose_document(
    app: &App,
    messenger: &dyn Messenger,
    signer: &Signer,
    press: &Press<'_>,
    enrollment: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let pending = enrollments::by_id(&mut conn, enrollment)
        .await?
        .is_some_and(|e| e.review_status.as_deref() == Some("pending"));
    if !pending {
        messenger
            .answer_button(press.callback_id, Some(&tr!(t, "staff-already-done")))
            .await
            .ok();
        return Ok(());
    }
    let docs = enrollments::documents_of_enrollment(&mut conn, enrollment).await?;
    let mut reply = Reply::text(tr!(t, "staff-return-which", enrollment = enrollment));
    for d in docs.iter().filter(|d| d.status != "replaced") {
        reply = reply.button(Button::action(
            tr!(
                t,
                "staff-return-doc-button",
                kind = super::alerts::doc_kind_name(app, &d.kind),
                file = d.file_name.clone()
            ),
            signer.sign(press.chat_id, &StaffAction::ReturnDoc(d.id)),
        ));
    }
    messenger.answer_button(press.callback_id, None).await.ok();
    messenger
        .send_in(press.chat_id, press.thread_id, &reply)
        .await?;
    Ok(())
}

/// Asks the presser for the reason, as a reply to a prompt remembered for them.
pub async fn ask_reason(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    document: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let Some(doc) = enrollments::document(&mut conn, document).await? else {
        messenger
            .answer_button(press.callback_id, Some(&tr!(t, "staff-already-done")))
            .await
            .ok();
        return Ok(());
    };
    let pending = match doc.enrollment_id {
        Some(e) => enrollments::by_id(&mut conn, e)
            .await?
            .is_some_and(|e| e.review_status.as_deref() == Some("pending")),
        None => false,
    };
    if !pending {
        messenger
            .answer_button(press.callback_id, Some(&tr!(t, "staff-already-done")))
            .await
            .ok();
        return Ok(());
    }
    messenger.answer_button(press.callback_id, None).await.ok();
    let now = app.now().timestamp();
    let request = store::staff::create_request(
        &mut conn,
        RETURN_REASON,
        press.user_id,
        press.chat_id,
        "awaiting-text",
        &serde_json::json!({ "document": document }).to_string(),
        now,
    )
    .await?;
    let ask = tr!(t, "staff-return-reason", file = doc.file_name, id = doc.id);
    let prompt = messenger
        .ask_reply_in(
            press.chat_id,
            press.thread_id,
            &crate::journey::reply::plain_text(&ask),
        )
        .await?;
    store::staff::set_prompt(&mut conn, request, i64::from(prompt)).await?;
    Ok(())
}

/// A staff member's reply to a reason prompt: the document goes back to the learner with
/// the reason, word for word.
pub async fn return_reason(
    app: &App,
    messenger: &dyn Messenger,
    user_id: i64,
    place: Place,
    request: &store::staff::RequestRow,
    reason: &str,
    update_id: Option<i64>,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let say = |text: String| async move {
        messenger
            .send_in(place.chat_id, place.thread_id, &Reply::text(text))
            .await
            .map(|_| ())
    };
    let document = serde_json::from_str::<serde_json::Value>(&request.payload)
        .ok()
        .and_then(|v| v["document"].as_i64())
        .unwrap_or_default();
    let reason = reason.trim();
    if reason.is_empty() {
        if super::staff_commands::claim_first(app, update_id).await? {
            say(tr!(t, "staff-reason-empty")).await?;
        }
        return Ok(());
    }
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    if let Some(update_id) = update_id {
        if !store::claim_update_in(&mut tx, update_id, now).await? {
            tracing::info!(update_id, "staff update delivered again; already applied");
            tx.rollback().await?;
            return Ok(());
        }
    }
    let taken =
        store::staff::advance_request(&mut tx, request.id, "awaiting-text", "done", None, now)
            .await?;
    let doc = enrollments::document(&mut tx, document).await?;
    let applied = match (&doc, taken) {
        (Some(_), true) => {
            enrollments::return_document(&mut tx, document, reason, user_id, now).await?
        }
        _ => false,
    };
    if !applied {
        tx.rollback().await?;
        // The rollback took the claim back: claim on its own before saying so.
        if super::staff_commands::claim_first(app, update_id).await? {
            say(tr!(t, "staff-already-done")).await?;
        }
        return Ok(());
    }
    audit::record(
        &mut tx,
        now,
        &actor(user_id),
        "document-returned",
        doc.as_ref().map(|d| d.learner_id),
        &format!("document {document}: {reason}"),
    )
    .await?;
    tx.commit().await?;
    let Some(doc) = doc else {
        return Ok(());
    };
    say(tr!(t, "staff-returned", file = doc.file_name.clone())).await?;
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

/// Marks an order paid by hand (bank transfer) and tells the learner. False when there is
/// no such enrollment.
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
