//! The enrollment journey in Telegram, end to end: the real dispatcher against the fake Bot
//! API, on SQLite and PostgreSQL.
mod support;

use support::bot::*;
use support::db::TestDb;
use support::journeys::*;
use uchbot::telegram::fake_api::FakeUser;

async fn review_status(bot: &TestBot) -> Option<String> {
    let (status,): (Option<String>,) = sqlx::query_as("SELECT review_status FROM enrollments")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    status
}

async fn whole_path(db: TestDb) {
    whole_path_with(db, Options::default()).await
}

/// With one database connection, nothing on the way may take a second while it holds the
/// first (a step asking the pool for the catalog inside its transaction waited for itself).
async fn whole_path_on_one_connection(db: TestDb) {
    let options = Options {
        env: vec![one_connection()],
        ..Options::default()
    };
    whole_path_with(db, options).await
}

async fn whole_path_with(db: TestDb, options: Options) {
    let mut bot = TestBot::start(db, options).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    // Staff got the application with both files and the decision buttons.
    let alert = bot.wait_text(STAFF_CHAT, "Заявление на зачисление").await;
    assert!(alert.button("✅ Принять").is_some());
    assert!(alert.shown_text().unwrap().contains("112-233-445 95"));
    bot.fake
        .wait_for(
            |f| {
                (f.messages(STAFF_CHAT)
                    .iter()
                    .filter(|m| m.document.is_some())
                    .count()
                    >= 2)
                    .then_some(())
            },
            std::time::Duration::from_secs(10),
        )
        .await
        .expect("both documents in the staff chat");
    // A manager accepts: the learner is told, once.
    let manager = FakeUser::new(MANAGER, "Ольга");
    let accept = alert
        .button("✅ Принять")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    bot.press_data(&manager, STAFF_CHAT, alert.message_id, &accept)
        .await;
    bot.wait_text(user.id, "проверены и приняты").await;
    assert_eq!(review_status(&bot).await.as_deref(), Some("accepted"));
    bot.press_data(&manager, STAFF_CHAT, alert.message_id, &accept)
        .await;
    let accepted = bot
        .fake
        .messages(user.id)
        .iter()
        .filter(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("проверены и приняты"))
        })
        .count();
    assert_eq!(accepted, 1, "a second press changes nothing");
    bot.stop().await;
}

async fn refused_consent(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    run(
        &mut bot,
        &user,
        vec![
            say("/start"),
            press("Не согласен"),
            sees("отказались"),
            button("📚 Каталог курсов"),
            say("/status"),
            sees("не дали согласие"),
            press("📚 Каталог курсов"),
            press("Повышение квалификации (3)"),
            press("Оказание первой помощи в образовательной организации · 16 часов"),
            sees("16 часов"),
            press("Записаться"),
            sees("нужно согласие"),
            button("✅ Согласен"),
            press("✅ Согласен"),
            sees("адрес электронной почты"),
        ],
    )
    .await;
    let (refused, given): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT consent_refused_at, consent_given_at FROM learners")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert!(
        refused.is_none() && given.is_some(),
        "the later consent replaces the refusal"
    );
    let audit: Vec<(String,)> = sqlx::query_as("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        audit,
        vec![
            ("consent-refused".to_owned(),),
            ("consent-given".to_owned(),)
        ]
    );
    bot.stop().await;
}

async fn wrong_code_and_tampered_links(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_nosuch"),
            sees("Не нашёл курс"),
            button("Повышение квалификации (3)"),
            say("/start course_../../etc"),
            sees("Не нашёл курс"),
            say("/start course_pk-first-aid"),
            sees("16 часов"),
            say("/start"),
            press("✅ Согласен"),
            say("masha@example.org"),
            sees("6-значным кодом"),
            say("000000"),
            sees("Осталось 4 попытки"),
            say("000001"),
            sees("Осталось 3 попытки"),
            say("00000"),
            sees("6 цифр"),
        ],
    )
    .await;
    let code = code_from_outbox(&bot, "masha@example.org").await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    run(
        &mut bot,
        &user,
        vec![
            say(wrong),
            say(wrong),
            say(wrong),
            sees("закончились"),
            say(code.clone()),
            sees("закончились"),
        ],
    )
    .await;
    // After the pause a new code can be had, and it works.
    bot.app.clock.advance(61);
    run(
        &mut bot,
        &user,
        vec![press("Отправить код ещё раз"), sees("6-значным кодом")],
    )
    .await;
    let fresh = code_from_outbox(&bot, "masha@example.org").await;
    run(&mut bot, &user, vec![say(fresh), sees("подтверждён")]).await;
    bot.stop().await;
}

