//! The email channel end to end: the real bot (fake Bot API), the IMAP poller and intake
//! as `uchbot serve` runs them, against real Dovecot (IMAP, LMTP) and Postfix (SMTP) on
//! loopback (tests/support/mail_server.rs), on SQLite and PostgreSQL.
//!
//! What a user checks: the learner's Telegram chat, the staff chat, the letters that
//! arrive in the learner's own mailbox, and the school's mailbox (letters filed away,
//! none deleted).
mod support;

#[path = "support/mail_server.rs"]
mod mail_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use mail_server::{MailServer, MailServerOptions, MailUser, GONE, LEARNER, OTHER_LEARNER, TEACH};
use secrecy::SecretString;
use support::bot::*;
use support::db::TestDb;
use support::journeys::{masha, register, PDF, PNG};
use tokio_util::sync::CancellationToken;
use uchbot::app::mail_in::{self, IntakeSettings, MailIntake};
use uchbot::email::{
    new_message_id, parse_incoming, ImapParams, ImapSession, ImapTls, IncomingMail, MailLimits,
    MailSink, Mailer, PollerConfig, SmtpParams,
};
use uchbot::telegram::fake_api::FakeUser;

const PROCESSED: &str = "Processed";
const TRUSTED: &str = "mx.school.test";
const BOT_USERNAME: &str = "uchbot_test_bot";

fn imap(server: &MailServer, user: MailUser, mailbox: &str) -> ImapParams {
    ImapParams {
        host: server.host().into(),
        port: server.imap_port,
        tls: ImapTls::None,
        username: user.address.into(),
        password: SecretString::from(user.password),
        mailbox: mailbox.into(),
        // Only for reading the processed folder itself in a check.
        processed_mailbox: if mailbox == PROCESSED {
            "Unused"
        } else {
            PROCESSED
        }
        .into(),
        timeout: Duration::from_secs(10),
        ca_file: None,
        max_batch: 2,
        max_message_bytes: 10 << 20,
    }
}

fn intake_settings() -> IntakeSettings {
    IntakeSettings {
        limits: MailLimits::for_document_scans(),
        trusted_authserv_id: TRUSTED.into(),
        bot_username: BOT_USERNAME.into(),
    }
}

/// The mail servers, the bot, and the poller that reads the school's mailbox.
struct Mailroom {
    server: MailServer,
    bot: TestBot,
    mailbox: String,
    poller: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Mailroom {
    async fn open(db: TestDb, mailbox: &str) -> Mailroom {
        Self::open_with(db, mailbox, MailServerOptions::default()).await
    }

    async fn open_with(db: TestDb, mailbox: &str, options: MailServerOptions) -> Mailroom {
        let server = MailServer::start_with(options);
        let mailer = Mailer::new(&SmtpParams {
            url: format!("smtp://127.0.0.1:{}", server.smtp_port),
            username: None,
            password: None,
            from: format!("Учебный центр <{}>", TEACH.address),
            timeout: Duration::from_secs(10),
            ca_file: None,
        })
        .expect("SMTP parameters");
        let bot = TestBot::start(
            db,
            Options {
                env: vec![("UCHBOT_SCHOOL__EMAIL".into(), TEACH.address.into())],
                mail: Some(Arc::new(mailer)),
                ..Options::default()
            },
        )
        .await;
        Mailroom {
            server,
            bot,
            mailbox: mailbox.into(),
            poller: None,
        }
    }

    fn poller_config(&self) -> PollerConfig {
        let mut config = PollerConfig::new(
            imap(&self.server, TEACH, &self.mailbox),
            Duration::from_secs(1),
        );
        config.idle_for = Duration::from_secs(2);
        config.backoff_min = Duration::from_millis(100);
        config.backoff_max = Duration::from_secs(1);
        config
    }

    fn intake(&self) -> MailIntake {
        MailIntake {
            app: self.bot.app.clone(),
            messenger: self.bot.messenger(),
            settings: intake_settings(),
        }
    }

    fn start_poller(&mut self) {
        let stop = CancellationToken::new();
        let task = mail_in::spawn(
            self.bot.app.clone(),
            self.bot.messenger(),
            self.poller_config(),
            intake_settings(),
            stop.clone(),
        );
        self.poller = Some((stop, task));
    }

    /// Kills the poller wherever it is, as a crash would.
    async fn crash_poller(&mut self) {
        if let Some((_, task)) = self.poller.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn stop_poller(&mut self) {
        if let Some((stop, task)) = self.poller.take() {
            stop.cancel();
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("the poller stops")
                .expect("the poller does not panic");
        }
    }

    async fn ledger(&self, status: Option<&str>) -> i64 {
        let (n,): (i64,) = match status {
            Some(s) => sqlx::query_as("SELECT COUNT(*) FROM mail_messages WHERE status = $1")
                .bind(s.to_owned())
                .fetch_one(self.bot.app.store.pool())
                .await
                .unwrap(),
            None => sqlx::query_as("SELECT COUNT(*) FROM mail_messages")
                .fetch_one(self.bot.app.store.pool())
                .await
                .unwrap(),
        };
        n
    }

    /// Waits until the ledger holds `n` letters and the school's mailbox is empty (all
    /// of them filed away).
    async fn wait_ingested(&self, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let recorded = self.ledger(None).await;
            let left = self.count_in(&self.mailbox).await;
            if recorded >= n && left == 0 {
                assert_eq!(recorded, n, "more letters recorded than delivered");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{recorded} of {n} letters recorded, {left} still in {}",
                self.mailbox
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Letters in a mailbox of the school.
    async fn count_in(&self, mailbox: &str) -> u32 {
        let mut session = ImapSession::connect(&imap(&self.server, TEACH, mailbox))
            .await
            .expect("IMAP login");
        let exists = session.select().await.map(|s| s.exists).unwrap_or(0);
        let _ = session.logout().await;
        exists
    }

    async fn stop(mut self) {
        self.stop_poller().await;
        self.bot.stop().await;
    }
}

/// A letter from `from` to the school.
fn letter(from: &str, subject: &str, body: &str) -> Vec<u8> {
    letter_with(from, TEACH.address, subject, body, "", &[])
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A letter with extra headers (each ending in CRLF) and attachments.
fn letter_with(
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    headers: &str,
    files: &[(&str, &str, &[u8])],
) -> Vec<u8> {
    let id = new_message_id("example.test");
    let mut raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?utf-8?B?{}?=\r\nMessage-ID: <{id}>\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n{headers}",
        b64(subject.as_bytes())
    );
    if files.is_empty() {
        raw.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(body.as_bytes())
        ));
        return raw.into_bytes();
    }
    raw.push_str("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n");
    raw.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(body.as_bytes())
    ));
    for (name, mime, bytes) in files {
        raw.push_str(&format!(
            "--b1\r\nContent-Type: {mime}; name=\"=?utf-8?B?{n}?=\"\r\n\
             Content-Disposition: attachment; filename=\"=?utf-8?B?{n}?=\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(bytes),
            n = b64(name.as_bytes())
        ));
    }
    raw.push_str("--b1--\r\n");
    raw.into_bytes()
}

