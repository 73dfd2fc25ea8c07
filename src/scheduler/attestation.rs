//! Timers of the final test and the qualification document, on the same job table and with
//! the same exactly-once rules as the lesson jobs:
//!
//! - per group, from the catalog ([`plan`], on `catalog import` and at start): the test opens
//!   («Итоговая аттестация открыта»), closes in 3 days and in 1 day (a warning to whoever has
//!   not passed), and the group has ended (the test closes; a passed test makes the document's
//!   sample; a missing name or address is asked for), and 3 days later (staff hear of samples
//!   still waiting for those). Each fans out to the learners enrolled when it fires; a
//!   learner enrolled while the test is open gets the opening notice then ([`on_enrolled`],
//!   with the fan-out's key, so once). The key carries the time, so a group whose dates move
//!   gets new jobs and the old ones are cancelled.
//! - per attempt: its time limit ([`on_attempt_started`]), planned with the attempt.
//! - daily, when `[russian_post]` is configured: the tracking poll ([`plan_post_poll`]).
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::worker::Worker;
use super::{Job, PlanReport, Ran};
use crate::app::engine::{handle, Origin};
use crate::app::{App, Messenger};
use crate::domain::catalog::{Catalog, Group};
use crate::journey::attestation::{closes_at, opens_at, Notice};
use crate::journey::{Event, Input, JobRef};
use crate::store::{self, enrollments, jobs, learners, schedule, ClaimedJob};

/// The kinds of these jobs.
pub const KINDS: [&str; 4] = ["test_window", "test_notice", "attempt_time_up", "post_poll"];

/// Days before the close when learners who have not passed are warned.
pub const WARNING_DAYS: [u8; 2] = [3, 1];
/// Days after the group's end when staff hear of passed learners whose sample still waits
/// for the name or address the application lacks (they were asked at the end).
pub const DATA_MISSING_DAYS: u8 = 3;
/// A warning that could not go out in time is dropped this long after its moment.
const WARNING_FRESH_SECONDS: i64 = 24 * 3600;
/// A group's end is still acted on (a missing sample made) this long after it.
pub const ENDED_FRESH_SECONDS: i64 = 45 * 24 * 3600;
/// The daily tracking poll runs at this hour, the school's time.
const POST_POLL_HOUR: u32 = 10;

pub fn notice_code(notice: Notice) -> String {
    match notice {
        Notice::Opened => "opened".into(),
        Notice::Closing { days } => format!("closing{days}"),
        Notice::Ended => "ended".into(),
        Notice::DataMissing => "data-missing".into(),
    }
}

/// The moment of a notice for a group.
pub fn notice_at(group: &Group, tz: Tz, notice: Notice) -> i64 {
    let closes = closes_at(group, tz).timestamp();
    match notice {
        Notice::Opened => opens_at(group, tz).timestamp(),
        Notice::Closing { days } => closes - i64::from(days) * 86_400,
        Notice::Ended => closes,
        Notice::DataMissing => closes + i64::from(DATA_MISSING_DAYS) * 86_400,
    }
}

/// The window jobs the catalog calls for at `now`, with their times. Pure.
pub fn window_jobs(catalog: &Catalog, tz: Tz, now: DateTime<Utc>) -> Vec<(Job, i64)> {
    let now = now.timestamp();
    let mut planned = Vec::new();
    for group in catalog.courses.iter().flat_map(|c| c.groups.iter()) {
        let opens = opens_at(group, tz).timestamp();
        let closes = closes_at(group, tz).timestamp();
        let mut notices = Vec::new();
        if now < closes {
            notices.push(Notice::Opened);
            for days in WARNING_DAYS {
                let at = notice_at(group, tz, Notice::Closing { days });
                if at >= opens && now <= at + WARNING_FRESH_SECONDS {
                    notices.push(Notice::Closing { days });
                }
            }
        }
        if now <= closes + ENDED_FRESH_SECONDS {
            notices.push(Notice::Ended);
            notices.push(Notice::DataMissing);
        }
        for notice in notices {
            let at = notice_at(group, tz, notice);
            planned.push((
                Job::TestWindow {
                    group_id: group.id.clone(),
                    at,
                    notice,
                },
                at,
            ));
        }
    }
    planned
}

