//! Enrollments and everything hanging off them: the order and its payments, the application
//! form, the documents, the staff review.
use std::collections::BTreeMap;

use sqlx::AnyConnection;

use super::{from_json, to_json, Result};

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct EnrollmentRecord {
    pub id: i64,
    pub learner_id: i64,
    pub course_id: String,
    pub group_id: String,
    pub offer_version: String,
    pub offer_sha256: String,
    pub offer_accepted_at: i64,
    pub offer_tg_user_id: Option<i64>,
    pub offer_tg_message_id: Option<i64>,
    pub submitted_at: Option<i64>,
    pub enrolled_at: Option<i64>,
    pub review_status: Option<String>,
    pub review_note: Option<String>,
    pub created_at: i64,
}

const ENROLLMENT_COLUMNS: &str = "id, learner_id, course_id, group_id, offer_version, \
    offer_sha256, offer_accepted_at, offer_tg_user_id, offer_tg_message_id, submitted_at, \
    enrolled_at, review_status, review_note, created_at";

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct OrderRecord {
    pub id: i64,
    pub enrollment_id: i64,
    pub amount_kopecks: i64,
    pub status: String,
    pub paid_at: Option<i64>,
    pub paid_via: Option<String>,
    pub payment_attempts: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: String,
    pub order_id: i64,
    /// The order's n-th payment (a new one after a cancellation).
    pub attempt: i64,
    pub idempotence_key: String,
    pub status: String,
    pub confirmation_url: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationRecord {
    pub fields: BTreeMap<String, String>,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct DocumentRecord {
    pub id: i64,
    pub learner_id: i64,
    pub enrollment_id: Option<i64>,
    pub kind: String,
    pub file_name: String,
    pub mime: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub source: String,
    pub status: String,
    pub review_note: Option<String>,
    pub created_at: i64,
}

const DOCUMENT_COLUMNS: &str = "id, learner_id, enrollment_id, kind, file_name, mime, size_bytes, \
    sha256, storage_key, source, status, review_note, created_at";

pub struct NewDocument<'a> {
    pub learner_id: i64,
    pub enrollment_id: Option<i64>,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub mime: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub source: &'a str,
    pub source_ref: Option<&'a str>,
}

pub struct OfferAcceptance<'a> {
    pub learner_id: i64,
    pub course_id: &'a str,
    pub group_id: &'a str,
    pub offer_version: &'a str,
    pub offer_sha256: &'a str,
    pub tg_user_id: Option<i64>,
    pub tg_message_id: Option<i64>,
    pub amount_kopecks: i64,
}

/// Records the acceptance of the offer and creates the order; accepting twice keeps the
/// first evidence. Returns the enrollment id and whether it is new.
pub async fn accept_offer(
    conn: &mut AnyConnection,
    a: &OfferAcceptance<'_>,
    now: i64,
) -> Result<(i64, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO enrollments (learner_id, course_id, group_id, offer_version, offer_sha256, \
         offer_accepted_at, offer_tg_user_id, offer_tg_message_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6) ON CONFLICT (learner_id, group_id) DO NOTHING",
    )
    .bind(a.learner_id)
    .bind(a.course_id.to_owned())
    .bind(a.group_id.to_owned())
    .bind(a.offer_version.to_owned())
    .bind(a.offer_sha256.to_owned())
    .bind(now)
    .bind(a.tg_user_id)
    .bind(a.tg_message_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM enrollments WHERE learner_id = $1 AND group_id = $2")
            .bind(a.learner_id)
            .bind(a.group_id.to_owned())
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO orders (enrollment_id, amount_kopecks, status, created_at) \
         VALUES ($1, $2, 'pending', $3) ON CONFLICT (enrollment_id) DO NOTHING",
    )
    .bind(id)
    .bind(a.amount_kopecks)
    .bind(now)
    .execute(conn)
    .await?;
    Ok((id, inserted))
}

