//! The staff-alert worker: hands queued alerts to the outbox, each kind in its forum topic.
//!
//! A burst must not flood the chat (Telegram also allows a bot about 20 messages a minute in
//! a group): per kind, up to [`ALONE_PER_MINUTE`] alerts a minute go out one by one; past
//! that, alerts wait up to [`HOLD_SECONDS`] and go out together as one digest message, a line
//! per alert with buttons to the learners' cards. Handing over is a transaction that marks
//! the alerts and queues the outbox items, so two instances never send one alert twice.
use std::collections::BTreeMap;
use std::time::Duration;

use super::alerts::{AlertKind, AlertPayload};
use super::outbox::{enqueue_telegram, QueuedTelegram};
use super::staff_auth::{signer, StaffAction};
use super::App;
use crate::journey::reply::{Button, Reply};
use crate::store::{self, staff::AlertRow};
use crate::texts::Html;
use crate::tr;

/// Alerts of one kind sent one by one within a minute before the rest become a digest.
pub const ALONE_PER_MINUTE: i64 = 5;
/// How long alerts of a busy kind wait to be gathered into one digest.
pub const HOLD_SECONDS: i64 = 30;
/// Lines in one digest message (Telegram messages hold 4096 characters).
const DIGEST_LINES: usize = 25;
const DIGEST_CHARS: usize = 3500;
/// Buttons to learners' cards under one digest message.
const DIGEST_BUTTONS: usize = 10;

/// What to do now with the pending alerts of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send these alerts one by one.
    Alone(Vec<i64>),
    /// Send these alerts as one digest.
    Digest(Vec<i64>),
    /// Keep waiting for more.
    Wait,
}

/// The decision for one kind: `pending` (id, created_at) oldest first, `sent_last_minute`
/// alerts of this kind already sent one by one within the last minute. Pure, for tests.
pub fn plan(pending: &[(i64, i64)], sent_last_minute: i64, now: i64) -> Plan {
    let Some(&(_, oldest)) = pending.first() else {
        return Plan::Wait;
    };
    let ids = pending.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    let quota = (ALONE_PER_MINUTE - sent_last_minute).max(0);
    if (pending.len() as i64) <= quota {
        Plan::Alone(ids)
    } else if now - oldest >= HOLD_SECONDS || pending.len() >= DIGEST_LINES * 4 {
        // One alert that waited is no digest.
        if ids.len() == 1 {
            Plan::Alone(ids)
        } else {
            Plan::Digest(ids)
        }
    } else {
        Plan::Wait
    }
}

/// The forum topic of each kind: configured ones, else the ones the bot created.
async fn topics(
    app: &App,
    conn: &mut sqlx::AnyConnection,
) -> store::Result<BTreeMap<AlertKind, i32>> {
    let mut map = BTreeMap::new();
    for (kind, thread) in store::staff::topics(conn, app.staff.chat_id).await? {
        if let (Some(kind), Ok(thread)) = (AlertKind::from_code(&kind), i32::try_from(thread)) {
            map.insert(kind, thread);
        }
    }
    for (kind, thread) in &app.staff.topics {
        if let Some(kind) = AlertKind::from_code(kind) {
            map.insert(kind, *thread);
        }
    }
    Ok(map)
}

fn in_topic(item: QueuedTelegram, thread: Option<i32>) -> QueuedTelegram {
    match thread {
        Some(thread_id) => QueuedTelegram::InTopic {
            thread_id,
            item: Box::new(item),
        },
        None => item,
    }
}

/// Hands what is due to the outbox; returns how many alerts went.
pub async fn dispatch_once(app: &App) -> anyhow::Result<usize> {
    let chat = app.staff.chat_id;
    if chat == 0 {
        return Ok(0);
    }
    let now = app.now().timestamp();
    let mut conn = app.store.pool().acquire().await?;
    let pending = store::staff::pending_alerts(&mut conn, 1000).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let topics = topics(app, &mut conn).await?;
    let mut by_kind: BTreeMap<AlertKind, Vec<AlertRow>> = BTreeMap::new();
    for row in pending {
        let kind = AlertKind::from_code(&row.kind).unwrap_or(AlertKind::Integrations);
        by_kind.entry(kind).or_default().push(row);
    }
    let mut sent_alone = BTreeMap::new();
    for kind in by_kind.keys() {
        let sent = store::staff::sent_alone_since(&mut conn, kind.code(), now - 60).await?;
        sent_alone.insert(*kind, sent);
    }
    // Sending takes a transaction of its own: this connection goes back first.
    drop(conn);
    let mut handed = 0;
    for (kind, rows) in by_kind {
        let sent = sent_alone[&kind];
        let timeline: Vec<(i64, i64)> = rows.iter().map(|r| (r.id, r.created_at)).collect();
        let thread = topics.get(&kind).copied();
        match plan(&timeline, sent, now) {
            Plan::Wait => {}
            Plan::Alone(ids) => {
                for row in rows.iter().filter(|r| ids.contains(&r.id)) {
                    if send_alone(app, row, thread, now).await? {
                        handed += 1;
                    }
                }
            }
            Plan::Digest(ids) => {
                let rows: Vec<&AlertRow> = rows.iter().filter(|r| ids.contains(&r.id)).collect();
                handed += send_digest(app, kind, &rows, thread, now).await?;
            }
        }
    }
    Ok(handed)
}

