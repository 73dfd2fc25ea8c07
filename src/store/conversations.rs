//! Conversation state per chat, saved with optimistic concurrency: two instances (or two
//! updates) can never silently overwrite each other's step.
use sqlx::AnyConnection;

use super::Result;

/// The stored state and its version (0 when the chat has none yet).
pub async fn load(conn: &mut AnyConnection, chat_id: i64) -> Result<Option<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT state, version FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Saves `state` if the stored version is still `expected`; false when someone else won.
pub async fn save(
    conn: &mut AnyConnection,
    chat_id: i64,
    state: &str,
    expected: i64,
    now: i64,
) -> Result<bool> {
    let done = if expected == 0 {
        sqlx::query(
            "INSERT INTO conversations (chat_id, state, version, updated_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING",
        )
        .bind(chat_id)
        .bind(state.to_owned())
        .bind(now)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "UPDATE conversations SET state = $2, version = version + 1, updated_at = $3 \
             WHERE chat_id = $1 AND version = $4",
        )
        .bind(chat_id)
        .bind(state.to_owned())
        .bind(now)
        .bind(expected)
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}
