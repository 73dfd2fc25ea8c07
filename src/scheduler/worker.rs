//! The worker: claims due jobs under a lease and carries them out; `run` loops it in `serve`.
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::links::Links;
use super::{verdict, Job, Verdict};
use crate::app::engine::{handle, Origin};
use crate::app::{App, Messenger};
use crate::journey::{Event, Input, JobRef};
use crate::store::{jobs, learners, schedule, ClaimedJob};

/// How long a claimed job stays with its worker; after that another may take it over (the
/// first one died). Longer than any job takes: a fan-out to thousands, MTS Link retries.
pub const LEASE_SECONDS: i64 = 300;
/// Jobs claimed at once, and run at once (a reminder may wait for MTS Link).
const BATCH: i64 = 64;
const CONCURRENCY: usize = 8;
/// A job that keeps failing is given up after this many tries.
const MAX_ATTEMPTS: i64 = 8;

/// One scheduler instance: an id for its leases and its memory of MTS Link failures.
#[derive(Debug)]
pub struct Worker {
    id: String,
    links: Links,
}

impl Default for Worker {
    fn default() -> Self {
        Self::new()
    }
}

/// What became of a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// Carried out (its notice queued, its fan-out planned) — or taken over by another worker.
    Done,
    /// No longer useful.
    Dropped(String),
    /// To be tried again at `at`.
    Later { at: i64, why: String },
    /// Given up for good.
    Failed(String),
}

/// Seconds before the n-th retry: 10 s, 20 s, 40 s … up to 30 min.
fn backoff(attempt: i64) -> i64 {
    (5_i64 << attempt.clamp(1, 9)).min(1800)
}

impl Worker {
    pub fn new() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "uchbot".into());
        let id = format!(
            "{host}:{}:{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self::with_id(id)
    }

    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            links: Links::default(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims the jobs due at `now` and carries them out; returns how many were claimed.
    pub async fn run_once(
        &self,
        app: &App,
        messenger: &dyn Messenger,
        now: i64,
    ) -> anyhow::Result<usize> {
        let claimed = self.claim(app, now).await?;
        let count = claimed.len();
        futures::stream::iter(claimed)
            .for_each_concurrent(CONCURRENCY, |job| async move {
                self.execute(app, messenger, job, now).await;
            })
            .await;
        Ok(count)
    }

    /// Claims due jobs (and jobs whose worker's lease ran out).
    pub async fn claim(&self, app: &App, now: i64) -> anyhow::Result<Vec<ClaimedJob>> {
        let mut conn = app.store.pool().acquire().await?;
        Ok(jobs::claim_due(
            &mut conn,
            app.store.backend(),
            &self.id,
            now,
            LEASE_SECONDS,
            BATCH,
        )
        .await?)
    }

    /// Carries out one claimed job and records how it ended; failures are retried later
    /// with a growing pause.
    pub async fn execute(
        &self,
        app: &App,
        messenger: &dyn Messenger,
        job: ClaimedJob,
        now: i64,
    ) -> Ran {
        let ran = match Job::parse(&job.kind, &job.payload) {
            // Perhaps a newer version's job during a rolling update: left for it, then given up.
            None => Err(anyhow::anyhow!("unknown job kind {:?}", job.kind)),
            Some(parsed) => self.carry_out(app, messenger, &job, parsed, now).await,
        };
        let outcome = match ran {
            Ok(ran) => ran,
            Err(e) if job.attempts < MAX_ATTEMPTS => Ran::Later {
                at: now + backoff(job.attempts),
                why: e.to_string(),
            },
            Err(e) => Ran::Failed(e.to_string()),
        };
        match &outcome {
            Ran::Done => {}
            Ran::Dropped(why) => tracing::info!(job = %job.dedupe_key, why = %why, "job dropped"),
            Ran::Later { at, why } => {
                tracing::warn!(job = %job.dedupe_key, attempt = job.attempts, at, why = %why, "job postponed")
            }
            Ran::Failed(why) => {
                tracing::error!(job = %job.dedupe_key, why = %why, "job failed for good")
            }
        }
        if let Err(e) = self.record(app, &job, &outcome, now).await {
            // The lease runs out and the job is taken again: nothing is lost.
            tracing::error!(job = %job.dedupe_key, error = %e, "could not record a job's end");
        }
        outcome
    }

    async fn record(
        &self,
        app: &App,
        job: &ClaimedJob,
        outcome: &Ran,
        now: i64,
    ) -> crate::store::Result<()> {
        let mut conn = app.store.pool().acquire().await?;
        match outcome {
            Ran::Done => {}
            Ran::Dropped(why) => {
                jobs::drop_job(&mut conn, job.id, &self.id, why, now).await?;
            }
            Ran::Later { at, why } => {
                jobs::retry(&mut conn, job.id, &self.id, *at, why).await?;
            }
            Ran::Failed(why) => {
                jobs::fail(&mut conn, job.id, &self.id, why, now).await?;
            }
        }
        Ok(())
    }

    async fn carry_out(
        &self,
        app: &App,
        messenger: &dyn Messenger,
        claimed: &ClaimedJob,
        job: Job,
        now: i64,
    ) -> anyhow::Result<Ran> {
        if job.lesson_id().is_none() {
            return super::attestation::carry_out(self, app, messenger, claimed, job, now).await;
        }
        let catalog = app.catalog().await?;
        let (group, lesson) = match verdict(&job, &catalog, now) {
            Verdict::Run(_, g, l) => (g, l),
            Verdict::Later(at) => {
                return Ok(Ran::Later {
                    at,
                    why: "the lesson has not ended yet".into(),
                })
            }
            Verdict::Drop(why) => return Ok(Ran::Dropped(why)),
        };
        match &job {
            Job::LessonReminders {
                lesson_id,
                starts_at,
            } => {
                self.fan_out(app, claimed, &group.id, now, |learner_id| Job::Reminder {
                    lesson_id: lesson_id.clone(),
                    starts_at: *starts_at,
                    learner_id,
                })
                .await
            }
            Job::LessonMaterials { lesson_id } => {
                self.fan_out(app, claimed, &group.id, now, |learner_id| Job::Materials {
                    lesson_id: lesson_id.clone(),
                    learner_id,
                })
                .await
            }
            _ => {
                let (Job::Reminder { learner_id, .. } | Job::Materials { learner_id, .. }) = &job
                else {
                    return Ok(Ran::Dropped("not a lesson job".into()));
                };
                let mut conn = app.store.pool().acquire().await?;
                let Some(learner) = learners::by_id(&mut conn, *learner_id).await? else {
                    return Ok(Ran::Dropped("the learner is gone".into()));
                };
                if !schedule::is_enrolled(&mut conn, learner.id, &group.id).await? {
                    return Ok(Ran::Dropped(
                        "the learner is not enrolled in the group".into(),
                    ));
                }
                drop(conn);
                let job_ref = JobRef {
                    id: claimed.id,
                    worker: self.id.clone(),
                };
                let event = match &job {
                    Job::Reminder { .. } => {
                        let link = self
                            .links
                            .for_learner(app, &learner, group, lesson, now)
                            .await?;
                        Event::LessonReminder {
                            job: job_ref,
                            lesson_id: lesson.id.clone(),
                            link: link.url,
                            personal: link.personal,
                        }
                    }
                    _ => Event::LessonEnded {
                        job: job_ref,
                        lesson_id: lesson.id.clone(),
                    },
                };
                // The step queues the notice and finishes the job in one transaction; when
                // another worker took the job over meanwhile, the step is dropped whole.
                handle(
                    app,
                    messenger,
                    learner.id,
                    &Origin::system(&learner),
                    Input::Event(event),
                )
                .await?;
                // The journey had nothing to say (the learner left the group just now): the
                // job ends here. A no-op when the step finished it.
                let mut conn = app.store.pool().acquire().await?;
                jobs::drop_job(&mut conn, claimed.id, &self.id, "nothing to send", now).await?;
                Ok(Ran::Done)
            }
        }
    }

    /// One job per learner enrolled in the group, planned in the transaction that finishes
    /// the group's job.
    pub(super) async fn fan_out(
        &self,
        app: &App,
        claimed: &ClaimedJob,
        group_id: &str,
        now: i64,
        child: impl Fn(i64) -> Job,
    ) -> anyhow::Result<Ran> {
        let mut tx = app.store.begin().await?;
        // Finishing first takes the write lock at once (SQLite cannot upgrade a reader in a
        // busy database); the transaction makes it count only with the children.
        if !jobs::complete(&mut tx, claimed.id, &self.id, now).await? {
            tx.rollback().await?;
            tracing::warn!(job = %claimed.dedupe_key, "another worker took the job over");
            return Ok(Ran::Done);
        }
        let learners = schedule::enrolled_learners(&mut tx, group_id).await?;
        for learner_id in &learners {
            child(*learner_id).schedule(&mut tx, now, now).await?;
        }
        tx.commit().await?;
        tracing::info!(job = %claimed.dedupe_key, learners = learners.len(), "fanned out");
        Ok(Ran::Done)
    }
}

