//! The durable inbox of Telegram updates, with the real `uchbot serve` binary against the
//! fake Bot API, on SQLite and PostgreSQL: an update Telegram was told arrived (the polling
//! offset, the webhook's 200) is answered after a `kill -9`, once; a webhook call is
//! answered 200 only once its update is stored.
mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::binary::{answers, free_port, polling_since};
use support::bot::TEST_KEY;
use support::db::TestDb;
use teloxide::prelude::Requester;
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeConfig, FakeUser};

struct Serve {
    child: Option<Child>,
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Serve {
    async fn new(db: &TestDb, fake: &FakeBotApi, extra: &[(&str, String)]) -> Serve {
        let catalog = uchbot::catalog::example_catalog().unwrap();
        let mut tx = db.store.begin().await.unwrap();
        uchbot::store::catalog::import(&mut tx, &catalog)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("UCHBOT_TELEGRAM__TOKEN".into(), fake.token()),
            ("UCHBOT_TELEGRAM__API_URL".into(), fake.url().to_string()),
            ("UCHBOT_DATABASE__URL".into(), db.url.clone()),
            (
                "UCHBOT_HTTP__BIND".into(),
                format!("127.0.0.1:{}", free_port()),
            ),
            (
                "UCHBOT_STORAGE__DOCUMENTS_DIR".into(),
                dir.path().join("docs").display().to_string(),
            ),
            ("UCHBOT_STORAGE__ENCRYPTION_KEY".into(), TEST_KEY.into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), v.clone()));
        }
        Serve {
            child: None,
            env,
            _dir: dir,
        }
    }

    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_uchbot"))
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("INBOX_TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            let _ = child.wait();
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}

async fn inbox_rows(db: &TestDb) -> Vec<(i64, bool)> {
    let mut conn = db.store.pool().acquire().await.unwrap();
    uchbot::store::inbox::all(&mut conn).await.unwrap()
}

const CATALOG: &str = "Каталог курсов";
const STATUS: &str = "не дали согласие";

