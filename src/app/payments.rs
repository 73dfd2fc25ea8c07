//! Payment of orders through YooKassa (or bank transfer / demo), and the trust rule: a
//! payment counts as paid only when read back from the provider's API.
use std::collections::BTreeMap;

use super::App;
use crate::domain::catalog::Money;
use crate::journey::Event;
use crate::payments::{NewPayment, PaymentStatus, YooKassa};
use crate::store::{enrollments, PaymentRecord};

pub enum Provider {
    YooKassa { client: Box<YooKassa>, vat_code: u8 },
    BankTransfer,
    Demo,
}

/// The Idempotence-Key of an order's n-th payment: a retry of the same attempt can never
/// create a second payment at YooKassa.
pub fn idempotence_key(order_id: i64, attempt: i64) -> String {
    format!("uchbot-order-{order_id}-{attempt}")
}

fn status_code(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Pending => "pending",
        PaymentStatus::WaitingForCapture => "waiting_for_capture",
        PaymentStatus::Succeeded => "succeeded",
        PaymentStatus::Canceled => "canceled",
    }
}

/// Asks for a payment link for the enrollment's order (reusing a pending one).
pub async fn request_link(app: &App, enrollment: i64, fresh: bool) -> anyhow::Result<Event> {
    let Provider::YooKassa { client, vat_code } = &app.payments else {
        return Ok(match app.payments {
            Provider::Demo => Event::PaymentDemo { enrollment },
            _ => Event::PaymentByTransfer { enrollment },
        });
    };
    let mut conn = app.store.pool().acquire().await?;
    let Some(e) = enrollments::by_id(&mut conn, enrollment).await? else {
        anyhow::bail!("enrollment {enrollment} vanished");
    };
    let order = enrollments::order_of(&mut conn, enrollment)
        .await?
        .ok_or_else(|| anyhow::anyhow!("enrollment {enrollment} has no order"))?;
    if !fresh {
        if let Some(p) = enrollments::latest_payment(&mut conn, order.id).await? {
            if p.status == "pending" {
                if let Some(url) = p.confirmation_url {
                    return Ok(Event::PaymentLink { enrollment, url });
                }
            }
        }
    }
    let attempt = enrollments::payment_attempt(&mut conn, order.id, fresh).await?;
    let learner = crate::store::learners::by_id(&mut conn, e.learner_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("learner of enrollment {enrollment} vanished"))?;
    drop(conn);
    let catalog = app.catalog().await?;
    let title = catalog
        .course(&e.course_id)
        .map(|c| c.title.clone())
        .unwrap_or_else(|| e.course_id.clone());
    let key = idempotence_key(order.id, attempt);
    let request = NewPayment {
        idempotence_key: key.clone(),
        amount: Money(order.amount_kopecks),
        description: crate::tr!(
            app.texts,
            "payment-description",
            order = order.id,
            title = &title
        ),
        customer_email: learner.email.clone().unwrap_or_default(),
        item_description: crate::tr!(app.texts, "payment-item", title = &title),
        vat_code: *vat_code,
        metadata: BTreeMap::from([
            ("order_id".to_owned(), order.id.to_string()),
            ("enrollment_id".to_owned(), enrollment.to_string()),
        ]),
    };
    match client.create_payment(&request).await {
        Ok(payment) => {
            super::alerts::service_working(app, "yookassa").await;
            let record = PaymentRecord {
                id: payment.id.clone(),
                order_id: order.id,
                attempt,
                idempotence_key: key,
                status: status_code(payment.status).to_owned(),
                confirmation_url: payment.confirmation_url.clone(),
                created_at: app.now().timestamp(),
            };
            let mut conn = app.store.pool().acquire().await?;
            enrollments::save_payment(&mut conn, &record, app.now().timestamp()).await?;
            match payment.confirmation_url {
                Some(url) => Ok(Event::PaymentLink { enrollment, url }),
                None => Ok(Event::PaymentUnavailable { enrollment }),
            }
        }
        Err(err) => {
            tracing::warn!(enrollment, error = %err, "payment could not be created");
            // A learner was turned away: staff hear at once (and once, until it works).
            super::alerts::service_failing(app, "yookassa", &err.to_string(), true).await;
            Ok(Event::PaymentUnavailable { enrollment })
        }
    }
}

/// Reads the enrollment's latest payment back from YooKassa and turns a change into an event.
pub async fn check(app: &App, enrollment: i64) -> anyhow::Result<Event> {
    let mut conn = app.store.pool().acquire().await?;
    let order = enrollments::order_of(&mut conn, enrollment).await?;
    let payment = match &order {
        Some(o) => enrollments::latest_payment(&mut conn, o.id).await?,
        None => None,
    };
    drop(conn);
    let Some(payment) = payment else {
        return Ok(Event::PaymentStillPending { enrollment });
    };
    Ok(refresh(app, &payment.id)
        .await?
        .map(|(_, event)| event)
        .unwrap_or(Event::PaymentStillPending { enrollment }))
}

/// Reads one payment from the provider and records its status. Returns the learner and the
/// event to feed into their journey when the status changed to a final one.
pub async fn refresh(app: &App, payment_id: &str) -> anyhow::Result<Option<(i64, Event)>> {
    let Provider::YooKassa { client, .. } = &app.payments else {
        return Ok(None);
    };
    let mut conn = app.store.pool().acquire().await?;
    let Some(local) = enrollments::payment(&mut conn, payment_id).await? else {
        // Not one of ours (another shop's test notification, or forged).
        return Ok(None);
    };
    drop(conn);
    let remote = match client.get_payment(payment_id).await {
        Ok(remote) => {
            super::alerts::service_working(app, "yookassa").await;
            remote
        }
        Err(err) => {
            // The re-check and the learner's button try again later; staff hear when it
            // lasts.
            super::alerts::service_failing(app, "yookassa", &err.to_string(), false).await;
            return Err(err.into());
        }
    };
    let new_status = status_code(remote.status);
    let mut tx = app.store.begin().await?;
    let order = enrollments::order_by_id(&mut tx, local.order_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {payment_id} has no order"))?;
    let enrollment = enrollments::by_id(&mut tx, order.enrollment_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {} has no enrollment", order.id))?;
    let changed = local.status != new_status;
    if changed {
        enrollments::save_payment(
            &mut tx,
            &PaymentRecord {
                status: new_status.to_owned(),
                ..local.clone()
            },
            app.now().timestamp(),
        )
        .await?;
    }
    tx.commit().await?;
    let event = match remote.status {
        // Paid: the journey's guard (order not yet paid) makes this happen once.
        PaymentStatus::Succeeded
            if remote.paid && remote.amount.kopecks() == order.amount_kopecks =>
        {
            Some(Event::PaymentConfirmed {
                enrollment: enrollment.id,
                via: "yookassa",
            })
        }
        PaymentStatus::Succeeded => {
            tracing::error!(payment_id, "payment succeeded with an unexpected amount");
            super::alerts::integration_failure(app, "yookassa", "amount mismatch").await;
            None
        }
        PaymentStatus::Canceled if changed => Some(Event::PaymentCanceled {
            enrollment: enrollment.id,
        }),
        _ => None,
    };
    Ok(event.map(|e| (enrollment.learner_id, e)))
}