pub async fn of_learner(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Vec<EnrollmentRecord>> {
    let sql =
        format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE learner_id = $1 ORDER BY id");
    Ok(sqlx::query_as(&sql)
        .bind(learner_id)
        .fetch_all(conn)
        .await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<EnrollmentRecord>> {
    let sql = format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub async fn in_group(conn: &mut AnyConnection, group_id: &str) -> Result<Vec<EnrollmentRecord>> {
    let sql =
        format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE group_id = $1 ORDER BY id");
    Ok(sqlx::query_as(&sql)
        .bind(group_id.to_owned())
        .fetch_all(conn)
        .await?)
}

pub async fn order_of(conn: &mut AnyConnection, enrollment_id: i64) -> Result<Option<OrderRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, enrollment_id, amount_kopecks, status, paid_at, paid_via, payment_attempts \
         FROM orders WHERE enrollment_id = $1",
    )
    .bind(enrollment_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn order_by_id(conn: &mut AnyConnection, order_id: i64) -> Result<Option<OrderRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, enrollment_id, amount_kopecks, status, paid_at, paid_via, payment_attempts \
         FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

/// The current payment attempt number of an order, advanced when `fresh` (the last link was
/// cancelled): a retry of the same attempt reuses its Idempotence-Key.
pub async fn payment_attempt(conn: &mut AnyConnection, order_id: i64, fresh: bool) -> Result<i64> {
    let sql = if fresh {
        "UPDATE orders SET payment_attempts = payment_attempts + 1 WHERE id = $1"
    } else {
        "UPDATE orders SET payment_attempts = 1 WHERE id = $1 AND payment_attempts = 0"
    };
    sqlx::query(sql).bind(order_id).execute(&mut *conn).await?;
    let (n,): (i64,) = sqlx::query_as("SELECT payment_attempts FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

pub async fn latest_payment(
    conn: &mut AnyConnection,
    order_id: i64,
) -> Result<Option<PaymentRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, attempt, idempotence_key, status, confirmation_url, created_at \
         FROM payments WHERE order_id = $1 ORDER BY attempt DESC LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn payment(conn: &mut AnyConnection, payment_id: &str) -> Result<Option<PaymentRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, attempt, idempotence_key, status, confirmation_url, created_at \
         FROM payments WHERE id = $1",
    )
    .bind(payment_id.to_owned())
    .fetch_optional(conn)
    .await?)
}

pub async fn save_payment(conn: &mut AnyConnection, p: &PaymentRecord, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO payments (id, order_id, attempt, idempotence_key, status, confirmation_url, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         confirmation_url = COALESCE(excluded.confirmation_url, payments.confirmation_url), \
         updated_at = excluded.updated_at",
    )
    .bind(p.id.clone())
    .bind(p.order_id)
    .bind(p.attempt)
    .bind(p.idempotence_key.clone())
    .bind(p.status.clone())
    .bind(p.confirmation_url.clone())
    .bind(p.created_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Payments still waiting for the learner, oldest first (the re-check covers lost notifications).
pub async fn pending_payments(conn: &mut AnyConnection) -> Result<Vec<PaymentRecord>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.order_id, p.attempt, p.idempotence_key, p.status, p.confirmation_url, \
         p.created_at \
         FROM payments p JOIN orders o ON o.id = p.order_id \
         WHERE p.status IN ('pending', 'waiting_for_capture') AND o.status = 'pending' \
         ORDER BY p.created_at",
    )
    .fetch_all(conn)
    .await?)
}

/// Marks the order paid; false when it already was (a second notification, a race).
pub async fn mark_paid(
    conn: &mut AnyConnection,
    order_id: i64,
    via: &str,
    note: Option<&str>,
    by: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'paid', paid_at = $2, paid_via = $3, paid_note = $4, \
         paid_by = $5 WHERE id = $1 AND status <> 'paid'",
    )
    .bind(order_id)
    .bind(now)
    .bind(via.to_owned())
    .bind(note.map(str::to_owned))
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn application(
    conn: &mut AnyConnection,
    enrollment_id: i64,
) -> Result<ApplicationRecord> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT fields, completed_at FROM applications WHERE enrollment_id = $1")
            .bind(enrollment_id)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        Some((fields, completed_at)) => ApplicationRecord {
            fields: from_json("application", &fields)?,
            completed_at,
        },
        None => ApplicationRecord::default(),
    })
}

/// The most recent completed application of a learner: prefills the next one.
pub async fn last_application_of(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Option<BTreeMap<String, String>>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT a.fields FROM applications a JOIN enrollments e ON e.id = a.enrollment_id \
         WHERE e.learner_id = $1 AND a.completed_at IS NOT NULL \
         ORDER BY a.completed_at DESC LIMIT 1",
    )
    .bind(learner_id)
    .fetch_optional(conn)
    .await?;
    row.map(|(f,)| from_json("application", &f)).transpose()
}

