//! IMAP in: reads new letters from the school's mailbox and files processed ones away.
//!
//! async-imap over a stream we bring ourselves: plain TCP (loopback only),
//! STARTTLS, or implicit TLS with tokio-rustls on ring. Every network step has a
//! timeout; after a timeout or a broken connection the session refuses further use and
//! the caller reconnects. Processed letters are moved (never deleted or expunged) to
//! `processed_mailbox`; where the server lacks MOVE they are copied there and flagged
//! [`PROCESSED_KEYWORD`] + `\Seen` in place. Nothing of a letter's content nor the
//! password is ever logged.

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::{Flag, UnsolicitedResponse};
use async_imap::{Client, Session};
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::is_loopback_host;

/// The keyword set on a processed letter when the server cannot MOVE it.
pub const PROCESSED_KEYWORD: &str = "$UchbotProcessed";

/// RFC 2177: clients should re-issue IDLE at least every 29 minutes.
pub const MAX_IDLE: Duration = Duration::from_secs(29 * 60);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapTls {
    /// Plain TCP: allowed only to a loopback host (the password would travel in clear).
    None,
    /// Plain TCP upgraded with STARTTLS before logging in (usually port 143).
    StartTls,
    /// TLS from the first byte (usually port 993).
    Tls,
}

/// How to reach and use the school's mailbox.
#[derive(Debug, Clone)]
pub struct ImapParams {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    pub password: SecretString,
    /// Where new letters arrive, usually `INBOX`.
    pub mailbox: String,
    /// Where processed letters are moved; created when missing.
    pub processed_mailbox: String,
    /// Limit for each network step (connect, TLS handshake, every command).
    pub timeout: Duration,
    /// PEM file with additional trusted CA certificates (a server with a private CA);
    /// the Mozilla root set is always trusted.
    pub ca_file: Option<PathBuf>,
    /// At most this many letters per [`ImapSession::fetch_after`].
    pub max_batch: usize,
    /// Letters larger than this are reported by [`ImapSession::fetch_after`] without
    /// their content.
    pub max_message_bytes: u32,
}

/// The selected mailbox, as SELECT reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    /// When this changes, UIDs seen before mean nothing any more (RFC 3501 2.3.1.1).
    pub uid_validity: u32,
    pub uid_next: u32,
    pub exists: u32,
}

/// The server extensions this adapter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImapCapabilities {
    /// RFC 2177: push notification of new mail.
    pub idle: bool,
    /// RFC 6851: atomic move to another mailbox.
    pub move_: bool,
    /// RFC 4315.
    pub uidplus: bool,
}

/// One letter fetched from the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMessage {
    pub uid: u32,
    /// Size in bytes as the server reports it (RFC822.SIZE).
    pub size: u32,
    /// The whole RFC 5322 message; `None` when `size` exceeds `max_message_bytes`
    /// (the caller can answer the sender and mark it processed without reading it).
    pub raw: Option<Vec<u8>>,
    /// The header of a letter too large to fetch (`raw` is `None`): who sent it, so that a
    /// learner can be told it was not accepted.
    pub header: Option<Vec<u8>>,
}

/// What ended an [`ImapSession::idle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleOutcome {
    /// The server announced new mail: fetch it.
    NewMail,
    /// Nothing arrived within the requested time.
    Timeout,
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The parameters cannot work; fix the configuration.
    #[error("IMAP configuration: {0}")]
    Config(String),
    #[error("IMAP connection to {host}:{port} failed: {reason}")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("IMAP TLS: {0}")]
    Tls(String),
    /// The server refused the username or password.
    #[error("IMAP login refused for {username}: {reason}")]
    Login { username: String, reason: String },
    #[error("IMAP {operation}: no answer within {after:?}")]
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    /// The server answered NO or BAD.
    #[error("IMAP {operation} refused by the server: {reason}")]
    Refused {
        operation: &'static str,
        reason: String,
    },
    /// The connection broke or the server's answer could not be understood.
    #[error("IMAP {operation}: {reason}")]
    Protocol {
        operation: &'static str,
        reason: String,
    },
    /// An earlier error left the session unusable: connect again.
    #[error("IMAP session is no longer usable after an earlier error: reconnect")]
    SessionLost,
}

