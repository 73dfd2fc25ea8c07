//! No personal data in the logs: a full enrollment journey runs with every log line of every
//! crate captured at DEBUG level, and none carries what the learner typed or sent.
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::bot::*;
use support::db::TestDb;
use support::journeys::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_journey_logs_nothing_personal() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    run(&mut bot, &user, vec![say("/mydata")]).await;
    bot.stop().await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.lines().count() > 20,
        "the journey was logged at all:\n{logs}"
    );
    for secret in [
        "112-233-445 95",
        "11223344595",
        "masha@example.org",
        "+79123456789",
        "912 345",
        "Иванова",
        "07.03.1985",
        "Ленина",
        "620014",
        "паспорт.pdf",
        TEST_KEY,
    ] {
        let hit = logs.lines().find(|l| l.contains(secret));
        assert!(
            hit.is_none(),
            "«{secret}» is in the logs: {}",
            hit.unwrap_or_default()
        );
    }
}
