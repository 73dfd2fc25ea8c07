//! Studying (issue 4) on SQLite and PostgreSQL: the schedule in the learner's time zone,
//! materials, webinar reminders with personal MTS Link links, and the scheduler firing each
//! job exactly once through races, crashes, restarts, moved lessons and downtime. Time moves
//! with `app.clock.advance`, never by sleeping.
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Timelike, Utc};
use uchbot::app::payments::Provider;
use uchbot::app::{outbox, App, Messenger};
use uchbot::config::Settings;
use uchbot::domain::catalog::{Catalog, Lesson, Link};
use uchbot::scheduler::{self, Worker};
use uchbot::store::{enrollments, learners, schedule};
use uchbot::telegram::bot::TelegramMessenger;
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeUser, Outcome};

use support::bot::*;
use support::db::TestDb;
use support::mts_link_fake::{MtsLinkFake, TOKEN};

const GROUP: &str = "pk-fgos-2026-11";
const GENERAL_LINK: &str = "https://events.webinar.ru/uchmet/1856300101";
const SESSION: u64 = 1_856_300_114;

/// A lesson of the November group, `minutes` from `base`.
fn lesson(
    id: &str,
    base: DateTime<Utc>,
    minutes: i64,
    topic: &str,
    session: Option<u64>,
) -> Lesson {
    Lesson {
        id: id.into(),
        starts_at: base + chrono::Duration::minutes(minutes),
        duration_minutes: 90,
        topic: topic.into(),
        webinar_session_id: session.map(|s| s.to_string()),
        materials: vec![Link {
            title: "Презентация занятия".into(),
            url: format!("https://uchmet.ru/materials/{id}.pdf"),
        }],
        recording_url: Some(format!("https://events.webinar.ru/record/{id}")),
    }
}

/// The example catalog with the November group's lessons replaced.
fn catalog(lessons: Vec<Lesson>) -> Catalog {
    let mut catalog = uchbot::catalog::example_catalog().expect("example catalog");
    let group = catalog
        .courses
        .iter_mut()
        .flat_map(|c| c.groups.iter_mut())
        .find(|g| g.id == GROUP)
        .expect("the November group");
    group.lessons = lessons;
    // The other groups' lessons are left out: only these lessons make jobs, whatever today is.
    for other in catalog
        .courses
        .iter_mut()
        .flat_map(|c| c.groups.iter_mut())
        .filter(|g| g.id != GROUP)
    {
        other.lessons.clear();
    }
    catalog
}

