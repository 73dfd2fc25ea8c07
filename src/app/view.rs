//! Builds the journey's snapshot of a learner from the store.
use sqlx::AnyConnection;

use crate::journey::documents::DocKind;
use crate::journey::view::{
    Consent, DocStatus, DocView, EnrollmentView, LearnerView, OrderStatus, PaymentStatus,
    PaymentView, PendingCode, Review,
};
use crate::store::{attestation, enrollments, learners, LearnerRecord, Result};

pub async fn load(conn: &mut AnyConnection, learner: &LearnerRecord) -> Result<LearnerView> {
    let consent = if learner.consent_withdrawn_at.is_some() {
        Consent::Withdrawn
    } else if learner.consent_given_at.is_some() {
        Consent::Given {
            version: learner.consent_version.clone().unwrap_or_default(),
        }
    } else if learner.consent_refused_at.is_some() {
        Consent::Refused
    } else {
        Consent::NotAsked
    };
    let pending_code = learners::verification(&mut *conn, learner.id)
        .await?
        .map(|v| PendingCode {
            email: v.email,
            code_hash: v.code_hash,
            attempts_left: v.attempts_left,
            sends: v.sends,
            sent_at: v.sent_at,
            expires_at: v.expires_at,
        });
    let mut views = Vec::new();
    for e in enrollments::of_learner(&mut *conn, learner.id).await? {
        views.push(enrollment_view(&mut *conn, e).await?);
    }
    Ok(LearnerView {
        id: learner.id,
        tg_user_id: learner.tg_user_id,
        display_name: learner.display_name.clone(),
        consent,
        email: learner.email_verified_at.and(learner.email.clone()),
        pending_code,
        previous_form: enrollments::last_application_of(&mut *conn, learner.id)
            .await?
            .unwrap_or_default(),
        enrollments: views,
        timezone: learner.timezone.as_deref().and_then(|tz| tz.parse().ok()),
        unsorted: crate::store::mail::unsorted_documents(&mut *conn, learner.id).await?,
        mail_token: learner.mail_token.clone(),
    })
}

pub async fn enrollment_view(
    conn: &mut AnyConnection,
    e: crate::store::EnrollmentRecord,
) -> Result<EnrollmentView> {
    let order = enrollments::order_of(&mut *conn, e.id).await?;
    let payment = match &order {
        Some(o) => enrollments::latest_payment(&mut *conn, o.id).await?,
        None => None,
    };
    let application = enrollments::application(&mut *conn, e.id).await?;
    let attempts = if e.enrolled_at.is_some() {
        attestation::attempts(&mut *conn, e.id).await?
    } else {
        Vec::new()
    };
    let certificate = attestation::certificate(&mut *conn, e.id)
        .await?
        .map(|c| c.view());
    let documents = enrollments::documents_of_enrollment(&mut *conn, e.id)
        .await?
        .into_iter()
        .filter(|d| d.status != "replaced")
        .filter_map(|d| {
            Some(DocView {
                id: d.id,
                kind: DocKind::from_key(&d.kind)?,
                status: match d.status.as_str() {
                    "accepted" => DocStatus::Accepted,
                    "returned" => DocStatus::Returned,
                    _ => DocStatus::Received,
                },
                file_name: d.file_name,
                note: d.review_note,
            })
        })
        .collect();
    Ok(EnrollmentView {
        id: e.id,
        order_id: order.as_ref().map_or(0, |o| o.id),
        order_status: match order.as_ref().map(|o| o.status.as_str()) {
            Some("paid") => OrderStatus::Paid,
            _ => OrderStatus::Pending,
        },
        amount_kopecks: order.as_ref().map_or(0, |o| o.amount_kopecks),
        payment: payment.map(|p| PaymentView {
            status: match p.status.as_str() {
                "succeeded" => PaymentStatus::Succeeded,
                "canceled" => PaymentStatus::Canceled,
                _ => PaymentStatus::Pending,
            },
            id: p.id,
            url: p.confirmation_url,
        }),
        form: application.fields,
        form_completed: application.completed_at.is_some(),
        documents,
        enrolled: e.enrolled_at.is_some(),
        review: match e.review_status.as_deref() {
            Some("pending") => Some(Review::Pending),
            Some("accepted") => Some(Review::Accepted),
            Some("returned") => Some(Review::Returned {
                note: e.review_note.clone().unwrap_or_default(),
            }),
            _ => None,
        },
        course_id: e.course_id,
        group_id: e.group_id,
        attempts,
        certificate,
    })
}
