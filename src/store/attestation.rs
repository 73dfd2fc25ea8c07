//! The final test's attempts and the qualification documents (their samples, confirmation,
//! printing, post). Every change that a button or a timer makes is conditional on the state
//! it expects — a token, a sample version — so a repeated or late one changes nothing.
use sqlx::AnyConnection;

use super::{from_json, to_json, Result};
use crate::journey::attestation::{EndedBy, PlannedQuestion, Progress};
use crate::journey::view::{AttemptResult, AttemptView, CertificateView};

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
struct AttemptRow {
    number: i64,
    plan: String,
    answers: String,
    marks: String,
    current_index: i64,
    token: String,
    started_at: i64,
    deadline_at: Option<i64>,
    finished_at: Option<i64>,
    score: Option<i64>,
    total: Option<i64>,
    passed: Option<i64>,
    ended_by: Option<String>,
}

impl AttemptRow {
    fn into_view(self) -> Result<AttemptView> {
        let result = match (self.finished_at, self.score, self.total) {
            (Some(finished_at), Some(score), Some(total)) => Some(AttemptResult {
                finished_at,
                score,
                total,
                passed: self.passed == Some(1),
                ended_by: self
                    .ended_by
                    .as_deref()
                    .and_then(EndedBy::from_code)
                    .unwrap_or(EndedBy::Answered),
            }),
            _ => None,
        };
        Ok(AttemptView {
            number: self.number,
            plan: from_json::<Vec<PlannedQuestion>>("test_attempts.plan", &self.plan)?,
            answers: from_json("test_attempts.answers", &self.answers)?,
            marks: from_json("test_attempts.marks", &self.marks)?,
            current: self.current_index.max(0) as usize,
            token: self.token,
            started_at: self.started_at,
            deadline_at: self.deadline_at,
            result,
        })
    }
}

/// The attempts of an enrollment, by number.
pub async fn attempts(conn: &mut AnyConnection, enrollment_id: i64) -> Result<Vec<AttemptView>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT number, plan, answers, marks, current_index, token, started_at, deadline_at, \
         finished_at, score, total, passed, ended_by FROM test_attempts \
         WHERE enrollment_id = $1 ORDER BY number",
    )
    .bind(enrollment_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(AttemptRow::into_view).collect()
}