/// The school's MX vouches for the sender's domain.
fn proven(raw: Vec<u8>) -> Vec<u8> {
    let mut out = format!(
        "Authentication-Results: {TRUSTED}; dkim=pass header.d=example.test header.s=mail; \
         dmarc=pass header.from=example.test\r\n"
    )
    .into_bytes();
    out.extend(raw);
    out
}

fn message_id_of(raw: &[u8]) -> String {
    parse_incoming(raw, &MailLimits::for_document_scans())
        .unwrap()
        .message_id
        .unwrap()
}

/// Letters in a user's INBOX whose subject contains `subject`, waiting up to 20 s for
/// at least `count` of them.
async fn letters_to(
    server: &MailServer,
    user: MailUser,
    subject: &str,
    count: usize,
) -> Vec<IncomingMail> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = letters_now(server, user, subject).await;
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} letters «{subject}» arrived for {}; postfix log:\n{}",
            found.len(),
            user.address,
            server.postfix_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn letters_now(server: &MailServer, user: MailUser, subject: &str) -> Vec<IncomingMail> {
    all_in_inbox(server, user)
        .await
        .iter()
        .filter_map(|m| parse_incoming(m.raw.as_ref()?, &MailLimits::for_document_scans()).ok())
        .filter(|m| m.subject.as_deref().unwrap_or("").contains(subject))
        .collect()
}

async fn raw_letters(server: &MailServer, user: MailUser) -> Vec<Vec<u8>> {
    all_in_inbox(server, user)
        .await
        .into_iter()
        .filter_map(|m| m.raw)
        .collect()
}

/// Every letter in a user's INBOX (fetched batch after batch), in UID order.
async fn all_in_inbox(
    server: &MailServer,
    user: MailUser,
) -> Vec<uchbot::email::imap::FetchedMessage> {
    let mut session = ImapSession::connect(&imap(server, user, "INBOX"))
        .await
        .expect("IMAP login");
    session.select().await.expect("SELECT");
    let mut all = Vec::new();
    loop {
        let after = all
            .last()
            .map_or(0, |m: &uchbot::email::imap::FetchedMessage| m.uid);
        let batch = session.fetch_after(after).await.expect("fetch");
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    let _ = session.logout().await;
    all
}

/// Registration with `email`, payment and the application form: the learner is asked
/// for the passport scan.
async fn up_to_documents(bot: &mut TestBot, user: &FakeUser, email: &str) {
    register(bot, user, email).await;
    run(
        bot,
        user,
        vec![
            press("📚 Каталог курсов"),
            press("Повышение квалификации (3)"),
            press("Организация образовательного процесса в соответствии с ФГОС · 72 часа"),
            press("Записаться: с 18 января 2027 г. по 12 февраля 2027 г."),
            press("✅ Принимаю условия оферты"),
            press("💳 Оплатить 4\u{a0}900\u{a0}₽ (демо)"),
            press("📝 Заполнить заявление"),
            say("Иванова"),
            say("Мария"),
            say("Сергеевна"),
            say("07.03.1985"),
            say("112-233-445 95"),
            say("8 912 345 67 89"),
            press_prefix("Оставить:"),
            press("Высшее"),
            press("Совпадает с текущими ФИО"),
            say("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12"),
            press("✅ Всё верно"),
            sees("скан или фото паспорта"),
        ],
    )
    .await;
}

fn texts_in(bot: &TestBot, chat: i64, needle: &str) -> usize {
    bot.fake
        .messages(chat)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains(needle)))
        .count()
}