/// Why a window job no longer matches the catalog, if it does not. Pure.
pub fn obsolete(job: &Job, catalog: &Catalog, tz: Tz) -> Option<&'static str> {
    let (group_id, at, notice) = match job {
        Job::TestWindow {
            group_id,
            at,
            notice,
        }
        | Job::TestNotice {
            group_id,
            at,
            notice,
            ..
        } => (group_id, *at, *notice),
        _ => return None,
    };
    let Some((_, group)) = catalog.group(group_id) else {
        return Some("group withdrawn from the catalog");
    };
    (notice_at(group, tz, notice) != at).then_some("group dates moved")
}

/// Brings the window jobs in line with the catalog (in the import's transaction).
pub async fn plan(
    conn: &mut AnyConnection,
    catalog: &Catalog,
    tz: Tz,
    now: DateTime<Utc>,
) -> store::Result<PlanReport> {
    let ts = now.timestamp();
    let mut report = PlanReport::default();
    for (job, run_at) in window_jobs(catalog, tz, now) {
        job.schedule(conn, run_at, ts).await?;
        report.planned += 1;
    }
    for pending in schedule::pending_jobs(conn, &KINDS[..2]).await? {
        let Some(job) = Job::parse(&pending.kind, &pending.payload) else {
            continue;
        };
        if let Some(why) = obsolete(&job, catalog, tz) {
            if schedule::cancel_job(conn, &pending.dedupe_key, why, ts).await? {
                tracing::info!(job = %pending.dedupe_key, why, "job cancelled");
                report.cancelled += 1;
            }
        }
    }
    Ok(report)
}

/// The «test opened» notice of a learner enrolled while the test is open (the window's
/// fan-out ran before they were enrolled). Its key is the fan-out's, so a learner who had
/// it gets nothing twice. Pure.
pub fn late_opening(group: &Group, tz: Tz, learner_id: i64, now: i64) -> Option<(Job, i64)> {
    let at = notice_at(group, tz, Notice::Opened);
    (at <= now && now < closes_at(group, tz).timestamp()).then(|| {
        (
            Job::TestNotice {
                group_id: group.id.clone(),
                at,
                notice: Notice::Opened,
                learner_id,
            },
            now,
        )
    })
}

/// A learner was just enrolled (in the step's transaction): when the test is open already,
/// their «test opened» notice is planned now.
pub async fn on_enrolled(
    conn: &mut AnyConnection,
    catalog: &Catalog,
    tz: Tz,
    enrollment: &store::EnrollmentRecord,
    now: i64,
) -> store::Result<()> {
    let Some((_, group)) = catalog.group(&enrollment.group_id) else {
        return Ok(());
    };
    if let Some((job, run_at)) = late_opening(group, tz, enrollment.learner_id, now) {
        job.schedule(conn, run_at, now).await?;
    }
    Ok(())
}

/// An attempt with a time limit started (in the step's transaction): its end is planned.
pub async fn on_attempt_started(
    conn: &mut AnyConnection,
    enrollment: i64,
    attempt: i64,
    deadline_at: i64,
    now: i64,
) -> store::Result<()> {
    Job::AttemptTimeUp {
        enrollment,
        attempt,
    }
    .schedule(conn, deadline_at, now)
    .await
}

/// The next tracking poll: today at the poll hour if that is still ahead, else tomorrow.
pub fn next_post_poll(tz: Tz, now: DateTime<Utc>) -> (String, i64) {
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    loop {
        let at = day
            .and_hms_opt(POST_POLL_HOUR, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc).timestamp())
            .unwrap_or(now.timestamp());
        if at > now.timestamp() {
            return (day.to_string(), at);
        }
        day = day.succ_opt().expect("a next day");
    }
}

pub async fn plan_post_poll(
    conn: &mut AnyConnection,
    tz: Tz,
    now: DateTime<Utc>,
) -> store::Result<()> {
    let (day, at) = next_post_poll(tz, now);
    Job::PostPoll { day }
        .schedule(conn, at, now.timestamp())
        .await
}

