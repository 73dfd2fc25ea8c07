//! The email adapters against real mail servers on loopback (Dovecot + Postfix, see
//! tests/support/mail_server.rs; install them with `.ci/install-mail-servers.sh`), and
//! the parser against hand-written letters in tests/fixtures/mail/.

#[path = "support/mail_server.rs"]
mod mail_server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mail_server::{MailServer, MailServerOptions, MailUser, LEARNER, OTHER_LEARNER, TEACH};
use secrecy::SecretString;
use uchbot::email::{
    dkim_or_dmarc_passed, new_message_id, parse_incoming, plus_token, FetchedMessage, IdleOutcome,
    ImapError, ImapParams, ImapSession, ImapTls, IncomingMail, Letter, MailLimits, Mailer,
    OutgoingAttachment, RefusalReason, SendError, SmtpParams,
};

const PROCESSED: &str = "Processed";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mail")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn smtp_params(url: String) -> SmtpParams {
    SmtpParams {
        url,
        username: None,
        password: None,
        from: "Школа профессионального развития <teach@school.test>".into(),
        timeout: Duration::from_secs(10),
        ca_file: None,
    }
}

fn imap_params(server: &MailServer, user: MailUser) -> ImapParams {
    ImapParams {
        host: server.host().into(),
        port: server.imap_port,
        tls: ImapTls::None,
        username: user.address.into(),
        password: SecretString::from(user.password),
        mailbox: "INBOX".into(),
        processed_mailbox: PROCESSED.into(),
        timeout: Duration::from_secs(10),
        ca_file: None,
        max_batch: 50,
        max_message_bytes: 10 << 20,
    }
}

/// Waits until `count` letters are in the mailbox (SMTP delivery is asynchronous),
/// then fetches them all.
async fn wait_for_letters(params: &ImapParams, count: u32) -> Vec<FetchedMessage> {
    let mut session = ImapSession::connect(params).await.expect("IMAP login");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = session.select().await.expect("SELECT");
        if state.exists >= count {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} letters arrived in {}",
            state.exists,
            params.username
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let letters = session.fetch_after(0).await.expect("fetch");
    session.logout().await.expect("logout");
    letters
}

fn simple_letter(to: &str, subject: &str) -> Letter {
    Letter {
        to: to.into(),
        to_name: None,
        subject: subject.into(),
        text: "Текст письма.".into(),
        html: None,
        reply_to: None,
        message_id: new_message_id("school.test"),
        in_reply_to: None,
        attachments: vec![],
    }
}

fn raw_letter(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: learner@example.test\r\nTo: teach@school.test\r\nSubject: {subject}\r\n\
         Message-ID: <{}>\r\n\r\n{body}\r\n",
        new_message_id("example.test")
    )
    .into_bytes()
}

fn parse(raw: &[u8]) -> IncomingMail {
    parse_incoming(raw, &MailLimits::for_document_scans()).expect("parsable letter")
}

// ---------------------------------------------------------------- SMTP → IMAP

