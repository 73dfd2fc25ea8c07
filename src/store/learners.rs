//! Learners: identity (Telegram, verified email), consent, email verification codes.
use sqlx::AnyConnection;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct LearnerRecord {
    pub id: i64,
    pub tg_user_id: Option<i64>,
    pub tg_chat_id: Option<i64>,
    pub tg_username: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified_at: Option<i64>,
    pub consent_version: Option<String>,
    pub consent_given_at: Option<i64>,
    pub consent_refused_at: Option<i64>,
    pub consent_withdrawn_at: Option<i64>,
    pub timezone: Option<String>,
    pub mail_token: Option<String>,
    pub created_at: i64,
}

const LEARNER_COLUMNS: &str = "id, tg_user_id, tg_chat_id, tg_username, display_name, email, \
    email_verified_at, consent_version, consent_given_at, consent_refused_at, \
    consent_withdrawn_at, timezone, mail_token, created_at";

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct EmailVerification {
    pub learner_id: i64,
    pub email: String,
    pub code_hash: String,
    pub attempts_left: i64,
    pub sends: i64,
    pub sent_at: i64,
    pub expires_at: i64,
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<LearnerRecord>> {
    let sql = format!("SELECT {LEARNER_COLUMNS} FROM learners WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub async fn by_tg_user(
    conn: &mut AnyConnection,
    tg_user_id: i64,
) -> Result<Option<LearnerRecord>> {
    let sql = format!("SELECT {LEARNER_COLUMNS} FROM learners WHERE tg_user_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(tg_user_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<LearnerRecord>> {
    let sql = format!("SELECT {LEARNER_COLUMNS} FROM learners WHERE email = $1");
    Ok(sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_mail_token(conn: &mut AnyConnection, token: &str) -> Result<Option<LearnerRecord>> {
    let sql = format!("SELECT {LEARNER_COLUMNS} FROM learners WHERE mail_token = $1");
    Ok(sqlx::query_as(&sql)
        .bind(token)
        .fetch_optional(conn)
        .await?)
}

/// The learner behind a Telegram account, created on first contact; chat and name refreshed.
pub async fn ensure_telegram(
    conn: &mut AnyConnection,
    tg_user_id: i64,
    tg_chat_id: i64,
    username: Option<&str>,
    display_name: &str,
    mail_token: &str,
    now: i64,
) -> Result<LearnerRecord> {
    // Known and unchanged (nearly every message): no write, so a learner's message waits
    // for a database lock held elsewhere only where it changes something.
    if let Some(known) = by_tg_user(conn, tg_user_id).await? {
        if known.tg_chat_id == Some(tg_chat_id)
            && known.tg_username.as_deref() == username
            && known.display_name == display_name
        {
            return Ok(known);
        }
    }
    sqlx::query(
        "INSERT INTO learners (tg_user_id, tg_chat_id, tg_username, display_name, mail_token, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (tg_user_id) DO UPDATE SET tg_chat_id = excluded.tg_chat_id, \
         tg_username = excluded.tg_username, display_name = excluded.display_name, \
         updated_at = excluded.updated_at",
    )
    .bind(tg_user_id)
    .bind(tg_chat_id)
    .bind(username.map(str::to_owned))
    .bind(display_name.to_owned())
    .bind(mail_token.to_owned())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(by_tg_user(conn, tg_user_id)
        .await?
        .expect("learner row exists after upsert"))
}

/// A learner known only by a verified email (they wrote to the school's mailbox).
pub async fn ensure_email_only(
    conn: &mut AnyConnection,
    email: &str,
    display_name: &str,
    mail_token: &str,
    now: i64,
) -> Result<LearnerRecord> {
    sqlx::query(
        "INSERT INTO learners (email, email_verified_at, display_name, mail_token, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $2, $2) ON CONFLICT (email) DO NOTHING",
    )
    .bind(email.to_owned())
    .bind(now)
    .bind(display_name.to_owned())
    .bind(mail_token.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(by_email(conn, email)
        .await?
        .expect("learner row exists after insert"))
}

pub async fn record_consent(
    conn: &mut AnyConnection,
    learner_id: i64,
    granted: bool,
    version: &str,
    now: i64,
) -> Result<()> {
    let sql = if granted {
        "UPDATE learners SET consent_version = $2, consent_given_at = $3, consent_refused_at = NULL, \
         consent_withdrawn_at = NULL, updated_at = $3 WHERE id = $1"
    } else {
        "UPDATE learners SET consent_version = $2, consent_refused_at = $3, consent_given_at = NULL, \
         updated_at = $3 WHERE id = $1"
    };
    sqlx::query(sql)
        .bind(learner_id)
        .bind(version.to_owned())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_timezone(
    conn: &mut AnyConnection,
    learner_id: i64,
    tz: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE learners SET timezone = $2, updated_at = $3 WHERE id = $1")
        .bind(learner_id)
        .bind(tz.to_owned())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn verification(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Option<EmailVerification>> {
    Ok(sqlx::query_as(
        "SELECT learner_id, email, code_hash, attempts_left, sends, sent_at, expires_at \
         FROM email_verifications WHERE learner_id = $1",
    )
    .bind(learner_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores a new code (replacing an older one); `sends` counts codes sent to the same address.
pub async fn start_verification(
    conn: &mut AnyConnection,
    learner_id: i64,
    email: &str,
    code_hash: &str,
    attempts: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_verifications (learner_id, email, code_hash, attempts_left, sends, \
         sent_at, expires_at) VALUES ($1, $2, $3, $4, 1, $5, $6) \
         ON CONFLICT (learner_id) DO UPDATE SET code_hash = excluded.code_hash, \
         attempts_left = excluded.attempts_left, sent_at = excluded.sent_at, \
         expires_at = excluded.expires_at, \
         sends = CASE WHEN email_verifications.email = excluded.email \
                 THEN email_verifications.sends + 1 ELSE 1 END, \
         email = excluded.email",
    )
    .bind(learner_id)
    .bind(email.to_owned())
    .bind(code_hash.to_owned())
    .bind(attempts)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn spend_code_attempt(conn: &mut AnyConnection, learner_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE email_verifications SET attempts_left = attempts_left - 1 \
         WHERE learner_id = $1 AND attempts_left > 0",
    )
    .bind(learner_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the verified email. Returns false when another learner already owns the address.
pub async fn confirm_email(
    conn: &mut AnyConnection,
    learner_id: i64,
    email: &str,
    now: i64,
) -> Result<bool> {
    let owner: Option<(i64,)> = sqlx::query_as("SELECT id FROM learners WHERE email = $1")
        .bind(email.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    if matches!(owner, Some((id,)) if id != learner_id) {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE learners SET email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1",
    )
    .bind(learner_id)
    .bind(email.to_owned())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM email_verifications WHERE learner_id = $1")
        .bind(learner_id)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Joins a Telegram account to the learner known by email whose `mail_token` this is (the
/// link in the bot's letters). A learner the account made before without an address or an
/// enrollment (a `/start` before the link) gives the account up; the letters' conversation
/// moves to the chat. False when the token is unknown, the learner has Telegram already, or
/// the account belongs to another learner with data of their own.
pub async fn link_telegram(
    conn: &mut AnyConnection,
    token: &str,
    tg_user_id: i64,
    tg_chat_id: i64,
    username: Option<&str>,
    now: i64,
) -> Result<bool> {
    let Some(target) = by_mail_token(&mut *conn, token).await? else {
        return Ok(false);
    };
    if target.tg_user_id == Some(tg_user_id) {
        return Ok(true);
    }
    if target.tg_user_id.is_some() {
        return Ok(false);
    }
    if let Some(existing) = by_tg_user(&mut *conn, tg_user_id).await? {
        let (enrollments,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM enrollments WHERE learner_id = $1")
                .bind(existing.id)
                .fetch_one(&mut *conn)
                .await?;
        if existing.email.is_some() || enrollments > 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE learners SET tg_user_id = NULL, tg_chat_id = NULL, updated_at = $2 \
             WHERE id = $1",
        )
        .bind(existing.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let done = sqlx::query(
        "UPDATE learners SET tg_user_id = $2, tg_chat_id = $3, tg_username = $4, updated_at = $5 \
         WHERE id = $1 AND tg_user_id IS NULL",
    )
    .bind(target.id)
    .bind(tg_user_id)
    .bind(tg_chat_id)
    .bind(username.map(str::to_owned))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    // The conversation was kept under the learner's negative key (see `conversation_key`).
    sqlx::query("DELETE FROM conversations WHERE chat_id = $1")
        .bind(tg_chat_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE conversations SET chat_id = $1 WHERE chat_id = $2")
        .bind(tg_chat_id)
        .bind(-target.id)
        .execute(&mut *conn)
        .await?;
    super::audit::record(
        conn,
        now,
        "learner",
        "telegram-linked",
        Some(target.id),
        &format!("telegram user {tg_user_id}"),
    )
    .await?;
    Ok(true)
}
