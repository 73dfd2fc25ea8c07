//! The real `uchbot` binary as an operator starts it: a free loopback port for its HTTP
//! endpoints and a SQLite file with the example catalog imported by `uchbot catalog import`.
use std::path::Path;
use std::process::{Command, Stdio};

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
