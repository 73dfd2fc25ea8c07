//! Configuration: a TOML file with environment overrides `UCHBOT_<SECTION>__<KEY>`.
//!
//! Every value has a default that works for `uchbot shell`; `serve` additionally needs a
//! Telegram token. Secrets are `SecretString`: their `Debug` is redacted, so logging a
//! `Settings` never leaks them.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const ENV_PREFIX: &str = "UCHBOT_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config: {origin}: {message}")]
    Syntax { origin: String, message: String },
    /// One line naming the key, as the operator reads it.
    #[error("config: {key}: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub telegram: TelegramSettings,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub smtp: SmtpSettings,
    pub imap: ImapSettings,
    pub payments: PaymentSettings,
    pub webinar: WebinarSettings,
    pub russian_post: RussianPostSettings,
    pub school: SchoolSettings,
    pub storage: StorageSettings,
    pub resilience: ResilienceSettings,
}

/// How the bot rides out outside services that fail for a while.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceSettings {
    /// A message or letter that could not go out waits this long before the next try, then
    /// twice as long each time, up to `retry_max_seconds`.
    pub retry_min_seconds: u64,
    pub retry_max_seconds: u64,
    /// Staff hear once when a service (mail server, payment provider) has been failing
    /// this long, and once more when it works again.
    pub alert_after_seconds: u64,
}

