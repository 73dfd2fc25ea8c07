//! The staff side's tables: queued alerts (with their digest state), forum topics, requests
//! waiting for a confirmation button, shared secrets; and the read models of staff commands
//! (search, pending work, certificates, test results).
use sqlx::AnyConnection;

use super::Result;

// ---- alerts ----

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub learner_id: Option<i64>,
    pub summary: String,
    pub payload: String,
    pub created_at: i64,
}

/// Queues an alert; false when one with this key was queued before.
pub async fn insert_alert(
    conn: &mut AnyConnection,
    key: &str,
    kind: &str,
    learner_id: Option<i64>,
    summary: &str,
    payload: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO staff_alerts (dedupe_key, kind, learner_id, summary, payload, status, \
         created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(key.to_owned())
    .bind(kind.to_owned())
    .bind(learner_id)
    .bind(summary.to_owned())
    .bind(payload.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Alerts not yet handed to the outbox, oldest first.
pub async fn pending_alerts(conn: &mut AnyConnection, limit: i64) -> Result<Vec<AlertRow>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, learner_id, summary, payload, created_at FROM staff_alerts \
         WHERE status = 'pending' ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// How many alerts of a kind went out one by one since `since`.
pub async fn sent_alone_since(conn: &mut AnyConnection, kind: &str, since: i64) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM staff_alerts WHERE kind = $1 AND status = 'sent' \
         AND dispatched_at >= $2",
    )
    .bind(kind.to_owned())
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Marks a pending alert `sent` (alone) or `digested`; false when another worker took it.
pub async fn mark_alert(conn: &mut AnyConnection, id: i64, status: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE staff_alerts SET status = $2, dispatched_at = $3 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---- forum topics ----

pub async fn topics(conn: &mut AnyConnection, chat_id: i64) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT kind, thread_id FROM staff_topics WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn save_topic(
    conn: &mut AnyConnection,
    chat_id: i64,
    kind: &str,
    thread_id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_topics (chat_id, kind, thread_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (chat_id, kind) DO UPDATE SET thread_id = excluded.thread_id",
    )
    .bind(chat_id)
    .bind(kind.to_owned())
    .bind(thread_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- requests waiting for a button ----

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct RequestRow {
    pub id: i64,
    pub kind: String,
    pub author: i64,
    pub chat_id: i64,
    pub payload: String,
    pub status: String,
    pub prompt_message_id: Option<i64>,
    pub created_at: i64,
}

const REQUEST_COLUMNS: &str =
    "id, kind, author, chat_id, payload, status, prompt_message_id, created_at";

pub async fn create_request(
    conn: &mut AnyConnection,
    kind: &str,
    author: i64,
    chat_id: i64,
    status: &str,
    payload: &str,
    now: i64,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO staff_requests (kind, author, chat_id, payload, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(kind.to_owned())
    .bind(author)
    .bind(chat_id)
    .bind(payload.to_owned())
    .bind(status.to_owned())
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn request(conn: &mut AnyConnection, id: i64) -> Result<Option<RequestRow>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM staff_requests WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// The request whose prompt (a message asking for text) this is.
pub async fn request_by_prompt(
    conn: &mut AnyConnection,
    chat_id: i64,
    message_id: i64,
) -> Result<Option<RequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM staff_requests WHERE chat_id = $1 AND prompt_message_id = $2"
    );
    Ok(sqlx::query_as(&sql)
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn set_prompt(conn: &mut AnyConnection, id: i64, message_id: i64) -> Result<()> {
    sqlx::query("UPDATE staff_requests SET prompt_message_id = $2 WHERE id = $1")
        .bind(id)
        .bind(message_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a request from one status to the next; false when it was not in `from` (a second
/// press, another staff member first).
pub async fn advance_request(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: &str,
    payload: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE staff_requests SET status = $3, payload = COALESCE($4, payload), decided_at = $5 \
         WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.to_owned())
    .bind(to.to_owned())
    .bind(payload.map(str::to_owned))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---- secrets ----

/// The named secret, created with `fresh` when no instance made it before.
pub async fn secret(conn: &mut AnyConnection, name: &str, fresh: &str, now: i64) -> Result<String> {
    sqlx::query(
        "INSERT INTO app_secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name.to_owned())
    .bind(fresh.to_owned())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let (value,): (String,) = sqlx::query_as("SELECT value FROM app_secrets WHERE name = $1")
        .bind(name.to_owned())
        .fetch_one(conn)
        .await?;
    Ok(value)
}

// ---- read models ----

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct SearchRow {
    pub id: i64,
    pub display_name: String,
    pub tg_username: Option<String>,
    pub email: Option<String>,
    /// The application form of one enrollment (JSON), when there is one.
    pub fields: Option<String>,
}

/// Every learner with the forms of their enrollments (one row per form), for `/find`.
/// Matching happens in Rust: SQLite's `lower()` folds ASCII only, and Cyrillic names must
/// match whatever their case.
pub async fn search_rows(conn: &mut AnyConnection) -> Result<Vec<SearchRow>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.display_name, l.tg_username, l.email, a.fields FROM learners l \
         LEFT JOIN enrollments e ON e.learner_id = l.id \
         LEFT JOIN applications a ON a.enrollment_id = e.id ORDER BY l.id, e.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Enrollments whose application waits for staff review, oldest first.
pub async fn pending_reviews(conn: &mut AnyConnection) -> Result<Vec<(i64, i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, learner_id, group_id FROM enrollments WHERE review_status = 'pending' \
         ORDER BY submitted_at, id",
    )
    .fetch_all(conn)
    .await?)
}

/// Unpaid orders (for bank transfers staff confirm by hand): order, enrollment, learner, amount.
pub async fn unpaid_orders(conn: &mut AnyConnection) -> Result<Vec<(i64, i64, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT o.id, e.id, e.learner_id, o.amount_kopecks FROM orders o \
         JOIN enrollments e ON e.id = o.enrollment_id WHERE o.status = 'pending' ORDER BY o.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Records who marked an order paid by hand and why. False unless the order was just marked
/// paid by hand and nobody has signed it yet.
pub async fn sign_manual_payment(
    conn: &mut AnyConnection,
    order_id: i64,
    note: &str,
    by: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET paid_note = $2, paid_by = $3 WHERE id = $1 AND status = 'paid' \
         AND paid_via = 'manual' AND paid_by IS NULL",
    )
    .bind(order_id)
    .bind(note.to_owned())
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct CertificateRow {
    pub enrollment_id: i64,
    pub registration_number: String,
    pub full_name: String,
    pub postal_address: String,
    pub confirmed_at: Option<i64>,
    pub printed_at: Option<i64>,
    pub tracking_number: Option<String>,
}

const CERTIFICATE_COLUMNS: &str = "c.enrollment_id, c.registration_number, c.full_name, \
    c.postal_address, c.confirmed_at, c.printed_at, c.tracking_number";

pub async fn certificate(
    conn: &mut AnyConnection,
    enrollment_id: i64,
) -> Result<Option<CertificateRow>> {
    let sql =
        format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates c WHERE c.enrollment_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(enrollment_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn certificates_of_learner(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Vec<CertificateRow>> {
    let sql = format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates c \
         JOIN enrollments e ON e.id = c.enrollment_id WHERE e.learner_id = $1 \
         ORDER BY c.created_at, c.enrollment_id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(learner_id)
        .fetch_all(conn)
        .await?)
}

/// Samples the learner confirmed, not yet printed.
pub async fn certificates_to_print(conn: &mut AnyConnection) -> Result<Vec<CertificateRow>> {
    let sql = format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates c \
         WHERE c.confirmed_at IS NOT NULL AND c.printed_at IS NULL ORDER BY c.confirmed_at"
    );
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// Printed documents whose registered letter has no tracking number yet.
pub async fn certificates_to_post(conn: &mut AnyConnection) -> Result<Vec<CertificateRow>> {
    let sql = format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates c \
         WHERE c.printed_at IS NOT NULL AND c.tracking_number IS NULL ORDER BY c.printed_at"
    );
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// Marks a confirmed sample printed; false unless it was confirmed and not printed yet.
pub async fn mark_printed(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    by: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE certificates SET printed_at = $2, printed_by = $3 WHERE enrollment_id = $1 \
         AND confirmed_at IS NOT NULL AND printed_at IS NULL",
    )
    .bind(enrollment_id)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the tracking number of the letter with the document (a correction replaces it).
pub async fn set_tracking(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    number: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE certificates SET tracking_number = $2, tracking_sent_at = $3 \
         WHERE enrollment_id = $1",
    )
    .bind(enrollment_id)
    .bind(number.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct AttemptRow {
    pub number: i64,
    pub score: Option<i64>,
    pub total: Option<i64>,
    pub passed: Option<i64>,
    pub finished_at: Option<i64>,
}

pub async fn test_attempts(
    conn: &mut AnyConnection,
    enrollment_id: i64,
) -> Result<Vec<AttemptRow>> {
    Ok(sqlx::query_as(
        "SELECT number, score, total, passed, finished_at FROM test_attempts \
         WHERE enrollment_id = $1 ORDER BY number",
    )
    .bind(enrollment_id)
    .fetch_all(conn)
    .await?)
}

/// Every enrollment id with its course (for `/stats`).
pub async fn all_enrollments(conn: &mut AnyConnection) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM enrollments ORDER BY id")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
