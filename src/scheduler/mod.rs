//! The scheduler: every timed action is a row of the `jobs` table, fired exactly once across
//! restarts, crashes and several instances on one PostgreSQL.
//!
//! How "exactly once" is kept:
//! - A job is claimed under a lease (`store::jobs::claim_due`; `FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL). A worker that dies leaves it to be claimed again when the lease runs out.
//! - A job's effect and its completion commit in ONE transaction. For a learner's notice that
//!   transaction is the journey step itself: the step queues the message in the outbox and
//!   runs the guard [`Command::CompleteJob`](crate::journey::Command::CompleteJob), which fails
//!   — dropping the whole step — when the worker no longer holds the job. A crash before the
//!   commit leaves nothing behind; a crash after it leaves the job done and the message queued.
//! - Per-learner jobs have dedupe keys (`reminder:<lesson>@<start>/<learner>`), so planning
//!   them twice (fan-out, late enrollment) makes one job.
//!
//! Jobs come from the catalog ([`plan_catalog`], on `catalog import` and at `serve` start):
//! per lesson, a reminder fan-out at start − 90 min and a materials fan-out at its end. The
//! lesson job fans out to the learners enrolled in the group when it fires, one job per
//! learner. Planning per lesson rather than per enrollment keeps the table small until a
//! lesson is near, makes moving a lesson one row (the reminder key carries the start time, so
//! a moved lesson gets a new reminder and the old one is cancelled), and needs no bookkeeping
//! when learners join or leave: whoever is enrolled when the reminder fires gets it. The one
//! gap — a learner enrolled after the fan-out — is closed by [`on_enrolled`].
//!
//! A job missed while the bot was down fires on start while it is still useful (a reminder
//! until the lesson ends, materials for a day after it) and is dropped with a log line after.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::app::App;
use crate::domain::catalog::{Catalog, Course, Group, Lesson};
use crate::journey::attestation::Notice;
use crate::journey::schedule::find_lesson;
use crate::store::{self, enrollments, jobs, schedule};

pub mod attestation;
pub mod links;
mod worker;

pub use worker::{run, Ran, Worker, LEASE_SECONDS};

/// The webinar reminder goes this long before the lesson starts.
pub const REMINDER_LEAD_SECONDS: i64 = 90 * 60;
/// A materials notice missed while the bot was down is still sent this long after the lesson
/// (later the learner finds the materials under «Пройти обучение»).
pub const MATERIALS_FRESH_SECONDS: i64 = 24 * 3600;
/// A learner enrolled this close to a reminder gets it planned individually, so that a
/// fan-out running at the same moment cannot miss them.
const LATE_ENROLLMENT_MARGIN_SECONDS: i64 = 10 * 60;

/// A timed action. Stored as `kind` + JSON payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// At start − 90 min: one [`Job::Reminder`] per learner enrolled in the lesson's group.
    LessonReminders { lesson_id: String, starts_at: i64 },
    /// At the lesson's end: one [`Job::Materials`] per enrolled learner.
    LessonMaterials { lesson_id: String },
    /// One learner's webinar reminder.
    Reminder {
        lesson_id: String,
        starts_at: i64,
        learner_id: i64,
    },
    /// One learner's «Материалы и запись занятия».
    Materials { lesson_id: String, learner_id: i64 },
    /// A moment of a group's final-test window (`at`): one [`Job::TestNotice`] per learner
    /// enrolled in the group.
    TestWindow {
        group_id: String,
        at: i64,
        notice: Notice,
    },
    /// One learner's notice about the window: the test opened, closes soon, is closed.
    TestNotice {
        group_id: String,
        at: i64,
        notice: Notice,
        learner_id: i64,
    },
    /// The time limit of an attempt at the final test.
    AttemptTimeUp { enrollment: i64, attempt: i64 },
    /// The daily look at the Russian Post tracking of posted documents.
    PostPoll { day: String },
}