impl ImapError {
    /// Errors that reconnecting later may cure (as opposed to a wrong configuration or
    /// password, which need an operator).
    pub fn is_transient(&self) -> bool {
        !matches!(self, ImapError::Config(_) | ImapError::Login { .. })
    }
}

/// The byte stream under the IMAP protocol: TCP, or TLS over TCP.
trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapStream for T {}
type BoxedStream = Box<dyn ImapStream>;

/// A logged-in IMAP session on the school's mailbox.
pub struct ImapSession {
    session: Option<Session<BoxedStream>>,
    params: ImapParams,
    capabilities: ImapCapabilities,
    selected: Option<MailboxState>,
    processed_mailbox_ready: bool,
}

impl Debug for ImapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSession")
            .field("host", &self.params.host)
            .field("username", &self.params.username)
            .field("capabilities", &self.capabilities)
            .field("selected", &self.selected)
            .field("usable", &self.session.is_some())
            .finish()
    }
}

/// Runs one network step under the session timeout, mapping async-imap's errors.
async fn step<T, F>(timeout: Duration, operation: &'static str, future: F) -> Result<T, ImapError>
where
    F: std::future::Future<Output = async_imap::error::Result<T>>,
{
    match tokio::time::timeout(timeout, future).await {
        Err(_) => Err(ImapError::Timeout {
            operation,
            after: timeout,
        }),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(map_error(operation, error)),
    }
}

fn map_error(operation: &'static str, error: async_imap::error::Error) -> ImapError {
    use async_imap::error::Error as E;
    match error {
        E::No(reason) | E::Bad(reason) => ImapError::Refused { operation, reason },
        E::Io(e) => ImapError::Protocol {
            operation,
            reason: format!("connection error: {e}"),
        },
        E::ConnectionLost => ImapError::Protocol {
            operation,
            reason: "connection closed by the server".into(),
        },
        // Parse errors may quote the server's bytes (letter content): keep them out.
        E::Parse(_) => ImapError::Protocol {
            operation,
            reason: "unparsable server response".into(),
        },
        E::Validate(e) => ImapError::Config(format!("{operation}: {e}")),
        other => ImapError::Protocol {
            operation,
            reason: other.to_string(),
        },
    }
}

impl ImapSession {
    /// Connects, protects the connection as configured, logs in and reads the
    /// server's capabilities.
    pub async fn connect(params: &ImapParams) -> Result<ImapSession, ImapError> {
        validate(params)?;
        let t = params.timeout;
        let connect_error = |reason: String| ImapError::Connect {
            host: params.host.clone(),
            port: params.port,
            reason,
        };
        let tcp =
            match tokio::time::timeout(t, TcpStream::connect((params.host.as_str(), params.port)))
                .await
            {
                Err(_) => return Err(connect_error(format!("no connection within {t:?}"))),
                Ok(Err(e)) => return Err(connect_error(e.to_string())),
                Ok(Ok(tcp)) => tcp,
            };
        let _ = tcp.set_nodelay(true);

        let client: Client<BoxedStream> = match params.tls {
            ImapTls::None => {
                let mut client = Client::new(Box::new(tcp) as BoxedStream);
                read_greeting(&mut client, t).await?;
                client
            }
            ImapTls::Tls => {
                let tls = tls_handshake(params, tcp).await?;
                let mut client = Client::new(Box::new(tls) as BoxedStream);
                read_greeting(&mut client, t).await?;
                client
            }
            ImapTls::StartTls => {
                let mut plain = Client::new(tcp);
                read_greeting(&mut plain, t).await?;
                step(
                    t,
                    "STARTTLS",
                    plain.run_command_and_check_ok("STARTTLS", None),
                )
                .await?;
                // The server sends nothing more until the handshake, so no buffered
                // bytes are lost by taking the socket back.
                let tcp = plain.into_inner();
                let tls = tls_handshake(params, tcp).await?;
                Client::new(Box::new(tls) as BoxedStream)
            }
        };

        let login = tokio::time::timeout(
            t,
            client.login(&params.username, params.password.expose_secret()),
        )
        .await;
        let mut session = match login {
            Err(_) => {
                return Err(ImapError::Timeout {
                    operation: "LOGIN",
                    after: t,
                })
            }
            Ok(Err((async_imap::error::Error::No(reason), _))) => {
                return Err(ImapError::Login {
                    username: params.username.clone(),
                    reason,
                })
            }
            Ok(Err((error, _))) => return Err(map_error("LOGIN", error)),
            Ok(Ok(session)) => session,
        };
        let capabilities = step(t, "CAPABILITY", session.capabilities()).await?;
        let capabilities = ImapCapabilities {
            idle: capabilities.has_str("IDLE"),
            move_: capabilities.has_str("MOVE"),
            uidplus: capabilities.has_str("UIDPLUS"),
        };
        tracing::debug!(host = %params.host, ?capabilities, "IMAP session open");
        Ok(ImapSession {
            session: Some(session),
            params: params.clone(),
            capabilities,
            selected: None,
            processed_mailbox_ready: false,
        })
    }

    pub fn capabilities(&self) -> ImapCapabilities {
        self.capabilities
    }

    /// The state of `mailbox` when it was last selected.
    pub fn selected(&self) -> Option<MailboxState> {
        self.selected
    }

    /// Runs `f` on the live session; a failure other than a plain NO/BAD answer leaves
    /// the connection in an unknown state, so the session is dropped.
    async fn with_session<T>(
        &mut self,
        f: impl for<'s> FnOnce(
            &'s mut Session<BoxedStream>,
            Duration,
        ) -> BoxFuture<'s, Result<T, ImapError>>,
    ) -> Result<T, ImapError> {
        let timeout = self.params.timeout;
        let Some(session) = self.session.as_mut() else {
            return Err(ImapError::SessionLost);
        };
        let result = f(session, timeout).await;
        if let Err(error) = &result {
            if !matches!(error, ImapError::Refused { .. } | ImapError::Config(_)) {
                self.session = None;
            }
        }
        result
    }

    /// SELECTs the configured mailbox and reports its UIDVALIDITY, UIDNEXT and size.
    pub async fn select(&mut self) -> Result<MailboxState, ImapError> {
        let name = self.params.mailbox.clone();
        let mailbox = self
            .with_session(|s, t| async move { step(t, "SELECT", s.select(&name)).await }.boxed())
            .await?;
        let state = MailboxState {
            uid_validity: mailbox.uid_validity.ok_or_else(|| ImapError::Protocol {
                operation: "SELECT",
                reason: "the server reported no UIDVALIDITY".into(),
            })?,
            uid_next: mailbox.uid_next.ok_or_else(|| ImapError::Protocol {
                operation: "SELECT",
                reason: "the server reported no UIDNEXT".into(),
            })?,
            exists: mailbox.exists,
        };
        self.drain_unsolicited();
        self.selected = Some(state);
        Ok(state)
    }

    /// Letters with a UID above `after_uid`, in UID order, at most `max_batch` of them.
    /// Letters already flagged [`PROCESSED_KEYWORD`] are skipped. Bodies are fetched
    /// with BODY.PEEK so unprocessed letters stay unread for a human looking at the
    /// mailbox.
    pub async fn fetch_after(&mut self, after_uid: u32) -> Result<Vec<FetchedMessage>, ImapError> {
        if self.selected.is_none() {
            self.select().await?;
        }
        let Some(first) = after_uid.checked_add(1) else {
            return Ok(Vec::new());
        };
        let max_batch = self.params.max_batch;
        let max_bytes = self.params.max_message_bytes;

        let summaries = self
            .with_session(|s, t| {
                async move {
                    let fetches = step(
                        t,
                        "UID FETCH (sizes)",
                        s.uid_fetch(format!("{first}:*"), "(UID RFC822.SIZE FLAGS)"),
                    )
                    .await?;
                    let fetches: Vec<_> =
                        step(t, "UID FETCH (sizes)", fetches.try_collect::<Vec<_>>()).await?;
                    Ok(fetches
                        .iter()
                        .filter_map(|f| {
                            let processed = f.flags().any(
                                |flag| matches!(flag, Flag::Custom(k) if k == PROCESSED_KEYWORD),
                            );
                            Some((f.uid?, f.size.unwrap_or(0), processed))
                        })
                        .collect::<Vec<_>>())
                }
                .boxed()
            })
            .await?;
        let mut wanted = select_batch(summaries, after_uid, max_batch);
        let small: Vec<u32> = wanted
            .iter()
            .filter(|(_, size)| *size <= max_bytes)
            .map(|(uid, _)| *uid)
            .collect();
        let large: Vec<u32> = wanted
            .iter()
            .filter(|(_, size)| *size > max_bytes)
            .map(|(uid, _)| *uid)
            .collect();
        let mut headers: HashMap<u32, Vec<u8>> = HashMap::new();
        if !large.is_empty() {
            let set = uid_set(&large);
            headers = self
                .with_session(|s, t| {
                    async move {
                        let fetches = step(
                            t,
                            "UID FETCH (headers)",
                            s.uid_fetch(set, "(UID BODY.PEEK[HEADER])"),
                        )
                        .await?;
                        let fetches: Vec<_> =
                            step(t, "UID FETCH (headers)", fetches.try_collect::<Vec<_>>()).await?;
                        Ok(fetches
                            .iter()
                            .filter_map(|f| Some((f.uid?, f.header()?.to_vec())))
                            .collect())
                    }
                    .boxed()
                })
                .await?;
        }

        let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
        if !small.is_empty() {
            let set = uid_set(&small);
            bodies = self
                .with_session(|s, t| {
                    async move {
                        let fetches = step(
                            t,
                            "UID FETCH (bodies)",
                            s.uid_fetch(set, "(UID BODY.PEEK[])"),
                        )
                        .await?;
                        let fetches: Vec<_> =
                            step(t, "UID FETCH (bodies)", fetches.try_collect::<Vec<_>>()).await?;
                        Ok(fetches
                            .iter()
                            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                            .collect())
                    }
                    .boxed()
                })
                .await?;
        }
        self.drain_unsolicited();

        let mut messages = Vec::with_capacity(wanted.len());
        for (uid, size) in wanted.drain(..) {
            if size > max_bytes {
                messages.push(FetchedMessage {
                    uid,
                    size,
                    raw: None,
                    header: headers.remove(&uid),
                });
            } else if let Some(raw) = bodies.remove(&uid) {
                messages.push(FetchedMessage {
                    uid,
                    size,
                    raw: Some(raw),
                    header: None,
                });
            }
            // else: expunged by someone else between the two fetches; it is gone.
        }
        Ok(messages)
    }

    /// Files a processed letter away: `\Seen`, then UID MOVE to `processed_mailbox`
    /// (created when missing). Without MOVE: UID COPY there, then flag
    /// [`PROCESSED_KEYWORD`] + `\Seen` in place. Never deletes or expunges. Calling it
    /// again for the same UID does nothing more.
    pub async fn mark_processed(&mut self, uid: u32) -> Result<(), ImapError> {
        if self.selected.is_none() {
            self.select().await?;
        }
        self.ensure_processed_mailbox().await?;
        let target = self.params.processed_mailbox.clone();
        let flags = format!("+FLAGS.SILENT (\\Seen {PROCESSED_KEYWORD})");
        let filed = if self.capabilities.move_ {
            self.with_session(|s, t| {
                async move {
                    // Seen, so the filed letter does not look unread to a human; no
                    // keyword: it only marks letters that stay in place.
                    let seen = "+FLAGS.SILENT (\\Seen)";
                    let updates = step(t, "UID STORE", s.uid_store(uid.to_string(), seen)).await?;
                    step(t, "UID STORE", updates.try_collect::<Vec<_>>()).await?;
                    step(t, "UID MOVE", s.uid_mv(uid.to_string(), &target)).await
                }
                .boxed()
            })
            .await
        } else {
            self.with_session(|s, t| {
                async move {
                    // Idempotence: the keyword is set only after a successful copy.
                    let fetches = step(
                        t,
                        "UID FETCH (flags)",
                        s.uid_fetch(uid.to_string(), "(UID FLAGS)"),
                    )
                    .await?;
                    let fetches: Vec<_> =
                        step(t, "UID FETCH (flags)", fetches.try_collect::<Vec<_>>()).await?;
                    let Some(current) = fetches.iter().find(|f| f.uid == Some(uid)) else {
                        return Ok(()); // no such letter (any more)
                    };
                    let done = current
                        .flags()
                        .any(|flag| matches!(flag, Flag::Custom(k) if k == PROCESSED_KEYWORD));
                    if done {
                        return Ok(());
                    }
                    step(t, "UID COPY", s.uid_copy(uid.to_string(), &target)).await?;
                    let updates =
                        step(t, "UID STORE", s.uid_store(uid.to_string(), &flags)).await?;
                    step(t, "UID STORE", updates.try_collect::<Vec<_>>()).await?;
                    Ok(())
                }
                .boxed()
            })
            .await
        };
        if let Err(error) = filed {
            // Perhaps someone deleted the processed mailbox: look again next time.
            self.processed_mailbox_ready = false;
            return Err(error);
        }
        self.drain_unsolicited();
        tracing::debug!(
            uid,
            moved = self.capabilities.move_,
            "letter marked processed"
        );
        Ok(())
    }

    async fn ensure_processed_mailbox(&mut self) -> Result<(), ImapError> {
        if self.processed_mailbox_ready {
            return Ok(());
        }
        let name = self.params.processed_mailbox.clone();
        self.with_session(|s, t| {
            async move {
                let names = step(t, "LIST", s.list(Some(""), Some(&name))).await?;
                let names: Vec<_> = step(t, "LIST", names.try_collect::<Vec<_>>()).await?;
                if names.iter().any(|n| n.name() == name) {
                    return Ok(());
                }
                match step(t, "CREATE", s.create(&name)).await {
                    Ok(()) => {}
                    // Created meanwhile by another instance: fine.
                    Err(ImapError::Refused { reason, .. })
                        if reason.to_ascii_uppercase().contains("ALREADYEXISTS") => {}
                    Err(error) => return Err(error),
                }
                // Subscribed so that mail clients show it; not essential.
                let _ = step(t, "SUBSCRIBE", s.subscribe(&name)).await;
                Ok(())
            }
            .boxed()
        })
        .await?;
        self.processed_mailbox_ready = true;
        Ok(())
    }

    /// Waits until the server announces new mail or `max` passes (at most 29 minutes,
    /// RFC 2177). Returns at once when new mail was announced during earlier commands.
    /// Without the IDLE extension it sleeps `max` and then asks with NOOP.
    pub async fn idle(&mut self, max: Duration) -> Result<IdleOutcome, ImapError> {
        let max = max.min(MAX_IDLE);
        if self.selected.is_none() {
            self.select().await?;
        }
        if self.drain_unsolicited() {
            return Ok(IdleOutcome::NewMail);
        }
        if !self.capabilities.idle {
            tokio::time::sleep(max).await;
            self.with_session(|s, t| async move { step(t, "NOOP", s.noop()).await }.boxed())
                .await?;
            return Ok(if self.drain_unsolicited() {
                IdleOutcome::NewMail
            } else {
                IdleOutcome::Timeout
            });
        }

        let timeout = self.params.timeout;
        let session = self.session.take().ok_or(ImapError::SessionLost)?;
        let mut handle = session.idle();
        step(timeout, "IDLE", handle.init()).await?;
        let deadline = Instant::now() + max;
        let mut outcome = IdleOutcome::Timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let (wait, _stop) = handle.wait_with_timeout(left);
            // The server's keep-alives restart async-imap's own timer, so the overall
            // deadline is enforced here.
            match tokio::time::timeout(left, wait).await {
                Err(_) => break,
                Ok(Err(error)) => return Err(map_error("IDLE", error)),
                Ok(Ok(async_imap::extensions::idle::IdleResponse::NewData(data))) => {
                    if announces_new_mail(data.parsed()) {
                        outcome = IdleOutcome::NewMail;
                        break;
                    }
                    // Flag changes, expunges by other clients: keep waiting.
                }
                Ok(Ok(_timeout_or_interrupt)) => break,
            }
        }
        let session = step(timeout, "DONE", handle.done()).await?;
        self.session = Some(session);
        // EXISTS that arrived while IDLE was being ended or started.
        if self.drain_unsolicited() {
            outcome = IdleOutcome::NewMail;
        }
        Ok(outcome)
    }

    /// Ends the session politely.
    pub async fn logout(mut self) -> Result<(), ImapError> {
        self.with_session(|s, t| async move { step(t, "LOGOUT", s.logout()).await }.boxed())
            .await
    }

    /// Empties async-imap's queue of unsolicited responses (it holds at most 100);
    /// true when one of them announced new mail.
    fn drain_unsolicited(&mut self) -> bool {
        let Some(session) = self.session.as_ref() else {
            return false;
        };
        let mut new_mail = false;
        while let Ok(response) = session.unsolicited_responses.try_recv() {
            match response {
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_) => new_mail = true,
                UnsolicitedResponse::Other(data) if announces_new_mail(data.parsed()) => {
                    new_mail = true
                }
                _ => {}
            }
        }
        new_mail
    }
}