/// The bot takes a batch, confirms its offset with the next getUpdates and is killed before
/// it handled all of it (the chat's first answer hangs, the rest of the chat waits behind
/// it). Telegram has forgotten those updates; after the restart each is answered, once.
async fn killed_after_the_offset_was_confirmed(db: TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let mut serve = Serve::new(&db, &fake, &[]).await;
    serve.spawn();
    polling_since(&fake, 0).await;
    let anna = FakeUser::new(7001, "Анна");
    let boris = FakeUser::new(7002, "Борис");

    fake.fail_next("sendMessage", Failure::Delay(Duration::from_secs(30)));
    let seq = fake.requests().len();
    let first = fake.send_text(&anna, "/help");
    fake.wait_for(
        |f| {
            f.requests_since(seq)
                .iter()
                .any(|r| r.method == "sendMessage" && r.outcome.is_none())
                .then_some(())
        },
        Duration::from_secs(15),
    )
    .await
    .expect("the first answer is on its way");
    let waiting = [
        fake.send_text(&anna, "/catalog"),
        fake.send_text(&anna, "/status"),
        fake.send_text(&boris, "/catalog"),
    ];
    let last = *waiting.iter().max().unwrap();
    fake.wait_for(
        |f| (f.confirmed_offset() > last).then_some(()),
        Duration::from_secs(15),
    )
    .await
    .expect("the bot confirms the batch");
    // Boris's answer may or may not have gone out before the kill; Anna's could not.
    assert_eq!(answers(&fake, anna.id, CATALOG, 0), 0);
    serve.kill9();
    let boris_before = answers(&fake, boris.id, CATALOG, 0);

    let restart = fake.requests().len();
    serve.spawn();
    polling_since(&fake, restart).await;
    for (chat, needle) in [(anna.id, CATALOG), (anna.id, STATUS), (boris.id, CATALOG)] {
        fake.wait_for(
            |f| (answers(f, chat, needle, 0) > 0).then_some(()),
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer «{needle}» in chat {chat} after the restart"));
    }
    fake.wait_until_idle(Duration::from_millis(1500), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answers(&fake, anna.id, CATALOG, 0), 1);
    assert_eq!(answers(&fake, boris.id, CATALOG, 0), 1);
    assert!(boris_before <= 1);
    // After the restart Anna got the two answers she waited for. The update whose answer
    // the kill cut off had been applied (its claim went with its change); as she wrote
    // since, her newer messages' answers show where she stands, and no extra status (which
    // could show a question she had already answered) comes with the replay.
    assert_eq!(answers(&fake, anna.id, "", restart), 2);
    assert_eq!(answers(&fake, anna.id, STATUS, restart), 1);
    let rows = inbox_rows(&db).await;
    for id in std::iter::once(first).chain(waiting) {
        assert!(
            rows.contains(&(id, true)),
            "update {id} done in the inbox: {rows:?}"
        );
    }
    serve.kill9();
    fake.shutdown().await;
}

/// What makes the database unavailable to the bot for a while, and gives it back.
enum Outage {
    /// PostgreSQL refuses new connections and drops the ones there are.
    Postgres { name: String },
    /// Another process holds SQLite's write lock (the bot's writes time out as "locked").
    Sqlite { conn: sqlx::SqliteConnection },
}

impl Outage {
    async fn begin(db: &TestDb) -> Outage {
        use sqlx::Connection;
        if db.url.starts_with("postgres") {
            let name = db.url.rsplit('/').next().unwrap().to_owned();
            let admin = uchbot::store::Store::connect(support::db::PG_ADMIN_URL, 1)
                .await
                .unwrap();
            for sql in [
                format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
                format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"),
            ] {
                sqlx::query(&sql).execute(admin.pool()).await.unwrap();
            }
            admin.close().await;
            Outage::Postgres { name }
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .unwrap();
            Outage::Sqlite { conn }
        }
    }

    async fn end(self) {
        match self {
            Outage::Postgres { name } => {
                let admin = uchbot::store::Store::connect(support::db::PG_ADMIN_URL, 1)
                    .await
                    .unwrap();
                sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                admin.close().await;
            }
            Outage::Sqlite { mut conn } => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            }
        }
    }
}

/// Webhook mode: a call with a wrong secret is refused and stores nothing; a call while the
/// database is away is answered 500 (Telegram delivers it again) and the update is answered
/// once when the database is back; a repeated call of a stored update changes nothing.
/// `serve` in webhook mode, started, its webhook registered: the process, the webhook's
/// URL and its secret.
async fn serve_webhook(db: &TestDb, fake: &FakeBotApi) -> (Serve, String, &'static str) {
    let bind = free_port();
    let url = format!("http://127.0.0.1:{bind}/webhooks/telegram");
    let secret = "inbox-SECRET_2";
    let mut serve = Serve::new(
        db,
        fake,
        &[
            ("UCHBOT_TELEGRAM__MODE", "webhook".to_owned()),
            ("UCHBOT_TELEGRAM__WEBHOOK_URL", url.clone()),
            ("UCHBOT_TELEGRAM__WEBHOOK_SECRET", secret.to_owned()),
            ("UCHBOT_HTTP__BIND", format!("127.0.0.1:{bind}")),
        ],
    )
    .await;
    serve.spawn();
    fake.wait_for(
        |f| f.webhook_url().filter(|u| *u == url),
        Duration::from_secs(30),
    )
    .await
    .expect("serve registers its webhook");
    (serve, url, secret)
}

