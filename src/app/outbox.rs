//! Messages queued in the outbox (written in the transaction that causes them) and the
//! worker that delivers them with retries: letters by email, messages and files to Telegram.
use std::time::Duration;

use futures::StreamExt;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::letters::QueuedLetter;
use super::messenger::{Messenger, SendError};
use super::App;
use crate::journey::action::Action;
use crate::journey::reply::{Button, Reply};
use crate::store::{self, outbox};
use crate::tr;

pub const TELEGRAM: &str = "telegram";
pub const EMAIL: &str = "email";
/// Tries before a message is given up on: with the backoff capped at an hour, a mail
/// server or Telegram away for two days loses nothing.
const MAX_ATTEMPTS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutButton {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A Telegram message or file waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueuedTelegram {
    Message {
        chat_id: i64,
        text: String,
        buttons: Vec<Vec<OutButton>>,
        menu: bool,
    },
    /// A stored document sent into a chat (staff review).
    File {
        chat_id: i64,
        storage_key: String,
        file_name: String,
        caption: String,
    },
    /// A generated file carried in the item itself (a document's sample).
    Document {
        chat_id: i64,
        file_name: String,
        /// Base64 of the bytes.
        content: String,
        caption: String,
    },
    /// A message or file for a forum topic of a group (staff alerts sorted by kind).
    InTopic {
        thread_id: i32,
        item: Box<QueuedTelegram>,
    },
}

impl QueuedTelegram {
    /// The chat it goes to (the order of a chat's messages is kept).
    pub fn chat_id(&self) -> i64 {
        match self {
            Self::Message { chat_id, .. }
            | Self::File { chat_id, .. }
            | Self::Document { chat_id, .. } => *chat_id,
            Self::InTopic { item, .. } => item.chat_id(),
        }
    }

    pub fn message(chat_id: i64, reply: &Reply) -> Self {
        Self::Message {
            chat_id,
            text: reply.text.clone(),
            buttons: reply
                .buttons
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|b| match b {
                            Button::Action { label, action } => OutButton {
                                label: label.clone(),
                                data: Some(action.encode()),
                                url: None,
                            },
                            Button::Url { label, url } => OutButton {
                                label: label.clone(),
                                data: None,
                                url: Some(url.clone()),
                            },
                        })
                        .collect()
                })
                .collect(),
            menu: reply.menu,
        }
    }
}

/// Rebuilds the reply of a queued message.
pub fn to_reply(text: &str, buttons: &[Vec<OutButton>], menu: bool) -> Reply {
    Reply {
        text: text.to_owned(),
        buttons: buttons
            .iter()
            .map(|row| {
                row.iter()
                    .filter_map(|b| match (&b.data, &b.url) {
                        (Some(d), _) => Action::parse(d).map(|a| Button::action(&b.label, a)),
                        (None, Some(u)) => Some(Button::url(&b.label, u)),
                        _ => None,
                    })
                    .collect()
            })
            .collect(),
        menu,
    }
}

/// A notice to a learner outside the conversation: Telegram, or a letter without a chat.
pub async fn notify(
    app: &App,
    conn: &mut AnyConnection,
    learner: &store::LearnerRecord,
    key: &str,
    reply: &Reply,
    now: i64,
) -> store::Result<bool> {
    match (learner.tg_chat_id, learner.email.as_ref()) {
        (Some(chat), _) => {
            enqueue_telegram(conn, key, &QueuedTelegram::message(chat, reply), now).await
        }
        (None, Some(email)) => {
            let letter = QueuedLetter {
                to: email.clone(),
                subject: tr!(
                    app.texts,
                    "letter-notice-subject",
                    school = &app.school.name
                ),
                text: crate::journey::reply::letter_text(reply),
                reply_to: None,
                message_id: crate::email::smtp::new_message_id(app.mail_domain()),
                in_reply_to: None,
                attachments: Vec::new(),
            };
            enqueue_letter(conn, key, &letter, now).await
        }
        (None, None) => Ok(false),
    }
}

