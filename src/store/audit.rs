//! The audit log: who did what to whose data, and when.
use sqlx::AnyConnection;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub learner_id: Option<i64>,
    pub details: String,
}

pub async fn record(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    action: &str,
    learner_id: Option<i64>,
    details: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, learner_id, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor.to_owned())
    .bind(action.to_owned())
    .bind(learner_id)
    .bind(details.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn for_learner(conn: &mut AnyConnection, learner_id: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as(
        "SELECT at, actor, action, learner_id, details FROM audit_log \
         WHERE learner_id = $1 ORDER BY id",
    )
    .bind(learner_id)
    .fetch_all(conn)
    .await?)
}
