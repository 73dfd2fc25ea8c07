//! One lesson's webinar reminder to many learners, end to end and in real time: the scheduler
//! and the outbox worker of `uchbot serve`, the Telegram messenger with its rate limiter, a
//! fake Bot API that enforces Telegram's flood limits (429 when they are broken) and the MTS
//! Link fake for personal links. Used by tests/studying.rs (a few hundred learners) and by
//! benches/reminders.rs (thousands).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use uchbot::app::payments::Provider;
use uchbot::app::{outbox, App, Messenger};
use uchbot::config::Settings;
use uchbot::domain::catalog::{Catalog, Lesson};
use uchbot::store::{enrollments, learners};
use uchbot::telegram::bot::TelegramMessenger;
use uchbot::telegram::fake_api::{FakeBotApi, FakeUser, Outcome};
use uchbot::texts::Texts;

use super::db::TestDb;
use super::mts_link_fake::{MtsLinkFake, TOKEN};

/// Learner ids in Telegram start here (private chat ids equal user ids).
pub const FIRST_USER: i64 = 700_000;
/// The reminder is due this long after the scenario starts.
const LEAD: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct FanoutReport {
    pub learners: usize,
    pub groups: usize,
    /// Reminders Telegram accepted.
    pub delivered: usize,
    /// Answers 429 from the fake Bot API.
    pub too_many_requests: usize,
    /// Learners who got the reminder more than once (extra copies).
    pub duplicates: usize,
    /// Personal links issued by the MTS Link fake.
    pub personal_links: usize,
    /// From the reminder's due time (T − 90 min) to the first and the last delivery.
    pub first_late: Duration,
    pub last_late: Duration,
    /// Delivered messages per second, from the first delivery to one second after the last.
    pub per_second: f64,
    /// Peak resident memory of the process, KiB (the fakes and the database included).
    pub peak_rss_kib: Option<u64>,
}

impl std::fmt::Display for FanoutReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} learners in {} groups: delivered {}, {:.1} msg/s (ceiling 30), 429s {}, \
             duplicates {}, personal links {}, first {:.2} s and last {:.1} s after T−90, \
             peak RSS {}",
            self.learners,
            self.groups,
            self.delivered,
            self.per_second,
            self.too_many_requests,
            self.duplicates,
            self.personal_links,
            self.first_late.as_secs_f64(),
            self.last_late.as_secs_f64(),
            self.peak_rss_kib
                .map(|k| format!("{} MiB", k / 1024))
                .unwrap_or_else(|| "n/a".into()),
        )
    }
}

pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The example catalog with one lesson per group in `groups`, all at `starts_at`, each on
/// its own MTS Link session (`session_base + i`).
pub fn catalog_with_one_lesson(
    groups: &[&str],
    starts_at: chrono::DateTime<Utc>,
    session_base: u64,
) -> Catalog {
    let mut catalog = uchbot::catalog::example_catalog().expect("example catalog");
    for group in catalog.courses.iter_mut().flat_map(|c| c.groups.iter_mut()) {
        group.lessons.clear();
        if let Some(i) = groups.iter().position(|g| *g == group.id) {
            group.lessons = vec![Lesson {
                id: format!("{}-fanout", group.id),
                starts_at,
                duration_minutes: 90,
                topic: "Вебинар для всех".into(),
                webinar_session_id: Some((session_base + i as u64).to_string()),
                materials: Vec::new(),
                recording_url: None,
            }];
        }
    }
    catalog
}