/// Saves the form's fields (the whole set: the caller merged the answer in).
pub async fn save_application(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    fields: &BTreeMap<String, String>,
    completed: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO applications (enrollment_id, fields, completed_at, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (enrollment_id) DO UPDATE SET \
         fields = excluded.fields, \
         completed_at = COALESCE(excluded.completed_at, applications.completed_at), \
         updated_at = excluded.updated_at",
    )
    .bind(enrollment_id)
    .bind(to_json(fields))
    .bind(completed.then_some(now))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn documents_of_enrollment(
    conn: &mut AnyConnection,
    enrollment_id: i64,
) -> Result<Vec<DocumentRecord>> {
    let sql =
        format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE enrollment_id = $1 ORDER BY id");
    Ok(sqlx::query_as(&sql)
        .bind(enrollment_id)
        .fetch_all(conn)
        .await?)
}

pub async fn documents_of_learner(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Vec<DocumentRecord>> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE learner_id = $1 ORDER BY id");
    Ok(sqlx::query_as(&sql)
        .bind(learner_id)
        .fetch_all(conn)
        .await?)
}

pub async fn document(conn: &mut AnyConnection, id: i64) -> Result<Option<DocumentRecord>> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// Adds a document; the same file (by SHA-256) already filed for the enrollment is not stored
/// twice. Returns the id and whether it is new.
pub async fn add_document(
    conn: &mut AnyConnection,
    d: &NewDocument<'_>,
    now: i64,
) -> Result<(i64, bool)> {
    let existing: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM documents WHERE learner_id = $1 AND sha256 = $2 \
         AND COALESCE(enrollment_id, 0) = COALESCE($3, 0) AND status <> 'replaced'",
    )
    .bind(d.learner_id)
    .bind(d.sha256.to_owned())
    .bind(d.enrollment_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id,)) = existing {
        return Ok((id, false));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO documents (learner_id, enrollment_id, kind, file_name, mime, size_bytes, \
         sha256, storage_key, source, source_ref, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'received', $11) RETURNING id",
    )
    .bind(d.learner_id)
    .bind(d.enrollment_id)
    .bind(d.kind.to_owned())
    .bind(d.file_name.to_owned())
    .bind(d.mime.to_owned())
    .bind(d.size_bytes)
    .bind(d.sha256.to_owned())
    .bind(d.storage_key.to_owned())
    .bind(d.source.to_owned())
    .bind(d.source_ref.map(str::to_owned))
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok((id, true))
}

/// Retires the current files of one kind before a replacement is added.
pub async fn replace_documents(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    kind: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE documents SET status = 'replaced' WHERE enrollment_id = $1 AND kind = $2 \
         AND status <> 'replaced'",
    )
    .bind(enrollment_id)
    .bind(kind.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

/// Submits the file for review. The learner is enrolled at the first submission (the
/// instruction: "С этого момента слушатель зачислен"). False when already waiting for review.
pub async fn submit_for_review(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE enrollments SET submitted_at = $2, enrolled_at = COALESCE(enrolled_at, $2), \
         review_status = 'pending', review_note = NULL \
         WHERE id = $1 AND (review_status IS NULL OR review_status = 'returned')",
    )
    .bind(enrollment_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Staff accept the file: every current document is accepted. False unless it was pending.
pub async fn accept_review(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    staff: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE enrollments SET review_status = 'accepted', reviewed_by = $2, reviewed_at = $3 \
         WHERE id = $1 AND review_status = 'pending'",
    )
    .bind(enrollment_id)
    .bind(staff)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE documents SET status = 'accepted', reviewed_by = $2, reviewed_at = $3 \
         WHERE enrollment_id = $1 AND status = 'received'",
    )
    .bind(enrollment_id)
    .bind(staff)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Staff return one document with a reason. False unless the file was waiting for review.
pub async fn return_document(
    conn: &mut AnyConnection,
    document_id: i64,
    reason: &str,
    staff: i64,
    now: i64,
) -> Result<bool> {
    let Some(doc) = document(&mut *conn, document_id).await? else {
        return Ok(false);
    };
    let Some(enrollment_id) = doc.enrollment_id else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE enrollments SET review_status = 'returned', review_note = $2, reviewed_by = $3, \
         reviewed_at = $4 WHERE id = $1 AND review_status = 'pending'",
    )
    .bind(enrollment_id)
    .bind(reason.to_owned())
    .bind(staff)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE documents SET status = 'returned', review_note = $2, reviewed_by = $3, \
         reviewed_at = $4 WHERE id = $1",
    )
    .bind(document_id)
    .bind(reason.to_owned())
    .bind(staff)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}
