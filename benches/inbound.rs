//! Benchmarks of the `uchbot serve` process as an operator runs it, against the local fake
//! Bot API served by this process:
//!
//! - **inbound**: many learners in parallel walk the catalog (section → course card) and
//!   the whole application form (10 questions, the summary, «Всё верно»), each answering as
//!   soon as the bot has answered. Updates handled per second, handling latency (from the
//!   getUpdates answer that delivers an update to the bot's first message or edit in that
//!   chat, both timed by the fake), and the bot's peak RSS (VmHWM), on SQLite and
//!   PostgreSQL — and, in the same run against the same fake, a minimal aiogram bot doing
//!   the same conversation (`benches/aiogram/bot.py`, state in memory, no database).
//! - **memory**: 100,000 learners in the database and 10,000 conversations in progress.
//! - **coldstart**: from spawning `uchbot serve` to its first getUpdates (median of 5).
//!
//! ```sh
//! cargo bench --bench inbound                          # everything (a few minutes)
//! cargo bench --bench inbound -- inbound 200           # one part; 200 learners
//! cargo bench --bench inbound -- memory 100000 10000
//! cargo bench --bench inbound -- coldstart
//! cargo test --bench inbound -- --bench inbound 20     # the same in the debug build
//! ```
//!
//! PostgreSQL at 127.0.0.1:5432 (trust, user postgres) and `python3 -m pip install aiogram`
//! are needed for those rows; a row that cannot run says why. Without `--bench` among the
//! arguments (as `cargo test --all-targets` runs it) it does nothing.
#[path = "../tests/support/mod.rs"]
mod support;

use support::binary::free_port;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::bot::TEST_KEY;
use support::db::TestDb;
use uchbot::store::{enrollments, learners};
use uchbot::telegram::fake_api::{BotMessage, FakeBotApi, FakeUser, Outcome};

const FIRST_USER: i64 = 800_000;
const COURSE_GROUP: &str = "pk-fgos-2026-11";

/// Peak resident memory of a process, KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_uchbot(fake: &FakeBotApi, db_url: &str, dir: &std::path::Path) -> Proc {
    spawn_uchbot_with(fake, db_url, dir, true)
}