async fn oversized_and_wrong_files(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    register(&mut bot, &user, "masha@example.org").await;
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            press_prefix("💳 Оплатить"),
            press("📝 Заполнить заявление"),
            say("Иванова"),
            say("Мария"),
            press("Отчества нет"),
            say("07.03.1985"),
            say("11223344595"),
            say("+79123456789"),
            press("Оставить: masha@example.org"),
            press("Высшее"),
            say("Петрова Мария"),
            sees("Почтовый адрес"),
            say("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12"),
            press("✅ Всё верно"),
            sees("паспорта"),
        ],
    )
    .await;
    let big = vec![b'%'; 21 * 1024 * 1024];
    run(
        &mut bot,
        &user,
        vec![
            file("огромный.pdf", "application/pdf", &big),
            sees("до 20 МБ"),
            file("заметки.txt", "text/plain", b"just some text"),
            sees("формат не подходит"),
            file("паспорт.pdf", "application/pdf", PDF),
            sees("Принято"),
            file("паспорт.pdf", "application/pdf", PDF),
            sees("уже есть"),
            press("Готово, дальше →"),
            file("диплом.pdf", "application/pdf", b"%PDF-1.7 diploma"),
            press("Готово, дальше →"),
            sees("смене фамилии"),
            say("/status"),
            sees("Документ о смене фамилии"),
        ],
    )
    .await;
    let (docs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(docs, 2, "refused and repeated files are not stored");
    bot.stop().await;
}

async fn returned_document(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    bot.wait_text(STAFF_CHAT, "Заявление на зачисление").await;
    let manager = FakeUser::new(MANAGER, "Ольга");
    bot.press_in(&manager, STAFF_CHAT, "↩️ Вернуть документ")
        .await;
    let (_, asked) = bot
        .press_in(&manager, STAFF_CHAT, "Паспорт: паспорт.pdf")
        .await;
    let prompt = asked
        .iter()
        .find(|m| m.shown_text().is_some_and(|t| t.contains("причину")))
        .expect("reason prompt");
    bot.staff_reply(
        &manager,
        prompt.message_id,
        "Не видно страницы с регистрацией",
    )
    .await;
    let notice = bot.wait_text(user.id, "вернул документ").await;
    assert!(notice
        .shown_text()
        .unwrap()
        .contains("Не видно страницы с регистрацией"));
    assert_eq!(review_status(&bot).await.as_deref(), Some("returned"));
    run(
        &mut bot,
        &user,
        vec![
            say("/status"),
            sees("Документ возвращён"),
            press("Отправить заново: Паспорт"),
            sees("Пришлите, пожалуйста, заново"),
            file("паспорт-2.pdf", "application/pdf", b"%PDF-1.4 second scan"),
            sees("Принято"),
            press("Готово, дальше →"),
            sees("Все документы на месте"),
            sees("паспорт-2.pdf"),
            not_sees("паспорт.pdf,"),
            press("✅ Отправить на проверку"),
            sees("повторную проверку"),
        ],
    )
    .await;
    assert_eq!(review_status(&bot).await.as_deref(), Some("pending"));
    bot.stop().await;
}

async fn restart_mid_form(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    register(&mut bot, &user, "masha@example.org").await;
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            press_prefix("💳 Оплатить"),
            press("📝 Заполнить заявление"),
            say("Иванова"),
            say("Мария"),
            sees("Вопрос 3 из 10"),
        ],
    )
    .await;
    bot.restart().await;
    run(
        &mut bot,
        &user,
        vec![
            say("Сергеевна"),
            sees("Вопрос 4 из 10"),
            say("/cancel"),
            sees("сохранено"),
            say("/status"),
            sees("заявление"),
        ],
    )
    .await;
    bot.restart().await;
    run(
        &mut bot,
        &user,
        vec![
            press("📝 Заполнить заявление"),
            sees("Вопрос 4 из 10"),
            say("07.03.1985"),
            sees("Вопрос 5 из 10"),
        ],
    )
    .await;
    bot.stop().await;
}

