//! Graceful shutdown of the real `uchbot serve` on SIGTERM, against the fake Bot API: it
//! stops taking updates, finishes the update it is handling (its answer is delivered),
//! confirms the update offset, exits 0 within 10 s, and after a restart no update is
//! handled twice.
#[path = "support/binary.rs"]
mod binary;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binary::{free_port, polling_since};
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeUser};

/// `uchbot serve` on a SQLite file that outlives restarts.
struct Serve {
    child: Option<Child>,
    db: String,
    dir: tempfile::TempDir,
}

impl Serve {
    fn new() -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let db = binary::example_catalog_db(dir.path());
        Serve {
            child: None,
            db,
            dir,
        }
    }

    fn start(&mut self, fake: &FakeBotApi) {
        let child = Command::new(env!("CARGO_BIN_EXE_uchbot"))
            .arg("serve")
            .env("UCHBOT_TELEGRAM__TOKEN", fake.token())
            .env("UCHBOT_TELEGRAM__API_URL", fake.url().to_string())
            .env("UCHBOT_DATABASE__URL", &self.db)
            .env("UCHBOT_HTTP__BIND", format!("127.0.0.1:{}", free_port()))
            .env(
                "UCHBOT_STORAGE__DOCUMENTS_DIR",
                self.dir.path().join("docs"),
            )
            .env(
                "UCHBOT_STORAGE__ENCRYPTION_KEY",
                "dGVzdC1rZXktZm9yLWRvY3VtZW50cy0zMi1ieXRlcyE=",
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGTERM; how long the exit took and how it ended.
    fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = started + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (started.elapsed(), status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve did not exit within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Answers Telegram took for `chat` whose text has `needle`.
fn sent_texts(fake: &FakeBotApi, chat: i64, needle: &str) -> usize {
    binary::answers(fake, chat, needle, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_conversation_finishes_the_answer_confirms_the_offset_and_exits_in_time() {
    let fake = FakeBotApi::start().await.unwrap();
    let mut serve = Serve::new();
    serve.start(&fake);
    polling_since(&fake, 0).await;
    let user = FakeUser::new(1001, "Мария");
    fake.send_text(&user, "/start");
    let consent = fake
        .wait_for(
            |f| {
                f.messages(user.id)
                    .into_iter()
                    .find_map(|m| m.button("✅ Согласен").map(|b| (m.message_id, b.clone())))
            },
            Duration::from_secs(15),
        )
        .await
        .expect("the consent question");
    fake.press_button(
        &user,
        user.id,
        consent.0,
        consent.1.callback_data.as_deref().unwrap(),
    )
    .unwrap();
    fake.wait_for(
        |f| (sent_texts(f, user.id, "адрес электронной почты") > 0).then_some(()),
        Duration::from_secs(15),
    )
    .await
    .expect("the email question");

    // Telegram is slow to take the next answer: SIGTERM lands while it is in flight.
    fake.fail_next("sendMessage", Failure::Delay(Duration::from_secs(3)));
    let seq = fake.requests().len();
    let email_update = fake.send_text(&user, "masha@example.org");
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
    .expect("the answer is being sent");
    let (took, status) = serve.terminate();
    println!("stopped in {took:?}");
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    // The update in progress was finished: its answer went out, once.
    assert_eq!(sent_texts(&fake, user.id, "6-значным кодом"), 1);
    // The offset was confirmed past it: Telegram will not hand it out again.
    assert!(
        fake.confirmed_offset() > email_update,
        "offset {} confirmed, update {email_update}",
        fake.confirmed_offset()
    );
    let last_poll = fake.requests_to("getUpdates").pop().unwrap();
    assert_eq!(
        last_poll.param_i64("timeout").unwrap_or(0),
        0,
        "{last_poll:?}"
    );

    // Restarted on the same database: the conversation goes on, nothing is handled twice.
    let asked = sent_texts(&fake, user.id, "адрес электронной почты");
    let seq = fake.requests().len();
    serve.start(&fake);
    polling_since(&fake, seq).await;
    fake.send_text(&user, "/help");
    fake.wait_for(
        |f| {
            f.requests_since(seq)
                .iter()
                .any(|r| r.method == "sendMessage" && r.result().is_some())
                .then_some(())
        },
        Duration::from_secs(15),
    )
    .await
    .expect("the restarted bot answers");
    fake.wait_until_idle(Duration::from_millis(500), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(sent_texts(&fake, user.id, "6-значным кодом"), 1);
    assert_eq!(sent_texts(&fake, user.id, "адрес электронной почты"), asked);
    let db = uchbot::store::Store::connect(&serve.db, 1).await.unwrap();
    let (letters,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE channel = 'email'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(letters, 1, "one letter with the code");
    db.close().await;
    let (took, status) = serve.terminate();
    assert!(status.success() && took < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_telegram_hangs_still_exits_within_ten_seconds() {
    let fake = FakeBotApi::start().await.unwrap();
    let mut serve = Serve::new();
    serve.start(&fake);
    polling_since(&fake, 0).await;
    let user = FakeUser::new(1002, "Пётр");
    // The answer hangs far past the shutdown budget.
    fake.fail_next("sendMessage", Failure::Delay(Duration::from_secs(60)));
    let seq = fake.requests().len();
    fake.send_text(&user, "/start");
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
    .expect("the answer is being sent");
    let (took, status) = serve.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
}
