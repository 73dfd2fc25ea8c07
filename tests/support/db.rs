//! Fresh databases for tests: a SQLite file in a temp dir, or a new database on the
//! PostgreSQL server at 127.0.0.1:5432 (trust auth, user postgres), dropped afterwards.
use std::sync::atomic::{AtomicU32, Ordering};

use uchbot::store::Store;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("uchbot.db").display());
        let store = Store::connect(&url, 4).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb {
            store,
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "uchbot_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        );
        let admin = Store::connect(PG_ADMIN_URL, 1)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (start it with .ci/run)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let store = Store::connect(&url, 4).await.expect("open postgres");
        store.migrate().await.expect("migrate postgres");
        TestDb {
            store,
            url,
            pg_name: Some(name),
            _dir: None,
        }
    }

    pub async fn of(backend: &str) -> TestDb {
        match backend {
            "sqlite" => Self::sqlite().await,
            _ => Self::postgres().await,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async: a small runtime of its own removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Store::connect(PG_ADMIN_URL, 1).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(admin.pool())
                        .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs one async scenario on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $scenario:ident;)+) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::support::db::TestDb::sqlite().await;
                super::$scenario(db).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::support::db::TestDb::postgres().await;
                super::$scenario(db).await;
            }
        }
    )+};
}
