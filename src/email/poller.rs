//! The IMAP poller: keeps a session on the school's mailbox, hands every new letter to a
//! [`MailSink`] and files it away once the sink has committed what it did with it.
//!
//! Exactly once, across restarts: the sink records each letter under (mailbox,
//! UIDVALIDITY, UID) in the transaction of its outcome, and the poller resumes after the
//! highest UID recorded. A crash between fetching and recording refetches the letter; a
//! crash between recording and filing leaves it recorded but not filed, and the next
//! session files it without processing it again. A new UIDVALIDITY starts from UID 1;
//! the sink's Message-ID check keeps letters seen under the old one from being
//! processed twice. Nothing is deleted: letters are moved (or flagged) by
//! [`ImapSession::mark_processed`].
//!
//! Waiting: IDLE where the server has it (re-issued at most every 29 minutes), otherwise
//! a poll every `poll_every`. Any failure ends the session; the next one starts after a
//! backoff that doubles up to `backoff_max`.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::imap::{FetchedMessage, IdleOutcome, ImapError, ImapParams, ImapSession, MAX_IDLE};

/// What the poller feeds letters into (the app's intake; tests' recorders).
#[async_trait]
pub trait MailSink: Send + Sync {
    /// The highest UID recorded under this UIDVALIDITY, and the UIDs recorded but not
    /// yet filed away on the server.
    async fn resume_point(
        &self,
        mailbox: &str,
        uid_validity: u32,
    ) -> anyhow::Result<(u32, Vec<u32>)>;
    /// Handles one letter and records it; `Ok` once that is committed. Called again for
    /// the same UID after a crash: then it must do nothing.
    async fn ingest(
        &self,
        mailbox: &str,
        uid_validity: u32,
        message: &FetchedMessage,
    ) -> anyhow::Result<()>;
    /// The letter has been filed away on the server.
    async fn filed(&self, mailbox: &str, uid_validity: u32, uid: u32) -> anyhow::Result<()>;
    /// The mailbox has been unreachable for a while, or refuses our login.
    async fn trouble(&self, detail: &str);
    /// The mailbox can be read again after [`MailSink::trouble`] was reported.
    async fn recovered(&self) {}
}

#[derive(Debug, Clone)]
pub struct PollerConfig {
    pub imap: ImapParams,
    /// Without IDLE: how often to look for new letters.
    pub poll_every: Duration,
    /// With IDLE: how long one IDLE lasts before it is re-issued (at most 29 minutes).
    pub idle_for: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Staff hear of the trouble after this many failed sessions in a row.
    pub alert_after_failures: u32,
}

impl PollerConfig {
    pub fn new(imap: ImapParams, poll_every: Duration) -> Self {
        Self {
            imap,
            poll_every,
            idle_for: MAX_IDLE,
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            alert_after_failures: 5,
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.backoff_min
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// Why a session ended without an error.
enum SessionEnd {
    Shutdown,
    /// UIDVALIDITY changed under us: start over with the new one.
    Resync,
}

/// Runs until `shutdown`.
pub async fn run(config: PollerConfig, sink: Arc<dyn MailSink>, shutdown: CancellationToken) {
    let mut failures = 0u32;
    let mut troubled = false;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let outcome = session(
            &config,
            sink.as_ref(),
            &shutdown,
            &mut failures,
            &mut troubled,
        )
        .await;
        match outcome {
            Ok(SessionEnd::Shutdown) => return,
            Ok(SessionEnd::Resync) => {
                tracing::info!(mailbox = %config.imap.mailbox, "UIDVALIDITY changed; resynchronising");
            }
            Err(error) => {
                failures += 1;
                let permanent = error
                    .downcast_ref::<ImapError>()
                    .is_some_and(|e| !e.is_transient());
                let delay = if permanent {
                    config.backoff_max
                } else {
                    config.backoff(failures)
                };
                tracing::warn!(%error, failures, ?delay, "mail poller session failed");
                if permanent || failures == config.alert_after_failures {
                    sink.trouble(&error.to_string()).await;
                    troubled = true;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

async fn session(
    config: &PollerConfig,
    sink: &dyn MailSink,
    shutdown: &CancellationToken,
    failures: &mut u32,
    troubled: &mut bool,
) -> anyhow::Result<SessionEnd> {
    let mailbox = config.imap.mailbox.as_str();
    let mut session = tokio::select! {
        _ = shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
        s = ImapSession::connect(&config.imap) => s?,
    };
    let state = session.select().await?;
    *failures = 0;
    if std::mem::take(troubled) {
        sink.recovered().await;
    }
    let uid_validity = state.uid_validity;
    let (mut last, unfiled) = sink.resume_point(mailbox, uid_validity).await?;
    for uid in unfiled {
        session.mark_processed(uid).await?;
        sink.filed(mailbox, uid_validity, uid).await?;
    }
    let wait = if session.capabilities().idle {
        config.idle_for.min(MAX_IDLE)
    } else {
        config.poll_every
    };
    loop {
        let batch = session.fetch_after(last).await?;
        let full = batch.len() >= config.imap.max_batch;
        for message in &batch {
            if shutdown.is_cancelled() {
                let _ = session.logout().await;
                return Ok(SessionEnd::Shutdown);
            }
            sink.ingest(mailbox, uid_validity, message).await?;
            session.mark_processed(message.uid).await?;
            sink.filed(mailbox, uid_validity, message.uid).await?;
            last = message.uid;
        }
        if full {
            continue;
        }
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
            outcome = session.idle(wait) => outcome?,
        };
        if outcome == IdleOutcome::Timeout {
            // A quiet mailbox: look again in case its UIDVALIDITY changed meanwhile.
            if session.select().await?.uid_validity != uid_validity {
                let _ = session.logout().await;
                return Ok(SessionEnd::Resync);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let params = ImapParams {
            host: "127.0.0.1".into(),
            port: 143,
            tls: super::super::imap::ImapTls::None,
            username: "u".into(),
            password: secrecy::SecretString::from("p"),
            mailbox: "INBOX".into(),
            processed_mailbox: "Done".into(),
            timeout: Duration::from_secs(5),
            ca_file: None,
            max_batch: 10,
            max_message_bytes: 1 << 20,
        };
        let config = PollerConfig::new(params, Duration::from_secs(60));
        assert_eq!(config.backoff(1), Duration::from_secs(2));
        assert_eq!(config.backoff(2), Duration::from_secs(4));
        assert_eq!(config.backoff(5), Duration::from_secs(32));
        assert_eq!(config.backoff(40), Duration::from_secs(300));
    }
}