/// Carries out a job of this module.
pub(super) async fn carry_out(
    worker: &Worker,
    app: &App,
    messenger: &dyn Messenger,
    claimed: &ClaimedJob,
    job: Job,
    now: i64,
) -> anyhow::Result<Ran> {
    let tz = app.school.tz;
    let job_ref = JobRef {
        id: claimed.id,
        worker: worker.id().to_owned(),
    };
    match job {
        Job::TestWindow { .. } | Job::TestNotice { .. } => {
            let catalog = app.catalog().await?;
            if let Some(why) = obsolete(&job, &catalog, tz) {
                return Ok(Ran::Dropped(why.into()));
            }
            let (group_id, at, notice, learner) = match &job {
                Job::TestWindow {
                    group_id,
                    at,
                    notice,
                } => (group_id.clone(), *at, *notice, None),
                Job::TestNotice {
                    group_id,
                    at,
                    notice,
                    learner_id,
                } => (group_id.clone(), *at, *notice, Some(*learner_id)),
                _ => unreachable!("matched above"),
            };
            let (_, group) = catalog.group(&group_id).expect("checked by obsolete");
            let closes = closes_at(group, tz).timestamp();
            match notice {
                Notice::Opened if now >= closes => {
                    return Ok(Ran::Dropped("the test has closed".into()))
                }
                Notice::Closing { .. } if now >= closes || now > at + WARNING_FRESH_SECONDS => {
                    return Ok(Ran::Dropped("the warning is late".into()))
                }
                _ => {}
            }
            let Some(learner_id) = learner else {
                return worker
                    .fan_out(app, claimed, &group_id, now, |learner_id| Job::TestNotice {
                        group_id: group_id.clone(),
                        at,
                        notice,
                        learner_id,
                    })
                    .await;
            };
            let mut conn = app.store.pool().acquire().await?;
            let Some(learner) = learners::by_id(&mut conn, learner_id).await? else {
                return Ok(Ran::Dropped("the learner is gone".into()));
            };
            let Some(enrollment) = enrollments::of_learner(&mut conn, learner_id)
                .await?
                .into_iter()
                .find(|e| e.group_id == group_id && e.enrolled_at.is_some())
            else {
                return Ok(Ran::Dropped(
                    "the learner is not enrolled in the group".into(),
                ));
            };
            drop(conn);
            let event = Event::TestWindow {
                job: job_ref,
                enrollment: enrollment.id,
                notice,
            };
            finish_with_step(worker, app, messenger, claimed, &learner, event, now).await
        }
        Job::AttemptTimeUp {
            enrollment,
            attempt,
        } => {
            let mut conn = app.store.pool().acquire().await?;
            let Some(e) = enrollments::by_id(&mut conn, enrollment).await? else {
                return Ok(Ran::Dropped("the enrollment is gone".into()));
            };
            let Some(learner) = learners::by_id(&mut conn, e.learner_id).await? else {
                return Ok(Ran::Dropped("the learner is gone".into()));
            };
            drop(conn);
            let event = Event::AttemptTimeUp {
                job: job_ref,
                enrollment,
                attempt,
            };
            finish_with_step(worker, app, messenger, claimed, &learner, event, now).await
        }
        Job::PostPoll { .. } => crate::app::post::poll_job(worker, app, claimed, now).await,
        _ => Ok(Ran::Dropped("not a job of the final test".into())),
    }
}

