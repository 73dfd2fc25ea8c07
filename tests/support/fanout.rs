//! One lesson's webinar reminder to many learners, end to end and in real time: the
//! dispatcher, the scheduler and the outbox worker of `uchbot serve` (the workers in the
//! bulk lane of the shared rate limiter), a fake Bot API that enforces Telegram's flood
//! limits (429 when they are broken) and the MTS Link fake for personal links. Meanwhile one
//! more learner, in a conversation with the bot, asks `/status` every second: how long the
//! answers take while the reminders go out. Used by tests/studying.rs (a few hundred
//! learners) and by benches/reminders.rs (thousands).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use uchbot::app::payments::Provider;
use uchbot::app::{App, Messenger};
use uchbot::config::Settings;
use uchbot::domain::catalog::{Catalog, Lesson};
use uchbot::store::{enrollments, learners};
use uchbot::telegram::fake_api::{FakeBotApi, FakeUser, Outcome};

use super::db::TestDb;
use super::mts_link_fake::{MtsLinkFake, TOKEN};

/// Learner ids in Telegram start here (private chat ids equal user ids).
pub const FIRST_USER: i64 = 700_000;
/// The learner in a conversation (not enrolled: gets no reminder).
pub const TALKER: i64 = 600_000;
/// The reminder is due this long after the scenario starts.
const LEAD: Duration = Duration::from_secs(3);
/// How often the learner in a conversation asks `/status` (once answered).
const ASK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, Default)]
pub struct FanoutOptions {
    /// `[telegram] bulk_share_percent`; the default when `None`.
    pub bulk_share_percent: Option<u8>,
}

/// One `/status` of the learner in a conversation and its answer.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// From the update queued to Telegram accepting the bot's answer.
    pub latency: Duration,
    /// Reminders delivered when it was asked and when it was answered.
    pub reminders_before: usize,
    pub reminders_after: usize,
}

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
    /// The learner's `/status` answers asked while the reminders were going out (after the
    /// first was delivered, before the last).
    pub answers: Vec<Answer>,
    /// Asked during the fan-out and not answered by its end (plus a second).
    pub unanswered: usize,
    pub bulk_share_percent: u8,
}

impl FanoutReport {
    /// The `q`-quantile (0..=1) of the answers' latencies.
    pub fn answer_latency(&self, q: f64) -> Option<Duration> {
        let mut l: Vec<Duration> = self.answers.iter().map(|a| a.latency).collect();
        l.sort();
        let i = ((l.len() as f64 - 1.0) * q).round() as usize;
        l.get(i).copied()
    }