async fn send_alone(
    app: &App,
    row: &AlertRow,
    thread: Option<i32>,
    now: i64,
) -> anyhow::Result<bool> {
    let chat = app.staff.chat_id;
    let payload: AlertPayload = store::from_json("staff alert", &row.payload)?;
    let mut tx = app.store.begin().await?;
    if !store::staff::mark_alert(&mut tx, row.id, "sent", now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let message = QueuedTelegram::Message {
        chat_id: chat,
        text: payload.text,
        buttons: payload.buttons,
        menu: false,
    };
    let key = format!("staff-alert:{}", row.id);
    enqueue_telegram(&mut tx, &key, &in_topic(message, thread), now).await?;
    for (n, file) in payload.files.into_iter().enumerate() {
        let item = QueuedTelegram::File {
            chat_id: chat,
            storage_key: file.storage_key,
            file_name: file.file_name,
            caption: file.caption,
        };
        enqueue_telegram(
            &mut tx,
            &format!("{key}:file:{n}"),
            &in_topic(item, thread),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn send_digest(
    app: &App,
    kind: AlertKind,
    rows: &[&AlertRow],
    thread: Option<i32>,
    now: i64,
) -> anyhow::Result<usize> {
    let t = &app.texts;
    let chat = app.staff.chat_id;
    let mut tx = app.store.begin().await?;
    let signer = signer(app, &mut tx).await?;
    for row in rows {
        if !store::staff::mark_alert(&mut tx, row.id, "digested", now).await? {
            // Another instance is on it: leave the whole batch to it.
            tx.rollback().await?;
            return Ok(0);
        }
    }
    // Chunks that fit a message.
    let mut chunks: Vec<Vec<&AlertRow>> = vec![Vec::new()];
    let mut chars = 0;
    for row in rows {
        let last = chunks.last_mut().expect("one chunk at least");
        if !last.is_empty()
            && (last.len() >= DIGEST_LINES || chars + row.summary.len() > DIGEST_CHARS)
        {
            chunks.push(Vec::new());
            chars = 0;
        }
        chars += row.summary.len() + 4;
        chunks.last_mut().expect("pushed").push(row);
    }
    let parts = chunks.len();
    for (n, chunk) in chunks.iter().enumerate() {
        let lines: Vec<String> = chunk.iter().map(|r| format!("• {}", r.summary)).collect();
        let mut reply = Reply::text(tr!(
            t,
            "alert-digest",
            kind = kind.title(t),
            count = rows.len(),
            part = n + 1,
            parts = parts,
            lines = Html(lines.join("\n"))
        ));
        let mut learners: Vec<i64> = Vec::new();
        for r in chunk {
            if let Some(l) = r.learner_id.filter(|l| !learners.contains(l)) {
                learners.push(l);
            }
        }
        for pair in learners.chunks(2).take(DIGEST_BUTTONS / 2) {
            reply = reply.row(
                pair.iter()
                    .map(|l| {
                        Button::action(
                            tr!(t, "btn-staff-card-n", id = *l),
                            signer.sign(chat, &StaffAction::Card(*l)),
                        )
                    })
                    .collect(),
            );
        }
        let item = QueuedTelegram::message(chat, &reply);
        let key = format!(
            "staff-digest:{}:{}:{n}",
            rows.first().map_or(0, |r| r.id),
            rows.last().map_or(0, |r| r.id)
        );
        enqueue_telegram(&mut tx, &key, &in_topic(item, thread), now).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Runs the worker until `shutdown`.
pub async fn run(app: std::sync::Arc<App>, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        if let Err(e) = dispatch_once(&app).await {
            tracing::error!(error = %e, "staff alerts worker");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_stream_goes_out_alert_by_alert() {
        assert_eq!(plan(&[(1, 100)], 0, 100), Plan::Alone(vec![1]));
        assert_eq!(plan(&[(1, 100), (2, 100)], 3, 100), Plan::Alone(vec![1, 2]));
        assert_eq!(plan(&[], 0, 100), Plan::Wait);
    }

    #[test]
    fn a_burst_waits_and_becomes_one_digest() {
        let burst: Vec<(i64, i64)> = (1..=12).map(|id| (id, 100)).collect();
        assert_eq!(plan(&burst, 0, 101), Plan::Wait);
        assert_eq!(
            plan(&burst, 0, 100 + HOLD_SECONDS),
            Plan::Digest((1..=12).collect())
        );
        // The minute's quota is spent: even two wait for a digest.
        assert_eq!(plan(&[(7, 100), (8, 101)], 5, 110), Plan::Wait);
        assert_eq!(
            plan(&[(7, 100), (8, 101)], 5, 100 + HOLD_SECONDS),
            Plan::Digest(vec![7, 8])
        );
        // A single one that waited goes alone.
        assert_eq!(plan(&[(9, 100)], 5, 101), Plan::Wait);
        assert_eq!(
            plan(&[(9, 100)], 5, 100 + HOLD_SECONDS),
            Plan::Alone(vec![9])
        );
    }

    #[test]
    fn a_huge_burst_does_not_wait() {
        let burst: Vec<(i64, i64)> = (1..=100).map(|id| (id, 100)).collect();
        assert!(matches!(plan(&burst, 0, 100), Plan::Digest(ids) if ids.len() == 100));
    }
}