// ------------------------------------------------------------------ documents

async fn documents_by_email_join_the_application_file(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    let user = masha();
    up_to_documents(&mut room.bot, &user, LEARNER.address).await;
    room.start_poller();

    let raw = proven(letter_with(
        &format!("Мария <{}>", LEARNER.address),
        TEACH.address,
        "Документы на зачисление",
        "Добрый день! Высылаю документы.\n\n-- \nМария",
        "",
        &[
            ("паспорт.pdf", "application/pdf", PDF),
            ("IMG_0042.png", "image/png", PNG),
            (
                "readme.exe",
                "application/octet-stream",
                b"MZ\x90\x00not a scan",
            ),
        ],
    ));
    let id = message_id_of(&raw);
    room.server.deliver(TEACH.address, &raw);
    room.wait_ingested(1).await;

    // Telegram: the file whose kind is unclear is asked about; the learner answers.
    room.bot
        .wait_text(user.id, "Файл «IMG_0042.png» пришёл по почте")
        .await;
    run(
        &mut room.bot,
        &user,
        vec![
            press("Документ об образовании"),
            sees("Принято: Документ об образовании"),
            press("Готово, дальше →"),
            sees("Все документы на месте"),
            sees("паспорт.pdf"),
            sees("IMG_0042.png"),
            press("✅ Отправить на проверку"),
            sees("Вы зачислены в группу"),
        ],
    )
    .await;

    // Staff: the documents by email, then the application with them.
    room.bot
        .wait_text(STAFF_CHAT, "Документы пришли по почте")
        .await;
    room.bot.wait_text(STAFF_CHAT, "паспорт.pdf").await;

    // The learner's mailbox: a receipt, in the thread of their letter.
    let receipts = letters_to(&room.server, LEARNER, "Документы получены", 1).await;
    let receipt = &receipts[0];
    assert_eq!(receipt.in_reply_to, vec![id.clone()]);
    for line in [
        "«паспорт.pdf» — принят: Паспорт",
        "«IMG_0042.png» — принят; уточним, какой это документ",
        "«readme.exe» — не принят: такой формат мы не принимаем",
    ] {
        assert!(receipt.text.contains(line), "{line} in:\n{}", receipt.text);
    }
    let (reason,): (Option<String>,) =
        sqlx::query_as("SELECT reason FROM mail_messages WHERE status = 'processed'")
            .fetch_one(room.bot.app.store.pool())
            .await
            .unwrap();
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("readme.exe")),
        "the refusal is recorded: {reason:?}"
    );
    let reply_to = receipt.reply_to.as_ref().expect("Reply-To").address.clone();
    assert!(reply_to.starts_with("teach+"), "{reply_to}");

    // The same letter again (a client resending it): nothing new is stored or sent.
    room.server.deliver(TEACH.address, &raw);
    room.wait_ingested(2).await;
    assert_eq!(room.ledger(Some("duplicate")).await, 1);
    // Filed away, not deleted.
    assert_eq!(room.count_in(PROCESSED).await, 2);
    let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents WHERE source = 'email'")
        .fetch_one(room.bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(docs, 2);
    room.stop().await;
}

// -------------------------------------------------------------------- replies

async fn code_and_question_by_reply(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    room.start_poller();
    let user = masha();
    run(
        &mut room.bot,
        &user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say(LEARNER.address),
            sees("6-значным кодом"),
        ],
    )
    .await;
    // The code letter arrives through Postfix, as multipart text + HTML with a plus
    // Reply-To.
    let code_letter = letters_to(&room.server, LEARNER, "Код подтверждения", 1)
        .await
        .remove(0);
    let reply_to = code_letter.reply_to.clone().expect("Reply-To").address;
    assert!(reply_to.starts_with("teach+"), "{reply_to}");
    let raw = raw_letters(&room.server, LEARNER).await.remove(0);
    let raw = String::from_utf8_lossy(&raw);
    for header in [
        "Content-Type: multipart/alternative",
        "Content-Type: text/html; charset=utf-8",
        "Auto-Submitted: auto-generated",
        "Message-ID: <",
        "Date: ",
    ] {
        assert!(raw.contains(header), "{header} in:\n{raw}");
    }
    let at = code_letter.text.find("адреса: ").expect("code line") + "адреса: ".len();
    let code = code_letter.text[at..at + 6].to_owned();

    // The learner answers the letter with the code, the original quoted below.
    let quoted: String = code_letter
        .text
        .lines()
        .map(|l| format!("> {l}\n"))
        .collect();
    let answer = letter_with(
        LEARNER.address,
        &reply_to,
        "Re: Код подтверждения",
        &format!("{code}\n\nПт, 4 дек. 2026 г. в 10:00, Учебный центр пишет:\n{quoted}"),
        &format!(
            "In-Reply-To: <{0}>\r\nReferences: <{0}>\r\n",
            code_letter.message_id.as_deref().unwrap()
        ),
        &[],
    );
    room.server.deliver(TEACH.address, &answer);
    room.bot.wait_text(user.id, "подтверждён").await;

    // A question in reply to a letter, without a token: the thread finds the learner.
    let question = letter_with(
        LEARNER.address,
        TEACH.address,
        "Re: Код подтверждения",
        "Здравствуйте! Когда начнутся занятия?\n\n> Ваш код подтверждения адреса",
        &format!(
            "In-Reply-To: <{}>\r\n",
            code_letter.message_id.as_deref().unwrap()
        ),
        &[],
    );
    room.server.deliver(TEACH.address, &question);
    let alert = room.bot.wait_text(STAFF_CHAT, "Вопрос по почте").await;
    let alert = alert.shown_text().unwrap();
    assert!(alert.contains("Когда начнутся занятия?"), "{alert}");
    assert!(alert.contains("Мария"), "{alert}");
    assert!(
        !alert.contains("Ваш код"),
        "the quote is not forwarded: {alert}"
    );
    room.bot
        .wait_text(user.id, "передали его сотрудникам")
        .await;
    room.wait_ingested(2).await;
    assert_eq!(room.ledger(Some("processed")).await, 2);
    room.stop().await;
}