fn announces_new_mail(response: &Response<'_>) -> bool {
    matches!(
        response,
        Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
    )
}

/// The UIDs to fetch: above `after_uid` (a `N:*` range also returns the last message
/// when N is beyond it), not yet processed, in UID order, at most `max_batch`.
fn select_batch(
    mut summaries: Vec<(u32, u32, bool)>,
    after_uid: u32,
    max_batch: usize,
) -> Vec<(u32, u32)> {
    summaries.retain(|(uid, _, processed)| *uid > after_uid && !processed);
    summaries.sort_unstable_by_key(|(uid, _, _)| *uid);
    summaries.dedup_by_key(|(uid, _, _)| *uid);
    summaries
        .into_iter()
        .take(max_batch)
        .map(|(uid, size, _)| (uid, size))
        .collect()
}

/// `1,2,3,7` → `1:3,7`.
fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end.wrapping_add(1))) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
    }
    parts.join(",")
}

fn validate(params: &ImapParams) -> Result<(), ImapError> {
    let fail = |problem: String| Err(ImapError::Config(problem));
    if params.host.trim().is_empty() {
        return fail("host is empty".into());
    }
    if params.port == 0 {
        return fail("port 0 is not a port".into());
    }
    if params.timeout.is_zero() {
        return fail("timeout must be longer than zero".into());
    }
    if params.max_batch == 0 {
        return fail("max_batch must be at least 1".into());
    }
    if params.tls == ImapTls::None && !is_loopback_host(&params.host) {
        return fail(format!(
            "tls = none would send the password to {} in clear: use starttls or tls",
            params.host
        ));
    }
    for (what, name) in [
        ("mailbox", &params.mailbox),
        ("processed_mailbox", &params.processed_mailbox),
    ] {
        // Non-ASCII names need modified UTF-7 (RFC 3501 5.1.3): not supported here.
        let printable = name
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if name.is_empty() || !printable || matches!(name.as_bytes()[0], b'*' | b'%') {
            return fail(format!(
                "{what} {name:?} must be non-empty printable ASCII without quotes or wildcards"
            ));
        }
    }
    if params
        .mailbox
        .eq_ignore_ascii_case(&params.processed_mailbox)
    {
        return fail("processed_mailbox must differ from mailbox".into());
    }
    Ok(())
}

