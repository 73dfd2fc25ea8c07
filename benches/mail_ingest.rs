//! Benchmark: the school's mailbox filled with N letters (default 1,000), each from a
//! learner with a 200 KB scan attached, then ingested end to end by the real poller and
//! intake — IMAP fetch from Dovecot, parsing, the document encrypted and stored, the
//! ledger, the receipt and the staff alert queued, the letter moved to the processed
//! folder. Reports letters per second and peak RSS.
//!
//!     cargo bench --bench mail_ingest                       # release build; N = 1000
//!     cargo bench --bench mail_ingest -- 200                # chosen N
//!     cargo test --bench mail_ingest -- --bench 100         # the same in the debug build
//!     UCHBOT_BENCH_DB=postgres cargo bench --bench mail_ingest   # on 127.0.0.1:5432
//!
//! Needs Dovecot and Postfix (`.ci/install-mail-servers.sh`). Without `--bench` among the
//! arguments (as `cargo test --all-targets` runs it) it does nothing.
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/support/mail_server.rs"]
mod mail_server;

use std::time::{Duration, Instant};

use base64::Engine as _;
use mail_server::{MailServer, LEARNER, TEACH};
use secrecy::SecretString;
use support::bot::{Options, TestBot};
use support::db::TestDb;
use support::journeys::{masha, register};
use tokio_util::sync::CancellationToken;
use uchbot::app::mail_in::{self, IntakeSettings};
use uchbot::email::{ImapParams, ImapSession, ImapTls, MailLimits, PollerConfig};

const ATTACHMENT_BYTES: usize = 200 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("mail_ingest: skipped (run it with `cargo bench --bench mail_ingest`)");
        return;
    }
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000] } else { sizes };
    let postgres = std::env::var("UCHBOT_BENCH_DB").is_ok_and(|v| v == "postgres");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for n in sizes {
        let report = runtime.block_on(async {
            let db = if postgres {
                TestDb::postgres().await
            } else {
                TestDb::sqlite().await
            };
            run(db, n).await
        });
        println!(
            "mail_ingest/{n} ({}): {report}",
            if postgres { "postgres" } else { "sqlite" }
        );
    }
}

fn imap(server: &MailServer, mailbox: &str) -> ImapParams {
    ImapParams {
        host: server.host().into(),
        port: server.imap_port,
        tls: ImapTls::None,
        username: TEACH.address.into(),
        password: SecretString::from(TEACH.password),
        mailbox: mailbox.into(),
        processed_mailbox: "Processed".into(),
        timeout: Duration::from_secs(30),
        ca_file: None,
        max_batch: 20,
        max_message_bytes: 30 << 20,
    }
}

/// A letter from the learner, vouched for by the school's MX, with a distinct scan.
fn letter(n: usize) -> Vec<u8> {
    let mut scan = b"%PDF-1.4\n".to_vec();
    let mut x = (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    while scan.len() < ATTACHMENT_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        scan.extend_from_slice(&x.to_le_bytes());
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&scan);
    let body: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    format!(
        "Authentication-Results: mx.school.test; dkim=pass header.d=example.test\r\n\
         From: {from}\r\nTo: {to}\r\nSubject: scan {n}\r\nMessage-ID: <bench-{n}@example.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nСкан {n}\r\n\
         --b\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"passport-{n}.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{body}--b--\r\n",
        from = LEARNER.address,
        to = TEACH.address,
    )
    .into_bytes()
}

async fn fill(server: &MailServer, n: usize) {
    let mut session = server.imap_login(&TEACH).await;
    for i in 0..n {
        session
            .append("INBOX", None, None, letter(i))
            .await
            .unwrap();
    }
    session.logout().await.unwrap();
}

async fn recorded(bot: &TestBot) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_messages")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    n
}

async fn run(db: TestDb, n: usize) -> String {
    let server = MailServer::start();
    let mut bot = TestBot::start(
        db,
        Options {
            env: vec![("UCHBOT_SCHOOL__EMAIL".into(), TEACH.address.into())],
            ..Options::default()
        },
    )
    .await;
    register(&mut bot, &masha(), LEARNER.address).await;
    let filling = Instant::now();
    fill(&server, n).await;
    let filled_in = filling.elapsed();

    let mut poller = PollerConfig::new(imap(&server, "INBOX"), Duration::from_secs(1));
    poller.idle_for = Duration::from_secs(5);
    let settings = IntakeSettings {
        limits: MailLimits::for_document_scans(),
        trusted_authserv_id: "mx.school.test".into(),
        bot_username: String::new(),
    };
    let stop = CancellationToken::new();
    let started = Instant::now();
    let task = mail_in::spawn(
        bot.app.clone(),
        bot.messenger(),
        poller,
        settings,
        stop.clone(),
    );
    let deadline = started + Duration::from_secs(3600);
    while recorded(&bot).await < n as i64 {
        assert!(Instant::now() < deadline, "not ingested within an hour");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Filed away: the INBOX is empty.
    loop {
        let mut session = ImapSession::connect(&imap(&server, "INBOX")).await.unwrap();
        let left = session.select().await.unwrap().exists;
        let _ = session.logout().await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    stop.cancel();
    let _ = task.await;
    let (documents,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM documents WHERE source = 'email'")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    bot.stop().await;
    format!(
        "{n} letters of {} KB ingested in {:.1} s: {:.1} letters/s ({:.1} MB/s of scans); \
         {documents} documents stored; mailbox filled in {:.1} s; peak RSS {}",
        ATTACHMENT_BYTES / 1024,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        (n * ATTACHMENT_BYTES) as f64 / 1_048_576.0 / took.as_secs_f64(),
        filled_in.as_secs_f64(),
        support::fanout::peak_rss_kib()
            .map(|k| format!("{} MiB", k / 1024))
            .unwrap_or_else(|| "n/a".into()),
    )
}
