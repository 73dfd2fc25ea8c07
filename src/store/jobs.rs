//! The job table behind the scheduler: every timed action is a row with a unique key, claimed
//! under a lease so that one instance runs it, and finished exactly once.
use sqlx::AnyConnection;

use super::{Backend, Result};

pub struct NewJob<'a> {
    pub kind: &'a str,
    /// Unique per action (e.g. `reminder:<lesson>:<learner>`): scheduling twice is harmless,
    /// and re-scheduling moves a job that has not run yet.
    pub dedupe_key: &'a str,
    pub run_at: i64,
    pub payload: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub run_at: i64,
    pub payload: String,
    pub attempts: i64,
}

pub async fn schedule(conn: &mut AnyConnection, job: &NewJob<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, dedupe_key, run_at, payload, status, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5) \
         ON CONFLICT (dedupe_key) DO UPDATE SET run_at = excluded.run_at, \
         payload = excluded.payload WHERE jobs.status = 'pending'",
    )
    .bind(job.kind.to_owned())
    .bind(job.dedupe_key.to_owned())
    .bind(job.run_at)
    .bind(job.payload.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Withdraws pending jobs whose key starts with `prefix` (a lesson removed from the catalog).
pub async fn cancel_pending(conn: &mut AnyConnection, prefix: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'dropped', last_error = 'cancelled', finished_at = $2 \
         WHERE status = 'pending' AND dedupe_key LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Claims due jobs (and jobs whose worker's lease ran out: it crashed). PostgreSQL skips rows
/// another instance is claiming; SQLite serializes writers, so one statement is enough.
pub async fn claim_due(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    now: i64,
    lease_seconds: i64,
    limit: i64,
) -> Result<Vec<ClaimedJob>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, \
         attempts = attempts + 1 WHERE id IN (SELECT id FROM jobs WHERE \
         (status = 'pending' AND run_at <= $3) OR (status = 'running' AND locked_until < $3) \
         ORDER BY run_at, id LIMIT $4 {lock}) \
         RETURNING id, kind, dedupe_key, run_at, payload, attempts"
    );
    let mut jobs: Vec<ClaimedJob> = sqlx::query_as(&sql)
        .bind(worker.to_owned())
        .bind(now + lease_seconds)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

async fn finish(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    status: &str,
    note: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = $3, last_error = $4, finished_at = $5, locked_until = NULL \
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker.to_owned())
    .bind(status.to_owned())
    .bind(note.map(str::to_owned))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The job did its work. False when this worker no longer held it.
pub async fn complete(conn: &mut AnyConnection, id: i64, worker: &str, now: i64) -> Result<bool> {
    finish(conn, id, worker, "done", None, now).await
}

/// The job is no longer useful (a reminder for a lesson that has ended).
pub async fn drop_job(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    why: &str,
    now: i64,
) -> Result<bool> {
    finish(conn, id, worker, "dropped", Some(why), now).await
}

/// The job gave up for good.
pub async fn fail(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    why: &str,
    now: i64,
) -> Result<bool> {
    finish(conn, id, worker, "failed", Some(why), now).await
}

/// Try again at `at`.
pub async fn retry(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    at: i64,
    why: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'pending', run_at = $3, last_error = $4, locked_until = NULL \
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker.to_owned())
    .bind(at)
    .bind(why.to_owned())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts of jobs by status (metrics, tests).
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
            .fetch_all(conn)
            .await?,
    )
}
