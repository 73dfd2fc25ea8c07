//! Parsing of incoming letters (mail-parser): addresses, threading headers, plain text,
//! attachments at any depth (forwarded messages included) checked against limits and
//! by content type, and the DKIM/DMARC verdict of the provider's own mail server.
//!
//! Pure functions: no I/O, nothing logged.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// Limits applied to one incoming letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLimits {
    /// Larger letters are not parsed at all.
    pub max_message_bytes: usize,
    /// Attachments beyond this count are refused ([`RefusalReason::TooMany`]).
    pub max_attachments: usize,
    pub max_attachment_bytes: usize,
    /// MIME types accepted, as detected from the content (`application/pdf`,
    /// `image/jpeg`, or a whole family such as `image/*`).
    pub allowed_types: Vec<String>,
}

impl MailLimits {
    /// Scans of documents: PDF and the usual photo formats, 20 MB each, 10 per letter.
    pub fn for_document_scans() -> Self {
        MailLimits {
            max_message_bytes: 40 << 20,
            max_attachments: 10,
            max_attachment_bytes: 20 << 20,
            allowed_types: [
                "application/pdf",
                "image/jpeg",
                "image/png",
                "image/heif",
                "image/heic",
                "image/tiff",
                "image/webp",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn allows(&self, detected: &str) -> bool {
        self.allowed_types.iter().any(|allowed| {
            let allowed = allowed.trim();
            match allowed.strip_suffix("/*") {
                Some(family) => detected
                    .split_once('/')
                    .is_some_and(|(f, _)| f.eq_ignore_ascii_case(family)),
                None => allowed.eq_ignore_ascii_case(detected),
            }
        })
    }
}

/// An address from a header, with the address part lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddress {
    pub address: String,
    pub name: Option<String>,
}

impl MailAddress {
    /// The part after `@`, lower-case.
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAttachment {
    /// Without any directory part; `attachment-N.ext` when the letter gave no name.
    pub file_name: String,
    /// As the sender's mail client declared it (lower-case `type/subtype`).
    pub declared_mime: String,
    /// As recognised from the content by its magic bytes.
    pub detected_mime: Option<String>,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes` (to recognise the same file sent twice).
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    TooLarge {
        size: usize,
        limit: usize,
    },
    /// The letter already carried `limit` accepted attachments.
    TooMany {
        limit: usize,
    },
    /// The content is not of an allowed type (`None`: not recognisable).
    UnsupportedType {
        detected: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAttachment {
    pub file_name: String,
    pub reason: RefusalReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub from: Option<MailAddress>,
    pub reply_to: Option<MailAddress>,
    pub to: Vec<MailAddress>,
    /// Learners sometimes put the school's (plus) address in Cc.
    pub cc: Vec<MailAddress>,
    pub subject: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// Message-IDs without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The plain text, or text made from the HTML when there is no plain part.
    pub text: String,
    pub attachments: Vec<IncomingAttachment>,
    pub refused: Vec<RefusedAttachment>,
    /// The raw `Authentication-Results` headers of the letter, unfolded, top first.
    pub auth_results: Vec<String>,
    /// An auto-reply, bounce or bulk mail (RFC 3834 `Auto-Submitted`, `Precedence`,
    /// `X-Autoreply`, mailing-list headers, delivery reports, mailer-daemon and
    /// postmaster senders): never answer it, or two robots talk forever.
    pub automatic: bool,
    /// A delivery status notification (RFC 3464) saying some recipients failed.
    pub delivery_report: Option<DeliveryReport>,
}

/// A bounce: which recipients of which letter could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub failed: Vec<FailedRecipient>,
    /// The Message-ID (without angle brackets) of the letter that bounced, from the
    /// returned headers or the returned message.
    pub original_message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    /// Lower-case.
    pub address: String,
    /// `5.1.1` and the like.
    pub status: String,
    /// The remote server's words, when the report has them.
    pub diagnostic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("letter of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not an RFC 5322 message")]
    Unparsable,
}

/// Nested forwarded messages deeper than this are not searched for attachments.
const MAX_NESTING: usize = 8;

/// Parts that are not content a learner meant to send.
const IGNORED_TYPES: [&str; 5] = [
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-keys",
    "application/ms-tnef",
];

pub fn parse_incoming(raw: &[u8], limits: &MailLimits) -> Result<IncomingMail, ParseError> {
    // mail-parser 0.11 panics on some malformed nestings ("Invalid part ID, could not find
    // multipart": tests/fixtures/mail/damaged/). A letter anyone can send must not take
    // the poller down: such a letter is unparsable, recorded and filed away.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_unguarded(raw, limits)
    }))
    .unwrap_or(Err(ParseError::Unparsable))
}

fn parse_unguarded(raw: &[u8], limits: &MailLimits) -> Result<IncomingMail, ParseError> {
    if raw.len() > limits.max_message_bytes {
        return Err(ParseError::TooLarge {
            size: raw.len(),
            limit: limits.max_message_bytes,
        });
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::Unparsable)?;
    // mail-parser accepts nearly anything; a letter without a single header is not one.
    if message.headers().is_empty() {
        return Err(ParseError::Unparsable);
    }

    let mut candidates = Vec::new();
    collect_attachments(&message, 0, &mut candidates);
    let mut attachments = Vec::new();
    let mut refused = Vec::new();
    for (index, part) in candidates.into_iter().enumerate() {
        let detected = infer::get(&part.bytes);
        let file_name = part
            .file_name
            .as_deref()
            .map(clean_file_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| {
                let extension = detected.map(|t| t.extension()).unwrap_or("bin");
                format!("attachment-{}.{extension}", index + 1)
            });
        let detected_mime = detected.map(|t| t.mime_type().to_string());
        let reason = if part.bytes.len() > limits.max_attachment_bytes {
            Some(RefusalReason::TooLarge {
                size: part.bytes.len(),
                limit: limits.max_attachment_bytes,
            })
        } else if !detected_mime.as_deref().is_some_and(|m| limits.allows(m)) {
            Some(RefusalReason::UnsupportedType {
                detected: detected_mime.clone(),
            })
        } else if attachments.len() >= limits.max_attachments {
            Some(RefusalReason::TooMany {
                limit: limits.max_attachments,
            })
        } else {
            None
        };
        match reason {
            Some(reason) => refused.push(RefusedAttachment { file_name, reason }),
            None => attachments.push(IncomingAttachment {
                sha256: hex::encode(Sha256::digest(&part.bytes)),
                file_name,
                declared_mime: part.declared_mime,
                detected_mime,
                bytes: part.bytes,
            }),
        }
    }

    let text = (0..message.text_body_count())
        .filter_map(|i| message.body_text(i))
        .map(|t| t.replace("\r\n", "\n").trim_end().to_string())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");

    Ok(IncomingMail {
        message_id: message.message_id().map(str::to_string),
        from: message.from().and_then(first_address),
        reply_to: message.reply_to().and_then(first_address),
        to: message
            .to()
            .map(|list| list.iter().filter_map(mail_address).collect())
            .unwrap_or_default(),
        cc: message
            .cc()
            .map(|list| list.iter().filter_map(mail_address).collect())
            .unwrap_or_default(),
        subject: message.subject().map(|s| s.trim().to_string()),
        date: message
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        in_reply_to: text_list(message.in_reply_to()),
        references: text_list(message.references()),
        text,
        attachments,
        refused,
        auth_results: message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| unfold(value))
            .collect(),
        automatic: is_automatic(&message),
        delivery_report: delivery_report(&message),
    })
}

/// What the intake reads from a raw letter before it looks anything up: the letter, the
/// reply tokens of its recipients, whether the trusted server vouches for its From, and
/// the text of a reply without its quote. The entry point of ingestion for raw bytes
/// (and of the fuzz target, `fuzz/`): pure, never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    pub mail: IncomingMail,
    /// Plus-address tokens (`teach+<token>@…`) found in To and Cc, in order.
    pub tokens: Vec<String>,
    /// DKIM or DMARC passed for the From domain, per `trusted_authserv_id`.
    pub from_proven: bool,
    /// [`reply_text`] of the letter's text.
    pub reply: String,
}

pub fn examine(
    raw: &[u8],
    limits: &MailLimits,
    mailbox_local: &str,
    trusted_authserv_id: &str,
) -> Result<Examined, ParseError> {
    let mail = parse_incoming(raw, limits)?;
    let tokens = mail
        .to
        .iter()
        .chain(&mail.cc)
        .filter_map(|a| plus_token(&a.address, mailbox_local))
        .collect();
    let from_proven = mail.from.as_ref().is_some_and(|from| {
        dkim_or_dmarc_passed(&mail.auth_results, trusted_authserv_id, from.domain())
    });
    let reply = reply_text(&mail.text);
    Ok(Examined {
        mail,
        tokens,
        from_proven,
        reply,
    })
}

struct Candidate {
    file_name: Option<String>,
    declared_mime: String,
    bytes: Vec<u8>,
}

/// Attachments of `message` and, recursively, of messages forwarded inside it.
fn collect_attachments(message: &Message<'_>, depth: usize, out: &mut Vec<Candidate>) {
    for part in message.attachments() {
        let declared_mime = part
            .content_type()
            .map(|ct| match &ct.c_subtype {
                Some(sub) => format!("{}/{}", ct.c_type, sub),
                None => ct.c_type.to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let file_name = part.attachment_name().map(str::to_string);
        let bytes: &[u8] = match &part.body {
            PartType::Message(nested) => {
                if depth < MAX_NESTING {
                    collect_attachments(nested, depth + 1, out);
                }
                continue;
            }
            PartType::Multipart(_) => continue,
            // Unnamed text parts are pieces of the body (alternatives, signatures
            // split off by the client), not files.
            PartType::Text(_) | PartType::Html(_) if file_name.is_none() => continue,
            PartType::Text(text) | PartType::Html(text) => text.as_bytes(),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes,
        };
        if IGNORED_TYPES.contains(&declared_mime.as_str()) {
            continue;
        }
        out.push(Candidate {
            file_name,
            declared_mime,
            bytes: bytes.to_vec(),
        });
    }
}

/// The last path segment, without control characters, at most 200 characters.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    cleaned.chars().take(200).collect()
}

fn first_address(list: &Address<'_>) -> Option<MailAddress> {
    list.iter().find_map(mail_address)
}

fn mail_address(addr: &mail_parser::Addr<'_>) -> Option<MailAddress> {
    let address = addr.address()?.trim().to_lowercase();
    if !address.contains('@') {
        return None;
    }
    Some(MailAddress {
        address,
        name: addr
            .name()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
    })
}

fn text_list(value: &HeaderValue<'_>) -> Vec<String> {
    let items: Vec<Cow<'_, str>> = match value {
        HeaderValue::Text(text) => vec![text.clone()],
        HeaderValue::TextList(list) => list.clone(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// Header folding (CRLF + whitespace) becomes one space.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_automatic(message: &Message<'_>) -> bool {
    let header = |name: &str| {
        message
            .headers_raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unfold(v).to_ascii_lowercase())
    };
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| !v.starts_with("no"));
    let precedence = header("Precedence")
        .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()));
    let autoreply_markers = header("X-Autoreply").is_some() || header("X-Autorespond").is_some();
    // RFC 2369 / 2919: a mailing list.
    let list = header("List-Id").is_some() || header("List-Unsubscribe").is_some();
    let robot = message
        .from()
        .and_then(first_address)
        .is_some_and(|a| is_robot_address(&a.address));
    let report = message.root_part().content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .c_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    auto_submitted || precedence || autoreply_markers || list || robot || report
}

/// `mailer-daemon@…`, `postmaster@…` and similar: the mail system itself.
pub fn is_robot_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let local = local.to_ascii_lowercase();
    [
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "do-not-reply",
    ]
    .iter()
    .any(|robot| local == *robot || local.starts_with(&format!("{robot}+")))
}

/// The failed recipients of a delivery status notification, if this is one.
fn delivery_report(message: &Message<'_>) -> Option<DeliveryReport> {
    let mut failed = Vec::new();
    let mut original_message_id = None;
    let mut is_report = false;
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let subtype = ct.subtype().unwrap_or("").to_ascii_lowercase();
        match (ct.ctype().to_ascii_lowercase().as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                is_report = true;
                let text = String::from_utf8_lossy(part.contents());
                failed.extend(failed_recipients(&text));
            }
            ("text", "rfc822-headers" | "global-headers") if original_message_id.is_none() => {
                let text = String::from_utf8_lossy(part.contents());
                original_message_id = header_field(&text, "message-id")
                    .map(|id| id.trim_start_matches('<').trim_end_matches('>').to_string());
            }
            _ => {
                if let PartType::Message(nested) = &part.body {
                    if original_message_id.is_none() {
                        original_message_id = nested.message_id().map(str::to_string);
                    }
                }
            }
        }
    }
    (is_report && !failed.is_empty()).then_some(DeliveryReport {
        failed,
        original_message_id,
    })
}

/// Per-recipient groups of a `message/delivery-status` body whose action is `failed`.
fn failed_recipients(text: &str) -> Vec<FailedRecipient> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|group| {
            let action = header_field(group, "action")?;
            if !action.eq_ignore_ascii_case("failed") {
                return None;
            }
            let recipient = header_field(group, "final-recipient")
                .or_else(|| header_field(group, "original-recipient"))?;
            let address = recipient
                .split_once(';')
                .map_or(recipient.as_str(), |(_, a)| a)
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_lowercase();
            if !address.contains('@') {
                return None;
            }
            let diagnostic = header_field(group, "diagnostic-code").map(|d| {
                d.split_once(';')
                    .map_or(d.as_str(), |(_, t)| t)
                    .trim()
                    .chars()
                    .take(300)
                    .collect()
            });
            Some(FailedRecipient {
                address,
                status: header_field(group, "status").unwrap_or_default(),
                diagnostic,
            })
        })
        .collect()
}

/// The unfolded value of a header-like field in a block of `Name: value` lines.
fn header_field(block: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in block.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value.filter(|v| !v.is_empty())
}

/// What the sender wrote in a reply, without the quoted letter under it, the
/// «-- » signature and the mail client's «… wrote:» line.
pub fn reply_text(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let starts_quote = trimmed.starts_with('>')
            || trimmed == "--"
            || trimmed == "-- "
            || line == "-- "
            || trimmed.starts_with("-----Original Message")
            || trimmed.starts_with("-----Исходное сообщение")
            || trimmed.starts_with("-------- Пересылаемое сообщение")
            || trimmed.starts_with("-------- Forwarded Message");
        let attribution = (trimmed.ends_with("wrote:")
            || trimmed.ends_with("пишет:")
            || trimmed.ends_with("написал:")
            || trimmed.ends_with("написал(а):")
            || trimmed.ends_with("написала:"))
            && trimmed.len() < 300;
        if starts_quote || attribution {
            // Clients put their «On …, X <x@y>:» line right above the quote.
            if trimmed.starts_with('>') {
                while kept.last().is_some_and(|l| l.trim().is_empty()) {
                    kept.pop();
                }
                if kept.last().is_some_and(|l| l.trim_end().ends_with(':')) && kept.len() > 1 {
                    kept.pop();
                }
            }
            break;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

/// True when an `Authentication-Results` header written by the trusted server
/// (`trusted_authserv_id`, RFC 8601) says `dkim=pass` with a signing domain (`header.d`
/// or the domain of `header.i`) aligned with `from_domain`, or `dmarc=pass` with
/// `header.from` equal to it. Headers by anyone else are ignored: a sender can write
/// any header into a letter. Alignment is relaxed towards parents only: `d=example.ru`
/// covers `From: …@mail.example.ru`, but `d=mail.example.ru` does not cover
/// `example.ru` (no public-suffix list here to find organisational domains).
pub fn dkim_or_dmarc_passed(
    auth_results: &[String],
    trusted_authserv_id: &str,
    from_domain: &str,
) -> bool {
    let from_domain = from_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if from_domain.is_empty() || trusted_authserv_id.trim().is_empty() {
        return false;
    }
    auth_results.iter().any(|header| {
        let Some(parsed) = AuthResults::parse(header) else {
            return false;
        };
        if !parsed
            .authserv_id
            .eq_ignore_ascii_case(trusted_authserv_id.trim())
        {
            return false;
        }
        parsed.results.iter().any(|result| {
            if !result.value.eq_ignore_ascii_case("pass") {
                return false;
            }
            match result.method.as_str() {
                "dkim" => {
                    let signer = result.property("header.d").map(str::to_string).or_else(|| {
                        result
                            .property("header.i")
                            .and_then(|i| i.rsplit_once('@').map(|(_, d)| d.to_string()))
                    });
                    signer.is_some_and(|d| aligned(&d, &from_domain))
                }
                "dmarc" => result
                    .property("header.from")
                    .is_some_and(|d| normalise_domain(d) == from_domain),
                _ => false,
            }
        })
    })
}

fn normalise_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn aligned(signing_domain: &str, from_domain: &str) -> bool {
    let signing = normalise_domain(signing_domain);
    // A signing domain must have at least two labels: "d=ru" aligns with nothing.
    !signing.is_empty()
        && signing.contains('.')
        && (signing == from_domain || from_domain.ends_with(&format!(".{signing}")))
}

/// One `Authentication-Results` header (RFC 8601 section 2.2).
#[derive(Debug)]
struct AuthResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

#[derive(Debug)]
struct MethodResult {
    /// Lower-case, without a `/version`.
    method: String,
    value: String,
    /// `ptype.property` (lower-case) = value.
    properties: Vec<(String, String)>,
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl AuthResults {
    fn parse(header: &str) -> Option<AuthResults> {
        let header = strip_comments(header);
        let mut statements = split_outside_quotes(&header, ';').into_iter();
        // "authserv-id [version]"
        let authserv_id = statements.next()?.split_whitespace().next()?.to_string();
        let mut results = Vec::new();
        for statement in statements {
            let tokens = tokens(&statement);
            let Some((method, value)) = tokens.first().and_then(|t| t.split_once('=')) else {
                continue; // "none", or garbage
            };
            let method = method
                .split('/')
                .next()
                .unwrap_or(method)
                .to_ascii_lowercase();
            let properties = tokens[1..]
                .iter()
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), unquote(v)))
                .collect();
            results.push(MethodResult {
                method,
                value: unquote(value).to_ascii_lowercase(),
                properties,
            });
        }
        Some(AuthResults {
            authserv_id,
            results,
        })
    }
}

/// Removes RFC 5322 comments `( … )`, which may nest, outside quoted strings.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c == separator && !quoted => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// Whitespace-separated tokens with spaces around `=` removed (`dkim = pass`).
fn tokens(statement: &str) -> Vec<String> {
    let mut joined = String::new();
    let words = split_whitespace_outside_quotes(statement);
    let mut i = 0;
    while i < words.len() {
        let mut token = words[i].clone();
        while (token.ends_with('=') || words.get(i + 1).is_some_and(|w| w.starts_with('=')))
            && i + 1 < words.len()
        {
            i += 1;
            token.push_str(&words[i]);
        }
        if !joined.is_empty() {
            joined.push('\u{0}');
        }
        joined.push_str(&token);
        i += 1;
    }
    joined
        .split('\u{0}')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn split_whitespace_outside_quotes(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

/// The token of a plus address: `teach+Ab3_x@school.ru` with `mailbox_local` = `teach`
/// gives `ab3_x`. Tokens are compared case-insensitively and returned lower-case:
/// incoming addresses are lower-cased ([`MailAddress`]) and some servers change the
/// case of local parts, so issue lower-case tokens. Only letters, digits, `_` and `-`
/// make a token (what we put there); anything else, or another local part, gives
/// `None`.
pub fn plus_token(address: &str, mailbox_local: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _domain) = address.rsplit_once('@')?;
    let (base, token) = local.split_once('+')?;
    if !base.eq_ignore_ascii_case(mailbox_local.trim()) || token.is_empty() || token.len() > 64 {
        return None;
    }
    token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then(|| token.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_lose_their_quotes_signatures_and_attributions() {
        assert_eq!(
            reply_text("Подтверждаю\n\nПт, 4 дек. 2026 г. в 10:00, Центр <t@s.ru>:\n> Проверьте\n"),
            "Подтверждаю"
        );
        assert_eq!(
            reply_text("Исправьте отчество:\nСергеевна\n-- \nМария"),
            "Исправьте отчество:\nСергеевна"
        );
        assert_eq!(reply_text("123456\nOn Fri, X wrote:\n> a"), "123456");
        assert_eq!(reply_text("> only a quote"), "");
    }

    #[test]
    fn plus_tokens() {
        assert_eq!(
            plus_token("teach+abc123@school.ru", "teach").as_deref(),
            Some("abc123")
        );
        assert_eq!(
            plus_token("<Teach+A_b-9@School.ru>", "teach").as_deref(),
            Some("a_b-9")
        );
        assert_eq!(plus_token("teach@school.ru", "teach"), None);
        assert_eq!(plus_token("teach+@school.ru", "teach"), None);
        assert_eq!(plus_token("other+abc@school.ru", "teach"), None);
        assert_eq!(plus_token("teach+a.b@school.ru", "teach"), None);
        assert_eq!(plus_token("teach+abc", "teach"), None);
    }

    #[test]
    fn comments_and_quotes_in_auth_results() {
        let parsed = AuthResults::parse(
            "mx.school.ru (Postfix (nested)) 1; dkim = pass (good \"sig\") header.d=\"mail.ru\" header.s=s1; spf=fail",
        )
        .unwrap();
        assert_eq!(parsed.authserv_id, "mx.school.ru");
        assert_eq!(parsed.results.len(), 2);
        assert_eq!(parsed.results[0].method, "dkim");
        assert_eq!(parsed.results[0].value, "pass");
        assert_eq!(parsed.results[0].property("header.d"), Some("mail.ru"));
        assert_eq!(parsed.results[1].value, "fail");
    }

    #[test]
    fn alignment_goes_to_parents_only() {
        assert!(aligned("example.ru", "example.ru"));
        assert!(aligned("Example.RU.", "mail.example.ru"));
        assert!(!aligned("mail.example.ru", "example.ru"));
        assert!(!aligned("ru", "example.ru"));
        assert!(!aligned("xample.ru", "example.ru"));
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(
            clean_file_name("C:\\Users\\Мария\\паспорт.pdf"),
            "паспорт.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(clean_file_name(".hidden"), "hidden");
    }

    #[test]
    fn allowed_type_families() {
        let mut limits = MailLimits::for_document_scans();
        assert!(limits.allows("application/pdf"));
        assert!(!limits.allows("application/zip"));
        limits.allowed_types = vec!["image/*".into()];
        assert!(limits.allows("image/gif"));
        assert!(!limits.allows("application/pdf"));
    }

    #[test]
    fn letters_above_the_size_limit_are_not_parsed() {
        let limits = MailLimits {
            max_message_bytes: 10,
            ..MailLimits::for_document_scans()
        };
        let raw = b"Subject: a long letter\r\n\r\nbody";
        assert_eq!(
            parse_incoming(raw, &limits),
            Err(ParseError::TooLarge {
                size: raw.len(),
                limit: 10
            })
        );
    }
}
