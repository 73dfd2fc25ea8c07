//! Dependencies that fail for a while and come back: the SMTP server restarted, the IMAP
//! server restarted, the SQLite database locked by another writer, the payment provider
//! down, and one Telegram message failing among others of its chat. Each time the learner
//! hears what they need to, staff get one alert (and one when it works again), nothing is
//! lost or done twice, and the bot recovers by itself. (Telegram faults and PostgreSQL
//! going away: tests/telegram_faults.rs.)
mod support;

#[path = "support/mail_server.rs"]
mod mail_server;
#[path = "support/yookassa_fake.rs"]
mod yookassa_fake;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mail_server::{MailServer, MailUser, LEARNER, OTHER_LEARNER, TEACH};
use secrecy::SecretString;
use support::bot::*;
use support::db::TestDb;
use tokio_util::sync::CancellationToken;
use uchbot::app::mail_in::{self, IntakeSettings};
use uchbot::app::outbox::{enqueue_telegram, QueuedTelegram};
use uchbot::email::{
    parse_incoming, ImapParams, ImapSession, ImapTls, IncomingMail, MailLimits, Mailer,
    PollerConfig, SmtpParams,
};
use uchbot::journey::reply::Reply;
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeUser};
use yookassa_fake::YooKassaFake;

/// Retries and alerts in seconds rather than minutes (the defaults are 5 s … 1 h, 5 min).
fn quick_recovery() -> Vec<(String, String)> {
    [
        ("UCHBOT_RESILIENCE__RETRY_MIN_SECONDS", "1"),
        ("UCHBOT_RESILIENCE__RETRY_MAX_SECONDS", "2"),
        ("UCHBOT_RESILIENCE__ALERT_AFTER_SECONDS", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Polls `check` until it holds (20 s at most).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "not within 20 s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Texts of the bot's messages in a chat that contain `needle`.
fn texts_with(fake: &FakeBotApi, chat: i64, needle: &str) -> Vec<String> {
    fake.messages(chat)
        .into_iter()
        .filter_map(|m| m.text)
        .filter(|t| t.contains(needle))
        .collect()
}

async fn settle(bot: &TestBot) {
    bot.fake
        .wait_until_idle(Duration::from_millis(1500), Duration::from_secs(20))
        .await
        .unwrap();
}

// --- Telegram: one failed message among others of its chat ---------------------------

/// Queues notices for a chat in one transaction, as a change that causes several would.
async fn queue_notices(bot: &TestBot, chat: i64, texts: &[&str]) {
    let now = bot.app.now().timestamp();
    let mut tx = bot.app.store.begin().await.unwrap();
    for text in texts {
        let item = QueuedTelegram::message(chat, &Reply::text(*text));
        enqueue_telegram(&mut tx, &format!("test:{text}"), &item, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn a_failed_message_holds_back_the_rest_of_its_chat(db: TestDb) {
    let mut bot = TestBot::start(
        db,
        Options {
            env: quick_recovery(),
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    let other = FakeUser::new(1002, "Пётр");
    for u in [&user, &other] {
        run(&mut bot, u, vec![say("/start"), sees("Здравствуйте")]).await;
    }
    // The first of three notices fails; the two after it would go through in the same round.
    bot.fake.fail_next("sendMessage", Failure::ServerError);
    queue_notices(
        &bot,
        user.id,
        &["Уведомление 1", "Уведомление 2", "Уведомление 3"],
    )
    .await;
    eventually("the failure happened", || async {
        bot.fake
            .requests_to("sendMessage")
            .iter()
            .any(|r| r.result().is_none())
    })
    .await;
    // Queued while the first waits for its retry: it waits too. Another chat does not.
    queue_notices(&bot, user.id, &["Уведомление 4"]).await;
    queue_notices(&bot, other.id, &["Уведомление для Петра"]).await;
    bot.wait_text(other.id, "Уведомление для Петра").await;
    assert!(
        texts_with(&bot.fake, user.id, "Уведомление").is_empty(),
        "nothing overtakes the failed message"
    );
    bot.wait_text(user.id, "Уведомление 4").await;
    settle(&bot).await;
    assert_eq!(
        texts_with(&bot.fake, user.id, "Уведомление"),
        [
            "Уведомление 1",
            "Уведомление 2",
            "Уведомление 3",
            "Уведомление 4"
        ],
        "each once, in the order queued"
    );
    bot.stop().await;
}

on_both_backends! {
    a_failed_telegram_message_keeps_its_chat_in_order => a_failed_message_holds_back_the_rest_of_its_chat;
}

// --- The mail servers restarted ------------------------------------------------------

fn imap(server: &MailServer, user: MailUser) -> ImapParams {
    ImapParams {
        host: server.host().into(),
        port: server.imap_port,
        tls: ImapTls::None,
        username: user.address.into(),
        password: SecretString::from(user.password),
        mailbox: "INBOX".into(),
        processed_mailbox: "Processed".into(),
        timeout: Duration::from_secs(10),
        ca_file: None,
        max_batch: 10,
        max_message_bytes: 10 << 20,
    }
}

/// The bot with SMTP at the test's Postfix and quick retries.
async fn mail_bot(server: &MailServer, db: TestDb) -> TestBot {
    let mailer = Mailer::new(&SmtpParams {
        url: format!("smtp://127.0.0.1:{}", server.smtp_port),
        username: None,
        password: None,
        from: format!("Учебный центр <{}>", TEACH.address),
        timeout: Duration::from_secs(5),
        ca_file: None,
    })
    .expect("SMTP parameters");
    let mut env = quick_recovery();
    env.push(("UCHBOT_SCHOOL__EMAIL".into(), TEACH.address.into()));
    TestBot::start(
        db,
        Options {
            env,
            mail: Some(Arc::new(mailer)),
            ..Options::default()
        },
    )
    .await
}

/// Letters in a user's INBOX whose subject contains `subject`.
async fn letters_now(server: &MailServer, user: MailUser, subject: &str) -> Vec<IncomingMail> {
    let mut session = ImapSession::connect(&imap(server, user))
        .await
        .expect("IMAP login");
    session.select().await.expect("SELECT");
    let all = session.fetch_after(0).await.expect("fetch");
    let _ = session.logout().await;
    all.iter()
        .filter_map(|m| parse_incoming(m.raw.as_ref()?, &MailLimits::for_document_scans()).ok())
        .filter(|m| m.subject.as_deref().unwrap_or("").contains(subject))
        .collect()
}

async fn letters_to(server: &MailServer, user: MailUser, subject: &str) -> Vec<IncomingMail> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = letters_now(server, user, subject).await;
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no letter «{subject}» for {}; postfix log:\n{}",
            user.address,
            server.postfix_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn letters_pending(bot: &TestBot) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MIN(attempts), 0) FROM outbox \
         WHERE channel = 'email' AND status = 'pending'",
    )
    .fetch_one(bot.app.store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_wait_out_an_smtp_restart_and_arrive_once() {
    let mut server = MailServer::start();
    let mut bot = mail_bot(&server, TestDb::sqlite().await).await;
    let masha = FakeUser::new(1001, "Мария");
    let petya = FakeUser::new(1002, "Пётр");
    for user in [&masha, &petya] {
        run(
            &mut bot,
            user,
            vec![
                say("/start"),
                press("✅ Согласен"),
                sees("адрес электронной почты"),
            ],
        )
        .await;
    }
    server.stop_postfix();
    run(
        &mut bot,
        &masha,
        vec![say(LEARNER.address), sees("6-значным кодом")],
    )
    .await;
    run(
        &mut bot,
        &petya,
        vec![say(OTHER_LEARNER.address), sees("6-значным кодом")],
    )
    .await;
    // Waiting for a code that does not come, each learner hears why.
    bot.wait_text(masha.id, "Письмо с кодом задерживается")
        .await;
    bot.wait_text(petya.id, "Письмо с кодом задерживается")
        .await;
    // Staff: once mail has failed for a while.
    bot.wait_text(STAFF_CHAT, "Сбой внешнего сервиса «smtp»")
        .await;
    // Both letters tried again and again meanwhile, none given up.
    eventually("three tries of each letter", || async {
        let (waiting, tries) = letters_pending(&bot).await;
        waiting == 2 && tries >= 3
    })
    .await;

    server.restart_postfix();
    let to_masha = letters_to(&server, LEARNER, "Код подтверждения").await;
    letters_to(&server, OTHER_LEARNER, "Код подтверждения").await;
    bot.wait_text(STAFF_CHAT, "«smtp» снова работает").await;
    settle(&bot).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (user, address) in [(LEARNER, "Мария"), (OTHER_LEARNER, "Пётр")] {
        assert_eq!(
            letters_now(&server, user, "Код подтверждения").await.len(),
            1,
            "one letter to {address}"
        );
    }
    for user in [&masha, &petya] {
        assert_eq!(
            texts_with(&bot.fake, user.id, "задерживается").len(),
            1,
            "told once"
        );
    }
    assert_eq!(
        texts_with(&bot.fake, STAFF_CHAT, "«smtp»").len(),
        2,
        "one alert that mail fails and one that it works: {:#?}",
        texts_with(&bot.fake, STAFF_CHAT, "")
    );
    // The code from the delayed letter works.
    let text = &to_masha[0].text;
    let at = text.find("адреса: ").expect("code line") + "адреса: ".len();
    let code = text[at..at + 6].to_owned();
    run(&mut bot, &masha, vec![say(code), sees("подтверждён")]).await;
    bot.stop().await;
}

/// A stranger's letter to the school (staff see it with its subject).
fn letter(subject: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?utf-8?B?{subject}?=\r\n\
         Message-ID: <{id}>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n",
        from = OTHER_LEARNER.address,
        to = TEACH.address,
        subject = b64(subject),
        id = uchbot::email::new_message_id("example.test"),
        body = b64("Здравствуйте! Хочу узнать о курсах."),
    )
    .into_bytes()
}

async fn ledger(bot: &TestBot) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_messages")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    n
}

async fn count_in(server: &MailServer, mailbox: &str) -> u32 {
    let mut params = imap(server, TEACH);
    params.mailbox = mailbox.into();
    // Only for looking into the processed folder itself.
    params.processed_mailbox = "Unused".into();
    let mut session = ImapSession::connect(&params).await.expect("IMAP login");
    let exists = session.select().await.map(|s| s.exists).unwrap_or(0);
    let _ = session.logout().await;
    exists
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailbox_is_read_again_after_an_imap_restart_each_letter_once() {
    let mut server = MailServer::start();
    let bot = mail_bot(&server, TestDb::sqlite().await).await;
    let mut config = PollerConfig::new(imap(&server, TEACH), Duration::from_secs(1));
    config.idle_for = Duration::from_secs(2);
    config.backoff_min = Duration::from_millis(100);
    config.backoff_max = Duration::from_millis(500);
    config.alert_after_failures = 3;
    let stop = CancellationToken::new();
    let poller = mail_in::spawn(
        bot.app.clone(),
        bot.messenger(),
        config,
        IntakeSettings {
            limits: MailLimits::for_document_scans(),
            trusted_authserv_id: "mx.school.test".into(),
            bot_username: "uchbot_test_bot".into(),
        },
        stop.clone(),
    );
    server.deliver(TEACH.address, &letter("Письмо до сбоя"));
    bot.wait_text(STAFF_CHAT, "Письмо до сбоя").await;

    server.stop_dovecot();
    bot.wait_text(STAFF_CHAT, "Сбой внешнего сервиса «imap»")
        .await;
    // Mail that reached the server while IMAP was down.
    server.drop_into_maildir(TEACH.address, &letter("Письмо во время сбоя 1"));
    server.drop_into_maildir(TEACH.address, &letter("Письмо во время сбоя 2"));
    server.restart_dovecot();

    bot.wait_text(STAFF_CHAT, "Письмо во время сбоя 1").await;
    bot.wait_text(STAFF_CHAT, "Письмо во время сбоя 2").await;
    bot.wait_text(STAFF_CHAT, "«imap» снова работает").await;
    eventually("all three filed away", || async {
        count_in(&server, "INBOX").await == 0
    })
    .await;
    settle(&bot).await;
    assert_eq!(ledger(&bot).await, 3, "every letter recorded once");
    for subject in [
        "Письмо до сбоя",
        "Письмо во время сбоя 1",
        "Письмо во время сбоя 2",
    ] {
        assert_eq!(
            texts_with(&bot.fake, STAFF_CHAT, subject).len(),
            1,
            "«{subject}» handled once"
        );
    }
    assert_eq!(count_in(&server, "Processed").await, 3);
    assert_eq!(
        texts_with(&bot.fake, STAFF_CHAT, "«imap»").len(),
        2,
        "one alert that the mailbox fails, one that it works: {:#?}",
        texts_with(&bot.fake, STAFF_CHAT, "")
    );
    // A second outage soon after is a new one for staff, told as such.
    server.stop_dovecot();
    eventually("the second outage told", || async {
        texts_with(&bot.fake, STAFF_CHAT, "Сбой внешнего сервиса «imap»").len() == 2
    })
    .await;
    server.restart_dovecot();
    server.deliver(TEACH.address, &letter("Письмо после второго сбоя"));
    bot.wait_text(STAFF_CHAT, "Письмо после второго сбоя").await;
    eventually("the end of the second outage told", || async {
        texts_with(&bot.fake, STAFF_CHAT, "«imap» снова работает").len() == 2
    })
    .await;
    assert_eq!(ledger(&bot).await, 4);
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), poller)
        .await
        .expect("the poller stops")
        .unwrap();
    bot.stop().await;
}

// --- SQLite locked by another writer -------------------------------------------------

/// Another process's write transaction on the database file, held for `hold`; returns once
/// the lock is taken.
async fn hold_write_lock(url: &str, hold: Duration) -> tokio::task::JoinHandle<()> {
    let other = uchbot::store::Store::connect(url, 1).await.unwrap();
    let (taken, is_taken) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let tx = other.begin().await.expect("BEGIN IMMEDIATE");
        let _ = taken.send(());
        tokio::time::sleep(hold).await;
        tx.rollback().await.unwrap();
        other.close().await;
    });
    is_taken.await.unwrap();
    task
}

async fn consented(db: TestDb, options: Options) -> (TestBot, FakeUser) {
    let mut bot = TestBot::start(db, options).await;
    let user = FakeUser::new(1001, "Мария");
    run(
        &mut bot,
        &user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            sees("адрес электронной почты"),
        ],
    )
    .await;
    (bot, user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_for_a_few_seconds_delays_the_answer_and_says_so() {
    let (mut bot, user) = consented(TestDb::sqlite().await, Options::default()).await;
    let lock = hold_write_lock(&bot.db.url, Duration::from_secs(5)).await;
    let answer = bot.say(&user, "masha@example.org").await;
    let texts: Vec<&str> = answer.iter().filter_map(|m| m.shown_text()).collect();
    let notice = texts.iter().position(|t| t.contains("Минутку"));
    let code = texts.iter().position(|t| t.contains("6-значным кодом"));
    assert!(
        notice.is_some() && code.is_some() && notice < code,
        "first «минутку», then the answer once the lock is gone: {texts:#?}"
    );
    assert!(texts.iter().all(|t| !t.contains("неполадки")), "{texts:#?}");
    lock.await.unwrap();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_past_the_busy_timeout_is_answered_when_it_frees_and_nothing_half_done() {
    // A short busy timeout (`database.busy_timeout_ms`) instead of holding a lock 10 s.
    let options = Options {
        env: vec![("UCHBOT_DATABASE__BUSY_TIMEOUT_MS".into(), "800".into())],
        ..Options::default()
    };
    let (bot, user) = consented(TestDb::sqlite().await, options).await;
    let lock = hold_write_lock(&bot.db.url, Duration::from_secs(4)).await;
    bot.fake.send_text(&user, "masha@example.org");
    // The message cannot be stored: the learner hears so once, and need not repeat it.
    bot.wait_text(user.id, "ваше сообщение получено").await;
    let letters = || async {
        let (letters,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE channel = 'email'")
                .fetch_one(bot.app.store.pool())
                .await
                .unwrap();
        letters
    };
    assert_eq!(
        letters().await,
        0,
        "nothing done while the database is locked"
    );
    lock.await.unwrap();
    // Telegram hands the unconfirmed message out again; now it is answered, once.
    bot.wait_text(user.id, "6-значным кодом").await;
    settle(&bot).await;
    let texts: Vec<String> = bot
        .fake
        .messages(user.id)
        .iter()
        .filter_map(|m| m.shown_text().map(str::to_owned))
        .collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("ваше сообщение получено"))
            .count(),
        1,
        "{texts:#?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("6-значным кодом"))
            .count(),
        1,
        "{texts:#?}"
    );
    assert!(texts.iter().all(|t| !t.contains("повторите")), "{texts:#?}");
    assert_eq!(letters().await, 1, "one code letter");
    bot.stop().await;
}

// --- The payment provider down while the learner pays ---------------------------------

fn shop_settings(kassa: &YooKassaFake) -> Vec<(String, String)> {
    let mut env = quick_recovery();
    env.extend(kassa.shop_env());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_made_while_the_provider_is_down_is_found_when_it_returns() {
    let kassa = YooKassaFake::start().await;
    let mut bot = TestBot::start(
        TestDb::sqlite().await,
        Options {
            env: shop_settings(&kassa),
            provider: configured_provider,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    support::journeys::register(&mut bot, &user, "masha@example.org").await;
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            sees("Заказ № 1"),
        ],
    )
    .await;
    // The re-check loop of `serve`, every second.
    let stop = CancellationToken::new();
    let recheck = tokio::spawn(uchbot::serve::recheck_loop(
        bot.app.clone(),
        bot.messenger(),
        Duration::from_secs(1),
        stop.clone(),
    ));
    // The provider goes down; the learner pays at the bank meanwhile and asks.
    kassa.fail_next(100_000, 500);
    kassa.succeed(&kassa.payments()[0].id);
    run(
        &mut bot,
        &user,
        vec![
            press("Я оплатил — проверить"),
            sees("Если вы уже оплатили, ничего делать не нужно"),
            button("Я оплатил — проверить"),
            not_sees("Заказ № 1"),
        ],
    )
    .await;
    // Failing for a while: staff hear once.
    bot.wait_text(STAFF_CHAT, "Сбой внешнего сервиса «yookassa»")
        .await;
    assert!(texts_with(&bot.fake, user.id, "получена. Спасибо").is_empty());

    kassa.recover();
    bot.wait_text(user.id, "получена. Спасибо").await;
    bot.wait_text(STAFF_CHAT, "«yookassa» снова работает").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    settle(&bot).await;
    assert_eq!(texts_with(&bot.fake, user.id, "получена. Спасибо").len(), 1);
    assert_eq!(kassa.payments().len(), 1, "no second payment");
    assert_eq!(
        texts_with(&bot.fake, STAFF_CHAT, "«yookassa»").len(),
        2,
        "{:#?}",
        texts_with(&bot.fake, STAFF_CHAT, "")
    );
    stop.cancel();
    recheck.await.unwrap();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_payment_provider_makes_the_learner_wait_and_no_second_payment() {
    let kassa = YooKassaFake::start().await;
    let mut env = shop_settings(&kassa);
    env.push(("UCHBOT_PAYMENTS__TIMEOUT_SECONDS".into(), "1".into()));
    let mut bot = TestBot::start(
        TestDb::sqlite().await,
        Options {
            env,
            provider: configured_provider,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    support::journeys::register(&mut bot, &user, "masha@example.org").await;
    // Every answer hangs past the client's timeout (the payment is made all the same).
    kassa.delay(Duration::from_secs(2));
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            sees("Минутку"),
            sees("не отвечает"),
            button("Попробовать ещё раз"),
        ],
    )
    .await;
    bot.wait_text(STAFF_CHAT, "Сбой внешнего сервиса «yookassa»")
        .await;
    kassa.delay(Duration::ZERO);
    run(
        &mut bot,
        &user,
        vec![
            press("Попробовать ещё раз"),
            sees("Заказ № 1"),
            button("Я оплатил — проверить"),
        ],
    )
    .await;
    bot.wait_text(STAFF_CHAT, "«yookassa» снова работает").await;
    let keys: Vec<String> = kassa
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/payments"))
        .filter_map(|r| r.header("Idempotence-Key").map(str::to_owned))
        .collect();
    assert!(keys.len() >= 5, "retried: {keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "one key: {keys:?}");
    assert_eq!(kassa.payments().len(), 1, "no second payment");
    bot.stop().await;
}
