//! SMTP out: renders a [`Letter`] into a MIME message and hands it to the provider's
//! SMTP server with lettre (tokio, rustls on ring).
//!
//! Failures are split into [`SendError::Transient`] (connection, timeout, TLS, 4xx: the
//! outbox retries later) and [`SendError::Permanent`] (5xx, malformed recipient: retrying
//! cannot help). Nothing of a letter's content or of the password is ever logged.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{
    ContentDisposition, ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::{is_loopback_host, valid_message_id};

/// How to reach the outgoing mail server.
#[derive(Debug, Clone)]
pub struct SmtpParams {
    /// `smtp://host:port` (plain, for a relay on loopback), `smtp://host:port?tls=required`
    /// (STARTTLS, mandatory), `smtp://host:port?tls=opportunistic` (STARTTLS when
    /// offered) or `smtps://host:port` (implicit TLS). Default ports: 25, 587, 587, 465.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `Школа <teach@school.example>`.
    pub from: String,
    /// Limit for connecting. lettre's async transport enforces it on the TCP connect
    /// only, so each submission as a whole is bounded by three times this plus the
    /// time to upload the letter at 64 KiB/s (see [`Mailer::send`]).
    pub timeout: Duration,
    /// PEM file with additional trusted CA certificates (a server with a private CA);
    /// the Mozilla root set is always trusted.
    pub ca_file: Option<PathBuf>,
}

/// A configuration problem, found before any connection is made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("SMTP url {url:?}: {problem}")]
    Url { url: String, problem: String },
    #[error("SMTP sender {from:?}: {problem}")]
    From { from: String, problem: String },
    #[error("SMTP credentials: {0}")]
    Credentials(String),
    #[error("SMTP timeout must be longer than zero")]
    Timeout,
    #[error("SMTP ca_file {path}: {problem}")]
    CaFile { path: String, problem: String },
}

/// An attachment of an outgoing letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    /// Shown to the learner; any Unicode (encoded per RFC 2231).
    pub file_name: String,
    /// e.g. `application/pdf`.
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// One outgoing letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub reply_to: Option<String>,
    /// Chosen by us (see [`new_message_id`]) so that replies can be matched; written
    /// without angle brackets, as [`crate::email::parse::IncomingMail`] reports ids.
    pub message_id: String,
    /// The Message-ID (without angle brackets) of the letter this one answers.
    pub in_reply_to: Option<String>,
    pub attachments: Vec<OutgoingAttachment>,
}

/// Why a letter was not sent.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying later: the server could not be reached, timed out, failed TLS,
    /// or answered 4xx.
    #[error("temporary SMTP failure{}: {reason}", code_suffix(*.smtp_code))]
    Transient {
        reason: String,
        smtp_code: Option<u16>,
    },
    /// Retrying cannot help: the server refused the letter with 5xx, or the letter
    /// itself is malformed (bad recipient address).
    #[error("permanent SMTP failure{}: {reason}", code_suffix(*.smtp_code))]
    Permanent {
        reason: String,
        smtp_code: Option<u16>,
    },
}

fn code_suffix(code: Option<u16>) -> String {
    code.map(|c| format!(" ({c})")).unwrap_or_default()
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }

    fn permanent(reason: impl Into<String>) -> Self {
        SendError::Permanent {
            reason: reason.into(),
            smtp_code: None,
        }
    }

    fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient {
            reason: reason.into(),
            smtp_code: None,
        }
    }
}

/// A new globally unique Message-ID (without angle brackets) in the sender's domain.
pub fn new_message_id(domain: &str) -> String {
    format!(
        "{}.{}@{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        uuid::Uuid::new_v4().simple(),
        domain
    )
}

/// Sends letters through one SMTP server; cheap to clone, keeps a small connection pool.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

/// The slowest upload speed we wait for, in bytes per second.
const SLOWEST_UPLOAD: f64 = 64.0 * 1024.0;

