//! Benchmark: one lesson's webinar reminder to N learners (default 1,000 and 10,000) in three
//! groups, through the real scheduler, outbox worker and rate-limited Telegram messenger,
//! against a local fake Bot API that enforces Telegram's flood limits (429 when broken) and
//! the MTS Link fake for personal links. Real time: it takes about N/30 seconds.
//!
//! Meanwhile a learner in a conversation asks `/status` every second (once answered).
//!
//! Reports messages per second against the 30/s ceiling, 429 answers, duplicates, how late
//! the first and the last message are against T−90 min, peak RSS, and the latency of the
//! `/status` answers during the fan-out (p50, p99, max).
//!
//!     cargo bench --bench reminders                       # release build; 1000 and 10000
//!     cargo bench --bench reminders -- 1000               # chosen sizes
//!     cargo bench --bench reminders -- 1000 --bulk-share=100   # bulk may fill the window
//!     cargo test --bench reminders -- --bench 1000        # the same in the debug build
//!     UCHBOT_BENCH_DB=postgres cargo bench --bench reminders   # on 127.0.0.1:5432
//!
//! Without `--bench` among the arguments (as `cargo test --all-targets` runs it) it does
//! nothing, so CI's tests stay fast.
#[path = "../tests/support/mod.rs"]
mod support;

use support::db::TestDb;

const GROUPS: [&str; 3] = [
    "pk-fgos-2026-11",
    "pk-first-aid-2026-12",
    "pk-labor-safety-2027-02",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("reminders: skipped (run it with `cargo bench --bench reminders`)");
        return;
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let options = support::fanout::FanoutOptions {
        bulk_share_percent: args
            .iter()
            .find_map(|a| a.strip_prefix("--bulk-share="))
            .map(|p| p.parse().expect("--bulk-share=PERCENT")),
    };
    if sizes.is_empty() {
        sizes = vec![1_000, 10_000];
    }
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
            support::fanout::run_fanout(db, n, &GROUPS, options).await
        });
        println!(
            "reminders/{n} ({}): {report}",
            if postgres { "postgres" } else { "sqlite" }
        );
    }
}