#[tokio::test]
async fn letter_with_cyrillic_subject_and_pdf_goes_through_postfix_to_the_mailbox() {
    let server = MailServer::start();
    let mailer = Mailer::new(&smtp_params(format!(
        "smtp://127.0.0.1:{}",
        server.smtp_port
    )))
    .expect("valid SMTP parameters");
    let pdf = fixture("sample.pdf");
    let letter = Letter {
        to: LEARNER.address.into(),
        to_name: Some("Иванова Мария Петровна".into()),
        subject: "Электронный образец удостоверения о повышении квалификации".into(),
        text: "Здравствуйте, Мария Петровна!\n\nПроверьте, пожалуйста, написание ФИО.".into(),
        html: Some("<p>Здравствуйте, Мария Петровна!</p><p>Проверьте ФИО.</p>".into()),
        reply_to: Some("teach+Tk42_x@school.test".into()),
        message_id: new_message_id("school.test"),
        in_reply_to: Some("learner.question.1@example.test".into()),
        attachments: vec![OutgoingAttachment {
            file_name: "Удостоверение Иванова М.П. (образец).pdf".into(),
            mime: "application/pdf".into(),
            bytes: pdf.clone(),
        }],
    };
    mailer
        .send(&letter)
        .await
        .expect("Postfix accepts the letter");

    let letters = wait_for_letters(&imap_params(&server, LEARNER), 1).await;
    assert_eq!(letters.len(), 1);
    let raw = letters[0].raw.as_ref().expect("small letter has its body");
    let mail = parse(raw);
    assert_eq!(mail.subject.as_deref(), Some(letter.subject.as_str()));
    assert_eq!(mail.message_id.as_deref(), Some(letter.message_id.as_str()));
    assert_eq!(
        mail.in_reply_to,
        vec!["learner.question.1@example.test".to_string()]
    );
    let from = mail.from.expect("From");
    assert_eq!(from.address, "teach@school.test");
    assert_eq!(
        from.name.as_deref(),
        Some("Школа профессионального развития")
    );
    assert_eq!(mail.to[0].name.as_deref(), Some("Иванова Мария Петровна"));
    let reply_to = mail.reply_to.expect("Reply-To");
    assert_eq!(
        plus_token(&reply_to.address, "teach").as_deref(),
        Some("tk42_x")
    );
    assert_eq!(mail.text, letter.text, "the plain alternative is the text");
    assert!(mail.refused.is_empty(), "{:?}", mail.refused);
    assert_eq!(mail.attachments.len(), 1);
    let attachment = &mail.attachments[0];
    assert_eq!(
        attachment.file_name,
        "Удостоверение Иванова М.П. (образец).pdf"
    );
    assert_eq!(attachment.bytes, pdf);
    assert_eq!(attachment.declared_mime, "application/pdf");
    assert_eq!(attachment.detected_mime.as_deref(), Some("application/pdf"));
    assert!(
        mail.automatic,
        "our letters say Auto-Submitted, so robots do not answer"
    );
}

#[tokio::test]
async fn submission_with_starttls_and_password_then_imap_starttls() {
    let server = MailServer::start();
    let mut params = smtp_params(format!(
        "smtp://127.0.0.1:{}?tls=required",
        server.submission_port
    ));
    params.username = Some(TEACH.address.into());
    params.password = Some(SecretString::from(TEACH.password));
    params.ca_file = Some(server.ca_pem_path());
    let mailer = Mailer::new(&params).expect("valid SMTP parameters");
    let letter = simple_letter(LEARNER.address, "Код подтверждения: 482913");
    mailer
        .send(&letter)
        .await
        .expect("authenticated submission");

    let mut imap = imap_params(&server, LEARNER);
    imap.tls = ImapTls::StartTls;
    imap.ca_file = Some(server.ca_pem_path());
    let letters = wait_for_letters(&imap, 1).await;
    let mail = parse(letters[0].raw.as_ref().unwrap());
    assert_eq!(mail.subject.as_deref(), Some("Код подтверждения: 482913"));
    assert_eq!(mail.text, "Текст письма.");
}

#[tokio::test]
async fn implicit_tls_on_both_sides_checks_the_certificate_name() {
    let server = MailServer::start();
    let mut params = smtp_params(format!("smtps://localhost:{}", server.smtps_port));
    params.username = Some(TEACH.address.into());
    params.password = Some(SecretString::from(TEACH.password));
    params.ca_file = Some(server.ca_pem_path());
    let mailer = Mailer::new(&params).unwrap();
    mailer
        .send(&simple_letter(OTHER_LEARNER.address, "Расписание группы"))
        .await
        .expect("submission over implicit TLS");

    let mut imap = imap_params(&server, OTHER_LEARNER);
    imap.host = "localhost".into();
    imap.port = server.imaps_port;
    imap.tls = ImapTls::Tls;
    imap.ca_file = Some(server.ca_pem_path());
    let letters = wait_for_letters(&imap, 1).await;
    assert_eq!(
        parse(letters[0].raw.as_ref().unwrap()).subject.as_deref(),
        Some("Расписание группы")
    );
}

