//! The email channel's records: the ledger of letters taken from the mailbox (so none is
//! processed twice or skipped), the letters the bot sent (to match replies and bounces),
//! unknown senders already answered, and addresses whose letters bounce.
use sqlx::AnyConnection;

use super::Result;

/// What became of a letter taken from the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Attached to a learner: documents, a reply, a question.
    Processed,
    /// The same Message-ID was processed before (another UID, another UIDVALIDITY).
    Duplicate,
    /// From a learner's address without proof (DKIM/DMARC): waits for staff.
    Held,
    /// Auto-replies, lists, letters we cannot use: filed without an answer.
    Ignored,
    /// A delivery report about a letter the bot sent.
    Bounce,
    /// Nobody we know: answered once, staff alerted.
    Unknown,
    /// Too large or not a letter; the reason says why.
    Refused,
    /// Staff released a held letter.
    Released,
    /// Staff rejected a held letter.
    Rejected,
}

impl MailStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Held => "held",
            Self::Ignored => "ignored",
            Self::Bounce => "bounce",
            Self::Unknown => "unknown",
            Self::Refused => "refused",
            Self::Released => "released",
            Self::Rejected => "rejected",
        }
    }
}

/// Where a letter sits on the IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MailboxUid<'a> {
    pub mailbox: &'a str,
    pub uid_validity: u32,
    pub uid: u32,
}

#[derive(Debug, Clone)]
pub struct MailRecord<'a> {
    pub at: MailboxUid<'a>,
    /// The Message-ID, or `sha256:<hex>` of the raw letter when it has none.
    pub message_id: &'a str,
    pub learner_id: Option<i64>,
    pub status: MailStatus,
    pub reason: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// Storage key of the raw letter (held letters only).
    pub raw_key: Option<&'a str>,
}

/// Records a letter as processed; false when this UID was recorded before (another
/// instance, or a second run after a crash): the caller then rolls back its work.
pub async fn record(conn: &mut AnyConnection, r: &MailRecord<'_>, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO mail_messages (mailbox, uid_validity, uid, message_id, learner_id, status, \
         reason, sender, subject, raw_key, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (mailbox, uid_validity, uid) DO NOTHING",
    )
    .bind(r.at.mailbox.to_owned())
    .bind(i64::from(r.at.uid_validity))
    .bind(i64::from(r.at.uid))
    .bind(r.message_id.to_owned())
    .bind(r.learner_id)
    .bind(r.status.code())
    .bind(r.reason.map(str::to_owned))
    .bind(r.sender.map(str::to_owned))
    .bind(r.subject.map(str::to_owned))
    .bind(r.raw_key.map(str::to_owned))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// True when this UID is already in the ledger.
pub async fn is_recorded(conn: &mut AnyConnection, at: MailboxUid<'_>) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM mail_messages WHERE mailbox = $1 AND uid_validity = $2 AND uid = $3",
    )
    .bind(at.mailbox.to_owned())
    .bind(i64::from(at.uid_validity))
    .bind(i64::from(at.uid))
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// True when a letter with this Message-ID was taken from the mailbox before.
pub async fn message_id_seen(conn: &mut AnyConnection, message_id: &str) -> Result<bool> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM mail_messages WHERE message_id = $1 LIMIT 1")
            .bind(message_id.to_owned())
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Where the poller resumes under this UIDVALIDITY: the highest UID recorded, and the
/// UIDs recorded but not yet filed away on the server.
pub async fn resume_point(
    conn: &mut AnyConnection,
    mailbox: &str,
    uid_validity: u32,
) -> Result<(u32, Vec<u32>)> {
    let (max,): (Option<i64>,) = sqlx::query_as(
        "SELECT MAX(uid) FROM mail_messages WHERE mailbox = $1 AND uid_validity = $2",
    )
    .bind(mailbox.to_owned())
    .bind(i64::from(uid_validity))
    .fetch_one(&mut *conn)
    .await?;
    let unfiled: Vec<(i64,)> = sqlx::query_as(
        "SELECT uid FROM mail_messages WHERE mailbox = $1 AND uid_validity = $2 \
         AND filed_at IS NULL ORDER BY uid",
    )
    .bind(mailbox.to_owned())
    .bind(i64::from(uid_validity))
    .fetch_all(conn)
    .await?;
    let uid = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok((
        max.map(uid).unwrap_or(0),
        unfiled.into_iter().map(|(n,)| uid(n)).collect(),
    ))
}

pub async fn mark_filed(conn: &mut AnyConnection, at: MailboxUid<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE mail_messages SET filed_at = $4 \
         WHERE mailbox = $1 AND uid_validity = $2 AND uid = $3",
    )
    .bind(at.mailbox.to_owned())
    .bind(i64::from(at.uid_validity))
    .bind(i64::from(at.uid))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A held letter, for the staff decision.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct HeldLetter {
    pub id: i64,
    pub learner_id: Option<i64>,
    pub status: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub raw_key: Option<String>,
}

