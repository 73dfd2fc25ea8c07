//! The email channel's intake: every letter the IMAP poller takes from the school's
//! mailbox goes through one pipeline — parse, recognise bounces and robots, find the
//! learner, then documents, replies, held letters or unknown senders — and is recorded in
//! the `mail_messages` ledger in the transaction of its outcome, so it is handled once.
//!
//! Who sent a letter: a plus-address token of the bot's letters in To/Cc
//! (`teach+<token>@…`), or In-Reply-To/References naming a letter the bot sent, or the
//! From address of a learner's verified email — but From can be forged, so that alone
//! counts only when the school's own mail server (`[imap] trusted_authserv_id`) wrote an
//! `Authentication-Results` header with a DKIM or DMARC pass for the From domain;
//! otherwise the letter is held for staff.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyConnection;
use tokio_util::sync::CancellationToken;

use super::files::{accepted_type, sha256_hex};
use super::letters::QueuedLetter;
use super::outbox::enqueue_letter;
use super::{alerts, engine, view, App, Messenger, Origin};
use crate::config::{ImapTlsMode, Settings};
use crate::email::imap::{FetchedMessage, ImapParams, ImapTls};
use crate::email::parse::{DeliveryReport, RefusalReason};
use crate::email::poller::{MailSink, PollerConfig};
use crate::email::{examine, Examined};
use crate::email::{IncomingMail, MailLimits};
use crate::journey::mail::{classify, enrollment_for_documents, numbered_files};
use crate::journey::{Event, Input, StaffAlert};
use crate::store::mail::{self as ledger, MailRecord, MailStatus, MailboxUid};
use crate::store::{audit, enrollments, learners, LearnerRecord};
use crate::tr;

/// What the intake needs beyond the app: limits and who is trusted.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    pub limits: MailLimits,
    /// The authserv-id of the school's own MX, whose `Authentication-Results` count.
    pub trusted_authserv_id: String,
    /// `t.me/<bot_username>` in the answer to unknown senders; empty: no link.
    pub bot_username: String,
}

/// The poller and the intake as `[imap]` configures them; `None` when `imap.host` is
/// empty (the mailbox is not read).
pub fn from_settings(settings: &Settings) -> Option<(PollerConfig, IntakeSettings)> {
    let s = &settings.imap;
    if s.host.is_empty() {
        return None;
    }
    let limits = MailLimits {
        max_attachment_bytes: (settings.storage.max_document_mb * 1024 * 1024) as usize,
        ..MailLimits::for_document_scans()
    };
    let imap = ImapParams {
        host: s.host.clone(),
        port: s.port,
        tls: match s.tls {
            ImapTlsMode::None => ImapTls::None,
            ImapTlsMode::Starttls => ImapTls::StartTls,
            ImapTlsMode::Tls => ImapTls::Tls,
        },
        username: s.username.clone(),
        password: s.password.clone().unwrap_or_else(|| "".into()),
        mailbox: s.mailbox.clone(),
        processed_mailbox: s.processed_mailbox.clone(),
        timeout: Duration::from_secs(60),
        ca_file: None,
        max_batch: 20,
        max_message_bytes: limits.max_message_bytes as u32,
    };
    let mut poller = PollerConfig::new(imap, Duration::from_secs(s.poll_seconds.max(1)));
    poller.backoff_min = Duration::from_secs(s.retry_min_seconds.max(1));
    poller.backoff_max = Duration::from_secs(s.retry_max_seconds.max(s.retry_min_seconds));
    poller.alert_after_failures = s.alert_after_failures.max(1);
    Some((
        poller,
        IntakeSettings {
            limits,
            trusted_authserv_id: s.trusted_authserv_id.clone(),
            bot_username: settings.telegram.bot_username.clone(),
        },
    ))
}

/// Starts the poller with the intake behind it; it stops with `shutdown`.
pub fn spawn(
    app: Arc<App>,
    messenger: Arc<dyn Messenger>,
    poller: PollerConfig,
    settings: IntakeSettings,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let sink = Arc::new(MailIntake {
        app,
        messenger,
        settings,
    });
    tokio::spawn(crate::email::poller::run(poller, sink, shutdown))
}