impl Mailer {
    /// Checks the parameters and prepares the connection pool (no connection is made
    /// yet). Must be called within a Tokio runtime: the pool runs a task of its own.
    pub fn new(params: &SmtpParams) -> Result<Mailer, ConfigError> {
        if params.timeout.is_zero() {
            return Err(ConfigError::Timeout);
        }
        let from: Mailbox = params.from.parse().map_err(|e| ConfigError::From {
            from: params.from.clone(),
            problem: format!("not a mailbox like `Школа <teach@example.ru>`: {e}"),
        })?;
        let endpoint = SmtpEndpoint::parse(&params.url)?;
        let extra_roots = match &params.ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };

        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&endpoint.host)
            .port(endpoint.port)
            .timeout(Some(params.timeout))
            .pool_config(
                PoolConfig::new()
                    .min_idle(0)
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if endpoint.security != Security::Plain {
            let mut tls = TlsParameters::builder(endpoint.host.clone());
            for root in extra_roots {
                tls = tls.add_root_certificate(root);
            }
            let tls = tls.build_rustls().map_err(|e| ConfigError::Url {
                url: endpoint.redacted.clone(),
                problem: format!("TLS set-up failed: {e}"),
            })?;
            builder = builder.tls(match endpoint.security {
                Security::Implicit => Tls::Wrapper(tls),
                Security::StartTlsRequired => Tls::Required(tls),
                Security::StartTlsOpportunistic => Tls::Opportunistic(tls),
                Security::Plain => unreachable!("handled above"),
            });
        }
        match (&params.username, &params.password) {
            (Some(user), Some(password)) => {
                if endpoint.security != Security::Implicit
                    && endpoint.security != Security::StartTlsRequired
                    && !is_loopback_host(&endpoint.host)
                {
                    return Err(ConfigError::Credentials(format!(
                        "the password would cross the network to {} unencrypted: use smtps:// or ?tls=required",
                        endpoint.host
                    )));
                }
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose_secret().to_owned(),
                ));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConfigError::Credentials(
                    "a username is set but no password".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::Credentials(
                    "a password is set but no username".into(),
                ))
            }
        }

        Ok(Mailer {
            transport: builder.build(),
            from,
            timeout: params.timeout,
        })
    }

    /// The sender address (lower-case domain as configured), for Reply-To tokens.
    pub fn from_address(&self) -> &Address {
        &self.from.email
    }

    /// Renders a letter into the MIME message that [`Mailer::send`] submits.
    pub fn render(&self, letter: &Letter) -> Result<Message, SendError> {
        render_letter(&self.from, letter)
    }

    /// Submits one letter. Safe to retry after a `Transient` error: the letter keeps
    /// its Message-ID, so a duplicate can be recognised by the recipient's client.
    ///
    /// Bounded by 3 × `timeout` (connect and TLS, the dialogue, the server's final
    /// answer) plus the upload of the letter at [`SLOWEST_UPLOAD`]; a server that stops
    /// answering is a `Transient` failure.
    pub async fn send(&self, letter: &Letter) -> Result<(), SendError> {
        let message = self.render(letter)?;
        let raw = message.formatted();
        let deadline =
            self.timeout * 3 + Duration::from_secs_f64(raw.len() as f64 / SLOWEST_UPLOAD);
        let submission = self.transport.send_raw(message.envelope(), &raw);
        match tokio::time::timeout(deadline, submission).await {
            Err(_elapsed) => Err(SendError::transient(format!(
                "no answer within {deadline:?}"
            ))),
            Ok(Ok(_response)) => {
                tracing::debug!(message_id = %letter.message_id, "letter accepted by SMTP server");
                Ok(())
            }
            Ok(Err(error)) => {
                let error = classify(&error);
                tracing::warn!(message_id = %letter.message_id, %error, "letter not sent");
                Err(error)
            }
        }
    }
}

fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let smtp_code = error.status().map(|code| {
        let text = code.to_string();
        text.parse::<u16>().unwrap_or_default()
    });
    // lettre's Display includes the server's reply text, never our message.
    let reason = error.to_string();
    if error.is_permanent() {
        SendError::Permanent { reason, smtp_code }
    } else {
        // 4xx, timeouts, network and TLS failures, malformed replies, missing
        // authentication mechanism: a later attempt (or a fixed configuration) can
        // succeed, so the letter must stay in the outbox.
        SendError::Transient { reason, smtp_code }
    }
}