/// Runs the learner's journey step for the job's event: it finishes the job in its own
/// transaction; when it had nothing to do, the job ends here.
async fn finish_with_step(
    worker: &Worker,
    app: &App,
    messenger: &dyn Messenger,
    claimed: &ClaimedJob,
    learner: &store::LearnerRecord,
    event: Event,
    now: i64,
) -> anyhow::Result<Ran> {
    handle(
        app,
        messenger,
        learner.id,
        &Origin::system(learner),
        Input::Event(event),
    )
    .await?;
    let mut conn = app.store.pool().acquire().await?;
    jobs::drop_job(&mut conn, claimed.id, worker.id(), "nothing to do", now).await?;
    Ok(Ran::Done)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn moscow() -> Tz {
        chrono_tz::Europe::Moscow
    }

    fn catalog(opens: Option<NaiveDate>) -> Catalog {
        let mut catalog = crate::journey::testkit::catalog();
        catalog.courses[0].groups[0].test_opens_on = opens;
        catalog
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_group_gets_opening_warnings_and_end_jobs_at_the_school_midnights() {
        // fgos-dec: 7 to 25 December; the test opens on the 20th.
        let catalog = catalog(Some(day(20)));
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let jobs: Vec<_> = window_jobs(&catalog, moscow(), now)
            .into_iter()
            .filter(
                |(j, _)| matches!(j, Job::TestWindow { group_id, .. } if group_id == "fgos-dec"),
            )
            .collect();
        let midnight = |d: u32| {
            moscow()
                .with_ymd_and_hms(2026, 12, d, 0, 0, 0)
                .unwrap()
                .timestamp()
        };
        let times: Vec<(String, i64)> = jobs.iter().map(|(j, at)| (j.dedupe_key(), *at)).collect();
        assert_eq!(
            times,
            vec![
                (
                    format!("test:fgos-dec@{}:opened", midnight(20)),
                    midnight(20)
                ),
                (
                    format!("test:fgos-dec@{}:closing3", midnight(23)),
                    midnight(23)
                ),
                (
                    format!("test:fgos-dec@{}:closing1", midnight(25)),
                    midnight(25)
                ),
                (
                    format!("test:fgos-dec@{}:ended", midnight(26)),
                    midnight(26)
                ),
                (
                    format!("test:fgos-dec@{}:data-missing", midnight(29)),
                    midnight(29)
                ),
            ]
        );
        // A test that opens on the last day gets no 3-day warning; moved dates obsolete jobs.
        let late = catalog_with_opening(day(25));
        let kinds: Vec<_> = window_jobs(&late, moscow(), now)
            .into_iter()
            .filter_map(|(j, _)| match j {
                Job::TestWindow {
                    group_id, notice, ..
                } if group_id == "fgos-dec" => Some(notice),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                Notice::Opened,
                Notice::Closing { days: 1 },
                Notice::Ended,
                Notice::DataMissing
            ]
        );
        let (old_job, _) = jobs[0].clone();
        assert_eq!(
            obsolete(&old_job, &late, moscow()),
            Some("group dates moved")
        );
        assert_eq!(obsolete(&jobs[3].0, &late, moscow()), None);
        let mut gone = late.clone();
        gone.courses[0].groups.clear();
        assert_eq!(
            obsolete(&jobs[3].0, &gone, moscow()),
            Some("group withdrawn from the catalog")
        );
        // Long after the end nothing is planned.
        let much_later = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
        assert!(!window_jobs(&catalog, moscow(), much_later)
            .iter()
            .any(|(j, _)| matches!(j, Job::TestWindow { group_id, .. } if group_id == "fgos-dec")));
    }

    fn catalog_with_opening(d: NaiveDate) -> Catalog {
        catalog(Some(d))
    }

    #[test]
    fn a_learner_enrolled_while_the_test_is_open_gets_the_fan_outs_notice() {
        let catalog = catalog(Some(day(20)));
        let group = &catalog.courses[0].groups[0];
        let at = |d: u32, h: u32| {
            moscow()
                .with_ymd_and_hms(2026, 12, d, h, 0, 0)
                .unwrap()
                .timestamp()
        };
        assert_eq!(
            late_opening(group, moscow(), 7, at(19, 23)),
            None,
            "not open"
        );
        let (job, run_at) = late_opening(group, moscow(), 7, at(21, 10)).unwrap();
        assert_eq!(run_at, at(21, 10));
        // The same key as the child the window's fan-out makes for this learner.
        let fan_out_child = Job::TestNotice {
            group_id: "fgos-dec".into(),
            at: at(20, 0),
            notice: Notice::Opened,
            learner_id: 7,
        };
        assert_eq!(job.dedupe_key(), fan_out_child.dedupe_key());
        assert_eq!(late_opening(group, moscow(), 7, at(26, 0)), None, "closed");
    }

    #[test]
    fn the_poll_runs_daily_at_ten_school_time() {
        let tz = moscow();
        let morning = tz.with_ymd_and_hms(2026, 12, 4, 8, 0, 0).unwrap();
        let (day, at) = next_post_poll(tz, morning.with_timezone(&Utc));
        assert_eq!(day, "2026-12-04");
        assert_eq!(
            at,
            tz.with_ymd_and_hms(2026, 12, 4, 10, 0, 0)
                .unwrap()
                .timestamp()
        );
        let noon = tz.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        assert_eq!(next_post_poll(tz, noon.with_timezone(&Utc)).0, "2026-12-05");
    }

    #[test]
    fn window_jobs_round_trip() {
        for job in [
            Job::TestWindow {
                group_id: "g".into(),
                at: 5,
                notice: Notice::Closing { days: 3 },
            },
            Job::TestNotice {
                group_id: "g".into(),
                at: 5,
                notice: Notice::Ended,
                learner_id: 7,
            },
            Job::AttemptTimeUp {
                enrollment: 5,
                attempt: 2,
            },
            Job::PostPoll {
                day: "2026-12-04".into(),
            },
        ] {
            assert_eq!(Job::parse(job.kind(), &job.payload()), Some(job.clone()));
        }
    }
}