pub async fn enqueue_telegram(
    conn: &mut AnyConnection,
    key: &str,
    item: &QueuedTelegram,
    now: i64,
) -> store::Result<bool> {
    outbox::enqueue(conn, TELEGRAM, key, &store::to_json(item), now).await
}

pub async fn enqueue_letter(
    conn: &mut AnyConnection,
    key: &str,
    letter: &QueuedLetter,
    now: i64,
) -> store::Result<bool> {
    let new = outbox::enqueue(conn, EMAIL, key, &store::to_json(letter), now).await?;
    if new {
        // Replies and bounces name this Message-ID: that is how they find the learner.
        store::mail::record_sent(conn, &letter.message_id, &letter.to, now).await?;
    }
    Ok(new)
}

/// Seconds to wait before the n-th retry: 5 s, 10 s, 20 s … up to an hour.
pub fn backoff(attempt: i64) -> i64 {
    backoff_within(attempt, (5, 3600))
}

/// [`backoff`] between the configured least and most (`[resilience] retry_*_seconds`).
pub fn backoff_within(attempt: i64, (min, max): (i64, i64)) -> i64 {
    (min.max(1) << attempt.clamp(0, 10)).min(max)
}

enum Delivery {
    Sent,
    Retry(String),
    Fail(String),
}

async fn deliver_telegram(
    app: &App,
    messenger: &dyn Messenger,
    item: &QueuedTelegram,
    thread: Option<i32>,
) -> Delivery {
    let result = match item {
        QueuedTelegram::InTopic { thread_id, item } => {
            return Box::pin(deliver_telegram(app, messenger, item, Some(*thread_id))).await
        }
        QueuedTelegram::Message {
            chat_id,
            text,
            buttons,
            menu,
        } => messenger
            .send_in(*chat_id, thread, &to_reply(text, buttons, *menu))
            .await
            .map(|_| ()),
        QueuedTelegram::File {
            chat_id,
            storage_key,
            file_name,
            caption,
        } => match app.files.get(storage_key).await {
            Ok(bytes) => messenger
                .send_file_in(*chat_id, thread, file_name, bytes, caption)
                .await
                .map(|_| ()),
            Err(e) => return Delivery::Fail(format!("document file unreadable: {e}")),
        },
        QueuedTelegram::Document {
            chat_id,
            file_name,
            content,
            caption,
        } => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(content) {
                Ok(bytes) => messenger
                    .send_file_in(*chat_id, thread, file_name, bytes, caption)
                    .await
                    .map(|_| ()),
                Err(e) => return Delivery::Fail(format!("corrupt file: {e}")),
            }
        }
    };
    match result {
        Ok(()) => Delivery::Sent,
        Err(SendError::Temporary(e)) => Delivery::Retry(e),
        Err(SendError::Permanent(e)) => Delivery::Fail(e),
    }
}

/// Claimed at once per channel, and how long they stay with this worker. Telegram's batch
/// can take a while: the rate limiter holds a group chat to 20 messages a minute.
const TELEGRAM_BATCH: i64 = 60;
const TELEGRAM_LEASE_SECONDS: i64 = 300;
/// Letters go one at a time, each bounded by the mailer (3 × 30 s plus the upload): the
/// lease outlasts a whole batch, so no other worker sends a letter twice meanwhile.
const EMAIL_BATCH: i64 = 5;
const EMAIL_LEASE_SECONDS: i64 = 900;
/// Chats served side by side (the messenger's rate limiter sets the pace).
const PARALLEL_CHATS: usize = 32;