fn render_letter(from: &Mailbox, letter: &Letter) -> Result<Message, SendError> {
    let to_address: Address = letter.to.trim().parse().map_err(|e| {
        SendError::permanent(format!("recipient address {:?} is invalid: {e}", letter.to))
    })?;
    let to = Mailbox::new(letter.to_name.clone(), to_address);
    if !valid_message_id(&letter.message_id) {
        return Err(SendError::permanent(format!(
            "Message-ID {:?} is not of the form local@domain",
            letter.message_id
        )));
    }
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(letter.subject.clone())
        .message_id(Some(format!("<{}>", letter.message_id)))
        .date_now()
        // RFC 3834: tells well-behaved auto-responders not to answer the bot.
        .header(AutoSubmitted::auto_generated());
    if let Some(reply_to) = &letter.reply_to {
        let reply_to: Mailbox = reply_to
            .parse()
            .map_err(|e| SendError::permanent(format!("Reply-To {reply_to:?} is invalid: {e}")))?;
        builder = builder.reply_to(reply_to);
    }
    if let Some(parent) = &letter.in_reply_to {
        if !valid_message_id(parent) {
            return Err(SendError::permanent(format!(
                "In-Reply-To {parent:?} is not of the form local@domain"
            )));
        }
        builder = builder
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }

    let body = match &letter.html {
        Some(html) => MultiPart::alternative_plain_html(letter.text.clone(), html.clone()),
        None if letter.attachments.is_empty() => {
            return builder
                .singlepart(SinglePart::plain(letter.text.clone()))
                .map_err(|e| SendError::permanent(format!("letter cannot be built: {e}")));
        }
        None => MultiPart::mixed().singlepart(SinglePart::plain(letter.text.clone())),
    };
    let body = if letter.attachments.is_empty() {
        body
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for attachment in &letter.attachments {
            mixed = mixed.singlepart(attachment_part(attachment)?);
        }
        mixed
    };
    builder
        .multipart(body)
        .map_err(|e| SendError::permanent(format!("letter cannot be built: {e}")))
}

fn attachment_part(attachment: &OutgoingAttachment) -> Result<SinglePart, SendError> {
    // Content-Disposition carries the RFC 2231 file name; the `name` parameter with an
    // encoded word is what older clients (and several webmails) still read.
    let essence: lettre::message::header::ContentType = ContentType::parse(&attachment.mime)
        .map_err(|e| {
            SendError::permanent(format!(
                "attachment {:?}: MIME type {:?} is invalid: {e}",
                attachment.file_name, attachment.mime
            ))
        })?;
    let with_name = format!(
        "{}; name=\"{}\"",
        essence_of(&attachment.mime),
        encoded_word(&attachment.file_name)
    );
    let content_type = ContentType::parse(&with_name).unwrap_or(essence);
    Ok(SinglePart::builder()
        .header(content_type)
        .header(ContentDisposition::attachment(&attachment.file_name))
        .header(ContentTransferEncoding::Base64)
        .body(attachment.bytes.clone()))
}

/// `type/subtype` without parameters.
fn essence_of(mime: &str) -> &str {
    mime.split(';').next().unwrap_or(mime).trim()
}

/// RFC 2047 B-encoding of a whole value when it is not plain printable ASCII.
fn encoded_word(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ');
    if plain {
        text.to_string()
    } else {
        use base64::Engine as _;
        format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
        )
    }
}

/// The `Auto-Submitted` header (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted(String);

impl AutoSubmitted {
    fn auto_generated() -> Self {
        AutoSubmitted("auto-generated".into())
    }
}

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Plain,
    StartTlsRequired,
    StartTlsOpportunistic,
    Implicit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SmtpEndpoint {
    host: String,
    port: u16,
    security: Security,
    /// The url without credentials, safe to show in errors.
    redacted: String,
}

