//! The daily Russian Post tracking poll (when `[russian_post]` is configured): every letter
//! with a document on its way is looked up; the learner hears once when it arrives at the
//! post office and once when it is delivered. The next day's poll is planned with the end of
//! this one.
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::App;
use crate::config::RussianPostSettings;
use crate::journey::reply::{Button, Reply};
use crate::russian_post::{status, PostParams, PostStatus, RussianPost};
use crate::scheduler::{Ran, Worker};
use crate::store::{attestation, jobs, learners, ClaimedJob};
use crate::tr;

/// Letters are followed this long after their tracking number was entered.
const FOLLOW_SECONDS: i64 = 90 * 24 * 3600;

pub fn client(settings: &RussianPostSettings) -> Option<Arc<RussianPost>> {
    if settings.login.trim().is_empty() {
        return None;
    }
    let password = settings.password.clone()?;
    if password.expose_secret().is_empty() {
        return None;
    }
    match RussianPost::new(PostParams {
        api_url: settings.api_url.clone(),
        login: settings.login.clone(),
        password,
        timeout: Duration::from_secs(20),
    }) {
        Ok(client) => Some(Arc::new(client)),
        Err(e) => {
            tracing::error!(error = %e, "config: russian_post: tracking is off");
            None
        }
    }
}

/// What one poll found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub checked: usize,
    pub arrived: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// Looks up every letter on its way and tells learners what is new.
pub async fn poll(app: &App, post: &RussianPost, now: i64) -> anyhow::Result<PollReport> {
    let letters = {
        let mut conn = app.store.pool().acquire().await?;
        attestation::in_post(&mut conn, now - FOLLOW_SECONDS).await?
    };
    let mut report = PollReport::default();
    let mut last_error = String::new();
    for c in letters {
        let Some(number) = c.tracking_number.clone() else {
            continue;
        };
        report.checked += 1;
        let history = match post.history(&number).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(enrollment = c.enrollment_id, error = %e, "tracking lookup failed");
                report.failed += 1;
                last_error = e.to_string();
                continue;
            }
        };
        let state = status(&history);
        let mut tx = app.store.begin().await?;
        let delivered = state == PostStatus::Delivered;
        let news = match state {
            PostStatus::OnTheWay => {
                attestation::post_checked(&mut tx, c.enrollment_id, now).await?;
                false
            }
            _ => {
                attestation::record_post_status(&mut tx, c.enrollment_id, &number, delivered, now)
                    .await?
            }
        };
        if news {
            let learner = match crate::store::enrollments::by_id(&mut tx, c.enrollment_id).await? {
                Some(e) => learners::by_id(&mut tx, e.learner_id).await?,
                None => None,
            };
            if let Some(learner) = learner {
                let t = &app.texts;
                let (text, what) = if delivered {
                    report.delivered += 1;
                    (tr!(t, "post-delivered", number = &number), "delivered")
                } else {
                    report.arrived += 1;
                    (tr!(t, "post-arrived", number = &number), "arrived")
                };
                let url = crate::domain::tracking::TrackingNumber::parse(&number)
                    .map(|n| n.tracking_url())
                    .unwrap_or_default();
                let reply = Reply::text(text).button(Button::url(tr!(t, "btn-track-letter"), url));
                let key = format!("post:{}:{number}:{what}", c.enrollment_id);
                super::outbox::notify(app, &mut tx, &learner, &key, &reply, now).await?;
            }
        }
        tx.commit().await?;
    }
    if report.failed > 0 && report.failed == report.checked {
        super::alerts::integration_failure(app, "Почта России", &last_error).await;
    }
    tracing::info!(?report, "Russian Post tracking polled");
    Ok(report)
}

/// The scheduler's daily poll job: polls, then finishes itself and plans tomorrow's in one
/// transaction.
pub async fn poll_job(
    worker: &Worker,
    app: &App,
    claimed: &ClaimedJob,
    now: i64,
) -> anyhow::Result<Ran> {
    let Some(post) = app.post.clone() else {
        return Ok(Ran::Dropped("russian_post is not configured".into()));
    };
    poll(app, &post, now).await?;
    let mut tx = app.store.begin().await?;
    if !jobs::complete(&mut tx, claimed.id, worker.id(), now).await? {
        tx.rollback().await?;
        return Ok(Ran::Done);
    }
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now);
    crate::scheduler::attestation::plan_post_poll(&mut tx, app.school.tz, at).await?;
    tx.commit().await?;
    Ok(Ran::Done)
}