/// Starts an attempt; false when one with this number exists.
pub async fn insert_attempt(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    number: i64,
    plan: &[PlannedQuestion],
    token: &str,
    deadline_at: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO test_attempts (enrollment_id, number, plan, answers, marks, current_index, \
         token, started_at, deadline_at) VALUES ($1, $2, $3, '[]', '[]', 0, $4, $5, $6) \
         ON CONFLICT (enrollment_id, number) DO NOTHING",
    )
    .bind(enrollment_id)
    .bind(number)
    .bind(to_json(&plan))
    .bind(token.to_owned())
    .bind(now)
    .bind(deadline_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a running attempt on; false unless it still runs with the token `expected`.
pub async fn update_attempt(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    number: i64,
    expected: &str,
    progress: &Progress,
    result: Option<&AttemptResult>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE test_attempts SET answers = $4, marks = $5, current_index = $6, token = $7, \
         finished_at = $8, score = $9, total = $10, passed = $11, ended_by = $12 \
         WHERE enrollment_id = $1 AND number = $2 AND token = $3 AND finished_at IS NULL",
    )
    .bind(enrollment_id)
    .bind(number)
    .bind(expected.to_owned())
    .bind(to_json(&progress.answers))
    .bind(to_json(&progress.marks))
    .bind(progress.current as i64)
    .bind(progress.token.clone())
    .bind(result.map(|r| r.finished_at))
    .bind(result.map(|r| r.score))
    .bind(result.map(|r| r.total))
    .bind(result.map(|r| i64::from(r.passed)))
    .bind(result.map(|r| r.ended_by.code().to_owned()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A qualification document as stored.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct CertificateRecord {
    pub enrollment_id: i64,
    pub registration_number: String,
    pub full_name: String,
    pub postal_address: String,
    pub sample_version: i64,
    pub sample_sha256: Option<String>,
    pub confirmed_at: Option<i64>,
    pub printed_at: Option<i64>,
    pub tracking_number: Option<String>,
    pub tracking_sent_at: Option<i64>,
    pub arrived_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

impl CertificateRecord {
    pub fn view(&self) -> CertificateView {
        CertificateView {
            registration_number: self.registration_number.clone(),
            full_name: self.full_name.clone(),
            postal_address: self.postal_address.clone(),
            version: self.sample_version,
            confirmed: self.confirmed_at.is_some(),
            printed: self.printed_at.is_some(),
            tracking_number: self.tracking_number.clone(),
        }
    }
}

const CERTIFICATE: &str = "SELECT enrollment_id, registration_number, full_name, \
    postal_address, sample_version, sample_sha256, confirmed_at, printed_at, tracking_number, \
    tracking_sent_at, arrived_at, delivered_at FROM certificates";

pub async fn certificate(
    conn: &mut AnyConnection,
    enrollment_id: i64,
) -> Result<Option<CertificateRecord>> {
    Ok(
        sqlx::query_as(&format!("{CERTIFICATE} WHERE enrollment_id = $1"))
            .bind(enrollment_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The data of a sample version. Version 1 creates the document; a later one replaces the
/// data of the version before it while they are not confirmed. False otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn save_sample(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    version: i64,
    registration_number: &str,
    full_name: &str,
    postal_address: &str,
    sha256: &str,
    now: i64,
) -> Result<bool> {
    let done = if version == 1 {
        sqlx::query(
            "INSERT INTO certificates (enrollment_id, registration_number, full_name, \
             postal_address, sample_version, sample_sha256, sample_sent_at, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6) ON CONFLICT (enrollment_id) DO NOTHING",
        )
        .bind(enrollment_id)
        .bind(registration_number.to_owned())
        .bind(full_name.to_owned())
        .bind(postal_address.to_owned())
        .bind(sha256.to_owned())
        .bind(now)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "UPDATE certificates SET sample_version = $2, full_name = $3, postal_address = $4, \
             sample_sha256 = $5, sample_sent_at = $6 WHERE enrollment_id = $1 \
             AND sample_version = $7 AND confirmed_at IS NULL",
        )
        .bind(enrollment_id)
        .bind(version)
        .bind(full_name.to_owned())
        .bind(postal_address.to_owned())
        .bind(sha256.to_owned())
        .bind(now)
        .bind(version - 1)
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// The learner confirmed this version; false unless it is current and unconfirmed.
pub async fn confirm_sample(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    version: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE certificates SET confirmed_at = $3 WHERE enrollment_id = $1 \
         AND sample_version = $2 AND confirmed_at IS NULL",
    )
    .bind(enrollment_id)
    .bind(version)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Letters on their way: a tracking number, not yet delivered, posted after `since`.
pub async fn in_post(conn: &mut AnyConnection, since: i64) -> Result<Vec<CertificateRecord>> {
    Ok(sqlx::query_as(&format!(
        "{CERTIFICATE} WHERE tracking_number IS NOT NULL AND delivered_at IS NULL \
         AND tracking_sent_at >= $1 ORDER BY tracking_sent_at, enrollment_id"
    ))
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// What the post said about a letter: `arrived` (at the post office) or `delivered`. False
/// when that was recorded before (or the tracking number changed meanwhile).
pub async fn record_post_status(
    conn: &mut AnyConnection,
    enrollment_id: i64,
    tracking_number: &str,
    delivered: bool,
    now: i64,
) -> Result<bool> {
    let sql = if delivered {
        "UPDATE certificates SET delivered_at = $3, post_checked_at = $3 \
         WHERE enrollment_id = $1 AND tracking_number = $2 AND delivered_at IS NULL"
    } else {
        "UPDATE certificates SET arrived_at = $3, post_checked_at = $3 \
         WHERE enrollment_id = $1 AND tracking_number = $2 AND arrived_at IS NULL \
         AND delivered_at IS NULL"
    };
    let done = sqlx::query(sql)
        .bind(enrollment_id)
        .bind(tracking_number.to_owned())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The poll looked at the letter (nothing new).
pub async fn post_checked(conn: &mut AnyConnection, enrollment_id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE certificates SET post_checked_at = $2 WHERE enrollment_id = $1")
        .bind(enrollment_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