impl Default for ResilienceSettings {
    fn default() -> Self {
        Self {
            retry_min_seconds: 5,
            retry_max_seconds: 3600,
            alert_after_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UpdateMode {
    #[default]
    Polling,
    Webhook,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSettings {
    pub token: Option<SecretString>,
    pub api_url: url::Url,
    /// The staff group or supergroup that receives alerts; 0 = none.
    pub staff_chat_id: i64,
    /// Telegram user ids of staff with the manager role.
    pub staff_user_ids: Vec<i64>,
    /// Telegram user ids of staff with the admin role (manual payments, unlocking data).
    pub admin_user_ids: Vec<i64>,
    /// Forum topics of the staff chat by kind of alert (`message_thread_id`); missing kinds
    /// get a topic created by the bot when the chat is a forum.
    pub staff_topics: std::collections::BTreeMap<String, i32>,
    pub mode: UpdateMode,
    pub webhook_url: Option<url::Url>,
    pub webhook_secret: Option<SecretString>,
    /// The bot's username without @, for deep links in letters; read from getMe when empty.
    pub bot_username: String,
    /// Telegram's flood limits: all chats together, and one group (the staff chat among them).
    pub messages_per_second: usize,
    pub group_messages_per_minute: usize,
    /// Messages a second in one private chat (a burst of three times this passes).
    pub private_chat_messages_per_second: usize,
    /// The percentage of `messages_per_second` that reminders, materials and other queued
    /// messages may use; the rest is kept for answers to learners (1-100).
    pub bulk_share_percent: u8,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        Self {
            token: None,
            api_url: url::Url::parse("https://api.telegram.org").expect("static url"),
            staff_chat_id: 0,
            staff_user_ids: Vec::new(),
            admin_user_ids: Vec::new(),
            staff_topics: std::collections::BTreeMap::new(),
            mode: UpdateMode::Polling,
            webhook_url: None,
            webhook_secret: None,
            bot_username: String::new(),
            messages_per_second: 30,
            group_messages_per_minute: 20,
            private_chat_messages_per_second: 1,
            bulk_share_percent: crate::telegram::limiter::DEFAULT_BULK_SHARE_PERCENT,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// SQLite: how long a write waits for another writer's lock before it gives up.
    pub busy_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://uchbot.db".into(),
            max_connections: 8,
            busy_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    pub bind: SocketAddr,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".parse().expect("static addr"),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtps://host:port` or `smtp://host:port?tls=required`; empty = letters wait in the outbox.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// `Школа <teach@example.org>`; defaults to `[school] email`.
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImapTlsMode {
    None,
    Starttls,
    #[default]
    Tls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapSettings {
    /// Empty = the mailbox is not read.
    pub host: String,
    pub port: u16,
    pub tls: ImapTlsMode,
    pub username: String,
    pub password: Option<SecretString>,
    pub mailbox: String,
    pub processed_mailbox: String,
    pub poll_seconds: u64,
    /// After a failed session the next one starts this long after, doubling up to
    /// `retry_max_seconds`; staff hear after `alert_after_failures` failures in a row.
    pub retry_min_seconds: u64,
    pub retry_max_seconds: u64,
    pub alert_after_failures: u32,
    /// The authserv-id whose Authentication-Results headers are trusted (your MX).
    pub trusted_authserv_id: String,
}

impl Default for ImapSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 993,
            tls: ImapTlsMode::Tls,
            username: String::new(),
            password: None,
            mailbox: "INBOX".into(),
            processed_mailbox: "INBOX.uchbot".into(),
            poll_seconds: 60,
            retry_min_seconds: 2,
            retry_max_seconds: 300,
            alert_after_failures: 5,
            trusted_authserv_id: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentSettings {
    pub api_url: url::Url,
    /// Empty = no payment provider: learners get the bank details and staff mark orders paid.
    pub shop_id: String,
    pub secret_key: Option<SecretString>,
    pub return_url: String,
    /// 54-ФЗ VAT code of the receipt item; 1 = без НДС (educational services).
    pub vat_code: u8,
    /// How often pending payments are read back in case a notification was lost.
    pub recheck_seconds: u64,
    /// How long one call to YooKassa may take before it is given up and retried.
    pub timeout_seconds: u64,
    /// Bank details shown when no provider is configured.
    pub bank_details: String,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            api_url: url::Url::parse("https://api.yookassa.ru/v3/").expect("static url"),
            shop_id: String::new(),
            secret_key: None,
            return_url: String::new(),
            vat_code: 1,
            recheck_seconds: 300,
            timeout_seconds: 15,
            bank_details: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebinarSettings {
    pub api_url: url::Url,
    /// Empty = no personal links: the group's general webinar link is sent.
    pub token: Option<SecretString>,
}

impl Default for WebinarSettings {
    fn default() -> Self {
        Self {
            api_url: url::Url::parse("https://userapi.mts-link.ru/v3/").expect("static url"),
            token: None,
        }
    }
}

/// Russian Post tracking (single-access API): off while `login` is empty.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RussianPostSettings {
    pub api_url: url::Url,
    pub login: String,
    pub password: Option<SecretString>,
}

impl Default for RussianPostSettings {
    fn default() -> Self {
        Self {
            api_url: url::Url::parse("https://tracking.russianpost.ru/rtm34").expect("static url"),
            login: String::new(),
            password: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchoolSettings {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub city: String,
    pub timezone: String,
    /// The personal-data processing policy (152-ФЗ) shown before consent.
    pub privacy_policy_url: String,
    /// Version of the consent text; a new version asks learners again.
    pub consent_version: String,
}

impl Default for SchoolSettings {
    fn default() -> Self {
        Self {
            name: "ООО «Международный центр образования и социально-гуманитарных исследований»"
                .into(),
            email: "teach@uchmet.org".into(),
            phone: "+7 (800) 000-00-00".into(),
            city: "Москва".into(),
            timezone: "Europe/Moscow".into(),
            privacy_policy_url: "https://example.org/privacy".into(),
            consent_version: "2026-09".into(),
        }
    }
}

impl SchoolSettings {
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Moscow)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    pub documents_dir: PathBuf,
    /// Key that encrypts document files at rest: 32 random bytes in base64
    /// (`head -c 32 /dev/urandom | base64`). Required by `serve`.
    pub encryption_key: Option<SecretString>,
    /// Largest document a learner may upload, in megabytes (Telegram's getFile stops at 20).
    pub max_document_mb: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            documents_dir: PathBuf::from("data/documents"),
            encryption_key: None,
            max_document_mb: 20,
        }
    }
}

impl Settings {
    /// Reads the file (when given), applies the environment, validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let (origin, mut table) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let table: toml::Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Syntax {
                            origin: path.display().to_string(),
                            message: one_line(&e.to_string()),
                        })?;
                (path.display().to_string(), table)
            }
            None => ("defaults".to_owned(), toml::Table::new()),
        };
        let mut from_env = apply_env(&mut table, env)?;
        loop {
            let attempt =
                serde_path_to_error::deserialize::<_, Settings>(toml::Value::Table(table.clone()));
            let e = match attempt {
                Ok(settings) => {
                    settings.validate()?;
                    return Ok(settings);
                }
                Err(e) => e,
            };
            let key = e.path().to_string();
            // `UCHBOT_PAYMENTS__SHOP_ID=506751` was read as a number but the field wants
            // text: take the variable as written and try again.
            if let (Some(raw), Some((section, field))) =
                (from_env.remove(&key), key.split_once('.'))
            {
                if let Some(t) = table.get_mut(section).and_then(|v| v.as_table_mut()) {
                    t.insert(field.to_owned(), toml::Value::String(raw));
                    continue;
                }
            }
            let message = one_line(&e.inner().to_string());
            return Err(if key == "." {
                ConfigError::Syntax { origin, message }
            } else {
                ConfigError::Invalid { key, message }
            });
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.school.timezone.parse::<Tz>().is_err() {
            return Err(ConfigError::invalid(
                "school.timezone",
                format!("unknown time zone {:?}", self.school.timezone),
            ));
        }
        for (kind, thread) in &self.telegram.staff_topics {
            if crate::app::alerts::AlertKind::from_code(kind).is_none() {
                return Err(ConfigError::invalid(
                    &format!("telegram.staff_topics.{kind}"),
                    "unknown kind of alert; expected one of learners, payments, applications, \
                     mail, tests, certificates, integrations",
                ));
            }
            if *thread <= 0 {
                return Err(ConfigError::invalid(
                    &format!("telegram.staff_topics.{kind}"),
                    "must be a topic's message_thread_id (a positive number)",
                ));
            }
        }
        if !(1..=100).contains(&self.telegram.bulk_share_percent) {
            return Err(ConfigError::invalid(
                "telegram.bulk_share_percent",
                "must be a percentage from 1 to 100",
            ));
        }
        let db = &self.database.url;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres:")
            || db.starts_with("postgresql:"))
        {
            return Err(ConfigError::invalid(
                "database.url",
                "expected sqlite://FILE or postgres://USER@HOST/DB",
            ));
        }
        if self.telegram.mode == UpdateMode::Webhook {
            if self.telegram.webhook_url.is_none() {
                return Err(ConfigError::invalid(
                    "telegram.webhook_url",
                    "required when telegram.mode = \"webhook\"",
                ));
            }
            match &self.telegram.webhook_secret {
                Some(s) if valid_webhook_secret(s.expose_secret()) => {}
                _ => {
                    return Err(ConfigError::invalid(
                        "telegram.webhook_secret",
                        "required in webhook mode: 1-256 characters of A-Z a-z 0-9 _ -",
                    ))
                }
            }
        }
        if !self.smtp.url.is_empty() {
            let url = url::Url::parse(&self.smtp.url)
                .map_err(|e| ConfigError::invalid("smtp.url", e.to_string()))?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                return Err(ConfigError::invalid(
                    "smtp.url",
                    "expected smtp://host:port, smtps://host:port or smtp://host:port?tls=required",
                ));
            }
        }
        if !self.payments.shop_id.is_empty() {
            if self.payments.secret_key.is_none() {
                return Err(ConfigError::invalid(
                    "payments.secret_key",
                    "required when payments.shop_id is set",
                ));
            }
            if url::Url::parse(&self.payments.return_url).is_err() {
                return Err(ConfigError::invalid(
                    "payments.return_url",
                    "required when payments.shop_id is set: the page the learner returns to after paying",
                ));
            }
        }
        if !self.russian_post.login.is_empty() && self.russian_post.password.is_none() {
            return Err(ConfigError::invalid(
                "russian_post.password",
                "required when russian_post.login is set",
            ));
        }
        if !self.imap.host.is_empty() && self.imap.username.is_empty() {
            return Err(ConfigError::invalid(
                "imap.username",
                "required when imap.host is set",
            ));
        }
        let r = &self.resilience;
        if r.retry_min_seconds == 0 || r.retry_max_seconds < r.retry_min_seconds {
            return Err(ConfigError::invalid(
                "resilience.retry_min_seconds",
                "must be at least 1 and not above resilience.retry_max_seconds",
            ));
        }
        if self.imap.retry_min_seconds == 0
            || self.imap.retry_max_seconds < self.imap.retry_min_seconds
        {
            return Err(ConfigError::invalid(
                "imap.retry_min_seconds",
                "must be at least 1 and not above imap.retry_max_seconds",
            ));
        }
        if self.imap.poll_seconds == 0 {
            return Err(ConfigError::invalid(
                "imap.poll_seconds",
                "must be at least 1",
            ));
        }
        if let Some(key) = &self.storage.encryption_key {
            if decode_key(key.expose_secret()).is_none() {
                return Err(ConfigError::invalid(
                    "storage.encryption_key",
                    "must be 32 bytes in base64 (head -c 32 /dev/urandom | base64)",
                ));
            }
        }
        if self.storage.max_document_mb == 0 || self.storage.max_document_mb > 20 {
            return Err(ConfigError::invalid(
                "storage.max_document_mb",
                "must be between 1 and 20 (Telegram serves files up to 20 MB)",
            ));
        }
        Ok(())
    }

    /// The token `serve` needs; `TELOXIDE_TOKEN` is read as a fallback by `load`.
    pub fn require_token(&self) -> Result<&SecretString, ConfigError> {
        self.telegram.token.as_ref().ok_or_else(|| {
            ConfigError::invalid(
                "telegram.token",
                "required by `serve`: set UCHBOT_TELEGRAM__TOKEN (or TELOXIDE_TOKEN)",
            )
        })
    }

    /// The document encryption key `serve` needs (checked at start-up).
    pub fn require_encryption_key(&self) -> Result<[u8; 32], ConfigError> {
        self.storage
            .encryption_key
            .as_ref()
            .and_then(|k| decode_key(k.expose_secret()))
            .ok_or_else(|| {
                ConfigError::invalid(
                    "storage.encryption_key",
                    "required by `serve` to encrypt documents at rest: set \
                     UCHBOT_STORAGE__ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)",
                )
            })
    }

    pub fn staff_role(&self, user_id: i64) -> Option<StaffRole> {
        if self.telegram.admin_user_ids.contains(&user_id) {
            Some(StaffRole::Admin)
        } else if self.telegram.staff_user_ids.contains(&user_id) {
            Some(StaffRole::Manager)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaffRole {
    Manager,
    Admin,
}

fn valid_webhook_secret(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 32 bytes from base64.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    bytes.try_into().ok()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `UCHBOT_TELEGRAM__TOKEN=…` → `telegram.token`; `TELOXIDE_TOKEN` fills the token when unset.
/// Returns the variables that were read as numbers, booleans or arrays (key → text as
/// written), in case the field turns out to want text.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<std::collections::HashMap<String, String>, ConfigError> {
    let mut typed = std::collections::HashMap::new();
    let mut teloxide_token = None;
    for (name, value) in env {
        if name == "TELOXIDE_TOKEN" {
            teloxide_token = Some(value);
            continue;
        }
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            return Err(ConfigError::invalid(
                &name,
                "expected UCHBOT_<SECTION>__<KEY>, e.g. UCHBOT_TELEGRAM__TOKEN",
            ));
        };
        let (section, key) = (section.to_lowercase(), key.to_lowercase());
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(section_table) = entry.as_table_mut() else {
            return Err(ConfigError::invalid(&section, "must be a [section]"));
        };
        let parsed = env_value(&value);
        if !parsed.is_str() {
            typed.insert(format!("{section}.{key}"), value.clone());
        }
        section_table.insert(key, parsed);
    }
    if let Some(token) = teloxide_token {
        let telegram = table
            .entry("telegram")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(t) = telegram.as_table_mut() {
            t.entry("token").or_insert(toml::Value::String(token));
        }
    }
    Ok(typed)
}

/// Numbers, booleans and arrays are read as TOML so `UCHBOT_TELEGRAM__STAFF_USER_IDS=[1,2]`
/// works; anything else is a string as written.
fn env_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match probe.parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_)
                | toml::Value::Boolean(_)
                | toml::Value::Array(_)
                | toml::Value::Table(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uchbot.toml");
        std::fs::write(&path, toml_text).unwrap();
        Settings::load_from(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_work_without_a_file() {
        let s = Settings::load_from(None, Vec::new()).unwrap();
        assert_eq!(s.database.url, "sqlite://uchbot.db");
        assert_eq!(s.school.tz(), chrono_tz::Europe::Moscow);
        assert!(s.require_token().is_err());
    }

    #[test]
    fn environment_overrides_the_file() {
        let s = load(
            "[telegram]\nstaff_chat_id = -100\n",
            &[
                ("UCHBOT_TELEGRAM__STAFF_CHAT_ID", "-200"),
                ("UCHBOT_TELEGRAM__STAFF_USER_IDS", "[7, 8]"),
                ("TELOXIDE_TOKEN", "1:abc"),
            ],
        )
        .unwrap();
        assert_eq!(s.telegram.staff_chat_id, -200);
        let topics = load(
            "",
            &[(
                "UCHBOT_TELEGRAM__STAFF_TOPICS",
                "{ payments = 12, mail = 14 }",
            )],
        )
        .unwrap();
        assert_eq!(topics.telegram.staff_topics.get("payments"), Some(&12));
        let err = load("[telegram]\nstaff_topics = { money = 3 }\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("telegram.staff_topics.money"),
            "{err}"
        );
        assert_eq!(s.telegram.staff_user_ids, vec![7, 8]);
        assert_eq!(s.require_token().unwrap().expose_secret(), "1:abc");
    }

    #[test]
    fn uchbot_token_wins_over_teloxide_token() {
        let s = Settings::load_from(
            None,
            vec![
                ("TELOXIDE_TOKEN".into(), "1:old".into()),
                ("UCHBOT_TELEGRAM__TOKEN".into(), "1:new".into()),
            ],
        )
        .unwrap();
        assert_eq!(s.require_token().unwrap().expose_secret(), "1:new");
    }

    #[test]
    fn errors_name_the_key() {
        let e = load("[http]\nbind = \"nowhere\"\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("config: http.bind:"), "{e}");
        let e = load("[school]\ntimezone = \"Mars/Base\"\n", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "config: school.timezone: unknown time zone \"Mars/Base\""
        );
        let e = load("[telegram]\nmode = \"webhook\"\n", &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("config: telegram.webhook_url:"),
            "{e}"
        );
        let e = load("[smtp]\nurl = \"http://x\"\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("config: smtp.url:"), "{e}");
        let e = load("[telegram]\nbulk_share_percent = 0\n", &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config: telegram.bulk_share_percent:"),
            "{e}"
        );
        let e = load("[telegram]\ntoken_typo = \"x\"\n", &[]).unwrap_err();
        assert!(e.to_string().contains("token_typo"), "{e}");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn a_numeric_variable_for_a_text_field_is_taken_as_text() {
        let s = Settings::load_from(
            None,
            vec![
                ("UCHBOT_PAYMENTS__SHOP_ID".into(), "506751".into()),
                ("UCHBOT_PAYMENTS__SECRET_KEY".into(), "live_x".into()),
                (
                    "UCHBOT_PAYMENTS__RETURN_URL".into(),
                    "https://t.me/x".into(),
                ),
                ("UCHBOT_TELEGRAM__TOKEN".into(), "123".into()),
                ("UCHBOT_HTTP__BIND".into(), "0.0.0.0:8080".into()),
            ],
        )
        .unwrap();
        assert_eq!(s.payments.shop_id, "506751");
        assert_eq!(s.require_token().unwrap().expose_secret(), "123");
        let e = Settings::load_from(
            None,
            vec![("UCHBOT_TELEGRAM__STAFF_CHAT_ID".into(), "abc".into())],
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("config: telegram.staff_chat_id:"),
            "{e}"
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Settings::load_from(
            None,
            vec![
                ("UCHBOT_TELEGRAM__TOKEN".into(), "1:supersecret".into()),
                ("UCHBOT_SMTP__PASSWORD".into(), "hunter2".into()),
            ],
        )
        .unwrap();
        let dump = format!("{s:?}");
        assert!(!dump.contains("supersecret") && !dump.contains("hunter2"));
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        Settings::load_from(Some(&path), Vec::new()).unwrap();
    }
}