pub async fn run_fanout(db: TestDb, learners_count: usize, groups: &[&str]) -> FanoutReport {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let fake = FakeBotApi::start().await.expect("fake Bot API");
    fake.enforce_rate_limits(true);
    let mts = MtsLinkFake::start().await;
    const SESSIONS: u64 = 1_856_390_000;
    for i in 0..groups.len() as u64 {
        mts.add_session(SESSIONS + i, 1_856_380_000);
    }
    let docs = tempfile::tempdir().unwrap();
    let settings = Settings::load_from(
        None,
        [
            ("UCHBOT_DATABASE__URL", db.url.clone()),
            (
                "UCHBOT_STORAGE__DOCUMENTS_DIR",
                docs.path().display().to_string(),
            ),
            ("UCHBOT_WEBINAR__API_URL", mts.api_url().to_string()),
            ("UCHBOT_WEBINAR__TOKEN", TOKEN.to_owned()),
            (
                "UCHBOT_STORAGE__ENCRYPTION_KEY",
                super::bot::TEST_KEY.to_owned(),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .expect("settings");
    let app = Arc::new(App::new(&settings, db.store.clone(), Provider::Demo, None).expect("app"));

    // The reminder falls due LEAD from now: the lesson starts 90 minutes after that.
    let due = Utc::now() + chrono::Duration::from_std(LEAD).unwrap();
    let starts_at = due + chrono::Duration::seconds(uchbot::scheduler::REMINDER_LEAD_SECONDS);
    let catalog = catalog_with_one_lesson(groups, starts_at, SESSIONS);
    let now = Utc::now().timestamp();
    {
        let mut tx = db.store.begin().await.unwrap();
        uchbot::store::catalog::import(&mut tx, &catalog)
            .await
            .unwrap();
        uchbot::scheduler::plan_catalog(&mut tx, &catalog, Utc::now())
            .await
            .unwrap();
        for n in 0..learners_count {
            let user = FakeUser::new(FIRST_USER + n as i64, format!("Слушатель {n}"));
            // The learner's private chat with the bot exists (they pressed Start).
            fake.send_text(&user, "/start");
            let learner = learners::ensure_telegram(
                &mut tx,
                user.id,
                user.id,
                None,
                &user.first_name,
                &format!("t{n}"),
                now,
            )
            .await
            .unwrap();
            let email = format!("learner{n}@example.org");
            learners::confirm_email(&mut tx, learner.id, &email, now)
                .await
                .unwrap();
            let group = groups[n % groups.len()];
            let (course, _) = catalog.group(group).expect("group");
            let (enrollment, _) = enrollments::accept_offer(
                &mut tx,
                &enrollments::OfferAcceptance {
                    learner_id: learner.id,
                    course_id: &course.id,
                    group_id: group,
                    offer_version: "2026-11-01",
                    offer_sha256: "ab",
                    tg_user_id: Some(user.id),
                    tg_message_id: None,
                    amount_kopecks: course.price.kopecks(),
                },
                now,
            )
            .await
            .unwrap();
            enrollments::submit_for_review(&mut tx, enrollment, now)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let texts = Texts::russian();
    let messenger: Arc<dyn Messenger> = Arc::new(TelegramMessenger::new(fake.bot(), &texts));
    let stop = tokio_util::sync::CancellationToken::new();
    let outbox_worker = tokio::spawn(outbox::run(app.clone(), messenger.clone(), stop.clone()));
    let scheduler = tokio::spawn(uchbot::scheduler::run(
        app.clone(),
        messenger.clone(),
        stop.clone(),
    ));
    let due_instant = Instant::now() + (due - Utc::now()).to_std().unwrap_or_default();

    // Deliveries are counted from the fake's request log, reading only what is new.
    let mut seen = 0;
    let mut count = 0;
    let mut first = None;
    let deadline = due_instant + Duration::from_secs(60 + learners_count as u64 / 10);
    loop {
        // A request still in progress has no outcome yet: read again from there next time.
        for r in fake.requests_since(seen) {
            if r.outcome.is_none() {
                break;
            }
            seen += 1;
            if r.method == "sendMessage" && r.result().is_some() {
                count += 1;
            }
        }
        if count > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if count >= learners_count || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = Instant::now();
    // A little longer: any duplicate would show up now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.cancel();
    let _ = outbox_worker.await;
    let _ = scheduler.await;

    let sends = fake.requests_to("sendMessage");
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for r in sends.iter().filter(|r| r.result().is_some()) {
        *per_chat
            .entry(r.param_i64("chat_id").expect("chat_id"))
            .or_default() += 1;
    }
    let too_many_requests = sends
        .iter()
        .filter(|r| matches!(r.outcome, Some(Outcome::Error { code: 429, .. })))
        .count();
    let delivered = per_chat.values().sum::<usize>();
    let first = first.unwrap_or(last);
    let personal_links = (0..groups.len() as u64)
        .map(|i| mts.participations(SESSIONS + i).len())
        .sum();
    fake.shutdown().await;
    FanoutReport {
        learners: learners_count,
        groups: groups.len(),
        delivered,
        too_many_requests,
        duplicates: per_chat.values().map(|n| n.saturating_sub(1)).sum(),
        personal_links,
        first_late: first.saturating_duration_since(due_instant),
        last_late: last.saturating_duration_since(due_instant),
        // Telegram counts in one-second windows: n messages between the first and the last
        // occupy that span plus one window.
        per_second: delivered as f64 / (last.duration_since(first).as_secs_f64() + 1.0),
        peak_rss_kib: peak_rss_kib(),
    }
}