async fn staff_buttons_are_for_staff_only(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    let alert = bot.wait_text(STAFF_CHAT, "Заявление на зачисление").await;
    let accept = alert
        .button("✅ Принять")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    // The learner replays the staff button in their own chat…
    let last = bot.fake.messages(user.id).last().unwrap().message_id;
    bot.forge_button(&user, user.id, last, &accept).await;
    // …and a stranger presses the real one in the staff chat, and forges the old forms.
    let stranger = FakeUser::new(6666, "Посторонний");
    bot.press_data(&stranger, STAFF_CHAT, alert.message_id, &accept)
        .await;
    for forged in ["sa:1", "srd:1", "sr:1"] {
        bot.forge_button(&stranger, STAFF_CHAT, alert.message_id, forged)
            .await;
        bot.forge_button(&user, user.id, last, forged).await;
    }
    assert_eq!(
        review_status(&bot).await.as_deref(),
        Some("pending"),
        "nothing was accepted"
    );
    let (returned,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM documents WHERE status <> 'received'")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(returned, 0);
    // Garbage callback data gets a polite toast, not a crash.
    bot.forge_button(&user, user.id, last, "sa:1:DROP TABLE")
        .await;
    bot.forge_button(&user, user.id, last, "frm:999999").await;
    run(
        &mut bot,
        &user,
        vec![say("/status"), sees("Документы на проверке")],
    )
    .await;
    bot.stop().await;
}

async fn bot_messages(bot: &TestBot, chat: i64) -> usize {
    bot.fake
        .wait_until_idle(
            std::time::Duration::from_millis(800),
            std::time::Duration::from_secs(15),
        )
        .await
        .unwrap();
    bot.fake.messages(chat).len()
}

/// An update applied whose answer may have died with the process is handed out again after
/// the restart: the learner is shown where they stand — only if they have not written
/// since (then that message's answer shows it, and a status could show a question already
/// answered).
async fn replayed_update_status(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
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
    let email_update = bot.fake.send_text(&user, "masha@example.org");
    bot.wait_text(user.id, "6-значным кодом").await;
    let before = bot_messages(&bot, user.id).await;
    bot.undo_done(&[email_update]).await;
    bot.restart().await;
    let after = bot_messages(&bot, user.id).await;
    assert_eq!(after, before + 1, "one message: the status");
    let status = bot
        .fake
        .messages(user.id)
        .last()
        .unwrap()
        .shown_text()
        .unwrap()
        .to_owned();
    assert!(
        status.contains("код отправлен на masha@example.org"),
        "{status}"
    );

    // Written since: the replay of the older update says nothing.
    bot.fake.send_text(&user, "/help");
    bot.wait_text(user.id, "/status").await;
    let before = bot_messages(&bot, user.id).await;
    bot.undo_done(&[email_update]).await;
    bot.restart().await;
    assert_eq!(bot_messages(&bot, user.id).await, before);
    bot.stop().await;
}

on_both_backends! {
    a_replayed_update_shows_the_status_unless_the_learner_wrote_since => replayed_update_status;
    the_whole_enrollment_path => whole_path;
    the_whole_enrollment_path_on_one_connection => whole_path_on_one_connection;
    refused_consent_is_respected => refused_consent;
    wrong_codes_and_tampered_deep_links => wrong_code_and_tampered_links;
    oversized_wrong_and_repeated_files => oversized_and_wrong_files;
    a_returned_document_is_resent => returned_document;
    a_restart_mid_form_loses_nothing => restart_mid_form;
    staff_buttons_do_nothing_for_others => staff_buttons_are_for_staff_only;
}

#[path = "support/mail_server.rs"]
mod mail_server;

/// The verification code travels through a real SMTP server into a real mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_code_arrives_by_real_smtp() {
    let mail = tokio::task::spawn_blocking(mail_server::MailServer::start)
        .await
        .unwrap();
    let env = vec![
        (
            "UCHBOT_SMTP__URL".to_owned(),
            format!("smtp://{}:{}", mail.host(), mail.smtp_port),
        ),
        (
            "UCHBOT_SMTP__FROM".to_owned(),
            format!("Учебный центр <{}>", mail_server::TEACH.address),
        ),
        (
            "UCHBOT_SCHOOL__EMAIL".to_owned(),
            mail_server::TEACH.address.to_owned(),
        ),
    ];
    let settings = uchbot::config::Settings::load_from(None, env.clone()).unwrap();
    let transport = uchbot::serve::mail_transport(&settings).unwrap();
    let mut bot = TestBot::start(
        TestDb::sqlite().await,
        Options {
            env,
            mail: transport,
            ..Options::default()
        },
    )
    .await;
    let user = masha();
    let learner = mail_server::LEARNER.address;
    run(
        &mut bot,
        &user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say(learner),
            sees("6-значным кодом"),
        ],
    )
    .await;
    let inbox = mail.maildir(learner).join("new");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let letter = loop {
        let files: Vec<_> = std::fs::read_dir(&inbox)
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        if let Some(f) = files.first() {
            break std::fs::read(f.path()).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no letter in {}",
            inbox.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let parsed = uchbot::email::parse::parse_incoming(
        &letter,
        &uchbot::email::parse::MailLimits::for_document_scans(),
    )
    .unwrap();
    assert!(
        parsed
            .subject
            .as_deref()
            .unwrap_or_default()
            .starts_with("Код подтверждения"),
        "{:?}",
        parsed.subject
    );
    let at = parsed.text.find("адреса: ").expect("code in the letter") + "адреса: ".len();
    let code = parsed.text[at..at + 6].to_owned();
    run(&mut bot, &user, vec![say(code), sees("подтверждён")]).await;
    // Sent once: the outbox does not send it again.
    let (sent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND status = 'sent'")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(sent, 1);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        std::fs::read_dir(&inbox).unwrap().count(),
        1,
        "exactly one letter"
    );
    bot.stop().await;
}