async fn webhook_stores_before_answering(db: TestDb) {
    // SQLite gives up on its lock after 10 s: Telegram's side waits longer than that.
    let fake = FakeBotApi::start_with(FakeConfig {
        webhook_retry_initial: Duration::from_millis(300),
        webhook_retry_max: Duration::from_secs(1),
        http_timeout: Duration::from_secs(20),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let (mut serve, url, secret) = serve_webhook(&db, &fake).await;
    let client = reqwest::Client::new();
    let vera = FakeUser::new(7003, "Вера");
    fake.send_text(&vera, "/status");
    fake.wait_for(
        |f| (answers(f, vera.id, STATUS, 0) > 0).then_some(()),
        Duration::from_secs(20),
    )
    .await
    .expect("an answer through the webhook");
    // The first answer can come before `serve` finished starting (planning the schedule):
    // a database lost during the start ends the process, which is not this test's point.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // A wrong or missing secret: refused, nothing stored, nothing answered.
    let forged = serde_json::json!({"update_id": 990_001, "message": {"message_id": 1, "date": 0,
        "chat": {"id": 7005, "type": "private", "first_name": "X"},
        "from": {"id": 7005, "is_bot": false, "first_name": "X"}, "text": "/start"}});
    for header in [Some("inbox-SECRET_3"), Some(""), None] {
        let mut call = client.post(&url).json(&forged);
        if let Some(h) = header {
            call = call.header("X-Telegram-Bot-Api-Secret-Token", h);
        }
        let status = call.send().await.unwrap().status();
        assert!(status == 401 || status == 403, "{status}");
    }
    let stored = inbox_rows(&db).await;
    assert_eq!(stored.len(), 1, "{stored:?}");

    // The database goes away; Telegram's call is answered 500 and retried until it is back.
    let outage = Outage::begin(&db).await;
    let update = fake.send_text(&vera, "/catalog");
    let bot = fake.bot();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let info = bot.get_webhook_info().await.unwrap();
        // (A kept-alive connection closed under a call is an error too; Telegram retries.)
        if info
            .last_error_message
            .as_deref()
            .is_some_and(|e| e.contains("500"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no call answered 500: {:?}",
            info.last_error_message
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answers(&fake, vera.id, CATALOG, 0), 0);
    assert_eq!(fake.pending_updates(), 1, "Telegram still holds the update");
    outage.end().await;
    fake.wait_for(
        |f| (answers(f, vera.id, CATALOG, 0) > 0).then_some(()),
        Duration::from_secs(40),
    )
    .await
    .expect("answered once the database is back");

    // Telegram repeats the call (its 200 got lost): stored already, nothing happens again.
    let body = {
        let mut conn = db.store.pool().acquire().await.unwrap();
        uchbot::store::inbox::body(&mut conn, update)
            .await
            .unwrap()
            .expect("the update is stored")
    };
    let again = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    fake.wait_until_idle(Duration::from_millis(1500), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answers(&fake, vera.id, CATALOG, 0), 1);
    assert_eq!(
        inbox_rows(&db).await,
        vec![(stored[0].0, true), (update, true)]
    );
    serve.kill9();
    fake.shutdown().await;
}

/// An update teloxide cannot read (a newer Bot API's field shape), stored as the webhook
/// got it, never reaches a handler: it is done in the inbox all the same, not held in
/// flight for ever, and the learner's next message is answered as usual.
async fn unreadable_update_is_done(db: TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let (mut serve, _, _) = serve_webhook(&db, &fake).await;
    let anna = FakeUser::new(7011, "Анна");
    let odd = fake
        .send_update(serde_json::json!({
            "message": {"message_id": "not a number", "chat": "nowhere"}
        }))
        .unwrap();
    let catalog = fake.send_text(&anna, "/catalog");
    fake.wait_for(
        |f| (answers(f, anna.id, CATALOG, 0) > 0).then_some(()),
        Duration::from_secs(20),
    )
    .await
    .expect("the next message is answered");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = inbox_rows(&db).await;
        if rows.contains(&(odd, true)) && rows.contains(&(catalog, true)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "both updates done in the inbox: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    serve.kill9();
    fake.shutdown().await;
}

on_both_backends! {
    kill_9_after_the_offset_was_confirmed_loses_no_update => killed_after_the_offset_was_confirmed;
    an_update_teloxide_cannot_read_is_done_not_held => unreadable_update_is_done;
    webhook_answers_only_once_the_update_is_stored => webhook_stores_before_answering;
}
