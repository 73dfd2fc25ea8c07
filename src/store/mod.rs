//! Persistence over SQLite (default, one file) and PostgreSQL (several instances).
//!
//! Design: one code path through sqlx's `Any` driver. Every query is written once, with `$n`
//! placeholders that both backends accept, and the schema keeps to types both understand
//! (BIGINT, TEXT; times as Unix seconds). The backend is chosen once, from the URL, at
//! start. The two places where SQL must differ (row locking) ask [`Backend`]. This keeps
//! one implementation to review and one conformance suite (`tests/store.rs`) run against
//! both servers, instead of two copies of every query drifting apart. The price is runtime
//! rather than compile-time checked SQL, which that suite pays back.
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub mod attestation;
pub mod audit;
pub mod catalog;
pub mod conversations;
pub mod enrollments;
pub mod inbox;
pub mod jobs;
pub mod learners;
pub mod mail;
pub mod outbox;
pub mod privacy;
pub mod schedule;
pub mod staff;

pub use audit::AuditEntry;
pub use enrollments::{
    ApplicationRecord, DocumentRecord, EnrollmentRecord, NewDocument, OrderRecord, PaymentRecord,
};
pub use jobs::{ClaimedJob, NewJob};
pub use learners::{EmailVerification, LearnerRecord};
pub use outbox::{OutboxItem, OutboxStatus};

pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    busy_timeout: Duration,
}

/// How long a SQLite write waits for another writer's lock, unless configured.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Opens the database (a SQLite file is created if missing). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with(url, max_connections, DEFAULT_BUSY_TIMEOUT).await
    }

    /// [`Store::connect`] with the time a SQLite write waits for a lock held elsewhere.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        busy_timeout: Duration,
    ) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        let busy_ms = busy_timeout.as_millis().max(1);
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // sqlx leaves journal_mode alone and synchronous=FULL: WAL + NORMAL is
                        // durable across crashes and lets readers work beside the writer.
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
                        );
                        conn.execute(pragmas.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend,
            busy_timeout,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// How long a SQLite write waits for a lock before it fails.
    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes can fail with SQLITE_BUSY when
    /// another writer got in between, which the busy timeout does not cover.
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A cheap round trip for /healthz.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Marks a Telegram update as handled; false when it already was (webhook redelivery,
    /// two instances).
    pub async fn claim_update(&self, update_id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO processed_updates (update_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(update_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// [`Store::claim_update`] inside a transaction: the claim counts only with the change the
/// update made, so an update is applied once even when it comes again.
pub async fn claim_update_in(
    conn: &mut sqlx::AnyConnection,
    update_id: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO processed_updates (update_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(update_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializable value")
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
