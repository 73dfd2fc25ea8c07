//! The daily Russian Post tracking poll.
use crate::app::App;
use crate::scheduler::{Ran, Worker};
use crate::store::ClaimedJob;

pub async fn poll_job(
    _worker: &Worker,
    _app: &App,
    _claimed: &ClaimedJob,
    _now: i64,
) -> anyhow::Result<Ran> {
    Ok(Ran::Dropped("russian_post is not configured".into()))
}