#[tokio::test]
async fn untrusted_certificates_are_refused() {
    let server = MailServer::start();
    let mut params = smtp_params(format!("smtps://localhost:{}", server.smtps_port));
    params.username = Some(TEACH.address.into());
    params.password = Some(SecretString::from(TEACH.password));
    let mailer = Mailer::new(&params).unwrap();
    let error = mailer
        .send(&simple_letter(LEARNER.address, "x"))
        .await
        .expect_err("the test CA is not trusted without ca_file");
    assert!(
        error.is_transient(),
        "TLS trouble keeps the letter: {error}"
    );

    let mut imap = imap_params(&server, LEARNER);
    imap.host = "localhost".into();
    imap.port = server.imaps_port;
    imap.tls = ImapTls::Tls;
    let error = ImapSession::connect(&imap).await.expect_err("untrusted CA");
    assert!(matches!(error, ImapError::Tls(_)), "{error}");
}

// ---------------------------------------------------------------- SMTP errors

#[tokio::test]
async fn smtp_server_down_is_a_transient_failure() {
    let mut server = MailServer::start();
    let mailer = Mailer::new(&smtp_params(format!(
        "smtp://127.0.0.1:{}",
        server.smtp_port
    )))
    .unwrap();
    server.stop_postfix();
    let started = Instant::now();
    let error = mailer
        .send(&simple_letter(LEARNER.address, "x"))
        .await
        .expect_err("nothing listens any more");
    assert!(matches!(error, SendError::Transient { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn silent_server_times_out_as_a_transient_failure() {
    // Accepts TCP connections but never greets.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut params = smtp_params(format!("smtp://127.0.0.1:{port}"));
    params.timeout = Duration::from_millis(300);
    let mailer = Mailer::new(&params).unwrap();
    let started = Instant::now();
    let error = mailer
        .send(&simple_letter(LEARNER.address, "x"))
        .await
        .expect_err("no greeting");
    assert!(error.is_transient(), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    let mut imap = ImapParams {
        host: "127.0.0.1".into(),
        port,
        tls: ImapTls::None,
        username: "u".into(),
        password: SecretString::from("p"),
        mailbox: "INBOX".into(),
        processed_mailbox: PROCESSED.into(),
        timeout: Duration::from_millis(300),
        ca_file: None,
        max_batch: 1,
        max_message_bytes: 1,
    };
    let error = ImapSession::connect(&imap).await.expect_err("no greeting");
    assert!(
        matches!(
            error,
            ImapError::Timeout {
                operation: "greeting",
                ..
            }
        ),
        "{error}"
    );
    imap.port = 1; // nothing listens there
    let error = ImapSession::connect(&imap).await.expect_err("refused");
    assert!(
        matches!(error, ImapError::Connect { .. }) && error.is_transient(),
        "{error}"
    );
    drop(listener);
}

#[tokio::test]
async fn refused_recipients_are_permanent_failures() {
    let server = MailServer::start();
    let mailer = Mailer::new(&smtp_params(format!(
        "smtp://127.0.0.1:{}",
        server.smtp_port
    )))
    .unwrap();
    let error = mailer
        .send(&simple_letter("someone@elsewhere.test", "x"))
        .await
        .expect_err("no relaying");
    match &error {
        SendError::Permanent { smtp_code, .. } => assert_eq!(*smtp_code, Some(554), "{error}"),
        other => panic!("expected a permanent failure, got {other}"),
    }
    let error = mailer
        .send(&simple_letter("nobody@school.test", "x"))
        .await
        .expect_err("unknown mailbox");
    assert!(
        matches!(
            error,
            SendError::Permanent {
                smtp_code: Some(550),
                ..
            }
        ),
        "{error}"
    );
    // And the same Mailer still delivers afterwards.
    mailer
        .send(&simple_letter(LEARNER.address, "после ошибки"))
        .await
        .expect("a good letter after refused ones");
    assert_eq!(
        wait_for_letters(&imap_params(&server, LEARNER), 1)
            .await
            .len(),
        1
    );
}

// ---------------------------------------------------------------- IMAP

#[tokio::test]
async fn wrong_imap_password_is_a_login_error() {
    let server = MailServer::start();
    let mut params = imap_params(&server, TEACH);
    params.password = SecretString::from("wrong password");
    let error = ImapSession::connect(&params)
        .await
        .expect_err("bad password");
    assert!(matches!(error, ImapError::Login { .. }), "{error}");
    assert!(!error.is_transient());
    assert!(!error.to_string().contains("wrong password"));
}

#[tokio::test]
async fn fetch_after_returns_new_letters_and_mark_processed_moves_without_deleting() {
    let server = MailServer::start();
    for i in 1..=3 {
        server.deliver(TEACH.address, &raw_letter(&format!("letter {i}"), "текст"));
    }
    let params = imap_params(&server, TEACH);
    let mut session = ImapSession::connect(&params).await.unwrap();
    let caps = session.capabilities();
    assert!(caps.idle && caps.move_ && caps.uidplus, "{caps:?}");

    let state = session.select().await.unwrap();
    assert_ne!(state.uid_validity, 0);
    assert_eq!((state.exists, state.uid_next), (3, 4));

    let all = session.fetch_after(0).await.unwrap();
    assert_eq!(all.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![1, 2, 3]);
    for (i, letter) in all.iter().enumerate() {
        let mail = parse(letter.raw.as_ref().unwrap());
        assert_eq!(mail.subject, Some(format!("letter {}", i + 1)));
        assert_eq!(letter.size as usize, letter.raw.as_ref().unwrap().len());
    }
    let later = session.fetch_after(2).await.unwrap();
    assert_eq!(later.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![3]);
    assert!(
        session.fetch_after(3).await.unwrap().is_empty(),
        "3:* must not return UID 3 again"
    );
    assert!(session.fetch_after(u32::MAX).await.unwrap().is_empty());

    session
        .mark_processed(1)
        .await
        .expect("move to Processed (created on demand)");
    session
        .mark_processed(1)
        .await
        .expect("a second call changes nothing");
    let state = session.select().await.unwrap();
    assert_eq!(state.exists, 2);
    let left = session.fetch_after(0).await.unwrap();
    assert_eq!(left.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![2, 3]);
    session.logout().await.unwrap();

    // The letter is in Processed, seen, and nothing was deleted anywhere.
    let mut processed_params = params.clone();
    processed_params.mailbox = PROCESSED.into();
    processed_params.processed_mailbox = "Unused".into();
    let mut processed = ImapSession::connect(&processed_params).await.unwrap();
    let processed_state = processed.select().await.unwrap();
    assert_eq!(processed_state.exists, 1);
    let moved = processed.fetch_after(0).await.unwrap();
    assert_eq!(
        parse(moved[0].raw.as_ref().unwrap()).subject.as_deref(),
        Some("letter 1")
    );
    processed.logout().await.unwrap();
    assert_eq!(count_maildir_files(&server, TEACH.address), 3);

    // UIDVALIDITY is stable across sessions.
    let mut again = ImapSession::connect(&params).await.unwrap();
    assert_eq!(
        again.select().await.unwrap().uid_validity,
        state.uid_validity
    );
}

#[tokio::test]
async fn without_move_letters_are_copied_and_flagged_not_deleted() {
    let server = MailServer::start_with(MailServerOptions {
        advertise_move: false,
    });
    server.deliver(TEACH.address, &raw_letter("первое", "a"));
    server.deliver(TEACH.address, &raw_letter("второе", "b"));
    let params = imap_params(&server, TEACH);
    let mut session = ImapSession::connect(&params).await.unwrap();
    assert!(!session.capabilities().move_);

    session.mark_processed(1).await.unwrap();
    session
        .mark_processed(1)
        .await
        .expect("idempotent: no second copy");
    let state = session.select().await.unwrap();
    assert_eq!(state.exists, 2, "the original stays in INBOX");
    let left = session.fetch_after(0).await.unwrap();
    assert_eq!(
        left.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![2],
        "flagged letters are not fetched again"
    );
    session.logout().await.unwrap();

    let mut processed_params = params.clone();
    processed_params.mailbox = PROCESSED.into();
    processed_params.processed_mailbox = "Unused".into();
    let mut processed = ImapSession::connect(&processed_params).await.unwrap();
    assert_eq!(processed.select().await.unwrap().exists, 1);
    assert_eq!(count_maildir_files(&server, TEACH.address), 3);
}

#[tokio::test]
async fn large_letters_are_reported_without_body_and_batches_are_bounded() {
    let server = MailServer::start();
    server.deliver(TEACH.address, &raw_letter("small", "x"));
    server.deliver(TEACH.address, &raw_letter("large", &"я".repeat(4000)));
    server.deliver(TEACH.address, &raw_letter("small again", "y"));
    let mut params = imap_params(&server, TEACH);
    params.max_message_bytes = 2000;
    params.max_batch = 2;
    let mut session = ImapSession::connect(&params).await.unwrap();
    let batch = session.fetch_after(0).await.unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].uid, 1);
    assert!(batch[0].raw.is_some());
    assert_eq!(batch[1].uid, 2);
    assert!(batch[1].raw.is_none(), "too large: only uid and size");
    assert!(batch[1].size > 8000, "{}", batch[1].size);
    let rest = session.fetch_after(2).await.unwrap();
    assert_eq!(rest.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![3]);
}

#[tokio::test]
async fn idle_wakes_up_on_delivery_and_times_out_when_nothing_comes() {
    let server = Arc::new(MailServer::start());
    let params = imap_params(&server, TEACH);
    let mut session = ImapSession::connect(&params).await.unwrap();
    session.select().await.unwrap();

    let started = Instant::now();
    assert_eq!(
        session.idle(Duration::from_millis(700)).await.unwrap(),
        IdleOutcome::Timeout
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(650) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    let deliverer = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            server.deliver(TEACH.address, &raw_letter("во время IDLE", "x"));
        })
    };
    let started = Instant::now();
    let outcome = session.idle(Duration::from_secs(60)).await.unwrap();
    deliverer.join().unwrap();
    assert_eq!(outcome, IdleOutcome::NewMail);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let letters = session.fetch_after(0).await.unwrap();
    assert_eq!(letters.len(), 1);

    // A letter that arrives between two IDLEs is not missed.
    server.deliver(TEACH.address, &raw_letter("между IDLE", "y"));
    let started = Instant::now();
    assert_eq!(
        session.idle(Duration::from_secs(60)).await.unwrap(),
        IdleOutcome::NewMail
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(session.fetch_after(1).await.unwrap().len(), 1);
    session.logout().await.unwrap();
}

fn count_maildir_files(server: &MailServer, address: &str) -> usize {
    fn walk(dir: &std::path::Path, count: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, count);
            } else if matches!(
                path.parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str()),
                Some("cur" | "new")
            ) {
                *count += 1;
            }
        }
    }
    let mut count = 0;
    walk(&server.maildir(address), &mut count);
    count
}