pub struct MailIntake {
    pub app: Arc<App>,
    pub messenger: Arc<dyn Messenger>,
    pub settings: IntakeSettings,
}

/// Who a letter is from, as far as it can be proven.
enum Sender {
    Learner(LearnerRecord),
    /// The From address is a learner's, but nothing proves the learner sent it.
    Unproven(LearnerRecord),
    Unknown,
}

/// The plus address that carries a learner's token: `teach+<token>@school.ru`.
pub fn plus_address(school_mailbox: &str, token: &str) -> Option<String> {
    let (local, domain) = school_mailbox.trim().rsplit_once('@')?;
    let local = local.split('+').next().unwrap_or(local);
    (!local.is_empty() && !domain.is_empty()).then(|| format!("{local}+{token}@{domain}"))
}

/// The Reply-To of a letter to `to`: the plus address of the learner whose verified
/// email it is, so that replies find the learner even from another address.
pub async fn reply_address(
    app: &App,
    conn: &mut AnyConnection,
    to: &str,
) -> crate::store::Result<Option<String>> {
    let learner = learners::by_email(conn, &to.trim().to_lowercase()).await?;
    Ok(learner
        .and_then(|l| l.mail_token)
        .and_then(|token| plus_address(&app.school_mailbox, &token)))
}

/// A letter from the school to `to`, answering the letter `in_reply_to`.
fn letter(app: &App, to: &str, subject: String, text: String, in_reply_to: &str) -> QueuedLetter {
    QueuedLetter {
        to: to.to_owned(),
        subject,
        text: crate::journey::reply::plain_text(&text),
        reply_to: None,
        message_id: crate::email::smtp::new_message_id(app.mail_domain()),
        in_reply_to: crate::email::valid_message_id(in_reply_to).then(|| in_reply_to.to_owned()),
        attachments: Vec::new(),
    }
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1} МБ", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
}

/// The intake's work on one letter, borrowed from a [`MailIntake`] or from a staff
/// decision on a held letter.
struct Intake<'a> {
    app: &'a App,
    messenger: &'a dyn Messenger,
    settings: &'a IntakeSettings,
}

/// What makes a letter's outcome happen once: its new row in the ledger, or (a held
/// letter that staff released) the change of its row from held to released.
enum Claim<'a> {
    New(MailRecord<'a>),
    Released(i64),
}

impl Claim<'_> {
    async fn take(&self, conn: &mut AnyConnection, now: i64) -> crate::store::Result<bool> {
        match self {
            Claim::New(record) => ledger::record(conn, record, now).await,
            Claim::Released(id) => ledger::settle_held(conn, *id, MailStatus::Released).await,
        }
    }
}

