//! The outbox: messages (letters, staff alerts, notices) written in the same transaction as
//! the change that causes them, then delivered by a worker that retries until they go out.
//! The unique key makes a message impossible to queue twice.
use sqlx::AnyConnection;

use super::{Backend, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub channel: String,
    pub dedupe_key: String,
    pub payload: String,
    pub attempts: i64,
}

/// Queues a message; false when one with this key was queued before.
pub async fn enqueue(
    conn: &mut AnyConnection,
    channel: &str,
    dedupe_key: &str,
    payload: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO outbox (channel, dedupe_key, payload, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(channel.to_owned())
    .bind(dedupe_key.to_owned())
    .bind(payload.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims due messages of a channel under a lease; a worker that dies leaves them to be
/// claimed again when the lease runs out.
pub async fn claim(
    conn: &mut AnyConnection,
    backend: Backend,
    channel: &str,
    now: i64,
    lease_seconds: i64,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET status = 'sending', locked_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE channel = $1 AND \
         ((status = 'pending' AND next_attempt_at <= $3) OR \
          (status = 'sending' AND locked_until < $3)) ORDER BY id LIMIT $4 {lock}) \
         RETURNING id, channel, dedupe_key, payload, attempts"
    );
    let mut items: Vec<OutboxItem> = sqlx::query_as(&sql)
        .bind(channel.to_owned())
        .bind(now + lease_seconds)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    items.sort_by_key(|i| i.id);
    Ok(items)
}

pub async fn mark_sent(conn: &mut AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $2, locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn retry_at(conn: &mut AnyConnection, id: i64, at: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = $2, last_error = $3, \
         locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(why.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts claimed messages back, untried, to be claimed again from `at`.
pub async fn release(conn: &mut AnyConnection, ids: &[i64], at: i64) -> Result<()> {
    for id in ids {
        sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $2, \
             attempts = attempts - 1, locked_until = NULL WHERE id = $1 AND status = 'sending'",
        )
        .bind(*id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Messages of a channel queued before `id` and not yet sent or given up on (waiting to be
/// tried again, or being sent): (id, payload, when due: the next try, or the end of the
/// lease of the worker sending it).
pub async fn unsent_before(
    conn: &mut AnyConnection,
    channel: &str,
    id: i64,
) -> Result<Vec<(i64, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, payload, CASE WHEN status = 'sending' THEN COALESCE(locked_until, \
         next_attempt_at) ELSE next_attempt_at END FROM outbox WHERE channel = $1 AND id < $2 \
         AND status IN ('pending', 'sending') ORDER BY id",
    )
    .bind(channel.to_owned())
    .bind(id)
    .fetch_all(conn)
    .await?)
}

pub async fn mark_failed(conn: &mut AnyConnection, id: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = $2, locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(why.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn status_of(conn: &mut AnyConnection, dedupe_key: &str) -> Result<Option<OutboxStatus>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM outbox WHERE dedupe_key = $1")
        .bind(dedupe_key.to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(s,)| match s.as_str() {
        "pending" => OutboxStatus::Pending,
        "sending" => OutboxStatus::Sending,
        "sent" => OutboxStatus::Sent,
        _ => OutboxStatus::Failed,
    }))
}