// ---------------------------------------------------------------- parsing

#[test]
fn windows_1251_body_and_headers() {
    let mail = parse(&fixture("cp1251.eml"));
    assert_eq!(mail.subject.as_deref(), Some("Заявление на зачисление"));
    let from = mail.from.unwrap();
    assert_eq!(from.address, "maria.ivanova@example.test", "lower-cased");
    assert_eq!(from.name.as_deref(), Some("Мария Иванова"));
    assert!(
        mail.text.starts_with("Здравствуйте!\nВысылаю заявление"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.ends_with("С уважением, Мария Иванова"),
        "{}",
        mail.text
    );
    assert_eq!(mail.message_id.as_deref(), Some("cp1251-1@example.test"));
    assert_eq!(mail.date.unwrap().to_rfc3339(), "2025-03-04T07:15:00+00:00");
    assert!(!mail.automatic);
}

#[test]
fn koi8r_quoted_printable_body_and_threading() {
    let mail = parse(&fixture("koi8r.eml"));
    assert_eq!(mail.subject.as_deref(), Some("Re: Проверьте ФИО"));
    assert_eq!(
        mail.from.as_ref().unwrap().name.as_deref(),
        Some("Пётр Сидоров")
    );
    assert_eq!(
        mail.text,
        "Добрый день!\nФамилия в удостоверении указана верно."
    );
    assert_eq!(mail.in_reply_to, vec!["20250304.abc@school.test"]);
    assert_eq!(
        mail.references,
        vec!["first@school.test", "20250304.abc@school.test"]
    );
    assert_eq!(mail.to[0].address, "teach+tk42_x@school.test");
    assert_eq!(
        plus_token(&mail.to[0].address, "teach").as_deref(),
        Some("tk42_x")
    );
}

#[test]
fn russian_file_names_in_rfc2231_and_encoded_words() {
    let mail = parse(&fixture("rfc2231_names.eml"));
    assert_eq!(mail.text, "Документы во вложении.");
    let names: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "Паспорт Иванова.pdf",
            "Диплом о высшем образовании.pdf",
            "СНИЛС.jpg"
        ]
    );
    let pdf = fixture("sample.pdf");
    assert_eq!(mail.attachments[0].bytes, pdf);
    assert_eq!(
        mail.attachments[2].detected_mime.as_deref(),
        Some("image/jpeg")
    );
    assert_eq!(mail.attachments[0].sha256.len(), 64);
    assert_ne!(mail.attachments[0].sha256, mail.attachments[1].sha256);
}