/// Finished jobs are kept this long (for the operator), then forgotten.
const KEEP_FINISHED_SECONDS: i64 = 30 * 24 * 3600;
/// Handled Telegram updates are remembered this long (against repeats).
const KEEP_UPDATE_CLAIMS_SECONDS: i64 = 3 * 24 * 3600;

async fn purge(app: &App, now: i64) {
    let result = async {
        let mut conn = app.store.pool().acquire().await?;
        // Telegram repeats an update for a day at most; after a week without updates it
        // may number them anew, so old claims must not shadow new updates.
        sqlx::query("DELETE FROM processed_updates WHERE at < $1")
            .bind(now - KEEP_UPDATE_CLAIMS_SECONDS)
            .execute(&mut *conn)
            .await?;
        // Done inbox rows go with the claims: a repeat of one is stopped by neither after.
        crate::store::inbox::prune(&mut conn, now - KEEP_UPDATE_CLAIMS_SECONDS).await?;
        schedule::purge_finished_jobs(&mut conn, now - KEEP_FINISHED_SECONDS).await
    }
    .await;
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "old finished jobs forgotten"),
        Err(e) => tracing::warn!(error = %e, "could not forget old jobs"),
    }
}

/// Runs due jobs until `shutdown`, waking every second.
pub async fn run(app: Arc<App>, messenger: Arc<dyn Messenger>, shutdown: CancellationToken) {
    let worker = Worker::new();
    tracing::info!(worker = worker.id(), "scheduler started");
    let mut purged_at = None::<i64>;
    loop {
        let now = app.now().timestamp();
        if purged_at.is_none_or(|t| now - t >= 3600) {
            purged_at = Some(now);
            purge(&app, now).await;
        }
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match worker
                .run_once(&app, messenger.as_ref(), app.now().timestamp())
                .await
            {
                Ok(n) if n > 0 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "scheduler");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