/// The kinds of the lesson jobs (planned from the lessons of the catalog).
pub const KINDS: [&str; 4] = [
    "lesson_reminders",
    "lesson_materials",
    "reminder",
    "materials",
];

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LessonReminders { .. } => KINDS[0],
            Self::LessonMaterials { .. } => KINDS[1],
            Self::Reminder { .. } => KINDS[2],
            Self::Materials { .. } => KINDS[3],
            Self::TestWindow { .. } => attestation::KINDS[0],
            Self::TestNotice { .. } => attestation::KINDS[1],
            Self::AttemptTimeUp { .. } => attestation::KINDS[2],
            Self::PostPoll { .. } => attestation::KINDS[3],
        }
    }

    /// Unique per action: scheduling twice keeps one job, and scheduling again moves a job
    /// that has not run yet.
    pub fn dedupe_key(&self) -> String {
        match self {
            Self::LessonReminders {
                lesson_id,
                starts_at,
            } => format!("reminder:{lesson_id}@{starts_at}"),
            Self::Reminder {
                lesson_id,
                starts_at,
                learner_id,
            } => format!("reminder:{lesson_id}@{starts_at}/{learner_id}"),
            Self::LessonMaterials { lesson_id } => format!("materials:{lesson_id}"),
            Self::Materials {
                lesson_id,
                learner_id,
            } => format!("materials:{lesson_id}/{learner_id}"),
            Self::TestWindow {
                group_id,
                at,
                notice,
            } => format!("test:{group_id}@{at}:{}", attestation::notice_code(*notice)),
            Self::TestNotice {
                group_id,
                at,
                notice,
                learner_id,
            } => format!(
                "test:{group_id}@{at}:{}/{learner_id}",
                attestation::notice_code(*notice)
            ),
            Self::AttemptTimeUp {
                enrollment,
                attempt,
            } => format!("attempt-time:{enrollment}/{attempt}"),
            Self::PostPoll { day } => format!("post-poll:{day}"),
        }
    }

    pub fn payload(&self) -> String {
        serde_json::to_string(self).expect("a job serializes")
    }

    /// The job stored as `kind` + `payload`; `None` for a kind this version does not know.
    pub fn parse(kind: &str, payload: &str) -> Option<Self> {
        serde_json::from_str::<Self>(payload)
            .ok()
            .filter(|job| job.kind() == kind)
    }

    /// The lesson of a lesson job.
    fn lesson_id(&self) -> Option<&str> {
        match self {
            Self::LessonReminders { lesson_id, .. }
            | Self::LessonMaterials { lesson_id }
            | Self::Reminder { lesson_id, .. }
            | Self::Materials { lesson_id, .. } => Some(lesson_id),
            _ => None,
        }
    }

    /// Queues the job (or moves it when it is still pending).
    pub async fn schedule(
        &self,
        conn: &mut AnyConnection,
        run_at: i64,
        now: i64,
    ) -> store::Result<()> {
        let (key, payload) = (self.dedupe_key(), self.payload());
        let job = jobs::NewJob {
            kind: self.kind(),
            dedupe_key: &key,
            run_at,
            payload: &payload,
        };
        jobs::schedule(conn, &job, now).await
    }
}

/// What to do with a due job, decided from the catalog and the time. Pure.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    Run(&'a Course, &'a Group, &'a Lesson),
    /// Not yet (the lesson was moved later): try again at this time.
    Later(i64),
    /// No longer useful; the reason goes to the log.
    Drop(String),
}

pub fn verdict<'a>(job: &Job, catalog: &'a Catalog, now: i64) -> Verdict<'a> {
    let Some(lesson_id) = job.lesson_id() else {
        return Verdict::Drop("not a lesson job".into());
    };
    let Some((course, group, lesson)) = find_lesson(catalog, lesson_id) else {
        return Verdict::Drop("the lesson was withdrawn from the catalog".into());
    };
    let ends_at = lesson.ends_at().timestamp();
    match job {
        Job::LessonReminders { starts_at, .. } | Job::Reminder { starts_at, .. } => {
            if *starts_at != lesson.starts_at.timestamp() {
                Verdict::Drop("the lesson was moved; its new time has its own reminder".into())
            } else if now >= ends_at {
                Verdict::Drop(format!(
                    "the lesson ended {} min ago: a reminder is of no use now",
                    (now - ends_at) / 60
                ))
            } else {
                Verdict::Run(course, group, lesson)
            }
        }
        _ => {
            if now < ends_at {
                Verdict::Later(ends_at)
            } else if now > ends_at + MATERIALS_FRESH_SECONDS {
                Verdict::Drop(format!(
                    "the lesson ended {} h ago: the materials are under «Пройти обучение»",
                    (now - ends_at) / 3600
                ))
            } else {
                Verdict::Run(course, group, lesson)
            }
        }
    }
}