impl SmtpEndpoint {
    fn parse(raw: &str) -> Result<SmtpEndpoint, ConfigError> {
        let fail = |url: &str, problem: &str| ConfigError::Url {
            url: url.to_string(),
            problem: problem.to_string(),
        };
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            // The raw text may hold a password: show only its scheme part.
            let shown = raw.split('@').next_back().unwrap_or_default();
            fail(shown, &format!("not a URL ({e})"))
        })?;
        let mut redacted = url.clone();
        let _ = redacted.set_username("");
        let _ = redacted.set_password(None);
        let redacted = redacted.to_string();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(fail(
                &redacted,
                "credentials do not belong in the url: set the SMTP username and password settings",
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(fail(&redacted, "the host is missing")),
        };
        if !(url.path().is_empty() || url.path() == "/") {
            return Err(fail(
                &redacted,
                &format!(
                    "unexpected path {:?}: only scheme, host, port and ?tls= are used",
                    url.path()
                ),
            ));
        }
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" if tls.is_none() => tls = Some(value.into_owned()),
                "tls" => return Err(fail(&redacted, "the tls parameter is given twice")),
                other => {
                    return Err(fail(
                        &redacted,
                        &format!("unknown parameter {other:?} (only tls= is known)"),
                    ))
                }
            }
        }
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some("required")) => (Security::StartTlsRequired, 587),
            ("smtp", Some("opportunistic")) => (Security::StartTlsOpportunistic, 587),
            ("smtp", Some(other)) => {
                return Err(fail(
                    &redacted,
                    &format!("tls={other:?} is unknown: use tls=required or tls=opportunistic"),
                ))
            }
            ("smtps", None) => (Security::Implicit, 465),
            ("smtps", Some(_)) => {
                return Err(fail(
                    &redacted,
                    "smtps:// is always TLS: drop the tls parameter",
                ))
            }
            (scheme, _) => {
                return Err(fail(
                    &redacted,
                    &format!("scheme {scheme:?} is unknown: use smtp:// or smtps://"),
                ))
            }
        };
        Ok(SmtpEndpoint {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            redacted,
        })
    }
}

