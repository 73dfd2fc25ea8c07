//! Whatever a Telegram user can send that is not what the bot asked for: stickers, voice,
//! locations, polls, edits, group chats, huge and invisible texts, garbage buttons, odd deep
//! links, files out of place. Each gets a sensible Russian answer (or is ignored where an
//! answer would be noise), the conversation stays where it was, and the bot goes on.
mod support;

use serde_json::{json, Value};
use support::bot::*;
use support::db::TestDb;
use support::journeys::*;
use uchbot::journey::reply::{Button, Reply};
use uchbot::telegram::fake_api::{FakeChat, FakeUser};

const UNSUPPORTED: &str = "такие сообщения я не умею читать";
const OUTDATED: &str = "Эта кнопка устарела";

/// The stored conversation state of a private chat (what the bot waits for).
async fn dialogue(bot: &TestBot, chat: i64) -> Option<String> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT state FROM conversations WHERE chat_id = $1")
            .bind(chat)
            .fetch_optional(bot.app.store.pool())
            .await
            .unwrap();
    row.map(|(state,)| state)
}

async fn learners(bot: &TestBot) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM learners")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    n
}

async fn send_content(bot: &mut TestBot, user: &FakeUser, content: Value) -> String {
    text_of(&bot.send_content(user, content).await)
}