/// The lesson jobs the catalog calls for at `now`, with their times. Pure. Lessons whose
/// notices are of no use any more get none (a catalog imported in the middle of a course does
/// not send the materials of every past lesson at once).
pub fn lesson_jobs(catalog: &Catalog, now: DateTime<Utc>) -> Vec<(Job, i64)> {
    let now = now.timestamp();
    let mut planned = Vec::new();
    for lesson in catalog
        .courses
        .iter()
        .flat_map(|c| c.groups.iter())
        .flat_map(|g| g.lessons.iter())
    {
        let starts_at = lesson.starts_at.timestamp();
        let ends_at = lesson.ends_at().timestamp();
        if now < ends_at {
            planned.push((
                Job::LessonReminders {
                    lesson_id: lesson.id.clone(),
                    starts_at,
                },
                starts_at - REMINDER_LEAD_SECONDS,
            ));
        }
        if now <= ends_at + MATERIALS_FRESH_SECONDS {
            planned.push((
                Job::LessonMaterials {
                    lesson_id: lesson.id.clone(),
                },
                ends_at,
            ));
        }
    }
    planned
}

/// Why a pending job no longer matches the catalog, if it does not. Pure.
pub fn obsolete(job: &Job, catalog: &Catalog) -> Option<&'static str> {
    let lesson_id = job.lesson_id()?;
    let Some((_, _, lesson)) = find_lesson(catalog, lesson_id) else {
        return Some("lesson withdrawn from the catalog");
    };
    match job {
        Job::LessonReminders { starts_at, .. } | Job::Reminder { starts_at, .. }
            if *starts_at != lesson.starts_at.timestamp() =>
        {
            Some("lesson moved")
        }
        _ => None,
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlanReport {
    /// Lesson jobs in the plan (new, moved or already there).
    pub planned: usize,
    /// Pending jobs withdrawn: their lesson was removed or moved.
    pub cancelled: usize,
}

/// Brings the job table in line with the catalog: schedules (or moves) every lesson's
/// reminder and materials jobs and cancels pending jobs of removed or moved lessons. Run it
/// in the transaction of the catalog import, so the catalog and its jobs change together.
pub async fn plan_catalog(
    conn: &mut AnyConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> store::Result<PlanReport> {
    let ts = now.timestamp();
    let mut report = PlanReport::default();
    for (job, run_at) in lesson_jobs(catalog, now) {
        job.schedule(conn, run_at, ts).await?;
        report.planned += 1;
    }
    for pending in schedule::pending_jobs(conn, &KINDS).await? {
        let Some(job) = Job::parse(&pending.kind, &pending.payload) else {
            continue;
        };
        if let Some(why) = obsolete(&job, catalog) {
            if schedule::cancel_job(conn, &pending.dedupe_key, why, ts).await? {
                tracing::info!(job = %pending.dedupe_key, why, "job cancelled");
                report.cancelled += 1;
            }
        }
    }
    Ok(report)
}

/// Plans the catalog's jobs at start (another instance or an older version may have imported
/// the catalog without them).
pub async fn plan_on_start(app: &App) -> anyhow::Result<PlanReport> {
    let catalog = app.catalog().await?;
    let mut tx = app.store.begin().await?;
    let mut report = plan_catalog(&mut tx, &catalog, app.now()).await?;
    let tests = attestation::plan(&mut tx, &catalog, app.school.tz, app.now()).await?;
    report.planned += tests.planned;
    report.cancelled += tests.cancelled;
    if app.post.is_some() {
        attestation::plan_post_poll(&mut tx, app.school.tz, app.now()).await?;
    }
    tx.commit().await?;
    tracing::info!(
        planned = report.planned,
        cancelled = report.cancelled,
        "scheduler: catalog jobs planned"
    );
    Ok(report)
}

/// A learner was just enrolled (in the step's transaction): reminders whose fan-out is due or
/// has already run are planned for them alone. Later lessons need nothing: their fan-out
/// finds the learner enrolled.
pub async fn on_enrolled(
    tx: &mut AnyConnection,
    enrollment_id: i64,
    now: i64,
) -> store::Result<()> {
    let Some(enrollment) = enrollments::by_id(tx, enrollment_id).await? else {
        return Ok(());
    };
    for (lesson_id, starts_at, ends_at) in schedule::lesson_times(tx, &enrollment.group_id).await? {
        let remind_at = starts_at - REMINDER_LEAD_SECONDS;
        if now + LATE_ENROLLMENT_MARGIN_SECONDS >= remind_at && now < ends_at {
            let job = Job::Reminder {
                lesson_id,
                starts_at,
                learner_id: enrollment.learner_id,
            };
            job.schedule(tx, remind_at.max(now), now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::catalog::Lesson;

    fn catalog_with(lessons: Vec<Lesson>) -> Catalog {
        let mut catalog = crate::journey::testkit::catalog();
        catalog.courses[0].groups[0].lessons = lessons;
        catalog
    }

    fn lesson(id: &str, starts_at: DateTime<Utc>) -> Lesson {
        Lesson {
            id: id.into(),
            starts_at,
            duration_minutes: 90,
            topic: "Тема".into(),
            webinar_session_id: None,
            materials: Vec::new(),
            recording_url: None,
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap()
    }

    #[test]
    fn jobs_round_trip_through_kind_and_payload() {
        let jobs = [
            Job::LessonReminders {
                lesson_id: "l1".into(),
                starts_at: 100,
            },
            Job::LessonMaterials {
                lesson_id: "l1".into(),
            },
            Job::Reminder {
                lesson_id: "l1".into(),
                starts_at: 100,
                learner_id: 7,
            },
            Job::Materials {
                lesson_id: "l1".into(),
                learner_id: 7,
            },
        ];
        for job in jobs {
            assert_eq!(Job::parse(job.kind(), &job.payload()), Some(job.clone()));
            assert_eq!(Job::parse("payment_recheck", &job.payload()), None);
        }
        assert_eq!(Job::parse("reminder", "{\"kind\":\"teleport\"}"), None);
    }

    #[test]
    fn a_lesson_gets_a_reminder_ninety_minutes_before_and_materials_at_its_end() {
        let catalog = catalog_with(vec![lesson("l1", at(15, 0))]);
        let plan = lesson_jobs(&catalog, at(10, 0));
        assert_eq!(
            plan,
            vec![
                (
                    Job::LessonReminders {
                        lesson_id: "l1".into(),
                        starts_at: at(15, 0).timestamp()
                    },
                    at(13, 30).timestamp()
                ),
                (
                    Job::LessonMaterials {
                        lesson_id: "l1".into()
                    },
                    at(16, 30).timestamp()
                ),
            ]
        );
        // After the lesson only the materials are due; a day later nothing.
        assert_eq!(lesson_jobs(&catalog, at(17, 0)).len(), 1);
        assert!(lesson_jobs(&catalog, at(16, 31) + chrono::Duration::days(1)).is_empty());
    }

    #[test]
    fn a_missed_reminder_runs_until_the_lesson_ends_then_is_dropped() {
        let catalog = catalog_with(vec![lesson("l1", at(15, 0))]);
        let job = Job::Reminder {
            lesson_id: "l1".into(),
            starts_at: at(15, 0).timestamp(),
            learner_id: 7,
        };
        assert!(matches!(
            verdict(&job, &catalog, at(15, 20).timestamp()),
            Verdict::Run(..)
        ));
        assert!(matches!(
            verdict(&job, &catalog, at(16, 30).timestamp()),
            Verdict::Drop(why) if why.contains("ended")
        ));
        let moved = catalog_with(vec![lesson("l1", at(17, 0))]);
        assert!(matches!(
            verdict(&job, &moved, at(13, 30).timestamp()),
            Verdict::Drop(why) if why.contains("moved")
        ));
        assert_eq!(obsolete(&job, &moved), Some("lesson moved"));
        assert_eq!(
            obsolete(&job, &catalog_with(Vec::new())),
            Some("lesson withdrawn from the catalog")
        );
        let materials = Job::Materials {
            lesson_id: "l1".into(),
            learner_id: 7,
        };
        assert_eq!(
            verdict(&materials, &moved, at(16, 30).timestamp()),
            Verdict::Later(at(18, 30).timestamp())
        );
        assert_eq!(obsolete(&materials, &moved), None);
    }
}