// ------------------------------------------------------- learners without Telegram

/// A learner known only by email (no Telegram chat): the bot's answers go by letter.
async fn email_only(room: &Mailroom) -> uchbot::store::LearnerRecord {
    let mut conn = room.bot.app.store.pool().acquire().await.unwrap();
    uchbot::store::learners::ensure_email_only(
        &mut conn,
        LEARNER.address,
        "Мария",
        "a1b2c3d4e5f60718",
        room.bot.app.now().timestamp(),
    )
    .await
    .unwrap()
}

/// The learner answers `original` (a letter in their mailbox) with `text` above the quote,
/// to its Reply-To address and in its thread.
fn answer_to(original: &IncomingMail, text: &str) -> Vec<u8> {
    let reply_to = original
        .reply_to
        .as_ref()
        .expect("Reply-To")
        .address
        .clone();
    assert!(reply_to.starts_with("teach+"), "{reply_to}");
    let quoted: String = original.text.lines().map(|l| format!("> {l}\n")).collect();
    let id = original.message_id.as_deref().unwrap();
    letter_with(
        LEARNER.address,
        &reply_to,
        &format!("Re: {}", original.subject.as_deref().unwrap_or_default()),
        &format!("{text}\n\nПт, 4 дек. 2026 г. в 10:00, Учебный центр пишет:\n{quoted}"),
        &format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n"),
        &[],
    )
}

async fn kinds_of_documents(room: &Mailroom, learner: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT file_name, kind FROM documents WHERE learner_id = $1 ORDER BY id")
        .bind(learner)
        .fetch_all(room.bot.app.store.pool())
        .await
        .unwrap()
}

async fn files_of_unclear_kind_are_asked_about_by_letter(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    let learner = email_only(&room).await;
    room.start_poller();

    room.server.deliver(
        TEACH.address,
        &proven(letter_with(
            &format!("Мария <{}>", LEARNER.address),
            TEACH.address,
            "Документы",
            "Добрый день! Высылаю сканы.",
            "",
            &[
                ("scan001.pdf", "application/pdf", PDF),
                ("scan002.png", "image/png", PNG),
            ],
        )),
    );
    // The receipt asks, the files numbered.
    let receipt = letters_to(&room.server, LEARNER, "Документы получены", 1)
        .await
        .remove(0);
    for line in [
        "«scan001.pdf» — принят; уточним, какой это документ",
        "1. «scan001.pdf»",
        "2. «scan002.png»",
        "1 — паспорт",
    ] {
        assert!(receipt.text.contains(line), "{line} in:\n{}", receipt.text);
    }
    assert_eq!(
        kinds_of_documents(&room, learner.id).await,
        vec![
            ("scan001.pdf".into(), "unsorted".into()),
            ("scan002.png".into(), "unsorted".into())
        ]
    );

    // One understood, one not: recorded, and asked again (numbered anew).
    room.server.deliver(
        TEACH.address,
        &answer_to(&receipt, "Здравствуйте!\n1 — паспорт\n2 — не помню"),
    );
    let told = letters_to(&room.server, LEARNER, "Новости по вашему обучению", 1)
        .await
        .remove(0);
    assert!(
        told.text.contains("«scan001.pdf» — Паспорт"),
        "{}",
        told.text
    );
    assert!(told.text.contains("1. «scan002.png»"), "{}", told.text);
    assert!(!told.text.contains("scan001.pdf»\n"), "{}", told.text);

    room.server
        .deliver(TEACH.address, &answer_to(&told, "1 - аттестат"));
    let last = letters_to(&room.server, LEARNER, "Новости по вашему обучению", 2)
        .await
        .pop()
        .unwrap();
    assert!(
        last.text
            .contains("«scan002.png» — Документ об образовании"),
        "{}",
        last.text
    );
    assert!(!last.text.contains("Не удалось понять"), "{}", last.text);
    assert_eq!(
        kinds_of_documents(&room, learner.id).await,
        vec![
            ("scan001.pdf".into(), "passport".into()),
            ("scan002.png".into(), "education".into())
        ]
    );
    // Answers about files are not questions for staff.
    assert_eq!(texts_in(&room.bot, STAFF_CHAT, "Вопрос по почте"), 0);
    room.wait_ingested(3).await;
    assert_eq!(room.ledger(Some("processed")).await, 3);
    room.stop().await;
}