#[test]
fn attachments_of_a_forwarded_letter_are_found() {
    let mail = parse(&fixture("forwarded.eml"));
    assert_eq!(mail.subject.as_deref(), Some("Fwd: скан паспорта"));
    assert_eq!(mail.text, "Пересылаю письмо с паспортом.");
    assert_eq!(mail.attachments.len(), 1, "{:?}", mail.refused);
    let passport = &mail.attachments[0];
    assert_eq!(passport.file_name, "passport.pdf");
    assert!(passport.bytes.starts_with(b"%PDF-1.4"));
    assert!(passport.bytes.ends_with(b"% inner"));
    assert!(mail.refused.is_empty());
}

#[test]
fn html_only_letter_gives_text_and_its_inline_image() {
    let mail = parse(&fixture("html_inline_image.eml"));
    assert!(mail.text.contains("Фото диплома:"), "{}", mail.text);
    assert!(mail.text.contains("Спасибо!"), "{}", mail.text);
    assert!(
        !mail.text.contains('<') && !mail.text.contains("color"),
        "{}",
        mail.text
    );
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(
        mail.attachments[0].detected_mime.as_deref(),
        Some("image/png")
    );
    assert_eq!(mail.attachments[0].file_name, "attachment-1.png");
}

#[test]
fn too_large_too_many_and_disguised_attachments_are_refused_with_reasons() {
    let limits = MailLimits {
        max_message_bytes: 1 << 20,
        max_attachments: 2,
        max_attachment_bytes: 1000,
        allowed_types: vec!["application/pdf".into(), "image/*".into()],
    };
    let mail = parse_incoming(&fixture("many_attachments.eml"), &limits).unwrap();
    let accepted: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(accepted, vec!["a1.pdf", "a2.png"]);
    let refused: Vec<(&str, &RefusalReason)> = mail
        .refused
        .iter()
        .map(|r| (r.file_name.as_str(), &r.reason))
        .collect();
    assert_eq!(
        refused.len(),
        3,
        "the S/MIME signature is not a refused file: {refused:?}"
    );
    assert_eq!(refused[0].0, "big.jpg");
    assert!(matches!(refused[0].1, RefusalReason::TooLarge { size, limit: 1000 } if *size > 3000));
    assert_eq!(refused[1].0, "setup.pdf");
    assert_eq!(
        refused[1].1,
        &RefusalReason::UnsupportedType {
            detected: Some("application/vnd.microsoft.portable-executable".into())
        },
        "declared PDF, but the bytes are a Windows program"
    );
    assert_eq!(refused[2], ("a3.pdf", &RefusalReason::TooMany { limit: 2 }));

    let tight = MailLimits {
        max_message_bytes: 100,
        ..limits
    };
    assert!(parse_incoming(&fixture("many_attachments.eml"), &tight).is_err());
}

