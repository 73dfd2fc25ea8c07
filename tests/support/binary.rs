//! The real `uchbot` binary as an operator starts it: a free loopback port for its HTTP
//! endpoints and a SQLite file with the example catalog imported by `uchbot catalog import`.
// Each test binary that includes this file uses part of it.
#![allow(dead_code)]
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use uchbot::telegram::fake_api::FakeBotApi;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A SQLite database in `dir` with the example catalog, imported first as an operator would;
/// returns its URL.
pub fn example_catalog_db(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("uchbot.db").display());
    let status = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .args([
            "catalog",
            "import",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/dialogues/catalog.example.toml"
            ),
        ])
        .env("UCHBOT_DATABASE__URL", &db)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    db
}

/// Waits until the binary asks the fake Bot API for updates after call `seq`.
pub async fn polling_since(fake: &FakeBotApi, seq: usize) {
    fake.wait_for(
        |f| {
            f.requests_since(seq)
                .iter()
                .any(|r| r.method == "getUpdates")
                .then_some(())
        },
        Duration::from_secs(30),
    )
    .await
    .expect("serve polls for updates");
}

/// Answers Telegram took for `chat` whose text has `needle`, among the calls from `since`.
pub fn answers(fake: &FakeBotApi, chat: i64, needle: &str, since: usize) -> usize {
    fake.requests_since(since)
        .iter()
        .filter(|r| r.method == "sendMessage" && r.param_i64("chat_id") == Some(chat))
        .filter(|r| r.result().is_some())
        .filter(|r| r.param_str("text").is_some_and(|t| t.contains(needle)))
        .count()
}