pub async fn held_letter(conn: &mut AnyConnection, id: i64) -> Result<Option<HeldLetter>> {
    Ok(sqlx::query_as(
        "SELECT id, learner_id, status, sender, subject, raw_key FROM mail_messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn held_id(conn: &mut AnyConnection, at: MailboxUid<'_>) -> Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM mail_messages WHERE mailbox = $1 AND uid_validity = $2 AND uid = $3 \
         AND status = 'held'",
    )
    .bind(at.mailbox.to_owned())
    .bind(i64::from(at.uid_validity))
    .bind(i64::from(at.uid))
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Settles a held letter; false when it was settled before (a second press).
pub async fn settle_held(conn: &mut AnyConnection, id: i64, status: MailStatus) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE mail_messages SET status = $2, raw_key = NULL WHERE id = $1 AND status = 'held'",
    )
    .bind(id)
    .bind(status.code())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remembers a letter the bot queued, to recognise replies and bounces.
pub async fn record_sent(
    conn: &mut AnyConnection,
    message_id: &str,
    to: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_sent (message_id, to_address, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id.to_owned())
    .bind(to.to_lowercase())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The address of the first of these Message-IDs that the bot sent.
pub async fn sent_to(conn: &mut AnyConnection, message_ids: &[String]) -> Result<Option<String>> {
    for id in message_ids {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT to_address FROM mail_sent WHERE message_id = $1")
                .bind(id.to_owned())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((to,)) = row {
            return Ok(Some(to));
        }
    }
    Ok(None)
}

/// Claims the one auto-reply an address may get; false when it had it.
pub async fn claim_autoreply(conn: &mut AnyConnection, address: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO mail_autoreplies (address, sent_at) VALUES ($1, $2) \
         ON CONFLICT (address) DO NOTHING",
    )
    .bind(address.to_lowercase())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an address as failing (its letters bounce).
pub async fn record_failure(
    conn: &mut AnyConnection,
    address: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_failures (address, reason, failed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, \
         failed_at = excluded.failed_at",
    )
    .bind(address.to_lowercase())
    .bind(reason.to_owned())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Why letters to this address fail, when they do.
pub async fn failure(conn: &mut AnyConnection, address: &str) -> Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT reason FROM mail_failures WHERE address = $1")
            .bind(address.to_lowercase())
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(r,)| r))
}

/// Counts the ledger's letters by status (tests, the benchmark, `/stats`).
pub async fn count_by_status(conn: &mut AnyConnection, status: MailStatus) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_messages WHERE status = $1")
        .bind(status.code())
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// The kind of a document stored before anyone knew it; false when the document is not
/// this learner's or was sorted before.
pub async fn sort_document(
    conn: &mut AnyConnection,
    learner_id: i64,
    document: i64,
    kind: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE documents SET kind = $3 WHERE id = $1 AND learner_id = $2 AND kind = $4",
    )
    .bind(document)
    .bind(learner_id)
    .bind(kind.to_owned())
    .bind(UNSORTED)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The `documents.kind` of a mailed file whose kind the learner has not told yet.
pub const UNSORTED: &str = "unsorted";

/// The learner's mailed files whose kind nobody has told yet, (id, file name), oldest
/// first: the order in which letters number them.
pub async fn unsorted_documents(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, file_name FROM documents WHERE learner_id = $1 AND kind = $2 \
         AND status <> 'replaced' ORDER BY id",
    )
    .bind(learner_id)
    .bind(UNSORTED)
    .fetch_all(conn)
    .await?)
}

/// The learner who is verifying this address right now (the email code was sent to it).
pub async fn learner_verifying(
    conn: &mut AnyConnection,
    address: &str,
) -> Result<Option<super::LearnerRecord>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT learner_id FROM email_verifications WHERE email = $1")
            .bind(address.to_lowercase())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some((id,)) => super::learners::by_id(conn, id).await,
        None => Ok(None),
    }
}

/// True when the bot ever queued a letter to this address.
pub async fn ever_sent_to(conn: &mut AnyConnection, address: &str) -> Result<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT message_id FROM mail_sent WHERE to_address = $1 LIMIT 1")
            .bind(address.to_lowercase())
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Withdrawal of consent: the learner's letters keep only what proves they were handled
/// (no sender, subject or held copy), and the address leaves the channel's tables.
/// Returns the storage keys of held letters, whose files the caller deletes.
pub async fn forget(
    conn: &mut AnyConnection,
    learner_id: i64,
    email: Option<&str>,
) -> Result<Vec<String>> {
    let keys: Vec<(String,)> = sqlx::query_as(
        "SELECT raw_key FROM mail_messages WHERE learner_id = $1 AND raw_key IS NOT NULL",
    )
    .bind(learner_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE mail_messages SET sender = NULL, subject = NULL, raw_key = NULL, \
         status = CASE WHEN status = 'held' THEN 'rejected' ELSE status END \
         WHERE learner_id = $1",
    )
    .bind(learner_id)
    .execute(&mut *conn)
    .await?;
    if let Some(email) = email {
        let email = email.to_lowercase();
        for sql in [
            "DELETE FROM mail_sent WHERE to_address = $1",
            "DELETE FROM mail_autoreplies WHERE address = $1",
            "DELETE FROM mail_failures WHERE address = $1",
        ] {
            sqlx::query(sql)
                .bind(email.clone())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(keys.into_iter().map(|(k,)| k).collect())
}
