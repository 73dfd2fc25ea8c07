//! The operator's commands, run as the real binary: `--help`, `migrate`, `catalog import`
//! (idempotent, in place, all or nothing, precise errors) and `catalog show`, on SQLite and
//! PostgreSQL.
mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::db::TestDb;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/dialogues/catalog.example.toml"
);

fn uchbot(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .args(args)
        .env("UCHBOT_DATABASE__URL", db)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_explains_every_command_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&out);
    for command in ["serve", "shell", "migrate", "catalog"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} in:\n{help}"
        );
    }
    assert!(help.contains("--config"));
    let out = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .args(["catalog", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(help.contains("import") && help.contains("show"), "{help}");
    assert!(
        !help.to_lowercase().contains("token="),
        "no secrets in help"
    );
}

/// The example with one lesson moved, one course's price changed, a question removed.
fn changed_copy(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    std::fs::copy(
        Path::new(EXAMPLE).with_file_name("offer.md"),
        dir.join("offer.md"),
    )
    .unwrap();
    let changed = text.replacen("price = 4900", "price = 5200", 1);
    assert_ne!(changed, text, "the example has a course priced 4900");
    let path = dir.join("catalog.toml");
    std::fs::write(&path, changed).unwrap();
    path
}

async fn import_is_idempotent_and_updates_in_place(db: TestDb) {
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let url2 = url.clone();
    let (first, second, third, show) = tokio::task::spawn_blocking(move || {
        let first = uchbot(&url2, &["catalog", "import", EXAMPLE]);
        let second = uchbot(&url2, &["catalog", "import", EXAMPLE]);
        let third = uchbot(
            &url2,
            &[
                "catalog",
                "import",
                changed_copy(dir.path()).to_str().unwrap(),
            ],
        );
        let show = uchbot(&url2, &["catalog", "show"]);
        (first, second, third, show)
    })
    .await
    .unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("Добавлено: courses 7"),
        "{}",
        stdout(&first)
    );
    assert!(
        stdout(&second).contains("не изменился"),
        "{}",
        stdout(&second)
    );
    assert!(
        stdout(&third).contains("Изменено: courses 1"),
        "{}",
        stdout(&third)
    );
    assert!(
        stdout(&show).contains("5\u{a0}200\u{a0}₽"),
        "{}",
        stdout(&show)
    );
    assert!(
        stdout(&show).contains("pk-fgos-2026-11"),
        "groups are listed"
    );
    let (courses,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM courses")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(courses, 7, "updated in place, nothing duplicated");
}

async fn a_bad_file_changes_nothing_and_names_the_place(db: TestDb) {
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(EXAMPLE).with_file_name("offer.md"),
        dir.path().join("offer.md"),
    )
    .unwrap();
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    // Break the last course's hours: everything before it is valid, and must not be imported.
    let at = text.rfind("hours = ").unwrap();
    let end = at + text[at..].find('\n').unwrap();
    let broken = format!("{}hours = -5{}", &text[..at], &text[end..]);
    let line = broken[..at].lines().count() + 1;
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, broken).unwrap();
    let path_s = path.display().to_string();
    let out = tokio::task::spawn_blocking(move || uchbot(&url, &["catalog", "import", &path_s]))
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("catalog.toml:{line}")),
        "line {line} in: {err}"
    );
    assert!(err.contains("hours"), "{err}");
    let (courses,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM courses")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(courses, 0, "nothing half-imported");
}

on_both_backends! {
    catalog_import_is_idempotent_and_updates_in_place => import_is_idempotent_and_updates_in_place;
    a_bad_catalog_changes_nothing => a_bad_file_changes_nothing_and_names_the_place;
}

#[test]
fn migrate_creates_a_sqlite_file_with_wal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.db");
    let out = uchbot(&format!("sqlite://{}", file.display()), &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(file.exists());
    let again = uchbot(&format!("sqlite://{}", file.display()), &["migrate"]);
    assert!(again.status.success());
    let mode = Command::new("python3")
        .args(["-c", &format!("import sqlite3;print(sqlite3.connect('{}').execute('pragma journal_mode').fetchone()[0])", file.display())])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "wal");
}