/// Delivers what is due on one channel; returns how many items were handled. Messages to
/// one chat go one after another, in order; different chats go side by side; letters one
/// at a time.
pub async fn run_once(
    app: &App,
    messenger: &dyn Messenger,
    channel: &str,
) -> anyhow::Result<usize> {
    if channel == EMAIL && app.mail.is_none() {
        return Ok(0);
    }
    let (batch, lease) = if channel == EMAIL {
        (EMAIL_BATCH, EMAIL_LEASE_SECONDS)
    } else {
        (TELEGRAM_BATCH, TELEGRAM_LEASE_SECONDS)
    };
    let now = app.now().timestamp();
    let items = {
        let mut conn = app.store.pool().acquire().await?;
        outbox::claim(&mut conn, app.store.backend(), channel, now, lease, batch).await?
    };
    let mut count = items.len();
    let mut queues: Vec<(Option<i64>, Vec<store::OutboxItem>)> = Vec::new();
    for item in items {
        let chat = (channel == TELEGRAM)
            .then(|| serde_json::from_str::<QueuedTelegram>(&item.payload).ok())
            .flatten()
            .map(|m| m.chat_id());
        match queues.iter_mut().find(|(c, _)| *c == chat) {
            Some((_, queue)) => queue.push(item),
            None => queues.push((chat, vec![item])),
        }
    }
    if channel == TELEGRAM {
        // Held back messages are not counted: the worker then waits before it looks again.
        count -= hold_back_behind_earlier(app, &mut queues, now).await?;
    }
    let errors: Vec<anyhow::Error> = futures::stream::iter(queues)
        .map(|(chat, queue)| async move {
            let mut queue = queue.into_iter();
            while let Some(item) = queue.next() {
                // On a database error the rest of this chat's queue waits for the lease to
                // run out, so its order is kept.
                let retry = deliver_one(app, messenger, channel, item).await?;
                // Letters (no chat) keep no order between them: each is tried.
                if let (Some(retry_at), Some(_)) = (retry, chat) {
                    // This one will be tried again: the ones after it wait with it, and
                    // the next round claims them in order.
                    let rest: Vec<i64> = queue.map(|i| i.id).collect();
                    let mut conn = app.store.pool().acquire().await?;
                    outbox::release(&mut conn, &rest, retry_at).await?;
                    break;
                }
            }
            Ok::<(), anyhow::Error>(())
        })
        .buffer_unordered(PARALLEL_CHATS)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(count),
    }
}

/// Chats with an earlier message still waiting (to be tried again, or with another
/// worker) get nothing from this round: their claimed messages go back, due with the
/// earliest of those, so a chat's messages arrive in the order they were queued. Returns
/// how many went back.
async fn hold_back_behind_earlier(
    app: &App,
    queues: &mut Vec<(Option<i64>, Vec<store::OutboxItem>)>,
    now: i64,
) -> anyhow::Result<usize> {
    let Some(last) = queues
        .iter()
        .flat_map(|(_, q)| q.iter().map(|i| i.id))
        .max()
    else {
        return Ok(0);
    };
    let claimed: Vec<i64> = queues
        .iter()
        .flat_map(|(_, q)| q.iter().map(|i| i.id))
        .collect();
    let mut conn = app.store.pool().acquire().await?;
    let waiting = outbox::unsent_before(&mut conn, TELEGRAM, last).await?;
    let mut blocked: Vec<(i64, i64)> = Vec::new();
    for (id, payload, due) in waiting {
        if claimed.contains(&id) {
            continue;
        }
        let Ok(chat) = serde_json::from_str::<QueuedTelegram>(&payload).map(|m| m.chat_id()) else {
            continue;
        };
        // Only what was queued before a claimed message of the same chat holds it back.
        let first_claimed = queues
            .iter()
            .find(|(c, _)| *c == Some(chat))
            .and_then(|(_, q)| q.first().map(|i| i.id));
        if first_claimed.is_some_and(|first| id < first) {
            match blocked.iter_mut().find(|(c, _)| *c == chat) {
                Some((_, at)) => *at = (*at).min(due),
                None => blocked.push((chat, due)),
            }
        }
    }
    let mut held = 0;
    for (chat, due) in blocked {
        if let Some(pos) = queues.iter().position(|(c, _)| *c == Some(chat)) {
            let (_, queue) = queues.remove(pos);
            let ids: Vec<i64> = queue.iter().map(|i| i.id).collect();
            outbox::release(&mut conn, &ids, due.max(now + 1)).await?;
            held += ids.len();
        }
    }
    Ok(held)
}