async fn the_sample_is_confirmed_by_a_reply(db: TestDb) {
    use uchbot::journey::{reply::Reply, Command};
    use uchbot::store::enrollments;
    let mut room = Mailroom::open(db, "INBOX").await;
    let learner = email_only(&room).await;
    let app = room.bot.app.clone();
    let now = app.now().timestamp();
    // Enrolled in the January group; the sample of the document issued (as the journey
    // does when the group ends after a passed test): the letter with the PDF goes out.
    let enrollment = {
        let mut tx = app.store.begin().await.unwrap();
        let (enrollment, _) = enrollments::accept_offer(
            &mut tx,
            &enrollments::OfferAcceptance {
                learner_id: learner.id,
                course_id: "pk-fgos",
                group_id: "pk-fgos-2027-01",
                offer_version: "2026-11-01",
                offer_sha256: "ab",
                tg_user_id: None,
                tg_message_id: None,
                amount_kopecks: 490_000,
            },
            now,
        )
        .await
        .unwrap();
        let issue = Command::IssueSample {
            enrollment,
            version: 1,
            full_name: "Иванова Мария Сергеевна".into(),
            postal_address: "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12".into(),
            notice: Reply::text("Образец"),
            letter: "Проверьте, пожалуйста, ФИО и адрес. Если всё верно, ответьте на это \
                     письмо словом «Подтверждаю»."
                .into(),
        };
        assert!(
            uchbot::app::commands::apply(&app, &mut tx, &learner, &issue, now)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        enrollment
    };
    room.start_poller();
    let sample = letters_to(&room.server, LEARNER, "Образец документа", 1)
        .await
        .remove(0);
    assert_eq!(sample.attachments.len(), 1, "the PDF is attached");

    room.server
        .deliver(TEACH.address, &answer_to(&sample, "Подтверждаю"));
    // Staff alerted, the learner told, the data locked.
    room.bot
        .wait_text(STAFF_CHAT, "Образец документа подтверждён")
        .await;
    let told = letters_to(&room.server, LEARNER, "Новости по вашему обучению", 1)
        .await
        .remove(0);
    assert!(
        told.text.contains("Данные документа подтверждены"),
        "{}",
        told.text
    );
    assert!(
        told.text.contains("Иванова Мария Сергеевна"),
        "{}",
        told.text
    );
    let (confirmed,): (Option<i64>,) =
        sqlx::query_as("SELECT confirmed_at FROM certificates WHERE enrollment_id = $1")
            .bind(enrollment)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(confirmed.is_some(), "the sample is confirmed");
    assert_eq!(texts_in(&room.bot, STAFF_CHAT, "Вопрос по почте"), 0);

    // «Подтверждаю» again: the data stay locked; nothing is confirmed twice.
    room.server
        .deliver(TEACH.address, &answer_to(&sample, "Подтверждаю"));
    room.wait_ingested(2).await;
    assert_eq!(
        texts_in(&room.bot, STAFF_CHAT, "Образец документа подтверждён"),
        1
    );
    room.stop().await;
}

// --------------------------------------------------------- exactly-once ledger

/// APPENDs letters to a mailbox of the school.
async fn append(server: &MailServer, mailbox: &str, letters: &[Vec<u8>]) {
    let mut session = server.imap_login(&TEACH).await;
    let _ = session.create(mailbox).await;
    for raw in letters {
        session.append(mailbox, None, None, raw).await.unwrap();
    }
    session.logout().await.unwrap();
}

/// Deletes and re-creates a mailbox: its UIDVALIDITY changes.
async fn recreate(server: &MailServer, mailbox: &str) {
    let mut session = server.imap_login(&TEACH).await;
    session.delete(mailbox).await.unwrap();
    session.create(mailbox).await.unwrap();
    session.logout().await.unwrap();
}

async fn uid_validity(server: &MailServer, mailbox: &str) -> u32 {
    let mut session = ImapSession::connect(&imap(server, TEACH, mailbox))
        .await
        .unwrap();
    let state = session.select().await.unwrap();
    let _ = session.logout().await;
    state.uid_validity
}

async fn every_letter_once_across_crashes_and_uidvalidity_changes(db: TestDb) {
    const INTAKE: &str = "Intake";
    let mut room = Mailroom::open(db, INTAKE).await;
    let user = masha();
    register(&mut room.bot, &user, LEARNER.address).await;
    let questions: Vec<Vec<u8>> = (1..=9)
        .map(|n| {
            proven(letter(
                LEARNER.address,
                &format!("Вопрос {n}"),
                &format!("Вопрос номер {n}: когда будет занятие?"),
            ))
        })
        .collect();
    let acks = |room: &Mailroom| texts_in(&room.bot, user.id, "передали его сотрудникам");

    // A crash between recording a letter and filing it: the next session files it
    // without handling it again.
    append(&room.server, INTAKE, &questions[0..3]).await;
    {
        let mut session = ImapSession::connect(&imap(&room.server, TEACH, INTAKE))
            .await
            .unwrap();
        let state = session.select().await.unwrap();
        let first = session.fetch_after(0).await.unwrap().remove(0);
        room.intake()
            .ingest(INTAKE, state.uid_validity, &first)
            .await
            .unwrap();
        let _ = session.logout().await;
    }
    room.start_poller();
    room.wait_ingested(3).await;

    // A crash in the middle of a batch (batches of 2 here).
    append(&room.server, INTAKE, &questions[3..8]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while room.ledger(None).await < 5 {
        assert!(Instant::now() < deadline, "the poller took nothing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    room.crash_poller().await;
    room.start_poller();
    room.wait_ingested(8).await;

    // The mailbox is re-created (UIDVALIDITY changes) with a letter seen before and a
    // new one, while the poller is down.
    room.stop_poller().await;
    let before = uid_validity(&room.server, INTAKE).await;
    recreate(&room.server, INTAKE).await;
    append(
        &room.server,
        INTAKE,
        &[questions[1].clone(), questions[8].clone()],
    )
    .await;
    assert_ne!(uid_validity(&room.server, INTAKE).await, before);
    room.start_poller();
    room.wait_ingested(10).await;

    // And the same Message-ID once more while it runs.
    append(&room.server, INTAKE, &questions[8..9]).await;
    room.wait_ingested(11).await;

    assert_eq!(room.ledger(Some("processed")).await, 9);
    assert_eq!(room.ledger(Some("duplicate")).await, 2);
    // Every question reached staff (past a few a minute, as a digest that waits for more:
    // move the clock on), and the learner got one answer for each.
    room.bot.app.clock.advance(60);
    for n in 1..=9 {
        room.bot.wait_text(STAFF_CHAT, &format!("Вопрос {n}")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while acks(&room) < 9 {
        assert!(Instant::now() < deadline, "{} answers of 9", acks(&room));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(acks(&room), 9, "each letter answered exactly once");
    // Nothing deleted: all 11 letters are in the processed folder.
    assert_eq!(room.count_in(PROCESSED).await, 11);
    room.stop().await;
}

// ------------------------------------------------- forged From, loops, bounces

async fn forged_from_is_held_for_staff(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    let user = masha();
    register(&mut room.bot, &user, LEARNER.address).await;
    room.start_poller();
    // Someone else writes «From: the learner», with a DKIM pass claimed by a server the
    // school does not trust.
    let forged = letter_with(
        LEARNER.address,
        TEACH.address,
        "Паспорт",
        "Мой паспорт",
        "Authentication-Results: mx.evil.test; dkim=pass header.d=example.test\r\n",
        &[("паспорт.pdf", "application/pdf", PDF)],
    );
    room.server.deliver(TEACH.address, &forged);
    room.wait_ingested(1).await;
    let alert = room.bot.wait_text(STAFF_CHAT, "Письмо задержано").await;
    assert!(alert.shown_text().unwrap().contains(LEARNER.address));
    assert_eq!(room.ledger(Some("held")).await, 1);
    let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents")
        .fetch_one(room.bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(docs, 0, "nothing of a held letter joins the learner's file");
    assert_eq!(
        letters_now(&room.server, LEARNER, "Документы получены")
            .await
            .len(),
        0,
        "no receipt to an unproven sender"
    );

    // A manager who knows the letter is the learner's (they phoned) takes it in.
    let manager = FakeUser::new(MANAGER, "Ольга");
    let (toast, _) = room
        .bot
        .press_in(&manager, STAFF_CHAT, "✅ Принять письмо")
        .await;
    assert_eq!(toast.as_deref(), Some("Письмо принято и обработано."));
    let receipt = letters_to(&room.server, LEARNER, "Документы получены", 1).await;
    assert!(receipt[0].text.contains("«паспорт.pdf» — принят: Паспорт"));
    let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents")
        .fetch_one(room.bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(docs, 1);
    let (toast, _) = room
        .bot
        .press_in(&manager, STAFF_CHAT, "✅ Принять письмо")
        .await;
    assert_eq!(
        toast.as_deref(),
        Some("По этому письму уже принято решение.")
    );
    assert_eq!(room.ledger(Some("released")).await, 1);
    room.stop().await;
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mail")
        .join(name);
    std::fs::read(path).unwrap()
}

async fn unknown_senders_get_one_answer_and_robots_none(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    room.start_poller();
    // A stranger writes twice: one polite answer with the bot's deep link.
    for subject in ["Хочу учиться", "Вы получили моё письмо?"] {
        room.server.deliver(
            TEACH.address,
            &letter(OTHER_LEARNER.address, subject, "Здравствуйте!"),
        );
    }
    // Robots: an auto-reply, a mailing list, bulk mail, the mailer daemon.
    for headers in [
        "Auto-Submitted: auto-replied\r\n",
        "List-Id: <news.example.test>\r\n",
        "Precedence: bulk\r\n",
        "X-Autoreply: yes\r\n",
    ] {
        room.server.deliver(
            TEACH.address,
            &letter_with(
                LEARNER.address,
                TEACH.address,
                "Автоответ",
                "Я в отпуске",
                headers,
                &[],
            ),
        );
    }
    room.server.deliver(
        TEACH.address,
        &letter("MAILER-DAEMON@example.test", "Undelivered", "…"),
    );
    // Russian charsets from strangers: staff read their subjects.
    room.server.deliver(TEACH.address, &fixture("cp1251.eml"));
    room.server.deliver(TEACH.address, &fixture("koi8r.eml"));
    room.wait_ingested(9).await;

    let answers = letters_to(&room.server, OTHER_LEARNER, "Ваше письмо получено", 1).await;
    assert!(
        answers[0]
            .text
            .contains(&format!("https://t.me/{BOT_USERNAME}?start=mail")),
        "{}",
        answers[0].text
    );
    room.bot
        .wait_text(STAFF_CHAT, "Письмо от неизвестного отправителя")
        .await;
    room.bot.wait_text(STAFF_CHAT, "Хочу учиться").await;
    room.bot
        .wait_text(STAFF_CHAT, "Заявление на зачисление")
        .await;
    room.bot.wait_text(STAFF_CHAT, "Проверьте ФИО").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        letters_now(&room.server, OTHER_LEARNER, "").await.len(),
        1,
        "one answer, however often a stranger writes"
    );
    assert_eq!(
        letters_now(&room.server, LEARNER, "").await.len(),
        0,
        "robots are never answered"
    );
    assert_eq!(room.ledger(Some("ignored")).await, 5);
    room.stop().await;
}

async fn bounces_mark_the_address_failing(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    room.start_poller();
    let user = masha();
    // The learner mistypes their address: Postfix accepts the code letter, delivery
    // fails, and Postfix's report comes back to the school's mailbox.
    run(
        &mut room.bot,
        &user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say(GONE),
            sees("6-значным кодом"),
        ],
    )
    .await;
    let alert = room.bot.wait_text(STAFF_CHAT, "Письмо не доставлено").await;
    let alert = alert.shown_text().unwrap();
    assert!(alert.contains(GONE), "{alert}");
    assert!(
        alert.contains("Мария"),
        "the learner behind the address: {alert}"
    );
    // The learner hears it too, and can type the address again.
    room.bot.wait_text(user.id, "Письмо с кодом не дошло").await;
    run(
        &mut room.bot,
        &user,
        vec![say(LEARNER.address), sees("6-значным кодом")],
    )
    .await;
    let (reason,): (String,) =
        sqlx::query_as("SELECT reason FROM mail_failures WHERE address = $1")
            .bind(GONE)
            .fetch_one(room.bot.app.store.pool())
            .await
            .unwrap();
    assert!(reason.starts_with("5."), "{reason}");
    assert_eq!(room.ledger(Some("bounce")).await, 1);
    room.stop().await;
}

async fn a_forwarded_letter_gives_its_nested_attachments(db: TestDb) {
    let mut room = Mailroom::open(db, "INBOX").await;
    let user = masha();
    up_to_documents(&mut room.bot, &user, LEARNER.address).await;
    room.start_poller();
    room.server
        .deliver(TEACH.address, &proven(fixture("forwarded.eml")));
    room.wait_ingested(1).await;
    room.bot
        .wait_text(STAFF_CHAT, "Документы пришли по почте")
        .await;
    let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents WHERE source = 'email'")
        .fetch_one(room.bot.app.store.pool())
        .await
        .unwrap();
    assert!(docs >= 1, "the forwarded scan is stored");
    letters_to(&room.server, LEARNER, "Документы получены", 1).await;
    room.stop().await;
}

/// A server without MOVE: letters are copied to the processed folder and flagged in
/// place, and a restart does not handle them again.
async fn without_move_letters_are_flagged_and_not_handled_twice(db: TestDb) {
    let mut room = Mailroom::open_with(
        db,
        "INBOX",
        MailServerOptions {
            advertise_move: false,
        },
    )
    .await;
    let user = masha();
    register(&mut room.bot, &user, LEARNER.address).await;
    room.start_poller();
    for n in 1..=3 {
        room.server.deliver(
            TEACH.address,
            &proven(letter(
                LEARNER.address,
                &format!("Вопрос {n}"),
                "Когда занятие?",
            )),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while room.count_in(PROCESSED).await < 3 {
        assert!(Instant::now() < deadline, "letters not filed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    room.crash_poller().await;
    room.start_poller();
    room.server.deliver(
        TEACH.address,
        &proven(letter(LEARNER.address, "Вопрос 4", "Когда занятие?")),
    );
    while room.count_in(PROCESSED).await < 4 {
        assert!(Instant::now() < deadline, "letter 4 not filed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        room.count_in("INBOX").await,
        4,
        "flagged in place, none deleted"
    );
    assert_eq!(room.ledger(None).await, 4);
    // Answers go out at Telegram's pace of one a second in a chat.
    let acks = |room: &Mailroom| texts_in(&room.bot, user.id, "передали его сотрудникам");
    let deadline = Instant::now() + Duration::from_secs(15);
    while acks(&room) < 4 {
        assert!(Instant::now() < deadline, "{} answers of 4", acks(&room));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(acks(&room), 4, "each letter answered once");
    room.stop().await;
}

// ------------------------------------------------------------ letters over the limit

async fn a_letter_over_the_limit_is_explained_to_its_learner(db: TestDb) {
    const LIMIT: usize = 1 << 20;
    let mut room = Mailroom::open(db, "Big").await;
    let user = masha();
    register(&mut room.bot, &user, LEARNER.address).await;
    let scan = vec![0x5a_u8; LIMIT + LIMIT / 2];
    let from_learner = proven(letter_with(
        LEARNER.address,
        TEACH.address,
        "Сканы документов",
        "Добрый день! Высылаю документы.",
        "",
        &[("паспорт.pdf", "application/pdf", &scan)],
    ));
    let from_stranger = letter_with(
        OTHER_LEARNER.address,
        TEACH.address,
        "Большие сканы",
        "Здравствуйте!",
        "",
        &[("скан.pdf", "application/pdf", &scan)],
    );
    append(&room.server, "Big", &[from_learner, from_stranger]).await;
    // The mailbox takes letters up to 1 MB, as `[imap]` and the intake would agree.
    let mut params = imap(&room.server, TEACH, "Big");
    params.max_message_bytes = LIMIT as u32;
    let mut config = PollerConfig::new(params, Duration::from_secs(1));
    config.idle_for = Duration::from_secs(2);
    let mut settings = intake_settings();
    settings.limits.max_message_bytes = LIMIT;
    let stop = CancellationToken::new();
    let task = mail_in::spawn(
        room.bot.app.clone(),
        room.bot.messenger(),
        config,
        settings,
        stop.clone(),
    );
    room.poller = Some((stop, task));
    room.wait_ingested(2).await;
    assert_eq!(room.ledger(Some("refused")).await, 2);

    // The learner: a letter in their mailbox and a message in Telegram, naming the letter,
    // the limit and what to do.
    let answers = letters_to(&room.server, LEARNER, "Письмо не принято", 1).await;
    let text = &answers[0].text;
    for needle in [
        "«Сканы документов»",
        "до 1,0 МБ",
        "несколькими письмами",
        "Telegram",
    ] {
        assert!(text.contains(needle), "«{needle}» not in:\n{text}");
    }
    let told = room.bot.wait_text(user.id, "не принято").await;
    let told = told.shown_text().unwrap();
    assert!(told.contains("«Сканы документов»"), "{told}");
    assert!(told.contains("1,0 МБ"), "{told}");
    // Nobody we know: nothing more than the record (no answer, no alert).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(letters_now(&room.server, OTHER_LEARNER, "")
        .await
        .is_empty());
    assert_eq!(answers.len(), 1);
    room.stop().await;
}

on_both_backends! {
    without_move => without_move_letters_are_flagged_and_not_handled_twice;
    documents_by_email => documents_by_email_join_the_application_file;
    replies => code_and_question_by_reply;
    exactly_once => every_letter_once_across_crashes_and_uidvalidity_changes;
    forged_from => forged_from_is_held_for_staff;
    unknown_and_robots => unknown_senders_get_one_answer_and_robots_none;
    bounces => bounces_mark_the_address_failing;
    forwarded => a_forwarded_letter_gives_its_nested_attachments;
    sorting_by_letter => files_of_unclear_kind_are_asked_about_by_letter;
    sample_by_letter => the_sample_is_confirmed_by_a_reply;
    too_large => a_letter_over_the_limit_is_explained_to_its_learner;
}

// ------------------------------------------------------------ `uchbot serve`

/// The real binary, configured by the environment as an operator would, reads the
/// school's mailbox and answers through the real SMTP server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_the_mailbox_and_answers_by_smtp() {
    use std::process::{Command, Stdio};
    let server = MailServer::start();
    // No `telegram.bot_username` configured: `serve` asks getMe, and the fake answers with
    // a name no configuration here has.
    let fake = uchbot::telegram::fake_api::FakeBotApi::start_with(
        uchbot::telegram::fake_api::FakeConfig {
            bot_username: "uchmet_school_bot".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = support::binary::example_catalog_db(dir.path());
    let port = support::binary::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .arg("serve")
        .env("UCHBOT_TELEGRAM__TOKEN", fake.token())
        .env("UCHBOT_TELEGRAM__API_URL", fake.url().to_string())
        .env("UCHBOT_DATABASE__URL", &db)
        .env("UCHBOT_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("UCHBOT_STORAGE__DOCUMENTS_DIR", dir.path().join("docs"))
        .env("UCHBOT_STORAGE__ENCRYPTION_KEY", TEST_KEY)
        .env("UCHBOT_SCHOOL__EMAIL", TEACH.address)
        .env(
            "UCHBOT_SMTP__URL",
            format!("smtp://127.0.0.1:{}", server.smtp_port),
        )
        .env("UCHBOT_IMAP__HOST", "127.0.0.1")
        .env("UCHBOT_IMAP__PORT", server.imap_port.to_string())
        .env("UCHBOT_IMAP__TLS", "none")
        .env("UCHBOT_IMAP__USERNAME", TEACH.address)
        .env("UCHBOT_IMAP__PASSWORD", TEACH.password)
        .env("UCHBOT_IMAP__PROCESSED_MAILBOX", PROCESSED)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    server.deliver(
        TEACH.address,
        &letter(OTHER_LEARNER.address, "Как записаться?", "Здравствуйте!"),
    );
    let answers = letters_to(&server, OTHER_LEARNER, "Ваше письмо получено", 1).await;
    assert!(
        answers[0]
            .text
            .contains("https://t.me/uchmet_school_bot?start=mail"),
        "{}",
        answers[0].text
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut session = ImapSession::connect(&imap(&server, TEACH, PROCESSED))
            .await
            .unwrap();
        let filed = session.select().await.map(|s| s.exists).unwrap_or(0);
        let _ = session.logout().await;
        if filed == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the letter was not filed away");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let started = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(15));
    fake.shutdown().await;
}