fn read_ca_file(path: &std::path::Path) -> Result<Vec<Certificate>, ConfigError> {
    let fail = |problem: String| ConfigError::CaFile {
        path: path.display().to_string(),
        problem,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certificate = Certificate::from_pem(&pem).map_err(|e| fail(e.to_string()))?;
    Ok(vec![certificate])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Result<SmtpEndpoint, ConfigError> {
        SmtpEndpoint::parse(url)
    }

    #[test]
    fn urls_map_to_security_and_default_ports() {
        let e = endpoint("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.security),
            ("127.0.0.1", 2525, Security::Plain)
        );
        let e = endpoint("smtp://smtp.yandex.ru?tls=required").unwrap();
        assert_eq!((e.port, e.security), (587, Security::StartTlsRequired));
        let e = endpoint("smtp://mx.example.ru?tls=opportunistic").unwrap();
        assert_eq!((e.port, e.security), (587, Security::StartTlsOpportunistic));
        let e = endpoint("smtps://smtp.mail.ru").unwrap();
        assert_eq!((e.port, e.security), (465, Security::Implicit));
        let e = endpoint("smtp://mx.example.ru").unwrap();
        assert_eq!(e.port, 25);
    }

    #[test]
    fn bad_urls_name_the_bad_part() {
        let problem = |url: &str| match endpoint(url) {
            Err(ConfigError::Url { problem, .. }) => problem,
            other => panic!("{url}: expected a url error, got {other:?}"),
        };
        assert!(problem("imap://host").contains("scheme \"imap\""));
        assert!(problem("smtp://host?tls=yes").contains("tls=\"yes\""));
        assert!(problem("smtp://host?starttls=1").contains("unknown parameter \"starttls\""));
        assert!(problem("smtps://host?tls=required").contains("drop the tls parameter"));
        assert!(problem("smtp://host/relay").contains("unexpected path"));
        assert!(problem("smtp://host:99999").contains("not a URL"));
        assert!(problem("not a url").contains("not a URL"));
    }

    #[test]
    fn passwords_in_urls_are_refused_and_not_echoed() {
        let error = endpoint("smtps://teach:hunter2@smtp.example.ru").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("credentials do not belong in the url"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    fn params(url: &str) -> SmtpParams {
        SmtpParams {
            url: url.into(),
            username: None,
            password: None,
            from: "Школа <teach@school.test>".into(),
            timeout: Duration::from_secs(5),
            ca_file: None,
        }
    }

    #[tokio::test]
    async fn passwords_are_not_sent_in_clear_over_the_network() {
        let mut p = params("smtp://smtp.example.ru:25");
        p.username = Some("teach".into());
        p.password = Some(SecretString::from("x"));
        assert!(matches!(Mailer::new(&p), Err(ConfigError::Credentials(_))));
        p.url = "smtp://127.0.0.1:2525".into();
        assert!(
            Mailer::new(&p).is_ok(),
            "loopback relay may take a password"
        );
        p.url = "smtps://smtp.example.ru".into();
        assert!(Mailer::new(&p).is_ok());
        p.password = None;
        assert!(matches!(Mailer::new(&p), Err(ConfigError::Credentials(_))));
    }

    #[tokio::test]
    async fn sender_and_timeout_are_checked() {
        let mut p = params("smtp://127.0.0.1:25");
        p.from = "Школа teach at school".into();
        assert!(matches!(Mailer::new(&p), Err(ConfigError::From { .. })));
        let mut p = params("smtp://127.0.0.1:25");
        p.timeout = Duration::ZERO;
        assert_eq!(Mailer::new(&p).unwrap_err(), ConfigError::Timeout);
        let mut p = params("smtps://smtp.example.ru");
        p.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(Mailer::new(&p), Err(ConfigError::CaFile { .. })));
    }

    fn letter() -> Letter {
        Letter {
            to: "learner@example.test".into(),
            to_name: Some("Иванова Мария".into()),
            subject: "Ваш документ готов".into(),
            text: "Здравствуйте!".into(),
            html: None,
            reply_to: Some("teach+abc123@school.test".into()),
            message_id: "m1@school.test".into(),
            in_reply_to: None,
            attachments: vec![],
        }
    }

    #[tokio::test]
    async fn malformed_letters_are_permanent_failures() {
        let mailer = Mailer::new(&params("smtp://127.0.0.1:25")).unwrap();
        let mut bad = letter();
        bad.to = "learner at example".into();
        assert!(matches!(
            mailer.render(&bad),
            Err(SendError::Permanent { .. })
        ));
        let mut bad = letter();
        bad.message_id = "<m1@school.test>".into();
        assert!(matches!(
            mailer.render(&bad),
            Err(SendError::Permanent { .. })
        ));
        let mut bad = letter();
        bad.attachments.push(OutgoingAttachment {
            file_name: "a.pdf".into(),
            mime: "not a mime".into(),
            bytes: vec![1],
        });
        assert!(matches!(
            mailer.render(&bad),
            Err(SendError::Permanent { .. })
        ));
    }

    #[tokio::test]
    async fn rendered_letter_has_threading_and_auto_submitted_headers() {
        let mailer = Mailer::new(&params("smtp://127.0.0.1:25")).unwrap();
        let mut l = letter();
        l.in_reply_to = Some("their.id@example.test".into());
        let raw = String::from_utf8(mailer.render(&l).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <m1@school.test>\r\n"), "{raw}");
        assert!(
            raw.contains("In-Reply-To: <their.id@example.test>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("References: <their.id@example.test>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Auto-Submitted: auto-generated\r\n"), "{raw}");
        assert!(
            raw.contains("Reply-To: teach+abc123@school.test\r\n"),
            "{raw}"
        );
        // Cyrillic is never sent raw in headers.
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
    }

    /// The outbox worker runs in spawned tasks.
    #[allow(dead_code)]
    fn send_future_is_send(mailer: &Mailer, letter: &Letter) {
        fn is_send<T: Send>(_: T) {}
        is_send(mailer.send(letter));
    }

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let a = new_message_id("school.test");
        let b = new_message_id("school.test");
        assert_ne!(a, b);
        assert!(valid_message_id(&a), "{a}");
        assert!(a.ends_with("@school.test"));
    }

    #[test]
    fn encoded_words_only_when_needed() {
        assert_eq!(encoded_word("plan.pdf"), "plan.pdf");
        assert_eq!(
            encoded_word("Договор.pdf"),
            "=?utf-8?b?0JTQvtCz0L7QstC+0YAucGRm?="
        );
    }
}
