//! The imperative shell around the journey: loads snapshots, runs the state machine, applies
//! its effects to the store and the outside world, and feeds results back in.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

use crate::config::Settings;
use crate::domain::catalog::Catalog;
use crate::journey::{PaymentMode, School};
use crate::store::{self, Store};
use crate::texts::Texts;

pub mod alerts;
pub mod attestation;
pub mod commands;
pub mod engine;
pub mod files;
pub mod health;
pub mod letters;
pub mod mail_in;
pub mod messenger;
pub mod outbox;
pub mod payments;
pub mod post;
pub mod privacy;
pub mod staff;
pub mod staff_alerts;
pub mod staff_auth;
pub mod staff_card;
pub mod staff_commands;
pub mod telegram_link;
pub mod view;

pub use engine::Origin;
pub use messenger::Messenger;

/// Time as the app sees it; tests move it forward instead of sleeping.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}

/// Who may press staff buttons and use staff commands.
#[derive(Debug, Clone, Default)]
pub struct Staff {
    pub chat_id: i64,
    pub managers: Vec<i64>,
    pub admins: Vec<i64>,
    /// Forum topics from configuration, by kind of alert.
    pub topics: std::collections::BTreeMap<String, i32>,
}

impl Staff {
    pub fn role(&self, user_id: i64) -> Option<crate::config::StaffRole> {
        use crate::config::StaffRole;
        if self.admins.contains(&user_id) {
            Some(StaffRole::Admin)
        } else if self.managers.contains(&user_id) {
            Some(StaffRole::Manager)
        } else {
            None
        }
    }
}

pub struct App {
    pub texts: Texts,
    pub store: Store,
    pub school: School,
    pub staff: Staff,
    pub clock: Clock,
    pub payments: payments::Provider,
    pub files: files::DocumentFiles,
    /// Where letters go: SMTP in `serve`, the terminal in `shell`, nowhere yet when unset.
    pub mail: Option<Arc<dyn letters::MailTransport>>,
    pub school_mailbox: String,
    /// The city printed on qualification documents.
    pub school_city: String,
    /// The key that signs staff buttons, read from the database on first use.
    pub staff_key: tokio::sync::OnceCell<[u8; 32]>,
    /// MTS Link for personal webinar links; `None` when `[webinar] token` is empty.
    pub webinar: Option<Arc<crate::webinar::MtsLink>>,
    /// Russian Post tracking; `None` when `[russian_post] login` is empty.
    pub post: Option<Arc<crate::russian_post::RussianPost>>,
    /// Telegram's flood limits from `[telegram]`, kept by the messenger's rate limiter.
    pub flood_limits: crate::telegram::limiter::Limits,
    /// Which outside services are failing, for staff alerts (`[resilience]`).
    pub health: health::Health,
    /// The outbox's wait before the next try: the least and the most (`[resilience]`).
    pub retry_seconds: (i64, i64),
    catalog: RwLock<(Option<String>, Arc<Catalog>)>,
}

impl App {
    /// The domain of the school's mailbox: Message-IDs and plus addresses are made under it.
    pub fn mail_domain(&self) -> &str {
        self.school_mailbox
            .rsplit('@')
            .next()
            .unwrap_or("localhost")
    }

    /// The runtime; fails when the configuration lacks what it needs (the document key).
    pub fn new(
        settings: &Settings,
        store: Store,
        payments: payments::Provider,
        mail: Option<Arc<dyn letters::MailTransport>>,
    ) -> Result<Self, crate::config::ConfigError> {
        let key = settings.require_encryption_key()?;
        let mode = match &payments {
            payments::Provider::YooKassa { .. } => PaymentMode::Online,
            payments::Provider::BankTransfer => PaymentMode::BankTransfer,
            payments::Provider::Demo => PaymentMode::Demo,
        };
        let school = School {
            name: settings.school.name.clone(),
            email: settings.school.email.clone(),
            phone: settings.school.phone.clone(),
            privacy_policy_url: settings.school.privacy_policy_url.clone(),
            consent_version: settings.school.consent_version.clone(),
            tz: settings.school.tz(),
            max_document_bytes: settings.storage.max_document_mb * 1024 * 1024,
            payment_mode: mode,
            bank_details: settings.payments.bank_details.clone(),
            bot_username: settings
                .telegram
                .bot_username
                .trim_start_matches('@')
                .to_owned(),
        };
        Ok(Self {
            texts: Texts::russian(),
            store,
            school,
            staff: Staff {
                chat_id: settings.telegram.staff_chat_id,
                managers: settings.telegram.staff_user_ids.clone(),
                admins: settings.telegram.admin_user_ids.clone(),
                topics: settings.telegram.staff_topics.clone(),
            },
            clock: Clock::default(),
            payments,
            files: files::DocumentFiles::new(settings.storage.documents_dir.clone(), &key),
            mail,
            school_mailbox: settings.school.email.clone(),
            school_city: settings.school.city.clone(),
            flood_limits: crate::telegram::limiter::Limits::from_settings(&settings.telegram),
            staff_key: tokio::sync::OnceCell::new(),
            health: health::Health::new(settings.resilience.alert_after_seconds),
            retry_seconds: (
                settings.resilience.retry_min_seconds as i64,
                settings.resilience.retry_max_seconds as i64,
            ),
            webinar: crate::scheduler::links::client(&settings.webinar),
            post: post::client(&settings.russian_post),
            catalog: RwLock::new((None, Arc::new(Catalog::default()))),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The catalog, re-read when an import changed it (any instance may have imported).
    pub async fn catalog(&self) -> store::Result<Arc<Catalog>> {
        let mut conn = self.store.pool().acquire().await?;
        self.catalog_in(&mut conn).await
    }

    /// The catalog read on a connection already held. Code holding a connection (above all
    /// a write transaction) must use this: taking a second one from the pool can wait on
    /// tasks that themselves wait for this transaction's lock, until both time out.
    pub async fn catalog_in(&self, conn: &mut sqlx::AnyConnection) -> store::Result<Arc<Catalog>> {
        let version = store::catalog::version(&mut *conn).await?;
        {
            let cached = self.catalog.read().await;
            if cached.0 == version && version.is_some() {
                return Ok(cached.1.clone());
            }
        }
        let fresh = Arc::new(store::catalog::load(conn).await?);
        *self.catalog.write().await = (version, fresh.clone());
        Ok(fresh)
    }
}