#[test]
fn dkim_and_dmarc_verdicts_count_only_from_the_trusted_server() {
    let mail = parse(&fixture("auth_results.eml"));
    assert_eq!(mail.auth_results.len(), 2);
    assert!(mail.auth_results[0].starts_with("mx.school.test; dkim=pass"));
    let from_domain = mail.from.as_ref().unwrap().domain().to_string();
    assert_eq!(from_domain, "mail.example.test");
    assert!(dkim_or_dmarc_passed(
        &mail.auth_results,
        "mx.school.test",
        &from_domain
    ));
    assert!(
        dkim_or_dmarc_passed(&mail.auth_results, "MX.School.Test", "MAIL.example.test"),
        "ids and domains compare case-insensitively"
    );
    assert!(
        !dkim_or_dmarc_passed(&mail.auth_results, "mx.school.test", "gosuslugi.test"),
        "the signature is for another domain"
    );
    assert!(
        !dkim_or_dmarc_passed(&mail.auth_results, "mx.other.test", &from_domain),
        "no header from the trusted server"
    );

    let forged = parse(&fixture("forged_auth_results.eml"));
    assert_eq!(forged.auth_results.len(), 3);
    assert!(
        !dkim_or_dmarc_passed(&forged.auth_results, "mx.school.test", "gosuslugi.test"),
        "our server said fail; passes claimed by other ids do not count"
    );
    assert!(
        dkim_or_dmarc_passed(&forged.auth_results, "mx.attacker.test", "gosuslugi.test"),
        "(the same header would count if its writer were trusted)"
    );

    let dmarc =
        vec!["mx.school.test; dkim=none; dmarc=pass (p=reject) header.from=example.ru".to_string()];
    assert!(dkim_or_dmarc_passed(&dmarc, "mx.school.test", "example.ru"));
    assert!(!dkim_or_dmarc_passed(
        &dmarc,
        "mx.school.test",
        "mail.example.ru"
    ));
    let by_identity = vec!["mx.school.test; dkim=pass header.i=@example.ru".to_string()];
    assert!(dkim_or_dmarc_passed(
        &by_identity,
        "mx.school.test",
        "example.ru"
    ));
    let failed = vec![
        "mx.school.test; dkim=fail header.d=example.ru; dmarc=temperror header.from=example.ru"
            .to_string(),
    ];
    assert!(!dkim_or_dmarc_passed(
        &failed,
        "mx.school.test",
        "example.ru"
    ));
    assert!(!dkim_or_dmarc_passed(&[], "mx.school.test", "example.ru"));
    let none = vec!["mx.school.test; none".to_string()];
    assert!(!dkim_or_dmarc_passed(&none, "mx.school.test", "example.ru"));
}

#[test]
fn auto_replies_are_recognised() {
    let mail = parse(&fixture("auto_reply.eml"));
    assert!(mail.automatic);
    assert_eq!(mail.subject.as_deref(), Some("Автоответ: в отпуске"));
    assert!(!parse(&fixture("koi8r.eml")).automatic);
}

#[test]
fn garbage_is_not_a_letter() {
    assert!(parse_incoming(b"", &MailLimits::for_document_scans()).is_err());
}