async fn read_greeting<T>(client: &mut Client<T>, timeout: Duration) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + Debug,
{
    let greeting = match tokio::time::timeout(timeout, client.read_response()).await {
        Err(_) => {
            return Err(ImapError::Timeout {
                operation: "greeting",
                after: timeout,
            })
        }
        Ok(Err(e)) => {
            return Err(ImapError::Protocol {
                operation: "greeting",
                reason: e.to_string(),
            })
        }
        Ok(Ok(None)) => {
            return Err(ImapError::Protocol {
                operation: "greeting",
                reason: "connection closed before the greeting".into(),
            })
        }
        Ok(Ok(Some(greeting))) => greeting,
    };
    match greeting.parsed() {
        Response::Data {
            status: async_imap::imap_proto::Status::Ok,
            ..
        } => Ok(()),
        Response::Data { status, outcome } => Err(ImapError::Protocol {
            operation: "greeting",
            reason: format!(
                "server greeted with {status:?}: {}",
                outcome.information.as_deref().unwrap_or("")
            ),
        }),
        _ => Err(ImapError::Protocol {
            operation: "greeting",
            reason: "unexpected greeting".into(),
        }),
    }
}

async fn tls_handshake(
    params: &ImapParams,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let config = tls_config(params.ca_file.as_deref())?;
    let server_name = rustls::pki_types::ServerName::try_from(params.host.clone())
        .map_err(|e| ImapError::Config(format!("host {:?} is not a TLS name: {e}", params.host)))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(params.timeout, connector.connect(server_name, tcp)).await {
        Err(_) => Err(ImapError::Timeout {
            operation: "TLS handshake",
            after: params.timeout,
        }),
        Ok(Err(e)) => Err(ImapError::Tls(format!(
            "handshake with {} failed: {e}",
            params.host
        ))),
        Ok(Ok(stream)) => Ok(stream),
    }
}

