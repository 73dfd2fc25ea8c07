//! The durable inbox of Telegram updates (table `telegram_inbox`): an update is stored
//! before Telegram hears that it arrived, taken under a lease by the instance that hands it
//! to its dispatcher, and marked done once handled.
use sqlx::{AnyConnection, Row};

use super::Result;

/// What became of an update offered to the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored (or found not done with its lease run out) and taken: dispatch it.
    Taken,
    /// Already done, or taken by someone whose lease still runs: nothing to do.
    Skip,
}

/// Stores an update and takes it until `until`; an update seen before is taken only when it
/// is not done and its lease ran out (a Telegram repeat of an update another instance holds
/// is left to that instance).
pub async fn store(
    conn: &mut AnyConnection,
    update_id: i64,
    chat_id: Option<i64>,
    body: &str,
    now: i64,
    until: i64,
) -> Result<Stored> {
    let inserted = sqlx::query(
        "INSERT INTO telegram_inbox (update_id, chat_id, body, received_at, taken_until) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(update_id)
    .bind(chat_id)
    .bind(body)
    .bind(now)
    .bind(until)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 || take(conn, update_id, now, until).await? {
        Ok(Stored::Taken)
    } else {
        Ok(Stored::Skip)
    }
}

/// Whether an update newer than `update_id` from `chat_id` is stored (handled or not).
pub async fn newer_in_chat(conn: &mut AnyConnection, chat_id: i64, update_id: i64) -> Result<bool> {
    let newer: Option<(i64,)> = sqlx::query_as(
        "SELECT update_id FROM telegram_inbox WHERE chat_id = $1 AND update_id > $2 LIMIT 1",
    )
    .bind(chat_id)
    .bind(update_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(newer.is_some())
}

/// Takes a row not done whose lease ran out (or that has none); one taker wins, on both
/// backends, because the condition and the write are one statement.
pub async fn take(conn: &mut AnyConnection, update_id: i64, now: i64, until: i64) -> Result<bool> {
    let taken = sqlx::query(
        "UPDATE telegram_inbox SET taken_until = $1 WHERE update_id = $2 AND done_at IS NULL \
         AND (taken_until IS NULL OR taken_until < $3)",
    )
    .bind(until)
    .bind(update_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Rows not done whose lease ran out before `now`, oldest first.
pub async fn expired(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT update_id FROM telegram_inbox WHERE done_at IS NULL \
         AND (taken_until IS NULL OR taken_until < $1) ORDER BY update_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>(0).map_err(Into::into))
        .collect()
}

/// The stored update (raw JSON).
pub async fn body(conn: &mut AnyConnection, update_id: i64) -> Result<Option<String>> {
    let row = sqlx::query("SELECT body FROM telegram_inbox WHERE update_id = $1")
        .bind(update_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// Extends the lease of rows still being handled here.
pub async fn renew(conn: &mut AnyConnection, update_id: i64, until: i64) -> Result<()> {
    sqlx::query(
        "UPDATE telegram_inbox SET taken_until = $1 WHERE update_id = $2 AND done_at IS NULL",
    )
    .bind(until)
    .bind(update_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_done(conn: &mut AnyConnection, update_id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE telegram_inbox SET done_at = $1 WHERE update_id = $2 AND done_at IS NULL")
        .bind(now)
        .bind(update_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets done rows older than `before`.
pub async fn prune(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM telegram_inbox WHERE done_at IS NOT NULL AND done_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// (update_id, done) of every row, for tests and the operator.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<(i64, bool)>> {
    let rows = sqlx::query("SELECT update_id, done_at FROM telegram_inbox ORDER BY update_id")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64, _>(0)?,
                r.try_get::<Option<i64>, _>(1)?.is_some(),
            ))
        })
        .collect()
}