/// Delivers one item and records the outcome; `Some(when)` when it will be tried again.
async fn deliver_one(
    app: &App,
    messenger: &dyn Messenger,
    channel: &str,
    item: store::OutboxItem,
) -> anyhow::Result<Option<i64>> {
    let delivery = if channel == EMAIL {
        match serde_json::from_str::<QueuedLetter>(&item.payload) {
            Ok(letter) => match app
                .mail
                .as_ref()
                .expect("checked")
                .send(&with_reply_address(app, letter.to_letter()).await?)
                .await
            {
                Ok(()) => Delivery::Sent,
                Err(e) if e.is_transient() => Delivery::Retry(e.to_string()),
                Err(e) => Delivery::Fail(e.to_string()),
            },
            Err(e) => Delivery::Fail(format!("corrupt letter: {e}")),
        }
    } else {
        match serde_json::from_str::<QueuedTelegram>(&item.payload) {
            Ok(msg) => deliver_telegram(app, messenger, &msg, None).await,
            Err(e) => Delivery::Fail(format!("corrupt message: {e}")),
        }
    };
    let mut conn = app.store.pool().acquire().await?;
    let now = app.now().timestamp();
    // The service alerts take a connection of their own: each arm gives this one back
    // before raising them.
    match delivery {
        Delivery::Sent => {
            outbox::mark_sent(&mut conn, item.id, now).await?;
            drop(conn);
            if channel == EMAIL {
                super::alerts::service_working(app, "smtp").await;
            }
            Ok(None)
        }
        Delivery::Retry(why) if item.attempts < MAX_ATTEMPTS => {
            tracing::warn!(channel, id = item.id, attempt = item.attempts, error = %why, "delivery failed, will retry");
            let at = now + backoff_within(item.attempts, app.retry_seconds);
            outbox::retry_at(&mut conn, item.id, at, &why).await?;
            if channel == EMAIL {
                if item.attempts == 1 {
                    tell_code_delayed(app, &mut conn, &item, now).await?;
                }
                drop(conn);
                // One alert when mail has been failing for a while, not one per letter.
                super::alerts::service_failing(app, "smtp", &why, false).await;
            }
            Ok(Some(at))
        }
        Delivery::Retry(why) | Delivery::Fail(why) => {
            tracing::error!(channel, id = item.id, error = %why, "delivery failed for good");
            outbox::mark_failed(&mut conn, item.id, &why).await?;
            drop(conn);
            if channel == EMAIL {
                super::alerts::integration_failure(app, "smtp", &why).await;
            }
            Ok(None)
        }
    }
}

/// A learner waiting in Telegram for the letter with their code hears that it is delayed
/// (once per letter) rather than wonder whether they typed the address wrong.
async fn tell_code_delayed(
    app: &App,
    conn: &mut AnyConnection,
    item: &store::OutboxItem,
    now: i64,
) -> anyhow::Result<()> {
    // The key of a code letter: letter:code:<learner>:…
    let Some(learner) = item
        .dedupe_key
        .strip_prefix("letter:code:")
        .and_then(|rest| rest.split(':').next())
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(());
    };
    let Some(chat) = store::learners::by_id(conn, learner)
        .await?
        .and_then(|l| l.tg_chat_id)
    else {
        return Ok(());
    };
    let reply = Reply::text(tr!(app.texts, "mail-code-delayed"));
    let key = format!("mail-delayed:{}", item.id);
    enqueue_telegram(conn, &key, &QueuedTelegram::message(chat, &reply), now).await?;
    Ok(())
}

/// A letter without a Reply-To gets the plus address of the learner it goes to, so that
/// a reply finds the learner even when sent from another address.
async fn with_reply_address(
    app: &App,
    mut letter: crate::email::Letter,
) -> anyhow::Result<crate::email::Letter> {
    if letter.reply_to.is_none() {
        let mut conn = app.store.pool().acquire().await?;
        letter.reply_to = super::mail_in::reply_address(app, &mut conn, &letter.to).await?;
    }
    Ok(letter)
}

/// Delivers the outbox until `shutdown`; wakes every second (queued items wait at most that).
pub async fn run(
    app: std::sync::Arc<App>,
    messenger: std::sync::Arc<dyn Messenger>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        for channel in [TELEGRAM, EMAIL] {
            loop {
                match run_once(&app, messenger.as_ref(), channel).await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(channel, error = %e, "outbox worker");
                        break;
                    }
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}