/// `flood_limits`: keep Telegram's limits (30 messages a second, one a second per chat);
/// without them the bot answers as fast as it can, like the aiogram baseline.
fn spawn_uchbot_with(
    fake: &FakeBotApi,
    db_url: &str,
    dir: &std::path::Path,
    flood_limits: bool,
) -> Proc {
    let (overall, per_chat) = if flood_limits {
        ("30", "1")
    } else {
        ("1000000", "1000000")
    };
    let child = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("serve")
        .env("UCHBOT_TELEGRAM__MESSAGES_PER_SECOND", overall)
        .env(
            "UCHBOT_TELEGRAM__PRIVATE_CHAT_MESSAGES_PER_SECOND",
            per_chat,
        )
        .env("UCHBOT_TELEGRAM__TOKEN", fake.token())
        .env("UCHBOT_TELEGRAM__API_URL", fake.url().to_string())
        .env("UCHBOT_DATABASE__URL", db_url)
        .env("UCHBOT_HTTP__BIND", format!("127.0.0.1:{}", free_port()))
        .env("UCHBOT_STORAGE__DOCUMENTS_DIR", dir.join("docs"))
        .env("UCHBOT_STORAGE__ENCRYPTION_KEY", TEST_KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("uchbot serve");
    Proc(child)
}

fn spawn_aiogram(fake: &FakeBotApi) -> Option<Proc> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/aiogram/bot.py");
    let ok = Command::new("python3")
        .args(["-c", "import aiogram"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("aiogram: not installed (python3 -m pip install aiogram); its row is skipped");
        return None;
    }
    let child = Command::new("python3")
        .arg(script)
        .env("BOT_TOKEN", fake.token())
        .env("BOT_API_URL", fake.url().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(Proc(child))
}

async fn first_get_updates(fake: &FakeBotApi, timeout: Duration) -> Option<Instant> {
    fake.wait_for(
        |f| f.requests_to("getUpdates").first().map(|r| r.received_at),
        timeout,
    )
    .await
    .ok()
}

/// The catalog, and learners who consented, confirmed their email and paid for a group.
async fn seed(db: &TestDb, first: i64, count: usize, paid: bool) {
    let catalog = uchbot::catalog::example_catalog().unwrap();
    let (course, _) = catalog.group(COURSE_GROUP).expect("group");
    let now = chrono::Utc::now().timestamp();
    let mut tx = db.store.begin().await.unwrap();
    uchbot::store::catalog::import(&mut tx, &catalog)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Batches keep each transaction short.
    for chunk in (0..count).collect::<Vec<_>>().chunks(2_000) {
        let mut tx = db.store.begin().await.unwrap();
        for &n in chunk {
            let id = first + n as i64;
            let learner = learners::ensure_telegram(
                &mut tx,
                id,
                id,
                None,
                &format!("Слушатель {n}"),
                &format!("m{id}"),
                now,
            )
            .await
            .unwrap();
            learners::record_consent(&mut tx, learner.id, true, "2026-09", now)
                .await
                .unwrap();
            learners::confirm_email(&mut tx, learner.id, &format!("l{id}@example.org"), now)
                .await
                .unwrap();
            if !paid {
                continue;
            }
            let (enrollment, _) = enrollments::accept_offer(
                &mut tx,
                &enrollments::OfferAcceptance {
                    learner_id: learner.id,
                    course_id: &course.id,
                    group_id: COURSE_GROUP,
                    offer_version: "2026-11-01",
                    offer_sha256: "ab",
                    tg_user_id: Some(id),
                    tg_message_id: None,
                    amount_kopecks: course.price.kopecks(),
                },
                now,
            )
            .await
            .unwrap();
            let order = enrollments::order_of(&mut tx, enrollment)
                .await
                .unwrap()
                .expect("order");
            enrollments::mark_paid(&mut tx, order.id, "bench", None, None, now)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

fn identity(m: Option<&BotMessage>) -> Option<(i32, String)> {
    m.map(|m| (m.message_id, m.shown_text().unwrap_or_default().to_owned()))
}

/// Something the learner acts on: buttons, a question, the request for documents (an
/// introduction before the first question is not).
fn actionable(m: &BotMessage) -> bool {
    let text = m.shown_text().unwrap_or_default();
    m.buttons().any(|b| b.callback_data.is_some())
        || text.contains("Вопрос ")
        || text.contains("скан или фото паспорта")
}

/// Waits until the bot's last message in the chat is another one (or was edited) that the
/// learner can act on.
async fn answered(
    fake: &FakeBotApi,
    chat: i64,
    before: &Option<(i32, String)>,
) -> Option<BotMessage> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let last = fake.messages(chat).pop();
        if identity(last.as_ref()) != *before && last.as_ref().is_some_and(actionable) {
            return last;
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn answer(q: &str) -> Option<&'static str> {
    Some(match q {
        "1" => "Иванова",
        "2" => "Мария",
        "3" => "Сергеевна",
        "4" => "07.03.1985",
        "5" => "112-233-445 95",
        "6" => "8 912 345 67 89",
        "10" => "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12",
        _ => return None,
    })
}

/// One learner: catalog → section → course card, `/status` → the form, 10 answers, «Всё
/// верно». Returns the number of updates sent, or an error naming where it stopped.
async fn learner(fake: FakeBotApi, n: usize) -> Result<usize, String> {
    let user = FakeUser::new(FIRST_USER + n as i64, format!("Слушатель {n}"));
    let chat = user.id;
    let mut sent = 0;
    let mut last: Option<BotMessage> = None;
    let stuck = |what: &str, last: &Option<BotMessage>| {
        format!(
            "learner {n} stuck at {what}: {:?}",
            last.as_ref()
                .and_then(|m| m.shown_text().map(str::to_owned))
        )
    };
    // (kind, argument): say text, press the first button, press the button with this label.
    let mut steps: Vec<(&str, String)> = vec![
        ("say", "/catalog".into()),
        ("first", String::new()),
        ("first", String::new()),
        ("say", "/status".into()),
        ("label", "📝 Заполнить заявление".into()),
    ];
    steps.reverse();
    loop {
        let step = match steps.pop() {
            Some(step) => step,
            None => {
                // The form: answer by the question's number, then confirm the summary.
                let text = last
                    .as_ref()
                    .and_then(|m| m.shown_text().map(str::to_owned))
                    .unwrap_or_default();
                if text.contains("скан или фото паспорта") {
                    return Ok(sent);
                }
                if text.contains("Проверьте") {
                    ("label", "✅ Всё верно".to_owned())
                } else if let Some(at) = text.find("Вопрос ") {
                    let q: String = text[at + "Вопрос ".len()..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    match answer(&q) {
                        Some(a) => ("say", a.to_owned()),
                        None => ("first", String::new()),
                    }
                } else {
                    return Err(stuck("the form", &last));
                }
            }
        };
        let before = identity(last.as_ref());
        match step.0 {
            "say" => {
                fake.send_text(&user, &step.1);
            }
            kind => {
                let m = last.as_ref().ok_or_else(|| stuck("no message", &last))?;
                let button = if kind == "first" {
                    m.buttons().find(|b| b.callback_data.is_some())
                } else {
                    m.buttons().find(|b| b.text == step.1)
                };
                let data = button
                    .and_then(|b| b.callback_data.clone())
                    .ok_or_else(|| stuck(&step.1, &last))?;
                fake.press_button(&user, chat, m.message_id, &data)
                    .map_err(|e| e.to_string())?;
            }
        }
        sent += 1;
        last = answered(&fake, chat, &before).await;
        if last.is_none() {
            return Err(stuck("an answer", &last));
        }
    }
}

struct Inbound {
    name: String,
    updates: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_mib: f64,
    errors: usize,
}

/// Handling latency of every update: from the getUpdates answer that delivered it to the
/// bot's first message or edit in that chat after it.
fn latencies(fake: &FakeBotApi) -> Vec<Duration> {
    let requests = fake.requests();
    let mut delivered: Vec<(i64, Instant)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut replies: HashMap<i64, Vec<Instant>> = HashMap::new();
    for r in &requests {
        match r.method.as_str() {
            "getUpdates" => {
                let (Some(Outcome::Ok(serde_json::Value::Array(updates))), Some(at)) =
                    (&r.outcome, r.answered_at)
                else {
                    continue;
                };
                for u in updates {
                    let id = u["update_id"].as_i64().unwrap_or_default();
                    let chat = u["message"]["chat"]["id"]
                        .as_i64()
                        .or_else(|| u["callback_query"]["from"]["id"].as_i64());
                    if let Some(chat) = chat.filter(|_| seen.insert(id)) {
                        delivered.push((chat, at));
                    }
                }
            }
            "sendMessage" | "editMessageText" | "editMessageReplyMarkup" => {
                if let Some(chat) = r.param_i64("chat_id") {
                    replies.entry(chat).or_default().push(r.received_at);
                }
            }
            _ => {}
        }
    }
    delivered
        .into_iter()
        .filter_map(|(chat, at)| {
            let first = replies.get(&chat)?.iter().find(|t| **t >= at)?;
            Some(first.duration_since(at))
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run_inbound(name: &str, learners: usize) -> Option<Inbound> {
    let fake = FakeBotApi::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (proc, _db) = match name {
        "aiogram" => (spawn_aiogram(&fake)?, None),
        row => {
            let db = if row.contains("postgres") {
                TestDb::postgres().await
            } else {
                TestDb::sqlite().await
            };
            seed(&db, FIRST_USER, learners, true).await;
            let limits = !row.contains("no flood limits");
            (
                spawn_uchbot_with(&fake, &db.url, dir.path(), limits),
                Some(db),
            )
        }
    };
    first_get_updates(&fake, Duration::from_secs(30)).await?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..learners)
        .map(|n| tokio::spawn(learner(fake.clone(), n)))
        .collect();
    let mut updates = 0;
    let errors = AtomicUsize::new(0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(n) => updates += n,
            Err(e) => {
                if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                    println!("{name}: {e}");
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let rss = vm_hwm_kib(proc.0.id()).unwrap_or_default();
    drop(proc);
    let mut lat = latencies(&fake);
    lat.sort();
    fake.shutdown().await;
    Some(Inbound {
        name: name.to_owned(),
        updates,
        seconds,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        rss_mib: rss as f64 / 1024.0,
        errors: errors.into_inner(),
    })
}

async fn inbound(learners: usize) {
    println!("inbound: {learners} learners in parallel, each 16 updates (catalog, card, /status, form of 10 questions, confirmation)");
    let mut rows = Vec::new();
    for name in [
        "uchbot sqlite",
        "uchbot postgres",
        "uchbot sqlite, no flood limits",
        "uchbot postgres, no flood limits",
        "aiogram",
    ] {
        if let Some(row) = run_inbound(name, learners).await {
            rows.push(row);
        }
    }
    println!("| bot | updates | seconds | updates/s | p50 ms | p99 ms | peak RSS MiB | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            r.name,
            r.updates,
            r.seconds,
            r.updates as f64 / r.seconds,
            r.p50_ms,
            r.p99_ms,
            r.rss_mib,
            r.errors
        );
    }
    if let Some(aiogram) = rows.iter().find(|r| r.name == "aiogram") {
        let base = aiogram.updates as f64 / aiogram.seconds;
        for r in rows.iter().filter(|r| r.name != "aiogram") {
            println!(
                "{} / aiogram: {:.2}× the updates per second, {:.2}× the peak RSS",
                r.name,
                r.updates as f64 / r.seconds / base,
                r.rss_mib / aiogram.rss_mib
            );
        }
    }
}

/// 100,000 learners in the database, then `active` of them in the middle of a conversation
/// (the catalog open, the form half filled), the bot's RSS after each stage.
async fn memory(total: usize, active: usize) {
    let fake = FakeBotApi::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite().await;
    let seeded = Instant::now();
    seed(&db, FIRST_USER, total, false).await;
    println!(
        "memory: {total} learners seeded in {:.0} s",
        seeded.elapsed().as_secs_f64()
    );
    // Without the flood limits: 10,000 chats at 30 messages a second would take minutes.
    let proc = spawn_uchbot_with(&fake, &db.url, dir.path(), false);
    let pid = proc.0.id();
    first_get_updates(&fake, Duration::from_secs(60))
        .await
        .expect("serve polls");
    let idle = vm_hwm_kib(pid).unwrap_or_default();
    let started = Instant::now();
    // Each active learner opens the catalog and a section: a conversation in progress.
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..active)
        .map(|n| {
            let fake = fake.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let user = FakeUser::new(FIRST_USER + n as i64, format!("Слушатель {n}"));
                fake.send_text(&user, "/catalog");
                let Some(m) = answered(&fake, user.id, &None).await else {
                    return;
                };
                if let Some(data) = m.buttons().find_map(|b| b.callback_data.clone()) {
                    let before = identity(Some(&m));
                    let _ = fake.press_button(&user, user.id, m.message_id, &data);
                    answered(&fake, user.id, &before).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let busy = vm_hwm_kib(pid).unwrap_or_default();
    let conversations: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM conversations")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    println!(
        "memory (sqlite): {total} learners, peak RSS after start {:.1} MiB; {} conversations in progress ({} stored) in {:.0} s, peak RSS {:.1} MiB",
        idle as f64 / 1024.0,
        done.load(Ordering::Relaxed),
        conversations.0,
        started.elapsed().as_secs_f64(),
        busy as f64 / 1024.0
    );
    drop(proc);
    fake.shutdown().await;
}

/// From spawning `uchbot serve` (SQLite, migrated, catalog loaded) to its first getUpdates.
async fn coldstart() {
    let db = TestDb::sqlite().await;
    seed(&db, FIRST_USER, 0, false).await;
    let mut times = Vec::new();
    for _ in 0..5 {
        let fake = FakeBotApi::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spawned = Instant::now();
        let proc = spawn_uchbot(&fake, &db.url, dir.path());
        let first = first_get_updates(&fake, Duration::from_secs(30))
            .await
            .expect("serve polls");
        times.push(first.duration_since(spawned));
        drop(proc);
        fake.shutdown().await;
    }
    times.sort();
    println!(
        "coldstart: spawn to first getUpdates, median of 5: {:.0} ms (min {:.0}, max {:.0})",
        times[2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[4].as_secs_f64() * 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("inbound: skipped (run it with `cargo bench --bench inbound`)");
        return;
    }
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["inbound", "memory", "coldstart"].contains(a))
        .collect();
    let all = parts.is_empty();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if all || parts.contains(&"coldstart") {
            coldstart().await;
        }
        if all || parts.contains(&"inbound") {
            inbound(numbers.first().copied().unwrap_or(100)).await;
        }
        if all || parts.contains(&"memory") {
            memory(
                numbers.first().copied().unwrap_or(100_000),
                numbers.get(1).copied().unwrap_or(10_000),
            )
            .await;
        }
    });
}
