//! What studying needs from the store: a group's enrolled learners, personal webinar links,
//! and the scheduler's bookkeeping of jobs derived from the catalog.
use sqlx::AnyConnection;

use super::Result;

/// Learners enrolled in a group (the application was submitted), in id order.
pub async fn enrolled_learners(conn: &mut AnyConnection, group_id: &str) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT learner_id FROM enrollments WHERE group_id = $1 AND enrolled_at IS NOT NULL \
         ORDER BY learner_id",
    )
    .bind(group_id.to_owned())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn is_enrolled(
    conn: &mut AnyConnection,
    learner_id: i64,
    group_id: &str,
) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM enrollments WHERE learner_id = $1 AND group_id = $2 \
         AND enrolled_at IS NOT NULL",
    )
    .bind(learner_id)
    .bind(group_id.to_owned())
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// A personal webinar link issued to a learner for a lesson.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredLink {
    pub link: String,
    /// The MTS Link event session the link was issued for.
    pub event_session_id: Option<String>,
    pub participation_id: Option<String>,
}

// The link lets anyone in as the learner: it stays out of logs.
impl std::fmt::Debug for StoredLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredLink")
            .field("event_session_id", &self.event_session_id)
            .field("participation_id", &self.participation_id)
            .finish_non_exhaustive()
    }
}

pub async fn webinar_link(
    conn: &mut AnyConnection,
    learner_id: i64,
    lesson_id: &str,
) -> Result<Option<StoredLink>> {
    Ok(sqlx::query_as(
        "SELECT link, event_session_id, participation_id FROM webinar_links \
         WHERE learner_id = $1 AND lesson_id = $2",
    )
    .bind(learner_id)
    .bind(lesson_id.to_owned())
    .fetch_optional(conn)
    .await?)
}

/// Keeps the link issued for this lesson's session (a link for an older session of the
/// lesson is replaced).
pub async fn save_webinar_link(
    conn: &mut AnyConnection,
    learner_id: i64,
    lesson_id: &str,
    link: &StoredLink,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webinar_links (learner_id, lesson_id, link, participation_id, \
         event_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (learner_id, lesson_id) DO UPDATE SET link = excluded.link, \
         participation_id = excluded.participation_id, \
         event_session_id = excluded.event_session_id, created_at = excluded.created_at",
    )
    .bind(learner_id)
    .bind(lesson_id.to_owned())
    .bind(link.link.clone())
    .bind(link.participation_id.clone())
    .bind(link.event_session_id.clone())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A pending job as stored: its key, kind and payload.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingJob {
    pub dedupe_key: String,
    pub kind: String,
    pub payload: String,
}

/// Pending jobs of these kinds.
pub async fn pending_jobs(conn: &mut AnyConnection, kinds: &[&str]) -> Result<Vec<PendingJob>> {
    let mut all = Vec::new();
    for kind in kinds {
        let rows: Vec<PendingJob> = sqlx::query_as(
            "SELECT dedupe_key, kind, payload FROM jobs WHERE status = 'pending' AND kind = $1 \
             ORDER BY id",
        )
        .bind((*kind).to_owned())
        .fetch_all(&mut *conn)
        .await?;
        all.extend(rows);
    }
    Ok(all)
}

/// Withdraws one pending job (its lesson was removed or moved). False when it was not pending.
pub async fn cancel_job(
    conn: &mut AnyConnection,
    dedupe_key: &str,
    why: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'dropped', last_error = $2, finished_at = $3 \
         WHERE dedupe_key = $1 AND status = 'pending'",
    )
    .bind(dedupe_key.to_owned())
    .bind(why.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The status of the job with this key (`pending`, `running`, `done`, `dropped`, `failed`).
pub async fn job_status(conn: &mut AnyConnection, dedupe_key: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM jobs WHERE dedupe_key = $1")
        .bind(dedupe_key.to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(s,)| s))
}

/// A pending or running job's time (tests, the operator).
pub async fn job_run_at(conn: &mut AnyConnection, dedupe_key: &str) -> Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT run_at FROM jobs WHERE dedupe_key = $1")
        .bind(dedupe_key.to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(t,)| t))
}

/// The active lessons of a group: id, start and end (Unix seconds).
pub async fn lesson_times(
    conn: &mut AnyConnection,
    group_id: &str,
) -> Result<Vec<(String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, starts_at, starts_at + duration_minutes * 60 FROM lessons \
         WHERE group_id = $1 AND active = 1 ORDER BY starts_at",
    )
    .bind(group_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// Forgets finished jobs older than `before`; returns how many. Their lessons are long over,
/// so nothing plans them again.
pub async fn purge_finished_jobs(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM jobs WHERE status IN ('done', 'dropped', 'failed') AND finished_at < $1",
    )
    .bind(before)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
