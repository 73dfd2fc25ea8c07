//! 152-ФЗ in the store: everything kept about a learner (for `/mydata`), and withdrawal of
//! consent (`/forget`): personal data destroyed, contract records kept for the legal term
//! with just the party's identity, then anonymous.
use sqlx::AnyConnection;

use super::{audit, enrollments, learners, to_json, Result};

/// Everything stored about a learner, as data (documents by name and kind, not content).
pub async fn export(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Option<serde_json::Value>> {
    let Some(l) = learners::by_id(&mut *conn, learner_id).await? else {
        return Ok(None);
    };
    let mut courses = Vec::new();
    for e in enrollments::of_learner(&mut *conn, learner_id).await? {
        let order = enrollments::order_of(&mut *conn, e.id).await?;
        let payment = match &order {
            Some(o) => enrollments::latest_payment(&mut *conn, o.id).await?,
            None => None,
        };
        let application = enrollments::application(&mut *conn, e.id).await?;
        let tests: Vec<_> = super::attestation::attempts(&mut *conn, e.id)
            .await?
            .into_iter()
            .map(|a| {
                serde_json::json!({
                    "attempt": a.number,
                    "started_at": a.started_at,
                    "finished_at": a.result.as_ref().map(|r| r.finished_at),
                    "score": a.result.as_ref().map(|r| r.score),
                    "total": a.result.as_ref().map(|r| r.total),
                    "passed": a.result.as_ref().map(|r| r.passed),
                })
            })
            .collect();
        let certificate = super::attestation::certificate(&mut *conn, e.id)
            .await?
            .map(|c| {
                serde_json::json!({
                    "registration_number": c.registration_number,
                    "full_name": c.full_name,
                    "postal_address": c.postal_address,
                    "confirmed_at": c.confirmed_at,
                    "printed_at": c.printed_at,
                    "tracking_number": c.tracking_number,
                })
            });
        courses.push(serde_json::json!({
            "course": e.course_id,
            "group": e.group_id,
            "offer": {"version": e.offer_version, "sha256": e.offer_sha256, "accepted_at": e.offer_accepted_at},
            "order": order.map(|o| serde_json::json!({"id": o.id, "amount_kopecks": o.amount_kopecks, "status": o.status, "paid_at": o.paid_at})),
            "payment": payment.map(|p| serde_json::json!({"id": p.id, "status": p.status})),
            "application": application.fields,
            "submitted_at": e.submitted_at,
            "enrolled_at": e.enrolled_at,
            "review": e.review_status,
            "final_test": tests,
            "certificate": certificate,
        }));
    }
    let documents: Vec<_> = enrollments::documents_of_learner(&mut *conn, learner_id)
        .await?
        .into_iter()
        .map(|d| serde_json::json!({"kind": d.kind, "file_name": d.file_name, "size_bytes": d.size_bytes, "status": d.status, "received_at": d.created_at, "source": d.source}))
        .collect();
    let history: Vec<_> = audit::for_learner(&mut *conn, learner_id)
        .await?
        .into_iter()
        .map(|a| serde_json::json!({"at": a.at, "who": a.actor, "what": a.action}))
        .collect();
    Ok(Some(serde_json::json!({
        "learner": {
            "id": l.id,
            "telegram_user_id": l.tg_user_id,
            "telegram_username": l.tg_username,
            "name": l.display_name,
            "email": l.email,
            "email_verified_at": l.email_verified_at,
            "timezone": l.timezone,
            "created_at": l.created_at,
        },
        "consent": {
            "version": l.consent_version,
            "given_at": l.consent_given_at,
            "refused_at": l.consent_refused_at,
            "withdrawn_at": l.consent_withdrawn_at,
        },
        "courses": courses,
        "documents": documents,
        "history": history,
    })))
}

/// What withdrawal destroyed: the files to delete after the commit, and the act's lines.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Destroyed {
    pub storage_keys: Vec<String>,
    pub documents: usize,
    pub applications: usize,
}

/// Withdraws consent and destroys personal data in one transaction. Contract records
/// (enrollments, orders, payments, offer evidence) stay; the party's identity is kept aside
/// in `retained_records` until `keep_until`.
pub async fn forget(
    conn: &mut AnyConnection,
    learner_id: i64,
    now: i64,
    keep_until: i64,
) -> Result<Destroyed> {
    let Some(l) = learners::by_id(&mut *conn, learner_id).await? else {
        return Ok(Destroyed::default());
    };
    let mut identity_name = l.display_name.clone();
    let mut destroyed = Destroyed::default();
    for e in enrollments::of_learner(&mut *conn, learner_id).await? {
        let application = enrollments::application(&mut *conn, e.id).await?;
        let name = ["surname", "name", "patronymic"]
            .iter()
            .filter_map(|k| {
                application
                    .fields
                    .get(*k)
                    .filter(|v| !v.is_empty())
                    .cloned()
            })
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            identity_name = name;
        }
        if !application.fields.is_empty() {
            destroyed.applications += 1;
        }
        sqlx::query(
            "UPDATE applications SET fields = '{}', updated_at = $2 WHERE enrollment_id = $1",
        )
        .bind(e.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        // The register of issued documents keeps the name and number (a record the school
        // must keep); the postal address goes, and a sample not yet confirmed goes whole.
        sqlx::query(
            "UPDATE certificates SET postal_address = '' WHERE enrollment_id = $1 \
             AND confirmed_at IS NOT NULL",
        )
        .bind(e.id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM certificates WHERE enrollment_id = $1 AND confirmed_at IS NULL")
            .bind(e.id)
            .execute(&mut *conn)
            .await?;
    }
    for d in enrollments::documents_of_learner(&mut *conn, learner_id).await? {
        if d.status != "destroyed" {
            destroyed.documents += 1;
            destroyed.storage_keys.push(d.storage_key);
        }
    }
    sqlx::query(
        "UPDATE documents SET status = 'destroyed', file_name = '', source_ref = NULL, \
         review_note = NULL WHERE learner_id = $1",
    )
    .bind(learner_id)
    .execute(&mut *conn)
    .await?;
    // The email channel's traces: held letters (their files go too) and the address.
    let held = super::mail::forget(&mut *conn, learner_id, l.email.as_deref()).await?;
    destroyed.storage_keys.extend(held);
    let has_contracts = !enrollments::of_learner(&mut *conn, learner_id)
        .await?
        .is_empty();
    if has_contracts {
        let identity = serde_json::json!({"name": identity_name, "email": l.email});
        sqlx::query(
            "INSERT INTO retained_records (learner_id, data, delete_after, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (learner_id) DO NOTHING",
        )
        .bind(learner_id)
        .bind(to_json(&identity))
        .bind(keep_until)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    for table in ["email_verifications", "webinar_links"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE learner_id = $1"))
            .bind(learner_id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(chat) = l.tg_chat_id {
        sqlx::query("DELETE FROM conversations WHERE chat_id = $1")
            .bind(chat)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "UPDATE learners SET tg_user_id = NULL, tg_chat_id = NULL, tg_username = NULL, \
         display_name = '', email = NULL, email_verified_at = NULL, timezone = NULL, \
         mail_token = NULL, consent_given_at = NULL, consent_withdrawn_at = $2, updated_at = $2 \
         WHERE id = $1",
    )
    .bind(learner_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(destroyed)
}

/// Deletes the identities whose retention term is over; returns how many.
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM retained_records WHERE delete_after <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