    /// Answers that arrived while reminders were still to go.
    pub fn answered_before_the_last_reminder(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.reminders_after < self.learners)
            .count()
    }
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
        )?;
        let ms = |q| {
            self.answer_latency(q)
                .map(|d| format!("{} ms", d.as_millis()))
                .unwrap_or_else(|| "n/a".into())
        };
        write!(
            f,
            "; bulk share {}%: /status answered during the fan-out {} (unanswered {}), \
             p50 {}, p99 {}, max {}",
            self.bulk_share_percent,
            self.answers.len(),
            self.unanswered,
            ms(0.5),
            ms(0.99),
            ms(1.0),
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

pub async fn run_fanout(
    db: TestDb,
    learners_count: usize,
    groups: &[&str],
    options: FanoutOptions,
) -> FanoutReport {
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
    let mut env = Vec::new();
    if let Some(share) = options.bulk_share_percent {
        env.push((
            "UCHBOT_TELEGRAM__BULK_SHARE_PERCENT".to_owned(),
            share.to_string(),
        ));
    }
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
        .map(|(k, v)| (k.to_owned(), v))
        .into_iter()
        .chain(env),
    )
    .expect("settings");
    let bulk_share_percent = settings.telegram.bulk_share_percent;
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
            fake.open_chat(&user);
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
    // As `uchbot serve` wires them: the dispatcher answers in the conversation lane, the
    // outbox worker and the scheduler send in the bulk lane of the same limiter.
    let running = uchbot::telegram::runner::start(app.clone(), fake.bot())
        .await
        .expect("dispatcher");
    let stop = tokio_util::sync::CancellationToken::new();
    let bulk: Arc<dyn Messenger> = running.bulk_messenger.clone();
    let scheduler = tokio::spawn(uchbot::scheduler::run(app.clone(), bulk, stop.clone()));
    let due_instant = Instant::now() + (due - Utc::now()).to_std().unwrap_or_default();

    let talker = FakeUser::new(TALKER, "Собеседник");
    // (asked at, reminders delivered then) of the question waiting for its answer.
    let mut asked: Option<(Instant, usize)> = None;
    let mut next_ask = Instant::now();
    let mut answers = Vec::new();
    let mut unanswered = 0;

    // Deliveries are counted from the fake's request log, reading only what is new: from the
    // first sendMessage still in progress (no outcome yet), skipping those counted already.
    // (Other calls are passed over: a getUpdates long poll stays in progress for seconds.)
    let mut from = 0;
    let mut counted = std::collections::HashSet::new();
    let mut count = 0;
    let mut first = None;
    let deadline = due_instant + Duration::from_secs(60 + learners_count as u64 / 10);
    loop {
        let requests = fake.requests_since(from);
        let mut in_progress = None;
        for r in &requests {
            if r.method != "sendMessage" {
                continue;
            }
            if r.outcome.is_none() {
                in_progress = in_progress.or(Some(r.seq));
                continue;
            }
            if r.result().is_none() || !counted.insert(r.seq) {
                continue;
            }
            if r.param_i64("chat_id") != Some(TALKER) {
                count += 1;
                continue;
            }
            // The first message of the answer (a later one of the same answer comes before
            // the next question, a second on).
            if let Some((at, reminders_before)) = asked.filter(|(at, _)| r.received_at >= *at) {
                asked = None;
                let answered = r.answered_at.unwrap_or(r.received_at);
                if reminders_before > 0 && reminders_before < learners_count {
                    answers.push(Answer {
                        latency: answered.saturating_duration_since(at),
                        reminders_before,
                        reminders_after: count,
                    });
                }
            }
        }
        from = in_progress.unwrap_or_else(|| requests.last().map_or(from, |r| r.seq + 1));
        counted.retain(|seq| *seq >= from);
        if count > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if count >= learners_count || Instant::now() > deadline {
            break;
        }
        if asked.is_none() && Instant::now() >= next_ask {
            fake.send_text(&talker, "/status");
            let now = Instant::now();
            asked = Some((now, count));
            next_ask = now + ASK_EVERY;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last = Instant::now();
    // A little longer: any duplicate would show up now, and the last question's answer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if let Some((at, reminders_before)) = asked {
        let answer = fake
            .requests_since(from)
            .into_iter()
            .filter(|r| r.method == "sendMessage" && r.result().is_some())
            .find(|r| r.param_i64("chat_id") == Some(TALKER) && r.received_at >= at);
        match answer {
            Some(r) if reminders_before > 0 && reminders_before < learners_count => {
                answers.push(Answer {
                    latency: r
                        .answered_at
                        .unwrap_or(r.received_at)
                        .saturating_duration_since(at),
                    reminders_before,
                    reminders_after: learners_count,
                })
            }
            Some(_) => {}
            None => unanswered += 1,
        }
    }
    stop.cancel();
    running.stop().await;
    let _ = scheduler.await;

    let sends = fake.requests_to("sendMessage");
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for r in sends.iter().filter(|r| r.result().is_some()) {
        let chat = r.param_i64("chat_id").expect("chat_id");
        if chat != TALKER {
            *per_chat.entry(chat).or_default() += 1;
        }
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
        answers,
        unanswered,
        bulk_share_percent,
    }
}
