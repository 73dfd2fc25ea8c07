//! `uchbot serve` as an operator runs it: the real binary, configured by the environment,
//! against the fake Bot API — long polling and webhook mode, health and metrics, SIGTERM.
#[path = "support/binary.rs"]
mod binary;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binary::free_port;
use uchbot::telegram::fake_api::{FakeBotApi, FakeUser};

struct Serve {
    child: Child,
    pub http: String,
    _dir: tempfile::TempDir,
}

impl Serve {
    fn start(fake: &FakeBotApi, extra: &[(&str, String)]) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let db = binary::example_catalog_db(dir.path());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uchbot"));
        cmd.arg("serve")
            .env("UCHBOT_TELEGRAM__TOKEN", fake.token())
            .env("UCHBOT_TELEGRAM__API_URL", fake.url().to_string())
            .env("UCHBOT_DATABASE__URL", &db)
            .env("UCHBOT_HTTP__BIND", format!("127.0.0.1:{port}"))
            .env("UCHBOT_STORAGE__DOCUMENTS_DIR", dir.path().join("docs"))
            .env(
                "UCHBOT_STORAGE__ENCRYPTION_KEY",
                "dGVzdC1rZXktZm9yLWRvY3VtZW50cy0zMi1ieXRlcyE=",
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Serve {
            child: cmd.spawn().unwrap(),
            http: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        (started.elapsed(), status)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_http(url: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::get(url).await {
            return r;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_start_over_long_polling_and_stops_on_sigterm() {
    let fake = FakeBotApi::start().await.unwrap();
    let mut serve = Serve::start(&fake, &[]);
    // Ready when it polls.
    fake.wait_for(
        |f| (!f.requests_to("getUpdates").is_empty()).then_some(()),
        Duration::from_secs(30),
    )
    .await
    .expect("serve starts long polling");
    let user = FakeUser::new(1001, "Мария");
    let sent = Instant::now();
    fake.send_text(&user, "/start");
    let reply = fake
        .next_bot_message(user.id, Duration::from_secs(10))
        .await
        .expect("an answer to /start");
    let latency = sent.elapsed();
    println!("/start answered in {latency:?}");
    assert!(reply.shown_text().unwrap().contains("Здравствуйте"));
    // The command menu was set, in Russian.
    let commands = fake.commands(&teloxide::types::BotCommandScope::Default);
    assert!(
        commands
            .iter()
            .any(|c| c.command == "status" && c.description.contains("дальше")),
        "{commands:?}"
    );

    let health = wait_http(&format!("{}/healthz", serve.http)).await;
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", serve.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("uchbot_learners 1"), "{metrics}");

    let (took, status) = serve.terminate();
    assert!(status.success(), "exits cleanly on SIGTERM: {status:?}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    let confirmed = fake.confirmed_offset();
    assert!(
        confirmed >= 1,
        "the update offset was confirmed before exit ({confirmed})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_in_webhook_mode_checks_the_secret() {
    let fake = FakeBotApi::start().await.unwrap();
    let secret = "s3cret_TOKEN-1";
    // The public URL is the loopback server itself here (no proxy in between).
    let bind = free_port();
    let url = format!("http://127.0.0.1:{bind}/webhooks/telegram");
    let mut serve = Serve::start(
        &fake,
        &[
            ("UCHBOT_TELEGRAM__MODE", "webhook".to_owned()),
            ("UCHBOT_TELEGRAM__WEBHOOK_URL", url.clone()),
            ("UCHBOT_TELEGRAM__WEBHOOK_SECRET", secret.to_owned()),
            ("UCHBOT_HTTP__BIND", format!("127.0.0.1:{bind}")),
        ],
    );
    serve.http = format!("http://127.0.0.1:{bind}");
    fake.wait_for(
        |f| f.webhook_url().filter(|u| *u == url),
        Duration::from_secs(30),
    )
    .await
    .expect("serve registers its webhook");
    wait_http(&format!("{}/healthz", serve.http)).await;
    let user = FakeUser::new(1002, "Пётр");
    fake.send_text(&user, "/start");
    let reply = fake
        .next_bot_message(user.id, Duration::from_secs(10))
        .await
        .expect("an answer through the webhook");
    assert!(reply.shown_text().unwrap().contains("Здравствуйте"));
    // Without the secret nobody can post updates.
    let forged = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private", "first_name": "X"}, "from": {"id": 5, "is_bot": false, "first_name": "X"}, "text": "/start"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let (_, status) = serve.terminate();
    assert!(status.success());
}

#[test]
fn serve_without_a_document_key_names_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("serve")
        .env("UCHBOT_TELEGRAM__TOKEN", "1:x")
        .env_remove("UCHBOT_STORAGE__ENCRYPTION_KEY")
        .env("UCHBOT_DATABASE__URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("storage.encryption_key"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("serve")
        .env("UCHBOT_TELEGRAM__TOKEN", "1:x")
        .env("UCHBOT_STORAGE__ENCRYPTION_KEY", "too-short")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("storage.encryption_key: must be 32 bytes")
    );
}

#[test]
fn serve_without_a_token_names_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("serve")
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("UCHBOT_TELEGRAM__TOKEN")
        .env("UCHBOT_DATABASE__URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("telegram.token"), "{err}");
}