/// Mozilla's roots (webpki-roots) plus the certificates of `ca_file`.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, ImapError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let fail =
            |problem: String| ImapError::Config(format!("ca_file {}: {problem}", path.display()));
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|e| fail(format!("bad PEM: {e}")))?;
            roots
                .add(certificate)
                .map_err(|e| fail(format!("unusable certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(fail("no certificate in the file".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ImapParams {
        ImapParams {
            host: "imap.example.ru".into(),
            port: 993,
            tls: ImapTls::Tls,
            username: "teach@example.ru".into(),
            password: SecretString::from("secret"),
            mailbox: "INBOX".into(),
            processed_mailbox: "Processed".into(),
            timeout: Duration::from_secs(10),
            ca_file: None,
            max_batch: 20,
            max_message_bytes: 30 << 20,
        }
    }

    /// The poller runs in a spawned task: every future of the session must be Send.
    #[allow(dead_code)]
    fn session_futures_are_send(session: &mut ImapSession, params: &ImapParams) {
        fn is_send<T: Send>(_: T) {}
        is_send(ImapSession::connect(params));
        is_send(session.select());
        is_send(session.fetch_after(0));
        is_send(session.mark_processed(1));
        is_send(session.idle(Duration::from_secs(1)));
    }

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn batches_skip_old_processed_and_excess_uids() {
        // "6:*" on a mailbox whose highest UID is 5 returns UID 5: it must be dropped.
        let summaries = vec![(5, 10, false)];
        assert!(select_batch(summaries, 5, 10).is_empty());
        let summaries = vec![(9, 1, false), (7, 2, true), (8, 3, false), (10, 4, false)];
        assert_eq!(select_batch(summaries, 6, 2), vec![(8, 3), (9, 1)]);
    }

    #[test]
    fn configuration_is_checked_before_connecting() {
        let mut p = params();
        p.tls = ImapTls::None;
        let error = validate(&p).unwrap_err().to_string();
        assert!(error.contains("in clear"), "{error}");
        p.host = "127.0.0.1".into();
        assert!(validate(&p).is_ok());

        let mut p = params();
        p.processed_mailbox = "Обработано".into();
        assert!(validate(&p)
            .unwrap_err()
            .to_string()
            .contains("processed_mailbox"));
        let mut p = params();
        p.processed_mailbox = "inbox".into();
        assert!(validate(&p).is_err());
        let mut p = params();
        p.max_batch = 0;
        assert!(validate(&p).is_err());
        let mut p = params();
        p.timeout = Duration::ZERO;
        assert!(validate(&p).is_err());
    }

    #[test]
    fn password_is_not_in_debug_output() {
        let text = format!("{:?}", params());
        assert!(!text.contains("secret\""), "{text}");
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let error = tls_config(Some(std::path::Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(error, ImapError::Config(_)), "{error}");
    }
}
