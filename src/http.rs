//! The HTTP side of `serve`: health, Prometheus metrics and the YooKassa notification
//! endpoint (and Telegram's webhook in webhook mode).
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::app::{engine, payments, App, Messenger, Origin};
use crate::journey::Input;
use crate::store::learners;

#[derive(Clone)]
pub struct HttpState {
    pub app: Arc<App>,
    pub messenger: Arc<dyn Messenger>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/webhooks/yookassa", post(yookassa))
        .with_state(state)
}

async fn healthz(State(s): State<HttpState>) -> impl IntoResponse {
    match s.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

async fn metrics(State(s): State<HttpState>) -> impl IntoResponse {
    let mut out = String::new();
    let counts = async {
        let mut conn = s.app.store.pool().acquire().await?;
        let jobs = crate::store::jobs::counts(&mut conn).await?;
        let outbox: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status ORDER BY channel, status",
        )
        .fetch_all(&mut *conn)
        .await?;
        let learners: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM learners").fetch_one(&mut *conn).await?;
        Ok::<_, crate::store::StoreError>((jobs, outbox, learners.0))
    }
    .await;
    match counts {
        Ok((jobs, outbox, learners)) => {
            out.push_str("# TYPE uchbot_learners gauge\n");
            out.push_str(&format!("uchbot_learners {learners}\n"));
            out.push_str("# TYPE uchbot_jobs gauge\n");
            for (status, n) in jobs {
                out.push_str(&format!("uchbot_jobs{{status=\"{status}\"}} {n}\n"));
            }
            out.push_str("# TYPE uchbot_outbox gauge\n");
            for (channel, status, n) in outbox {
                out.push_str(&format!(
                    "uchbot_outbox{{channel=\"{channel}\",status=\"{status}\"}} {n}\n"
                ));
            }
            (StatusCode::OK, out)
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("# database unavailable: {e}\n"),
        ),
    }
}

/// A YooKassa notification. It carries no signature, so it is only a hint: the payment is
/// read back from the API before anything changes. Always 200 unless we must be asked again.
async fn yookassa(State(s): State<HttpState>, body: Bytes) -> StatusCode {
    let notification = match crate::payments::parse_notification(&body) {
        Ok(n) => n,
        Err(e) => {
            tracing::info!(error = %e, "ignored a payment notification");
            return StatusCode::OK;
        }
    };
    match on_payment_changed(&s.app, s.messenger.as_ref(), &notification.payment_id).await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(error = %e, "payment notification not processed; YooKassa will repeat it");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Re-reads the payment and moves the learner's journey on when it changed.
pub async fn on_payment_changed(
    app: &App,
    messenger: &dyn Messenger,
    payment_id: &str,
) -> anyhow::Result<()> {
    let Some((learner_id, event)) = payments::refresh(app, payment_id).await? else {
        return Ok(());
    };
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = learners::by_id(&mut conn, learner_id).await? else {
        return Ok(());
    };
    drop(conn);
    engine::handle(
        app,
        messenger,
        learner.id,
        &Origin::system(&learner),
        Input::Event(event),
    )
    .await
}

/// Reads back every pending payment: covers notifications that never arrived.
pub async fn recheck_pending_payments(
    app: &App,
    messenger: &dyn Messenger,
) -> anyhow::Result<usize> {
    let pending = {
        let mut conn = app.store.pool().acquire().await?;
        crate::store::enrollments::pending_payments(&mut conn).await?
    };
    let n = pending.len();
    for p in pending {
        if let Err(e) = on_payment_changed(app, messenger, &p.id).await {
            tracing::warn!(error = %e, "payment re-check failed");
        }
    }
    Ok(n)
}