/// Media the bot cannot use, as Telegram's clients send them.
fn media() -> Vec<(&'static str, Value)> {
    vec![
        (
            "sticker",
            json!({"sticker": {"file_id": "CAAC-st", "file_unique_id": "st1", "type": "regular",
                "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "😀"}}),
        ),
        (
            "voice",
            json!({"voice": {"file_id": "AwAC-vo", "file_unique_id": "vo1", "duration": 3,
                "mime_type": "audio/ogg", "file_size": 4200}}),
        ),
        (
            "video note",
            json!({"video_note": {"file_id": "DQAC-vn", "file_unique_id": "vn1", "length": 240,
                "duration": 5, "file_size": 90000}}),
        ),
        (
            "location",
            json!({"location": {"latitude": 56.8389, "longitude": 60.6057}}),
        ),
        (
            "contact",
            json!({"contact": {"phone_number": "+79123456789", "first_name": "Мария", "user_id": 1001}}),
        ),
        (
            "poll",
            json!({"poll": {"id": "5001", "question": "Когда начало?", "options": [
                {"text": "Завтра", "voter_count": 0}, {"text": "Через неделю", "voter_count": 0}],
                "total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular",
                "allows_multiple_answers": false}}),
        ),
        ("dice", json!({"dice": {"emoji": "🎲", "value": 4}})),
        (
            "forwarded sticker",
            json!({"forward_origin": {"type": "hidden_user", "sender_user_name": "Кто-то", "date": 1_700_000_000},
                "sticker": {"file_id": "CAAC-st2", "file_unique_id": "st2", "type": "regular",
                "width": 512, "height": 512, "is_animated": false, "is_video": false}}),
        ),
    ]
}

/// Up to the question of the email address: the bot waits for text.
async fn awaiting_email(bot: &mut TestBot, user: &FakeUser) {
    run(
        bot,
        user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            sees("адрес электронной почты"),
        ],
    )
    .await;
}

async fn media_is_answered_and_the_question_stays(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    awaiting_email(&mut bot, &user).await;
    let before = dialogue(&bot, user.id).await.expect("a conversation");
    assert!(before.contains("awaiting_email"), "{before}");
    for (what, content) in media() {
        let answer = send_content(&mut bot, &user, content).await;
        assert!(answer.contains(UNSUPPORTED), "{what}: {answer}");
        assert_eq!(
            dialogue(&bot, user.id).await.as_ref(),
            Some(&before),
            "{what}"
        );
    }
    // The conversation goes on where it was.
    run(
        &mut bot,
        &user,
        vec![say("masha@example.org"), sees("6-значным кодом")],
    )
    .await;
    bot.stop().await;
}

async fn garbage_buttons_are_refused_and_change_nothing(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    awaiting_email(&mut bot, &user).await;
    let before = dialogue(&bot, user.id).await;
    let message_id = bot.fake.messages(user.id).last().unwrap().message_id;
    let long = "x".repeat(300);
    for data in [
        "garbage",
        "frm:",
        "fc:1:sn",
        "fc:1:surname:999",
        "cs:",
        "sec:ПК:0",
        "tz:99",
        "!",
        "!bad token",
        "\u{0}\u{1}",
        "enr:../../etc/passwd",
        long.as_str(),
        "",
    ] {
        let chat_messages = bot.fake.messages(user.id).len();
        let seq = bot.fake.requests().len();
        bot.forge_button(&user, user.id, message_id, data).await;
        let toast = bot
            .fake
            .requests_since(seq)
            .into_iter()
            .filter(|r| r.method == "answerCallbackQuery")
            .find_map(|r| r.param_str("text").map(str::to_owned));
        assert!(
            toast.as_deref().is_some_and(|t| t.contains(OUTDATED)),
            "{data:?}: {toast:?}"
        );
        assert_eq!(bot.fake.messages(user.id).len(), chat_messages, "{data:?}");
        assert_eq!(dialogue(&bot, user.id).await, before, "{data:?}");
    }
    bot.stop().await;
}

on_both_backends! {
    media_is_answered => media_is_answered_and_the_question_stays;
    garbage_buttons => garbage_buttons_are_refused_and_change_nothing;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_get_a_note_and_change_nothing() {
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    awaiting_email(&mut bot, &user).await;
    let before = dialogue(&bot, user.id).await;
    bot.fresh(user.id);
    bot.send_update(json!({"edited_message": {
        "message_id": 1, "date": 1_700_000_000, "edit_date": 1_700_000_100,
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user.to_json(), "text": "/start исправлено"}}))
        .await;
    let answer = text_of(&bot.fresh(user.id));
    assert!(
        answer.contains("Исправления в уже отправленных"),
        "{answer}"
    );
    assert_eq!(dialogue(&bot, user.id).await, before);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_chats_other_than_the_staff_chat_are_ignored() {
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let stranger = FakeUser::new(3001, "Пётр");
    let group = FakeChat::group(-4_400_000, "Выпускники 2026");
    for text in [
        "/start",
        "/start@uchbot_test_bot course_1",
        "/status",
        "Привет всем",
    ] {
        let answer = bot.say_in_group(&group, &stranger, text).await;
        assert!(answer.is_empty(), "{text}: {}", text_of(&answer));
    }
    // The bot does not talk in a group it does not serve, and keeps no data of its members.
    assert!(bot.fake.messages(group.id).is_empty());
    assert_eq!(learners(&bot).await, 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_texts_and_deep_links_get_answers() {
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    awaiting_email(&mut bot, &user).await;
    let before = dialogue(&bot, user.id).await;
    // Far longer than any answer: refused before any step reads it.
    let huge = "очень длинный текст ".repeat(500);
    let answer = text_of(&bot.say(&user, &huge).await);
    assert!(answer.contains("Сообщение слишком длинное"), "{answer}");
    assert_eq!(dialogue(&bot, user.id).await, before);
    // Unknown and oversized deep links open the catalog; the question stays.
    for payload in [
        "course_no_such_course".to_owned(),
        format!("course_{}", "a".repeat(80)),
        "x".repeat(200),
        "%D0%BA%D1%83%D1%80%D1%81".to_owned(),
        "course_../../etc".to_owned(),
    ] {
        let answer = text_of(&bot.say(&user, &format!("/start {payload}")).await);
        assert!(
            answer.contains("Не нашёл курс по этой ссылке"),
            "{payload}: {answer}"
        );
        assert!(answer.contains("Выберите раздел"), "{payload}: {answer}");
        assert_eq!(dialogue(&bot, user.id).await, before, "{payload}");
    }
    // An address with invisible characters around it is taken without them.
    let answer = text_of(
        &bot.say(&user, "\u{200B}\u{202E}masha@example.org\u{FEFF}\u{0}")
            .await,
    );
    assert!(answer.contains("6-значным кодом"), "{answer}");
    code_from_outbox(&bot, "masha@example.org").await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_out_of_the_blue_is_explained() {
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    register(&mut bot, &user, "masha@example.org").await;
    let before = dialogue(&bot, user.id).await;
    let answer = text_of(&bot.send_photo(&user, PNG).await);
    assert!(answer.contains("Файл получил, но пока не знаю"), "{answer}");
    let answer = text_of(
        &bot.send_file(&user, "скан.pdf", "application/pdf", PDF)
            .await,
    );
    assert!(answer.contains("Файл получил, но пока не знаю"), "{answer}");
    assert_eq!(dialogue(&bot, user.id).await, before);
    bot.stop().await;
}

/// Enrolls and fills the application up to the first document.
async fn at_documents(bot: &mut TestBot, user: &FakeUser) {
    register(bot, user, "masha@example.org").await;
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
            sees("Вопрос 1 из 10"),
        ],
    )
    .await;
    // Form fields with what phones and copy-paste put into text.
    let before = dialogue(bot, user.id).await;
    for (text, expected) in [
        ("🙂🙂🙂", "не бывает знака"),
        ("Иванова 👩‍🎓", "не бывает знака"),
        ("שרה", "не бывает знака"),
    ] {
        let answer = text_of(&bot.say(user, text).await);
        assert!(answer.contains(expected), "{text}: {answer}");
        assert_eq!(dialogue(bot, user.id).await, before, "{text}");
    }
    let huge = "Иванова".repeat(1500);
    let answer = text_of(&bot.say(user, &huge).await);
    assert!(answer.contains("Сообщение слишком длинное"), "{answer}");
    assert_eq!(dialogue(bot, user.id).await, before);
    run(
        bot,
        user,
        vec![
            // Zero-width and direction characters are dropped, not stored.
            say("Ива\u{200B}нова\u{200D}"),
            sees("Вопрос 2 из 10"),
            say("\u{202E}Мария\u{202C}"),
            say("Серге\u{0}евна"),
            say("07.03.1985"),
            say("112-233-445 95"),
            say("8 912 345 67 89"),
            press("Оставить: masha@example.org"),
            press("Высшее"),
            press("Совпадает с текущими ФИО"),
            say("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12"),
            sees("Проверьте"),
            sees("Иванова"),
            sees("Мария"),
            sees("Сергеевна"),
            press("✅ Всё верно"),
            sees("скан или фото паспорта"),
        ],
    )
    .await;
    let summary = bot
        .fake
        .messages(user.id)
        .into_iter()
        .filter_map(|m| m.source_text)
        .find(|t| t.contains("Проверьте"))
        .unwrap();
    assert!(!summary.contains(['\u{200B}', '\u{200D}', '\u{202E}', '\u{0}']));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_fields_and_documents_take_bad_input_calmly() {
    let mut bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    at_documents(&mut bot, &user).await;
    let before = dialogue(&bot, user.id).await;
    // A 30 MB scan is refused before it is downloaded.
    let answer = send_content(
        &mut bot,
        &user,
        json!({"document": {"file_id": "BQAC-big", "file_unique_id": "big1",
            "file_name": "паспорт.pdf", "mime_type": "application/pdf", "file_size": 30_000_000}}),
    )
    .await;
    assert!(answer.contains("Файл слишком большой"), "{answer}");
    assert_eq!(dialogue(&bot, user.id).await, before);
    // A sticker or a voice message while a scan is awaited: the bot repeats what it needs.
    for (what, content) in media().into_iter().take(2) {
        let answer = send_content(&mut bot, &user, content).await;
        assert!(answer.contains("Жду файл: Паспорт"), "{what}: {answer}");
        assert_eq!(dialogue(&bot, user.id).await, before, "{what}");
    }
    run(
        &mut bot,
        &user,
        vec![
            file("паспорт.pdf", "application/pdf", PDF),
            sees("Принято: Паспорт"),
        ],
    )
    .await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_texts_go_out_as_several_messages_with_the_buttons_last() {
    let bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    let user = masha();
    bot.fake.send_text(&user, "/help");
    bot.wait_text(user.id, "").await;
    let before = bot.fake.messages(user.id).len();
    let roster = (1..=300)
        .map(|n| {
            format!("{n}. <b>Иванова-Петрова Мария</b> — <i>документы на проверке</i> &amp; оплата")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let reply = Reply::text(roster.clone()).button(Button::action(
        "Статус",
        uchbot::journey::action::Action::Status,
    ));
    bot.messenger().send(user.id, &reply).await.expect("sent");
    let sent: Vec<_> = bot
        .fake
        .messages(user.id)
        .into_iter()
        .skip(before)
        .collect();
    assert!(sent.len() >= 5, "{} parts", sent.len());
    for m in &sent {
        let text = m.text.as_deref().unwrap();
        assert!(text.chars().count() <= 4096);
        assert!(text.ends_with("оплата"), "not broken at a line: {text}");
    }
    assert!(sent[..sent.len() - 1]
        .iter()
        .all(|m| m.inline_keyboard.is_empty()));
    assert!(sent.last().unwrap().button("Статус").is_some());
    let shown = sent
        .iter()
        .map(|m| m.text.clone().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let expected = roster
        .replace("<b>", "")
        .replace("</b>", "")
        .replace("<i>", "")
        .replace("</i>", "")
        .replace("&amp;", "&");
    assert_eq!(shown, expected);
    bot.stop().await;
}