/// Imports the catalog and plans its jobs, as `uchbot catalog import` does.
async fn import(app: &App, catalog: &Catalog) -> scheduler::PlanReport {
    let mut tx = app.store.begin().await.unwrap();
    uchbot::store::catalog::import(&mut tx, catalog)
        .await
        .unwrap();
    let report = scheduler::plan_catalog(&mut tx, catalog, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    report
}

/// Makes the learner enrolled in the November group (their application submitted), with a
/// verified email and, when given, the application's name.
async fn enroll_learner(app: &App, learner_id: i64, email: &str, name: Option<(&str, &str)>) {
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await.unwrap();
    learners::record_consent(&mut tx, learner_id, true, "2026-09", now)
        .await
        .unwrap();
    assert!(learners::confirm_email(&mut tx, learner_id, email, now)
        .await
        .unwrap());
    let (enrollment, _) = enrollments::accept_offer(
        &mut tx,
        &enrollments::OfferAcceptance {
            learner_id,
            course_id: "pk-fgos",
            group_id: GROUP,
            offer_version: "2026-11-01",
            offer_sha256: "ab",
            tg_user_id: None,
            tg_message_id: None,
            amount_kopecks: 490_000,
        },
        now,
    )
    .await
    .unwrap();
    if let Some((surname, first)) = name {
        let fields = [("surname", surname), ("name", first)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        enrollments::save_application(&mut tx, enrollment, &fields, true, now)
            .await
            .unwrap();
    }
    assert!(enrollments::submit_for_review(&mut tx, enrollment, now)
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

/// Runs the scheduler until nothing is due; returns how many jobs it ran.
async fn tick(app: &App, messenger: &dyn Messenger, worker: &Worker) -> usize {
    let mut total = 0;
    loop {
        let n = worker
            .run_once(app, messenger, app.now().timestamp())
            .await
            .unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

async fn job_status(app: &App, key: &str) -> Option<String> {
    let mut conn = app.store.pool().acquire().await.unwrap();
    schedule::job_status(&mut conn, key).await.unwrap()
}

async fn job_error(app: &App, key: &str) -> Option<String> {
    sqlx::query_as::<_, (Option<String>,)>("SELECT last_error FROM jobs WHERE dedupe_key = $1")
        .bind(key.to_owned())
        .fetch_optional(app.store.pool())
        .await
        .unwrap()
        .and_then(|(e,)| e)
}

/// Messages queued in the outbox for a chat (or a letter address) that contain `needle`.
async fn queued(app: &App, recipient: &str, needle: &str) -> Vec<serde_json::Value> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT payload FROM outbox ORDER BY id")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    rows.into_iter()
        .map(|(p,)| serde_json::from_str::<serde_json::Value>(&p).unwrap())
        .filter(|v| {
            let to = v
                .get("chat_id")
                .map(|c| c.to_string())
                .or_else(|| v.get("to").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default();
            to == recipient && v.to_string().contains(needle)
        })
        .collect()
}

fn mts_env(mts: &MtsLinkFake, token: &str) -> Vec<(String, String)> {
    vec![
        ("UCHBOT_WEBINAR__API_URL".into(), mts.api_url().to_string()),
        ("UCHBOT_WEBINAR__TOKEN".into(), token.into()),
    ]
}

fn moscow_hh_mm(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Moscow);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// The runtime without the dispatcher: the scheduler's and the outbox's side only, so that
/// learners' chats can be made in the fake without the bot answering them. `restart` drops
/// everything in memory, as a crash would.
struct Rig {
    db: TestDb,
    fake: FakeBotApi,
    app: Arc<App>,
    messenger: Arc<dyn Messenger>,
    env: Vec<(String, String)>,
    _docs: tempfile::TempDir,
}

impl Rig {
    async fn start(db: TestDb, env: Vec<(String, String)>) -> Rig {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let fake = FakeBotApi::start().await.unwrap();
        let docs = tempfile::tempdir().unwrap();
        let (app, messenger) = Self::runtime(&db, &fake, &env, docs.path(), 0).await;
        Rig {
            db,
            fake,
            app,
            messenger,
            env,
            _docs: docs,
        }
    }

    async fn runtime(
        db: &TestDb,
        fake: &FakeBotApi,
        env: &[(String, String)],
        docs: &std::path::Path,
        clock_offset: i64,
    ) -> (Arc<App>, Arc<dyn Messenger>) {
        let mut all = vec![
            ("UCHBOT_DATABASE__URL".to_owned(), db.url.clone()),
            (
                "UCHBOT_STORAGE__DOCUMENTS_DIR".to_owned(),
                docs.display().to_string(),
            ),
            (
                "UCHBOT_STORAGE__ENCRYPTION_KEY".to_owned(),
                support::bot::TEST_KEY.to_owned(),
            ),
        ];
        all.extend(env.iter().cloned());
        let settings = Settings::load_from(None, all).unwrap();
        let store = uchbot::store::Store::connect(&db.url, 4).await.unwrap();
        let app = Arc::new(App::new(&settings, store, Provider::Demo, None).expect("app"));
        app.clock.advance(clock_offset);
        let texts = uchbot::texts::Texts::russian();
        let messenger: Arc<dyn Messenger> = Arc::new(TelegramMessenger::new(fake.bot(), &texts));
        (app, messenger)
    }

    /// A new process on the same database and Bot API; the clock keeps its place.
    async fn restart(&mut self) {
        let offset_ms = (self.app.now() - Utc::now()).num_milliseconds();
        let offset = (offset_ms as f64 / 1000.0).round() as i64;
        let (app, messenger) =
            Self::runtime(&self.db, &self.fake, &self.env, self._docs.path(), offset).await;
        self.app = app;
        self.messenger = messenger;
    }

    /// A learner with a Telegram chat, enrolled in the November group.
    async fn learner(&self, n: i64) -> i64 {
        let user = FakeUser::new(2000 + n, format!("Слушатель {n}"));
        self.fake.send_text(&user, "/start");
        let mut conn = self.app.store.pool().acquire().await.unwrap();
        let learner = learners::ensure_telegram(
            &mut conn,
            user.id,
            user.id,
            None,
            &user.first_name,
            &format!("token{n}"),
            self.app.now().timestamp(),
        )
        .await
        .unwrap();
        drop(conn);
        enroll_learner(&self.app, learner.id, &format!("l{n}@example.org"), None).await;
        user.id
    }

    async fn tick(&self, worker: &Worker) -> usize {
        tick(&self.app, self.messenger.as_ref(), worker).await
    }

    /// Delivers the Telegram outbox.
    async fn deliver(&self) {
        while outbox::run_once(&self.app, self.messenger.as_ref(), outbox::TELEGRAM)
            .await
            .unwrap()
            > 0
        {}
    }

    fn delivered(&self, chat: i64, needle: &str) -> usize {
        self.fake
            .messages(chat)
            .iter()
            .filter(|m| m.shown_text().is_some_and(|t| t.contains(needle)))
            .count()
    }
}

// ---- the learner's side, through the real dispatcher ----

async fn schedule_in_yekaterinburg_with_school_time_beside(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    // Lessons at 18:00 Moscow: two days ago (past) and in two days (next).
    let today = bot
        .app
        .now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive();
    let at_six = |days: i64| {
        chrono_tz::Europe::Moscow
            .from_local_datetime(
                &(today + chrono::Duration::days(days))
                    .and_hms_opt(18, 0, 0)
                    .unwrap(),
            )
            .unwrap()
            .with_timezone(&Utc)
    };
    let mut past = lesson(
        "pk-fgos-2026-11-a",
        at_six(-2),
        0,
        "Нормативная база ФГОС",
        None,
    );
    past.starts_at = at_six(-2);
    let mut next = lesson(
        "pk-fgos-2026-11-b",
        at_six(2),
        0,
        "Системно-деятельностный подход",
        Some(SESSION),
    );
    next.starts_at = at_six(2);
    import(&bot.app, &catalog(vec![past, next.clone()])).await;

    let masha = FakeUser::new(1001, "Мария").with_username("masha");
    run(
        &mut bot,
        &masha,
        vec![say("/schedule"), sees("появятся после зачисления")],
    )
    .await;
    let id = learners::by_tg_user(&mut bot.app.store.pool().acquire().await.unwrap(), 1001)
        .await
        .unwrap()
        .unwrap()
        .id;
    enroll_learner(&bot.app, id, "masha@example.org", None).await;
    run(
        &mut bot,
        &masha,
        vec![
            say("/status"),
            button("📅 Расписание"),
            press("📅 Расписание"),
            sees("В каком часовом поясе"),
            button("Калининград (UTC+2)"),
            button("Камчатка (UTC+12)"),
            press("Екатеринбург (UTC+5)"),
            sees("Екатеринбург (UTC+5)"),
            sees("20:00 (18:00 мск) — Нормативная база ФГОС"),
            sees("20:00 (18:00 мск) — Системно-деятельностный подход"),
            button("🎓 Пройти обучение"),
            button("🕒 Часовой пояс: Екатеринбург (UTC+5)"),
            // Asked once: the menu button shows the schedule straight away.
            say("📅 Расписание"),
            not_sees("В каком часовом поясе"),
            sees("20:00 (18:00 мск)"),
        ],
    )
    .await;
    // The past lesson links to its materials.
    let (message_id, data) = bot
        .fake
        .messages(masha.id)
        .iter()
        .rev()
        .find_map(|m| {
            m.buttons()
                .find(|b| b.text.starts_with("📎"))
                .map(|b| (m.message_id, b.callback_data.clone().unwrap()))
        })
        .expect("a materials button under the schedule");
    let shown = bot.press_data(&masha, masha.id, message_id, &data).await;
    let text = text_of(&shown);
    assert!(text.contains("Материалы и запись занятия"), "{text}");
    assert!(text.contains("Нормативная база ФГОС"), "{text}");
    run(
        &mut bot,
        &masha,
        vec![
            say("/materials"),
            sees("Пройти обучение"),
            sees("Нормативная база ФГОС"),
            sees("Презентация занятия"),
            sees("Запись занятия"),
            not_sees("Системно-деятельностный подход"),
        ],
    )
    .await;
    let mut conn = bot.app.store.pool().acquire().await.unwrap();
    let stored = learners::by_id(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(stored.timezone.as_deref(), Some("Asia/Yekaterinburg"));
    drop(conn);

    // Her reminder speaks her time too (no MTS Link configured: the general room).
    bot.app
        .clock
        .advance((next.starts_at - bot.app.now()).num_seconds() - 90 * 60 + 1);
    let worker = Worker::with_id("w1");
    assert!(tick(&bot.app, bot.messenger().as_ref(), &worker).await >= 2);
    let reminder = bot.wait_text(masha.id, "Скоро вебинар").await;
    let text = reminder.shown_text().unwrap();
    assert!(text.contains("20:00 (18:00 мск)"), "{text}");
    assert!(text.contains("только во время вебинара"), "{text}");
    assert_eq!(
        reminder
            .button("▶️ Войти на вебинар")
            .and_then(|b| b.url.clone())
            .as_deref(),
        Some(GENERAL_LINK)
    );
    bot.stop().await;
}

async fn reminder_with_a_personal_link_once_by_telegram_and_by_email(db: TestDb) {
    let mts = MtsLinkFake::start().await;
    mts.add_session(SESSION, 1_856_300_101);
    let mut bot = TestBot::start(
        db,
        Options {
            env: mts_env(&mts, TOKEN),
            ..Options::default()
        },
    )
    .await;
    let base = bot.app.now();
    let next = lesson(
        "pk-fgos-2026-11-n",
        base,
        180,
        "Системно-деятельностный подход",
        Some(SESSION),
    );
    import(&bot.app, &catalog(vec![next.clone()])).await;

    let masha = FakeUser::new(1001, "Мария");
    let petr = FakeUser::new(1002, "Пётр");
    let ivan = FakeUser::new(1003, "Иван");
    let mut ids = Vec::new();
    for user in [&masha, &petr, &ivan] {
        bot.say(user, "/start").await;
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        ids.push(
            learners::by_tg_user(&mut conn, user.id)
                .await
                .unwrap()
                .unwrap()
                .id,
        );
    }
    enroll_learner(
        &bot.app,
        ids[0],
        "Masha@Example.org",
        Some(("Иванова", "Мария")),
    )
    .await;
    enroll_learner(&bot.app, ids[1], "petr@example.org", None).await;
    // Ivan only looked: not enrolled, no reminder.
    // Olga writes only by email.
    let olga = {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        learners::ensure_email_only(
            &mut conn,
            "olga@example.org",
            "Ольга",
            "mailtok",
            base.timestamp(),
        )
        .await
        .unwrap()
    };
    enroll_learner(&bot.app, olga.id, "olga@example.org", None).await;

    let worker = Worker::with_id("w1");
    let messenger = bot.messenger();
    assert_eq!(
        tick(&bot.app, messenger.as_ref(), &worker).await,
        0,
        "nothing due yet"
    );
    bot.app.clock.advance(90 * 60 - 5);
    assert_eq!(
        tick(&bot.app, messenger.as_ref(), &worker).await,
        0,
        "not before T−90"
    );
    bot.app.clock.advance(6);
    assert_eq!(
        tick(&bot.app, messenger.as_ref(), &worker).await,
        4,
        "the fan-out and one reminder per enrolled learner"
    );

    // Each learner registered once, with the documented request.
    let requests = mts.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/v3/eventsessions/{SESSION}/register"));
        assert_eq!(r.header("x-auth-token"), Some(TOKEN));
        let form = r.form();
        assert_eq!(form.get("role").map(String::as_str), Some("GUEST"));
        assert_eq!(form.get("sendEmail").map(String::as_str), Some("false"));
        assert_eq!(form.get("isAutoEnter").map(String::as_str), Some("true"));
    }
    let masha_form = requests
        .iter()
        .map(|r| r.form())
        .find(|f| f["email"] == "masha@example.org")
        .expect("Masha registered");
    assert_eq!(masha_form.get("name").map(String::as_str), Some("Мария"));
    assert_eq!(
        masha_form.get("secondName").map(String::as_str),
        Some("Иванова")
    );

    let link_of = |email: &str| {
        mts.participations(SESSION)
            .into_iter()
            .find(|p| p.email == email)
            .expect("participation")
            .link
    };
    let reminder = bot.wait_text(masha.id, "Скоро вебинар").await;
    let text = reminder.shown_text().unwrap();
    assert!(text.contains("Системно-деятельностный подход"), "{text}");
    assert!(text.contains(&moscow_hh_mm(next.starts_at)), "{text}");
    assert!(text.contains("личная ссылка"), "{text}");
    assert!(text.contains("только во время вебинара"), "{text}");
    assert_eq!(
        reminder
            .button("▶️ Войти на вебинар")
            .and_then(|b| b.url.clone()),
        Some(link_of("masha@example.org"))
    );
    let petr_reminder = bot.wait_text(petr.id, "Скоро вебинар").await;
    assert_eq!(
        petr_reminder
            .button("▶️ Войти на вебинар")
            .and_then(|b| b.url.clone()),
        Some(link_of("petr@example.org"))
    );
    // Olga gets it as a letter, with her own link spelled out.
    let letters = queued(&bot.app, "olga@example.org", "Скоро вебинар").await;
    assert_eq!(letters.len(), 1);
    let letter = letters[0]["text"].as_str().unwrap();
    assert!(
        letter.contains(&format!(
            "Войти на вебинар: {}",
            link_of("olga@example.org")
        )),
        "{letter}"
    );
    assert!(!bot
        .fake
        .messages(ivan.id)
        .iter()
        .any(|m| m.shown_text().is_some_and(|t| t.contains("Скоро вебинар"))));

    // Nothing fires twice; nothing else is asked of MTS Link.
    bot.app.clock.advance(60);
    assert_eq!(tick(&bot.app, messenger.as_ref(), &worker).await, 0);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let count = |chat| {
        bot.fake
            .messages(chat)
            .iter()
            .filter(|m| m.shown_text().is_some_and(|t| t.contains("Скоро вебинар")))
            .count()
    };
    assert_eq!((count(masha.id), count(petr.id)), (1, 1));
    assert_eq!(mts.requests().len(), 3);
    let mut conn = bot.app.store.pool().acquire().await.unwrap();
    let stored = schedule::webinar_link(&mut conn, ids[0], &next.id)
        .await
        .unwrap()
        .expect("the link is kept");
    assert_eq!(stored.link, link_of("masha@example.org"));
    assert_eq!(stored.event_session_id, Some(SESSION.to_string()));
    drop(conn);
    bot.stop().await;
}

async fn mts_link_failure_falls_back_to_the_general_link_and_alerts_staff_once(db: TestDb) {
    let mts = MtsLinkFake::start().await;
    mts.add_session(SESSION, 1_856_300_101);
    // A token MTS Link does not know: 403.
    let mut bot = TestBot::start(
        db,
        Options {
            env: mts_env(&mts, "revoked-token"),
            ..Options::default()
        },
    )
    .await;
    let base = bot.app.now();
    import(
        &bot.app,
        &catalog(vec![lesson(
            "pk-fgos-2026-11-n",
            base,
            91,
            "Тема",
            Some(SESSION),
        )]),
    )
    .await;
    let users = [FakeUser::new(1001, "Мария"), FakeUser::new(1002, "Пётр")];
    for (n, user) in users.iter().enumerate() {
        bot.say(user, "/start").await;
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        let id = learners::by_tg_user(&mut conn, user.id)
            .await
            .unwrap()
            .unwrap()
            .id;
        drop(conn);
        enroll_learner(&bot.app, id, &format!("u{n}@example.org"), None).await;
    }
    bot.app.clock.advance(60);
    tick(&bot.app, bot.messenger().as_ref(), &Worker::with_id("w1")).await;
    for user in &users {
        let reminder = bot.wait_text(user.id, "Скоро вебинар").await;
        assert_eq!(
            reminder
                .button("▶️ Войти на вебинар")
                .and_then(|b| b.url.clone())
                .as_deref(),
            Some(GENERAL_LINK)
        );
        let text = reminder.shown_text().unwrap();
        assert!(!text.contains("личная"), "{text}");
        assert!(text.contains("только во время вебинара"), "{text}");
    }
    // After the first refusal the API is left alone for the rest of the fan-out.
    assert_eq!(mts.requests().len(), 1);
    let alert = bot.wait_text(STAFF_CHAT, "MTS Link").await;
    assert!(
        alert.shown_text().unwrap().contains("403"),
        "{:?}",
        alert.shown_text()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let alerts = bot
        .fake
        .messages(STAFF_CHAT)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains("MTS Link")))
        .count();
    assert_eq!(alerts, 1, "staff are alerted once");
    bot.stop().await;
}

async fn without_a_webinar_token_the_general_link_goes_and_staff_hear_once(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let base = bot.app.now();
    import(
        &bot.app,
        &catalog(vec![lesson(
            "pk-fgos-2026-11-n",
            base,
            60,
            "Тема",
            Some(SESSION),
        )]),
    )
    .await;
    let users = [FakeUser::new(1001, "Мария"), FakeUser::new(1002, "Пётр")];
    for (n, user) in users.iter().enumerate() {
        bot.say(user, "/start").await;
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        let id = learners::by_tg_user(&mut conn, user.id)
            .await
            .unwrap()
            .unwrap()
            .id;
        drop(conn);
        enroll_learner(&bot.app, id, &format!("u{n}@example.org"), None).await;
    }
    // The reminder time has passed already (the lesson is in an hour): it goes at once.
    tick(&bot.app, bot.messenger().as_ref(), &Worker::with_id("w1")).await;
    for user in &users {
        let reminder = bot.wait_text(user.id, "Скоро вебинар").await;
        assert_eq!(
            reminder
                .button("▶️ Войти на вебинар")
                .and_then(|b| b.url.clone())
                .as_deref(),
            Some(GENERAL_LINK)
        );
    }
    bot.wait_text(STAFF_CHAT, "token").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let alerts = bot
        .fake
        .messages(STAFF_CHAT)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains("MTS Link")))
        .count();
    assert_eq!(alerts, 1);
    bot.stop().await;
}

async fn materials_notice_when_a_lesson_ends(db: TestDb) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut bot = TestBot::start(db, Options::default()).await;
    let base = bot.app.now();
    let old = lesson(
        "pk-fgos-2026-11-o",
        base,
        -3 * 24 * 60,
        "Давнее занятие",
        None,
    );
    let now_on = lesson(
        "pk-fgos-2026-11-t",
        base,
        -60,
        "Формирующее оценивание",
        None,
    );
    import(&bot.app, &catalog(vec![old, now_on])).await;
    let masha = FakeUser::new(1001, "Мария");
    bot.say(&masha, "/start").await;
    let mut conn = bot.app.store.pool().acquire().await.unwrap();
    let id = learners::by_tg_user(&mut conn, masha.id)
        .await
        .unwrap()
        .unwrap()
        .id;
    drop(conn);
    enroll_learner(&bot.app, id, "masha@example.org", None).await;

    let worker = Worker::with_id("w1");
    let messenger = bot.messenger();
    // The lesson that is on now has no materials notice yet.
    tick(&bot.app, messenger.as_ref(), &worker).await;
    assert_eq!(
        job_status(&bot.app, "materials:pk-fgos-2026-11-t")
            .await
            .as_deref(),
        Some("pending")
    );
    bot.app.clock.advance(30 * 60 + 1);
    assert_eq!(tick(&bot.app, messenger.as_ref(), &worker).await, 2);
    let notice = bot.wait_text(masha.id, "Материалы и запись занятия").await;
    let text = notice.shown_text().unwrap();
    assert!(text.contains("Формирующее оценивание"), "{text}");
    assert!(text.contains("Презентация занятия"), "{text}");
    assert!(text.contains("Запись занятия"), "{text}");
    assert!(!text.contains("Давнее занятие"), "{text}");
    // The lesson from three days ago sends nothing now, but is under «Пройти обучение».
    assert_eq!(
        job_status(&bot.app, "materials:pk-fgos-2026-11-o").await,
        None
    );
    run(
        &mut bot,
        &masha,
        vec![
            press("🎓 Пройти обучение"),
            sees("Давнее занятие"),
            sees("Формирующее оценивание"),
        ],
    )
    .await;
    bot.stop().await;
}

// ---- the scheduler: moved lessons, downtime, races, crashes ----

async fn moving_a_lesson_moves_its_reminder_and_the_link_is_reused(db: TestDb) {
    let mts = MtsLinkFake::start().await;
    mts.add_session(SESSION, 1_856_300_101);
    let rig = Rig::start(db, mts_env(&mts, TOKEN)).await;
    let base = rig.app.now();
    let first = lesson(
        "pk-fgos-2026-11-m",
        base,
        180,
        "Переносимое занятие",
        Some(SESSION),
    );
    let gone = lesson("pk-fgos-2026-11-x", base, 300, "Отменённое занятие", None);
    let report = import(&rig.app, &catalog(vec![first.clone(), gone.clone()])).await;
    assert_eq!(report.cancelled, 0);
    let chat = rig.learner(1).await;
    let key = |l: &Lesson| format!("reminder:{}@{}", l.id, l.starts_at.timestamp());
    assert_eq!(
        job_status(&rig.app, &key(&first)).await.as_deref(),
        Some("pending")
    );

    // The lesson moves one hour later; the other one is cancelled.
    let mut moved = first.clone();
    moved.starts_at += chrono::Duration::hours(1);
    let report = import(&rig.app, &catalog(vec![moved.clone()])).await;
    assert_eq!(
        report.cancelled, 3,
        "old reminder, and both jobs of the cancelled lesson"
    );
    assert_eq!(
        job_status(&rig.app, &key(&first)).await.as_deref(),
        Some("dropped")
    );
    assert_eq!(
        job_status(&rig.app, &key(&gone)).await.as_deref(),
        Some("dropped")
    );
    assert_eq!(
        job_status(&rig.app, "materials:pk-fgos-2026-11-x")
            .await
            .as_deref(),
        Some("dropped")
    );
    let mut conn = rig.app.store.pool().acquire().await.unwrap();
    assert_eq!(
        schedule::job_run_at(&mut conn, &key(&moved)).await.unwrap(),
        Some(moved.starts_at.timestamp() - 90 * 60)
    );
    assert_eq!(
        schedule::job_run_at(&mut conn, "materials:pk-fgos-2026-11-m")
            .await
            .unwrap(),
        Some(moved.ends_at().timestamp()),
        "the materials job moved with the lesson"
    );
    drop(conn);

    let worker = Worker::with_id("w1");
    rig.app.clock.advance(90 * 60 + 1);
    assert_eq!(rig.tick(&worker).await, 0, "the old time passes quietly");
    rig.app.clock.advance(60 * 60);
    assert_eq!(rig.tick(&worker).await, 2);
    rig.deliver().await;
    assert_eq!(rig.delivered(chat, "Скоро вебинар"), 1);
    let reminder = rig.fake.messages(chat).into_iter().last().unwrap();
    assert!(reminder
        .shown_text()
        .unwrap()
        .contains(&moscow_hh_mm(moved.starts_at)));
    let link = reminder
        .button("▶️ Войти на вебинар")
        .and_then(|b| b.url.clone());
    assert_eq!(mts.requests().len(), 1);

    // Moved again after its reminder went: a new reminder, the same personal link.
    let mut again = moved.clone();
    again.starts_at += chrono::Duration::days(1);
    import(&rig.app, &catalog(vec![again.clone()])).await;
    rig.app.clock.advance(24 * 3600);
    assert_eq!(rig.tick(&worker).await, 2);
    rig.deliver().await;
    assert_eq!(rig.delivered(chat, "Скоро вебинар"), 2);
    let second = rig.fake.messages(chat).into_iter().last().unwrap();
    assert_eq!(
        second
            .button("▶️ Войти на вебинар")
            .and_then(|b| b.url.clone()),
        link
    );
    assert_eq!(mts.requests().len(), 1, "registered once, reused");
}

async fn missed_jobs_fire_on_start_while_useful_and_are_dropped_after(db: TestDb) {
    let mut rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    let later = lesson("pk-fgos-2026-11-a", base, 180, "Ещё не начиналось", None);
    let sooner = lesson("pk-fgos-2026-11-b", base, 60, "Уже закончилось", None);
    import(&rig.app, &catalog(vec![later.clone(), sooner.clone()])).await;
    let chat = rig.learner(1).await;
    // The bot is down for 2 h 40 min: `sooner` began and ended, `later` starts in 20 min.
    rig.app.clock.advance(160 * 60);
    rig.restart().await;
    scheduler::plan_on_start(&rig.app).await.unwrap();
    let worker = Worker::with_id("after-restart");
    rig.tick(&worker).await;
    rig.deliver().await;
    let sooner_key = format!("reminder:{}@{}", sooner.id, sooner.starts_at.timestamp());
    assert_eq!(
        job_status(&rig.app, &sooner_key).await.as_deref(),
        Some("dropped")
    );
    assert!(
        job_error(&rig.app, &sooner_key)
            .await
            .is_some_and(|e| e.contains("ended")),
        "the log names the reason"
    );
    assert_eq!(
        rig.delivered(chat, "Уже закончилось"),
        1,
        "its materials are still fresh"
    );
    assert_eq!(rig.delivered(chat, "Материалы и запись занятия"), 1);
    assert_eq!(rig.delivered(chat, "Скоро вебинар"), 1);
    assert_eq!(rig.delivered(chat, "Ещё не начиналось"), 1);
    let later_key = format!("reminder:{}@{}", later.id, later.starts_at.timestamp());
    assert_eq!(
        job_status(&rig.app, &later_key).await.as_deref(),
        Some("done")
    );
}

/// Runs the scheduler until no job is due or running.
async fn race(rig: &Rig, worker: &Worker) -> usize {
    let mut total = 0;
    loop {
        let n = rig.tick(worker).await;
        total += n;
        if n == 0 {
            let (left,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM jobs WHERE status = 'running' OR \
                 (status = 'pending' AND run_at <= $1)",
            )
            .bind(rig.app.now().timestamp())
            .fetch_one(rig.app.store.pool())
            .await
            .unwrap();
            if left == 0 {
                return total;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn two_workers_racing_send_each_reminder_once(db: TestDb) {
    let rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    import(
        &rig.app,
        &catalog(vec![lesson("pk-fgos-2026-11-r", base, 91, "Гонка", None)]),
    )
    .await;
    // More learners than one worker claims at once, so both get a share.
    let mut chats = Vec::new();
    for n in 0..150 {
        chats.push(rig.learner(n).await);
    }
    rig.app.clock.advance(60);
    let (w1, w2) = (Worker::with_id("w1"), Worker::with_id("w2"));
    let (a, b) = tokio::join!(race(&rig, &w1), race(&rig, &w2));
    assert_eq!(
        a + b,
        151,
        "one fan-out and 150 reminders, each claimed once"
    );
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE channel = 'telegram'")
            .fetch_all(rig.app.store.pool())
            .await
            .unwrap();
    let mut per_chat = std::collections::HashMap::<i64, usize>::new();
    for (payload,) in rows {
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        if v["text"]
            .as_str()
            .is_some_and(|t| t.contains("Скоро вебинар"))
        {
            *per_chat.entry(v["chat_id"].as_i64().unwrap()).or_default() += 1;
        }
    }
    for chat in &chats {
        assert_eq!(per_chat.get(chat), Some(&1), "chat {chat}");
    }
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM jobs WHERE dedupe_key LIKE 'reminder:%' GROUP BY status",
    )
    .fetch_all(rig.app.store.pool())
    .await
    .unwrap();
    assert_eq!(counts, vec![("done".to_owned(), 151)]);
    let by_worker: Vec<(String, i64)> = sqlx::query_as(
        "SELECT locked_by, COUNT(*) FROM jobs WHERE kind = 'reminder' \
         GROUP BY locked_by ORDER BY locked_by",
    )
    .fetch_all(rig.app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        by_worker.len(),
        2,
        "both workers had a share: {by_worker:?}"
    );
    rig.deliver().await;
    for chat in &chats {
        assert_eq!(rig.delivered(*chat, "Скоро вебинар"), 1);
    }
}

async fn a_worker_that_dies_mid_job_is_taken_over_after_its_lease(db: TestDb) {
    let rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    import(
        &rig.app,
        &catalog(vec![lesson("pk-fgos-2026-11-d", base, 91, "Аренда", None)]),
    )
    .await;
    let chats = [rig.learner(1).await, rig.learner(2).await];
    rig.app.clock.advance(60);
    let now = rig.app.now().timestamp();
    let (w1, w2) = (Worker::with_id("w1"), Worker::with_id("w2"));

    // w1 claims the fan-out and hangs; w2 cannot have it while the lease lasts.
    let fan_out = w1.claim(&rig.app, now).await.unwrap();
    assert_eq!(fan_out.len(), 1);
    assert_eq!(rig.tick(&w2).await, 0);
    rig.app.clock.advance(scheduler::LEASE_SECONDS + 1);
    let now = rig.app.now().timestamp();
    // w2 takes it over and fans out; w1 wakes up late and its work is refused.
    let taken = w2.claim(&rig.app, now).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    w2.execute(&rig.app, rig.messenger.as_ref(), taken[0].clone(), now)
        .await;
    w1.execute(&rig.app, rig.messenger.as_ref(), fan_out[0].clone(), now)
        .await;

    // Now w1 claims the learners' reminders and dies again, this time with them in hand.
    let reminders = w1.claim(&rig.app, now).await.unwrap();
    assert_eq!(reminders.len(), 2);
    rig.app.clock.advance(scheduler::LEASE_SECONDS + 1);
    assert_eq!(rig.tick(&w2).await, 2);
    let late = rig.app.now().timestamp();
    for job in reminders {
        w1.execute(&rig.app, rig.messenger.as_ref(), job, late)
            .await;
    }
    for chat in chats {
        assert_eq!(
            queued(&rig.app, &chat.to_string(), "Скоро вебинар")
                .await
                .len(),
            1
        );
    }
    rig.deliver().await;
    for chat in chats {
        assert_eq!(rig.delivered(chat, "Скоро вебинар"), 1);
    }
}

async fn a_restart_between_claim_and_send_sends_once(db: TestDb) {
    let mut rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    import(
        &rig.app,
        &catalog(vec![lesson(
            "pk-fgos-2026-11-s",
            base,
            91,
            "Перезапуск",
            None,
        )]),
    )
    .await;
    let chat = rig.learner(1).await;
    rig.app.clock.advance(60);
    let before = Worker::with_id("before-crash");
    let now = rig.app.now().timestamp();
    let fan_out = before.claim(&rig.app, now).await.unwrap();
    assert_eq!(fan_out.len(), 1);
    before
        .execute(&rig.app, rig.messenger.as_ref(), fan_out[0].clone(), now)
        .await;
    // The learner's reminder is claimed — and the process dies before sending it.
    let in_hand = before.claim(&rig.app, now).await.unwrap();
    assert_eq!(in_hand.len(), 1);
    rig.restart().await;
    let after = Worker::with_id("after-restart");
    assert_eq!(
        rig.tick(&after).await,
        0,
        "the dead worker's lease still holds"
    );
    rig.app.clock.advance(scheduler::LEASE_SECONDS + 1);
    assert_eq!(rig.tick(&after).await, 1);
    rig.deliver().await;
    assert_eq!(rig.delivered(chat, "Скоро вебинар"), 1);
    assert_eq!(
        queued(&rig.app, &chat.to_string(), "Скоро вебинар")
            .await
            .len(),
        1
    );
}

async fn a_failed_send_and_a_429_are_retried_without_duplicates(db: TestDb) {
    let rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    import(
        &rig.app,
        &catalog(vec![lesson("pk-fgos-2026-11-f", base, 91, "Сбои", None)]),
    )
    .await;
    let chats = [rig.learner(1).await, rig.learner(2).await];
    rig.app.clock.advance(60);
    rig.tick(&Worker::with_id("w1")).await;
    rig.fake.fail_next("sendMessage", Failure::DropConnection);
    rig.fake
        .fail_next("sendMessage", Failure::TooManyRequests { retry_after: 1 });
    rig.deliver().await;
    let sent = |chat: i64| rig.delivered(chat, "Скоро вебинар");
    // One went after waiting out the 429; the dropped one waits for its retry.
    assert_eq!(sent(chats[0]) + sent(chats[1]), 1);
    rig.app.clock.advance(outbox::backoff(1) + 1);
    rig.deliver().await;
    assert_eq!((sent(chats[0]), sent(chats[1])), (1, 1));
    let sends = rig.fake.requests_to("sendMessage");
    assert_eq!(sends.len(), 4, "two sends, one dropped, one 429");
    assert_eq!(
        sends
            .iter()
            .filter(|r| matches!(r.outcome, Some(Outcome::Error { code: 429, .. })))
            .count(),
        1
    );
}

async fn a_learner_enrolled_after_the_fan_out_still_gets_the_reminder(db: TestDb) {
    let rig = Rig::start(db, Vec::new()).await;
    let base = rig.app.now();
    import(
        &rig.app,
        &catalog(vec![lesson(
            "pk-fgos-2026-11-e",
            base,
            60,
            "Поздняя запись",
            None,
        )]),
    )
    .await;
    let first = rig.learner(1).await;
    let worker = Worker::with_id("w1");
    assert_eq!(rig.tick(&worker).await, 2);
    // Enrolled through the journey's Submit (the hook plans the reminder in its step).
    let user = FakeUser::new(3001, "Поздний");
    rig.fake.send_text(&user, "/start");
    let learner = {
        let mut conn = rig.app.store.pool().acquire().await.unwrap();
        learners::ensure_telegram(&mut conn, user.id, user.id, None, "Поздний", "late", 0)
            .await
            .unwrap()
    };
    let mut tx = rig.app.store.begin().await.unwrap();
    let (enrollment, _) = enrollments::accept_offer(
        &mut tx,
        &enrollments::OfferAcceptance {
            learner_id: learner.id,
            course_id: "pk-fgos",
            group_id: GROUP,
            offer_version: "2026-11-01",
            offer_sha256: "ab",
            tg_user_id: None,
            tg_message_id: None,
            amount_kopecks: 490_000,
        },
        0,
    )
    .await
    .unwrap();
    let record = learners::by_id(&mut tx, learner.id).await.unwrap().unwrap();
    let now = rig.app.now().timestamp();
    assert!(uchbot::app::commands::apply(
        &rig.app,
        &mut tx,
        &record,
        &uchbot::journey::Command::Submit { enrollment },
        now
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(rig.tick(&worker).await, 1);
    rig.deliver().await;
    assert_eq!(rig.delivered(first, "Скоро вебинар"), 1);
    assert_eq!(rig.delivered(user.id, "Скоро вебинар"), 1);
}

/// Meanwhile a learner in a conversation asks `/status` every second (once answered).
async fn hundreds_of_reminders_keep_telegrams_limits_and_a_conversation_is_answered_meanwhile(
    db: TestDb,
) {
    let groups = [
        "pk-fgos-2026-11",
        "pk-first-aid-2026-12",
        "pk-labor-safety-2027-02",
    ];
    let report = support::fanout::run_fanout(db, 240, &groups, Default::default()).await;
    println!("{report}");
    assert_eq!(report.delivered, 240, "{report}");
    assert_eq!(report.too_many_requests, 0, "{report}");
    assert_eq!(report.duplicates, 0, "{report}");
    assert_eq!(report.personal_links, 240, "{report}");
    // Telegram's ceiling is kept. How close to it the fan-out comes is a speed figure: the
    // reminders benchmark reports it (a timed assertion would only measure the machine's load).
    assert!(report.per_second <= 30.5, "{report}");
    // The learner is answered while the reminders are still going out, not after them: the
    // fan-out takes about ten seconds, and answers the time of a round trip or two.
    assert_eq!(report.unanswered, 0, "{report}");
    assert!(
        report.answered_before_the_last_reminder() >= 3,
        "{report}: {:?}",
        report.answers
    );
    // Generous: behind the whole fan-out an answer would wait about ten seconds.
    assert!(
        report
            .answers
            .iter()
            .all(|a| a.latency < Duration::from_secs(5)),
        "{report}: {:?}",
        report.answers
    );
}

on_both_backends! {
    schedule_in_yekaterinburg => schedule_in_yekaterinburg_with_school_time_beside;
    personal_link_reminder => reminder_with_a_personal_link_once_by_telegram_and_by_email;
    mts_link_failure => mts_link_failure_falls_back_to_the_general_link_and_alerts_staff_once;
    no_webinar_token => without_a_webinar_token_the_general_link_goes_and_staff_hear_once;
    materials_notice => materials_notice_when_a_lesson_ends;
    moved_lesson => moving_a_lesson_moves_its_reminder_and_the_link_is_reused;
    missed_jobs => missed_jobs_fire_on_start_while_useful_and_are_dropped_after;
    racing_workers => two_workers_racing_send_each_reminder_once;
    dead_worker => a_worker_that_dies_mid_job_is_taken_over_after_its_lease;
    restart_mid_job => a_restart_between_claim_and_send_sends_once;
    failed_sends => a_failed_send_and_a_429_are_retried_without_duplicates;
    late_enrollment => a_learner_enrolled_after_the_fan_out_still_gets_the_reminder;
    rate_limits => hundreds_of_reminders_keep_telegrams_limits_and_a_conversation_is_answered_meanwhile;
}
