//! The email channel's adapters: SMTP out ([`smtp`], lettre), IMAP in ([`imap`],
//! async-imap over tokio-rustls) and parsing of incoming letters ([`parse`],
//! mail-parser). Which learner a letter belongs to, the outbox and the table of
//! processed UIDs live in the store and the journey; these modules only move and read
//! mail, with narrow types at their edges.

pub mod imap;
pub mod parse;
pub mod poller;
pub mod smtp;

pub use imap::{
    FetchedMessage, IdleOutcome, ImapCapabilities, ImapError, ImapParams, ImapSession, ImapTls,
    MailboxState, PROCESSED_KEYWORD,
};
pub use parse::{
    dkim_or_dmarc_passed, examine, is_robot_address, parse_incoming, plus_token, reply_text,
    DeliveryReport, Examined, FailedRecipient, IncomingAttachment, IncomingMail, MailAddress,
    MailLimits, ParseError, RefusalReason, RefusedAttachment,
};
pub use poller::{MailSink, PollerConfig};
pub use smtp::{
    new_message_id, ConfigError, Letter, Mailer, OutgoingAttachment, SendError, SmtpParams,
};

/// True for `localhost` and loopback IP addresses: the only hosts a password may be
/// sent to without TLS (a local relay).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// A Message-ID as written without its angle brackets: `local@domain`, printable
/// ASCII, no spaces or brackets.
pub(crate) fn valid_message_id(id: &str) -> bool {
    let Some((local, domain)) = id.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && id.len() <= 250
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]", "127.1.2.3"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["smtp.yandex.ru", "10.0.0.1", "localhost.evil.test"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn message_ids() {
        assert!(valid_message_id("20250101.abc@school.test"));
        for bad in ["", "abc", "<a@b>", "a b@c", "a@", "@b", "a@b@c"] {
            assert!(!valid_message_id(bad), "{bad:?}");
        }
    }
}