impl Intake<'_> {
    fn now(&self) -> i64 {
        self.app.now().timestamp()
    }

    /// Records a letter that needs nothing else done.
    async fn record_only(&self, record: MailRecord<'_>) -> anyhow::Result<()> {
        let mut conn = self.app.store.pool().acquire().await?;
        ledger::record(&mut conn, &record, self.now()).await?;
        Ok(())
    }

    async fn sender(&self, examined: &Examined) -> anyhow::Result<Sender> {
        let mail = &examined.mail;
        let mut conn = self.app.store.pool().acquire().await?;
        for token in &examined.tokens {
            if let Some(l) = learners::by_mail_token(&mut conn, token).await? {
                return Ok(Sender::Learner(l));
            }
        }
        let thread: Vec<String> = mail
            .in_reply_to
            .iter()
            .chain(&mail.references)
            .cloned()
            .collect();
        if let Some(to) = ledger::sent_to(&mut conn, &thread).await? {
            if let Some(l) = learners::by_email(&mut conn, &to).await? {
                return Ok(Sender::Learner(l));
            }
            if let Some(l) = ledger::learner_verifying(&mut conn, &to).await? {
                return Ok(Sender::Learner(l));
            }
        }
        let Some(from) = &mail.from else {
            return Ok(Sender::Unknown);
        };
        match learners::by_email(&mut conn, &from.address).await? {
            Some(l) if l.email_verified_at.is_some() => Ok(if examined.from_proven {
                Sender::Learner(l)
            } else {
                Sender::Unproven(l)
            }),
            _ => Ok(Sender::Unknown),
        }
    }

    /// A letter over the size limit (only its header was read): recorded as refused; a
    /// learner it is proven to come from is told which letter, the limit and how to send
    /// instead — by letter, and in Telegram when linked. Anyone else: nothing more.
    async fn too_large(
        &self,
        record: MailRecord<'_>,
        message: &FetchedMessage,
    ) -> anyhow::Result<()> {
        let app = self.app;
        let local = app.school_mailbox.split('@').next().unwrap_or_default();
        let examined = message.header.as_deref().and_then(|h| {
            examine(
                h,
                &self.settings.limits,
                local,
                &self.settings.trusted_authserv_id,
            )
            .ok()
        });
        let Some(examined) = examined else {
            return self.record_only(record).await;
        };
        let mail = &examined.mail;
        let subject = mail.subject.clone().unwrap_or_default();
        let from = mail.from.as_ref().map(|f| f.address.clone());
        // The letter's own Message-ID: the same letter seen again (a new UIDVALIDITY) is
        // not answered twice (the outbox keeps one answer per key).
        let record = MailRecord {
            message_id: mail.message_id.as_deref().unwrap_or(record.message_id),
            sender: from.as_deref(),
            subject: Some(&subject),
            ..record
        };
        let learner = if mail.automatic || mail.delivery_report.is_some() {
            None
        } else {
            match self.sender(&examined).await? {
                Sender::Learner(l) => Some(l),
                Sender::Unproven(_) | Sender::Unknown => None,
            }
        };
        let Some(learner) = learner else {
            return self.record_only(record).await;
        };
        let t = &app.texts;
        let now = self.now();
        let message_id = mail.message_id.clone().unwrap_or_default();
        let mut tx = app.store.begin().await?;
        let record = MailRecord {
            learner_id: Some(learner.id),
            ..record
        };
        if !ledger::record(&mut tx, &record, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        let shown = if subject.trim().is_empty() {
            tr!(t, "mail-no-subject")
        } else {
            subject.clone()
        };
        let size = megabytes(message.size as usize);
        let limit = megabytes(self.settings.limits.max_message_bytes);
        let key = format!("mail:too-large:{}", short(record.message_id));
        if let (Some(email), Some(_)) = (&learner.email, learner.email_verified_at) {
            let text = tr!(
                t,
                "mail-too-large-letter",
                subject = &shown,
                size = &size,
                limit = &limit,
                school = &app.school.name
            );
            let answer = letter(
                app,
                email,
                tr!(t, "mail-too-large-subject", school = &app.school.name),
                text,
                &message_id,
            );
            enqueue_letter(&mut tx, &key, &answer, now).await?;
        }
        if let Some(chat) = learner.tg_chat_id {
            let reply = crate::journey::reply::Reply::text(tr!(
                t,
                "mail-too-large-telegram",
                subject = &shown,
                size = &size,
                limit = &limit
            ));
            super::outbox::enqueue_telegram(
                &mut tx,
                &format!("{key}:tg"),
                &super::outbox::QueuedTelegram::message(chat, &reply),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A letter proven to be the learner's: documents, or a reply through the journey.
    async fn learners_letter(
        &self,
        claim: Claim<'_>,
        at: MailboxUid<'_>,
        message_id: &str,
        examined: &Examined,
        learner: &LearnerRecord,
    ) -> anyhow::Result<()> {
        let mail = &examined.mail;
        if mail.attachments.is_empty() && mail.refused.is_empty() {
            self.reply(claim, mail, examined.reply.clone(), learner)
                .await
        } else {
            self.documents(claim, at, message_id, mail, learner).await
        }
    }

    /// Documents from a learner: stored, filed under the enrollment waiting for them,
    /// a receipt to the learner, staff alerted, and in Telegram the next step.
    async fn documents(
        &self,
        claim: Claim<'_>,
        at: MailboxUid<'_>,
        message_id: &str,
        mail: &IncomingMail,
        learner: &LearnerRecord,
    ) -> anyhow::Result<()> {
        let app = &self.app;
        let t = &app.texts;
        let snapshot = {
            let mut conn = app.store.pool().acquire().await?;
            view::load(&mut conn, learner).await?
        };
        let enrollment = enrollment_for_documents(&snapshot);
        let subject = mail.subject.clone().unwrap_or_default();
        let only_file = mail.attachments.len() == 1;
        let mut accepted = Vec::new();
        let mut refused: Vec<(String, String)> = mail
            .refused
            .iter()
            .map(|r| (r.file_name.clone(), self.refusal_text(&r.reason)))
            .collect();
        for a in &mail.attachments {
            // The same types as the Telegram path, by content.
            let Some(mime) = accepted_type(&a.bytes) else {
                refused.push((a.file_name.clone(), tr!(t, "mail-refused-type-short")));
                continue;
            };
            let key = app.files.put(&a.bytes).await?;
            let kind = classify(&a.file_name, &subject, &mail.text, only_file);
            accepted.push((a, key, mime, kind));
        }

        let now = self.now();
        let mut tx = app.store.begin().await?;
        if !claim.take(&mut tx, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        let mut lines = Vec::new();
        let mut new_ids = Vec::new();
        let mut unsorted = Vec::new();
        for (a, key, mime, kind) in &accepted {
            let (id, new) = enrollments::add_document(
                &mut tx,
                &enrollments::NewDocument {
                    learner_id: learner.id,
                    enrollment_id: enrollment,
                    kind: kind.map_or(ledger::UNSORTED, |k| k.key()),
                    file_name: &a.file_name,
                    mime,
                    size_bytes: a.bytes.len() as i64,
                    sha256: &a.sha256,
                    storage_key: key,
                    source: "email",
                    source_ref: Some(message_id),
                },
                now,
            )
            .await?;
            let line = match (new, kind) {
                (false, _) => tr!(t, "mail-receipt-duplicate", file = &a.file_name),
                (true, Some(k)) => tr!(
                    t,
                    "mail-receipt-accepted",
                    file = &a.file_name,
                    kind = alerts::doc_kind_name(app, k.key())
                ),
                (true, None) => tr!(t, "mail-receipt-unsorted", file = &a.file_name),
            };
            lines.push(line);
            if new {
                new_ids.push(id);
                if kind.is_none() {
                    unsorted.push((id, a.file_name.clone()));
                }
            }
        }
        for (file, reason) in &refused {
            lines.push(tr!(t, "mail-receipt-refused", file = file, reason = reason));
        }
        if !new_ids.is_empty() {
            audit::record(
                &mut tx,
                now,
                "learner",
                "documents-by-email",
                Some(learner.id),
                &format!("{} files", new_ids.len()),
            )
            .await?;
            alerts::queue(
                app,
                &mut tx,
                learner,
                &StaffAlert::DocumentsByEmail {
                    enrollment,
                    documents: new_ids.clone(),
                },
                now,
            )
            .await?;
        }
        let footer = if !unsorted.is_empty() && learner.tg_chat_id.is_some() {
            tr!(t, "mail-receipt-footer-telegram")
        } else if !unsorted.is_empty() {
            // No Telegram: the letter asks, and the reply to it says (numbered as the
            // journey reads the answer: all the learner's unsorted files, oldest first).
            let files = ledger::unsorted_documents(&mut tx, learner.id).await?;
            tr!(
                t,
                "mail-receipt-footer-ask",
                files = crate::texts::Html(numbered_files(&files)),
                how = crate::texts::Html(tr!(t, "mail-sort-how"))
            )
        } else if enrollment.is_none() {
            tr!(t, "mail-receipt-footer-no-enrollment")
        } else {
            tr!(t, "mail-receipt-footer")
        };
        let to = learner
            .email
            .clone()
            .or_else(|| mail.from.as_ref().map(|f| f.address.clone()));
        if let Some(to) = to {
            let text = tr!(
                t,
                "mail-receipt",
                lines = crate::texts::Html(lines.join("\n")),
                footer = crate::texts::Html(footer),
                school = &app.school.name
            );
            let receipt = letter(
                app,
                &to,
                tr!(t, "mail-receipt-subject", school = &app.school.name),
                text,
                message_id,
            );
            let key = format!("mail:receipt:{}:{}", at.uid_validity, short(message_id));
            enqueue_letter(&mut tx, &key, &receipt, now).await?;
        }
        tx.commit().await?;
        if let (Some(enrollment), Some(_)) = (enrollment, learner.tg_chat_id) {
            if !new_ids.is_empty() {
                let event = Event::DocumentsByEmail {
                    enrollment,
                    unsorted,
                };
                engine::handle(
                    app,
                    self.messenger,
                    learner.id,
                    &Origin::system(learner),
                    Input::Event(event),
                )
                .await?;
            }
        }
        Ok(())
    }

    fn refusal_text(&self, reason: &RefusalReason) -> String {
        let t = &self.app.texts;
        match reason {
            RefusalReason::TooLarge { size, limit } => tr!(
                t,
                "mail-refused-too-large-short",
                size = megabytes(*size),
                limit = megabytes(*limit)
            ),
            RefusalReason::TooMany { limit } => {
                tr!(t, "mail-refused-too-many-short", limit = *limit)
            }
            RefusalReason::UnsupportedType { .. } => tr!(t, "mail-refused-type-short"),
        }
    }

    /// A reply without files: through the journey, like text typed in Telegram.
    async fn reply(
        &self,
        claim: Claim<'_>,
        mail: &IncomingMail,
        text: String,
        learner: &LearnerRecord,
    ) -> anyhow::Result<()> {
        let subject = mail.subject.clone().unwrap_or_default();
        if text.is_empty() {
            let claim = match claim {
                Claim::New(mut record) => {
                    record.status = MailStatus::Ignored;
                    record.reason = Some("empty letter");
                    Claim::New(record)
                }
                released => released,
            };
            let mut conn = self.app.store.pool().acquire().await?;
            claim.take(&mut conn, self.now()).await?;
            return Ok(());
        }
        // The step first, then the ledger: a crash in between repeats the step, whose
        // staff alert is keyed by content (not sent twice).
        engine::handle(
            self.app,
            self.messenger,
            learner.id,
            &Origin::system(learner),
            Input::Letter {
                subject: subject.clone(),
                text,
            },
        )
        .await?;
        let mut conn = self.app.store.pool().acquire().await?;
        claim.take(&mut conn, self.now()).await?;
        Ok(())
    }

    /// From a learner's address, without proof: kept (encrypted) for staff to decide.
    async fn hold(
        &self,
        at: MailboxUid<'_>,
        message_id: &str,
        mail: &IncomingMail,
        raw: &[u8],
        learner: &LearnerRecord,
    ) -> anyhow::Result<()> {
        let app = &self.app;
        let raw_key = app.files.put(raw).await?;
        let from = mail
            .from
            .as_ref()
            .map(|f| f.address.clone())
            .unwrap_or_default();
        let subject = mail.subject.clone().unwrap_or_default();
        let now = self.now();
        let mut tx = app.store.begin().await?;
        let record = MailRecord {
            at,
            message_id,
            learner_id: Some(learner.id),
            status: MailStatus::Held,
            reason: Some("From not proven by DKIM/DMARC"),
            sender: Some(&from),
            subject: Some(&subject),
            raw_key: Some(&raw_key),
        };
        if !ledger::record(&mut tx, &record, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        if let Some(id) = ledger::held_id(&mut tx, at).await? {
            let alert = StaffAlert::LetterHeld {
                letter: id,
                from: from.clone(),
                subject,
            };
            alerts::queue(app, &mut tx, learner, &alert, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Nobody we know: one polite answer per address, and staff told.
    async fn unknown(
        &self,
        at: MailboxUid<'_>,
        message_id: &str,
        mail: &IncomingMail,
    ) -> anyhow::Result<()> {
        let app = &self.app;
        let t = &app.texts;
        let subject = mail.subject.clone().unwrap_or_default();
        let Some(from) = mail.from.as_ref().map(|f| f.address.clone()) else {
            return self
                .record_only(MailRecord {
                    at,
                    message_id,
                    learner_id: None,
                    status: MailStatus::Ignored,
                    reason: Some("no sender"),
                    sender: None,
                    subject: Some(&subject),
                    raw_key: None,
                })
                .await;
        };
        let now = self.now();
        let mut tx = app.store.begin().await?;
        let record = MailRecord {
            at,
            message_id,
            learner_id: None,
            status: MailStatus::Unknown,
            reason: None,
            sender: Some(&from),
            subject: Some(&subject),
            raw_key: None,
        };
        if !ledger::record(&mut tx, &record, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        if ledger::claim_autoreply(&mut tx, &from, now).await? {
            let how = if self.settings.bot_username.is_empty() {
                tr!(t, "mail-unknown-how-no-link")
            } else {
                let link = format!(
                    "https://t.me/{}?start=mail",
                    self.settings.bot_username.trim_start_matches('@')
                );
                tr!(t, "mail-unknown-how", link = link)
            };
            let text = tr!(
                t,
                "mail-unknown-reply",
                email = &from,
                how = crate::texts::Html(how),
                school = &app.school.name,
                phone = &app.school.phone
            );
            let answer = letter(
                app,
                &from,
                tr!(t, "mail-unknown-subject", school = &app.school.name),
                text,
                message_id,
            );
            let key = format!("mail:unknown:{}", short(&from));
            enqueue_letter(&mut tx, &key, &answer, now).await?;
        }
        let alert = StaffAlert::UnknownSender { from, subject };
        alerts::queue_general(app, &mut tx, &alert, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A delivery report about letters the bot sent: the address is marked failing.
    async fn bounce(
        &self,
        at: MailboxUid<'_>,
        message_id: &str,
        mail: &IncomingMail,
        report: &DeliveryReport,
    ) -> anyhow::Result<()> {
        let app = &self.app;
        let now = self.now();
        let mut tx = app.store.begin().await?;
        let original = match &report.original_message_id {
            Some(id) => ledger::sent_to(&mut tx, std::slice::from_ref(id)).await?,
            None => None,
        };
        let record = MailRecord {
            at,
            message_id,
            learner_id: None,
            status: MailStatus::Bounce,
            reason: None,
            sender: mail.from.as_ref().map(|f| f.address.as_str()),
            subject: mail.subject.as_deref(),
            raw_key: None,
        };
        if !ledger::record(&mut tx, &record, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        let mut tell = Vec::new();
        for failed in &report.failed {
            let ours = original.as_deref() == Some(failed.address.as_str())
                || ledger::ever_sent_to(&mut tx, &failed.address).await?;
            if !ours {
                continue;
            }
            let reason = match &failed.diagnostic {
                Some(d) => format!("{} {d}", failed.status),
                None => failed.status.clone(),
            };
            ledger::record_failure(&mut tx, &failed.address, &reason, now).await?;
            let alert = StaffAlert::LetterBounced {
                to: failed.address.clone(),
                reason,
            };
            let learner = match learners::by_email(&mut tx, &failed.address).await? {
                Some(l) => Some(l),
                // A mistyped address on its way to verification.
                None => ledger::learner_verifying(&mut tx, &failed.address).await?,
            };
            match learner {
                Some(l) => {
                    alerts::queue(app, &mut tx, &l, &alert, now).await?;
                    tell.push((l, failed.address.clone()));
                }
                None => alerts::queue_general(app, &mut tx, &alert, now).await?,
            }
        }
        tx.commit().await?;
        for (learner, email) in tell {
            let event = Event::LetterBounced { email };
            engine::handle(
                app,
                self.messenger,
                learner.id,
                &Origin::system(&learner),
                Input::Event(event),
            )
            .await?;
        }
        Ok(())
    }
}

/// A staff decision on a held letter: released, it is handled as the learner's letter
/// (documents filed, a reply answered); rejected, it stays in the mailbox only. Returns
/// the answer for the staff member's button.
pub async fn decide_held(
    app: &App,
    messenger: &dyn Messenger,
    letter: i64,
    release: bool,
    staff_user: i64,
) -> anyhow::Result<String> {
    let t = &app.texts;
    let held = {
        let mut conn = app.store.pool().acquire().await?;
        ledger::held_letter(&mut conn, letter).await?
    };
    let Some(held) = held.filter(|h| h.status == MailStatus::Held.code()) else {
        return Ok(tr!(t, "mail-held-decided-before"));
    };
    let now = app.now().timestamp();
    let actor = format!("staff:{staff_user}");
    if !release {
        let mut tx = app.store.begin().await?;
        if ledger::settle_held(&mut tx, letter, MailStatus::Rejected).await? {
            audit::record(
                &mut tx,
                now,
                &actor,
                "mail-held-rejected",
                held.learner_id,
                "",
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(tr!(t, "mail-held-rejected"));
    }
    let learner = {
        let mut conn = app.store.pool().acquire().await?;
        match held.learner_id {
            Some(id) => learners::by_id(&mut conn, id).await?,
            None => None,
        }
    };
    let (Some(learner), Some(raw_key)) = (learner, held.raw_key.as_deref()) else {
        return Ok(tr!(t, "mail-held-decided-before"));
    };
    let raw = app.files.get(raw_key).await?;
    let settings = IntakeSettings {
        limits: MailLimits {
            max_attachment_bytes: app.school.max_document_bytes as usize,
            ..MailLimits::for_document_scans()
        },
        trusted_authserv_id: String::new(),
        bot_username: String::new(),
    };
    let local = app.school_mailbox.split('@').next().unwrap_or_default();
    let Ok(examined) = examine(&raw, &settings.limits, local, "") else {
        return Ok(tr!(t, "mail-held-decided-before"));
    };
    let message_id = examined
        .mail
        .message_id
        .clone()
        .unwrap_or_else(|| format!("held:{letter}"));
    let intake = Intake {
        app,
        messenger,
        settings: &settings,
    };
    let at = MailboxUid {
        mailbox: "held",
        uid_validity: 0,
        uid: letter as u32,
    };
    intake
        .learners_letter(
            Claim::Released(letter),
            at,
            &message_id,
            &examined,
            &learner,
        )
        .await?;
    let mut conn = app.store.pool().acquire().await?;
    audit::record(
        &mut conn,
        now,
        &actor,
        "mail-held-released",
        Some(learner.id),
        "",
    )
    .await?;
    Ok(tr!(t, "mail-held-released"))
}

/// A short stable digest for outbox keys.
fn short(text: &str) -> String {
    sha256_hex(text.as_bytes())[..16].to_owned()
}

#[async_trait]
impl MailSink for MailIntake {
    async fn resume_point(
        &self,
        mailbox: &str,
        uid_validity: u32,
    ) -> anyhow::Result<(u32, Vec<u32>)> {
        let mut conn = self.app.store.pool().acquire().await?;
        Ok(ledger::resume_point(&mut conn, mailbox, uid_validity).await?)
    }

    async fn ingest(
        &self,
        mailbox: &str,
        uid_validity: u32,
        message: &FetchedMessage,
    ) -> anyhow::Result<()> {
        let at = MailboxUid {
            mailbox,
            uid_validity,
            uid: message.uid,
        };
        let intake = Intake {
            app: &self.app,
            messenger: self.messenger.as_ref(),
            settings: &self.settings,
        };
        {
            let mut conn = self.app.store.pool().acquire().await?;
            if ledger::is_recorded(&mut conn, at).await? {
                return Ok(());
            }
        }
        let refused = |message_id, reason| MailRecord {
            at,
            message_id,
            learner_id: None,
            status: MailStatus::Refused,
            reason: Some(reason),
            sender: None,
            subject: None,
            raw_key: None,
        };
        let Some(raw) = message.raw.as_deref() else {
            let id = format!("uid:{uid_validity}:{}", message.uid);
            let reason = format!("letter of {} bytes is over the limit", message.size);
            return intake.too_large(refused(&id, &reason), message).await;
        };
        let fallback_id = format!("sha256:{}", sha256_hex(raw));
        let local = self
            .app
            .school_mailbox
            .split('@')
            .next()
            .unwrap_or_default();
        let examined = match examine(
            raw,
            &self.settings.limits,
            local,
            &self.settings.trusted_authserv_id,
        ) {
            Ok(examined) => examined,
            Err(e) => {
                return intake
                    .record_only(refused(&fallback_id, &e.to_string()))
                    .await
            }
        };
        let mail = &examined.mail;
        let message_id = mail.message_id.clone().unwrap_or(fallback_id);
        let seen = {
            let mut conn = self.app.store.pool().acquire().await?;
            ledger::message_id_seen(&mut conn, &message_id).await?
        };
        let plain = |status, reason| MailRecord {
            at,
            message_id: &message_id,
            learner_id: None,
            status,
            reason,
            sender: mail.from.as_ref().map(|f| f.address.as_str()),
            subject: mail.subject.as_deref(),
            raw_key: None,
        };
        if seen {
            return intake
                .record_only(plain(MailStatus::Duplicate, Some("Message-ID seen before")))
                .await;
        }
        if let Some(report) = &mail.delivery_report {
            return intake.bounce(at, &message_id, mail, report).await;
        }
        if mail.automatic {
            // Auto-replies, lists, robots: never answered (two robots would talk forever).
            return intake
                .record_only(plain(MailStatus::Ignored, Some("automatic letter")))
                .await;
        }
        match intake.sender(&examined).await? {
            Sender::Learner(learner) => {
                // Refused attachments and why, for the record (the receipt tells the learner).
                let refusals: Vec<String> = mail
                    .refused
                    .iter()
                    .map(|r| format!("{}: {:?}", r.file_name, r.reason))
                    .collect();
                let refusals = refusals.join("; ");
                let claim = Claim::New(MailRecord {
                    learner_id: Some(learner.id),
                    ..plain(
                        MailStatus::Processed,
                        Some(refusals.as_str()).filter(|r| !r.is_empty()),
                    )
                });
                intake
                    .learners_letter(claim, at, &message_id, &examined, &learner)
                    .await
            }
            Sender::Unproven(learner) => intake.hold(at, &message_id, mail, raw, &learner).await,
            Sender::Unknown => intake.unknown(at, &message_id, mail).await,
        }
    }

    async fn filed(&self, mailbox: &str, uid_validity: u32, uid: u32) -> anyhow::Result<()> {
        let mut conn = self.app.store.pool().acquire().await?;
        let at = MailboxUid {
            mailbox,
            uid_validity,
            uid,
        };
        ledger::mark_filed(&mut conn, at, self.app.now().timestamp()).await?;
        Ok(())
    }

    async fn trouble(&self, detail: &str) {
        let since = self.app.now().timestamp();
        self.app.health.failed("imap", since, true);
        alerts::integration_failure(&self.app, "imap", detail).await;
    }

    async fn recovered(&self) {
        alerts::service_working(&self.app, "imap").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_addresses_carry_the_token() {
        assert_eq!(
            plus_address("teach@school.ru", "ab12").as_deref(),
            Some("teach+ab12@school.ru")
        );
        assert_eq!(
            plus_address("teach+x@school.ru", "ab12").as_deref(),
            Some("teach+ab12@school.ru")
        );
        assert_eq!(plus_address("nonsense", "ab12"), None);
    }
}
