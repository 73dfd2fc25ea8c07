//! The fake Bot API driven by the real teloxide: plain `Bot` calls and a real dispatcher.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, BotCommandScope, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, MessageId, ParseMode, Seconds,
};
use teloxide::{ApiError, RequestError};
use tokio::task::JoinHandle;
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeChat, FakeUser, Outcome, UploadedFile};

const TOKEN: &str = "123456:TEST";
const WAIT: Duration = Duration::from_secs(5);

fn bot(fake: &FakeBotApi) -> Bot {
    Bot::new(TOKEN).set_api_url(fake.url())
}

fn learner() -> FakeUser {
    FakeUser::new(424242, "Анна")
        .with_last_name("Иванова")
        .with_username("anna_iv")
}

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A tiny bot: `/start` shows a keyboard, a button press is answered and edits the message,
/// a document is downloaded and sent back, any other text is echoed.
async fn on_message(bot: Bot, msg: Message) -> HandlerResult {
    if let Some(document) = msg.document() {
        let file = bot.get_file(document.file.id.clone()).await?;
        let mut bytes = Vec::new();
        bot.download_file(&file.path, &mut bytes).await?;
        let name = document.file_name.clone().unwrap_or_default();
        bot.send_message(
            msg.chat.id,
            format!("Получен файл {name}: {} байт", bytes.len()),
        )
        .await?;
        bot.send_document(
            msg.chat.id,
            InputFile::memory(bytes).file_name(format!("copy-{name}")),
        )
        .await?;
        return Ok(());
    }
    let text = msg.text().unwrap_or_default();
    if text.starts_with("/start") {
        let keyboard = InlineKeyboardMarkup::new(vec![
            vec![InlineKeyboardButton::callback("Курс А", "course:a")],
            vec![InlineKeyboardButton::url(
                "Сайт",
                "https://example.com/".parse().expect("url"),
            )],
        ]);
        bot.send_message(msg.chat.id, "Привет! Выберите курс:")
            .reply_markup(keyboard)
            .await?;
    } else {
        bot.send_message(msg.chat.id, format!("Эхо: {text}"))
            .await?;
    }
    Ok(())
}

async fn on_callback(bot: Bot, query: CallbackQuery) -> HandlerResult {
    bot.answer_callback_query(query.id.clone())
        .text("Принято")
        .await?;
    if let (Some(message), Some(data)) = (query.regular_message(), query.data.as_deref()) {
        bot.edit_message_text(message.chat.id, message.id, format!("Вы выбрали {data}"))
            .await?;
    }
    Ok(())
}

struct RunningBot {
    token: teloxide::dispatching::ShutdownToken,
    task: JoinHandle<()>,
}

impl RunningBot {
    async fn stop(self) {
        self.token.shutdown().expect("dispatcher is running").await;
        self.task.await.expect("dispatcher task");
    }
}

async fn start_dispatcher(fake: &FakeBotApi) -> RunningBot {
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback));
    let mut dispatcher = Dispatcher::builder(bot(fake), handler).build();
    let token = dispatcher.shutdown_token();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });
    fake.wait_for(
        |f| (!f.requests_to("getUpdates").is_empty()).then_some(()),
        WAIT,
    )
    .await
    .expect("the dispatcher starts polling");
    RunningBot { token, task }
}

#[tokio::test]
async fn dispatcher_starts_polling_and_handles_text_and_buttons() {
    let fake = FakeBotApi::start().await.unwrap();
    let running = start_dispatcher(&fake).await;

    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods[..3], ["getWebhookInfo", "getMe", "getUpdates"]);

    let anna = learner();
    fake.send_text(&anna, "/start");
    let menu = fake.next_bot_message(anna.id, WAIT).await.unwrap();
    assert_eq!(menu.text.as_deref(), Some("Привет! Выберите курс:"));
    // The learner's /start was message 1 of the chat, the bot's answer is message 2.
    assert_eq!(menu.message_id, 2);
    assert_eq!(
        menu.button("Курс А")
            .and_then(|b| b.callback_data.as_deref()),
        Some("course:a")
    );
    assert_eq!(
        menu.button("Сайт").and_then(|b| b.url.as_deref()),
        Some("https://example.com/")
    );

    let press = fake
        .press_button(&anna, anna.id, menu.message_id, "course:a")
        .unwrap();
    let edited = fake
        .wait_for(
            |f| f.message(anna.id, menu.message_id).filter(|m| m.edited),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(edited.text.as_deref(), Some("Вы выбрали course:a"));
    // editMessageText without reply_markup removes the inline keyboard, as in Telegram.
    assert!(edited.inline_keyboard.is_empty());
    let answer = fake
        .wait_for(|f| f.callback_answer(press), WAIT)
        .await
        .unwrap();
    assert_eq!(answer.text.as_deref(), Some("Принято"));
    assert!(!answer.show_alert);

    let echo_update = fake.send_text(&anna, "привет");
    let echo = fake.next_bot_message(anna.id, WAIT).await.unwrap();
    assert_eq!(echo.text.as_deref(), Some("Эхо: привет"));
    assert_eq!(echo.message_id, 4);

    let sends = fake.requests_to("sendMessage");
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].param_i64("chat_id"), Some(anna.id));
    assert_eq!(
        sends[1].result().and_then(|m| m["text"].as_str()),
        Some("Эхо: привет")
    );

    // The shell's way: act, wait until the bot has reacted, read the chat.
    let last_update = fake.send_text(&anna, "и ещё");
    fake.wait_until_idle(Duration::from_millis(200), WAIT)
        .await
        .unwrap();
    let chat = fake.messages(anna.id);
    assert_eq!(
        chat.last().and_then(|m| m.text.as_deref()),
        Some("Эхо: и ещё")
    );
    assert_eq!(chat.len(), 3);

    running.stop().await;
    // On shutdown teloxide confirms what it has processed.
    assert!(last_update > echo_update);
    assert_eq!(fake.confirmed_offset(), last_update + 1);
    assert_eq!(fake.pending_updates(), 0);
}

#[tokio::test]
async fn learner_document_reaches_the_bot_and_the_bot_uploads_one() {
    let fake = FakeBotApi::start().await.unwrap();
    let running = start_dispatcher(&fake).await;
    let anna = learner();
    let scan = b"%PDF-1.4 passport scan".to_vec();

    fake.send_document(&anna, "passport.pdf", "application/pdf", scan.clone());
    let ack = fake.next_bot_message(anna.id, WAIT).await.unwrap();
    assert_eq!(
        ack.text.as_deref(),
        Some(format!("Получен файл passport.pdf: {} байт", scan.len()).as_str())
    );
    let copy = fake.next_bot_message(anna.id, WAIT).await.unwrap();
    let document = copy.document.expect("the bot sent a document");
    assert_eq!(document.file_name.as_deref(), Some("copy-passport.pdf"));
    assert_eq!(document.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(document.bytes, scan);

    let upload = &fake.requests_to("sendDocument")[0];
    assert_eq!(
        upload.files,
        vec![UploadedFile {
            param: "document".into(),
            file_name: "copy-passport.pdf".into(),
            bytes: scan.clone(),
        }]
    );
    assert_eq!(upload.param_i64("chat_id"), Some(anna.id));
    assert_eq!(fake.requests_to("getFile").len(), 1);
    running.stop().await;
}

#[tokio::test]
async fn send_message_answers_a_full_message_with_parsed_html() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "/start");

    let keyboard = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "Записаться",
        "enroll:7",
    )]]);
    let sent = bot
        .send_message(
            ChatId(anna.id),
            "<b>Курс</b> «Охрана труда» &amp; <i>экзамен</i>",
        )
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(sent.id, MessageId(2));
    assert_eq!(sent.text(), Some("Курс «Охрана труда» & экзамен"));
    assert_eq!(sent.from.as_ref().map(|u| u.id.0), Some(123456));
    assert!(sent.from.as_ref().is_some_and(|u| u.is_bot));
    assert_eq!(sent.chat.id, ChatId(anna.id));
    assert!(sent.chat.is_private());
    assert_eq!(sent.reply_markup(), Some(&keyboard));
    let entities = sent.entities().unwrap();
    assert_eq!(entities.len(), 2);
    assert_eq!((entities[0].offset, entities[0].length), (0, 4));
    assert_eq!((entities[1].offset, entities[1].length), (22, 7));

    let stored = &fake.messages(anna.id)[0];
    assert_eq!(stored.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        stored.source_text.as_deref(),
        Some("<b>Курс</b> «Охрана труда» &amp; <i>экзамен</i>")
    );

    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username(), "uchbot_test_bot");
}

#[tokio::test]
async fn validation_errors_use_telegrams_descriptions() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "/start");
    let chat = ChatId(anna.id);

    let too_long = "я".repeat(4097);
    let err = bot.send_message(chat, too_long).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageIsTooLong)),
        "{err:?}"
    );
    bot.send_message(chat, "я".repeat(4096)).await.unwrap();

    let err = bot.send_message(chat, "  ").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "{err:?}"
    );

    let err = bot
        .send_message(chat, "<b>не закрыт")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    match err {
        RequestError::Api(ApiError::CantParseEntities(description)) => assert_eq!(
            description,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
        ),
        other => panic!("unexpected {other:?}"),
    }
    let err = bot
        .send_message(chat, "<div>x</div>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Unsupported start tag \"div\" at byte offset 0"),
        "{err}"
    );
    let err = bot
        .send_message(chat, "Итого: 5.")
        .parse_mode(ParseMode::MarkdownV2)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Character '.' is reserved"),
        "{err}"
    );

    let long_data = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "x",
        "d".repeat(65),
    )]]);
    let err = bot
        .send_message(chat, "кнопка")
        .reply_markup(long_data)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ButtonDataInvalid)),
        "{err:?}"
    );

    let err = bot.send_message(ChatId(777), "кому?").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ChatNotFound)),
        "{err:?}"
    );

    let err = Bot::new("999:WRONG")
        .set_api_url(fake.url())
        .get_me()
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidToken)),
        "{err:?}"
    );

    // The refused calls are recorded with their answers.
    let refused: Vec<_> = fake
        .requests_to("sendMessage")
        .into_iter()
        .filter_map(|r| r.error().map(str::to_owned))
        .collect();
    assert_eq!(refused[0], "Bad Request: message is too long");
    assert_eq!(refused.len(), 7);
}

#[tokio::test]
async fn edits_apply_and_unchanged_or_unknown_edits_are_refused() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "/start");
    let chat = ChatId(anna.id);
    let keyboard =
        InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("Да", "yes")]]);
    let sent = bot
        .send_message(chat, "Вопрос 1")
        .reply_markup(keyboard.clone())
        .await
        .unwrap();

    let err = bot
        .edit_message_text(chat, sent.id, "Вопрос 1")
        .reply_markup(keyboard.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );

    let edited = bot
        .edit_message_text(chat, sent.id, "Вопрос 1 (ответ принят)")
        .reply_markup(keyboard)
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Вопрос 1 (ответ принят)"));
    assert!(edited.edit_date().is_some());

    bot.edit_message_reply_markup(chat, sent.id).await.unwrap();
    let now = fake.message(anna.id, sent.id.0).unwrap();
    assert_eq!(now.text.as_deref(), Some("Вопрос 1 (ответ принят)"));
    assert!(now.inline_keyboard.is_empty());
    let err = bot
        .edit_message_reply_markup(chat, sent.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );

    let err = bot
        .edit_message_text(chat, MessageId(99), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToEditNotFound)),
        "{err:?}"
    );
    // The learner's own message can't be edited by the bot.
    let err = bot
        .edit_message_text(chat, MessageId(1), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageCantBeEdited)),
        "{err:?}"
    );

    bot.delete_message(chat, sent.id).await.unwrap();
    assert!(fake.messages(anna.id).is_empty());
    let err = bot.delete_message(chat, sent.id).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToDeleteNotFound)),
        "{err:?}"
    );
}

#[tokio::test]
async fn callback_queries_are_answered_once() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "/start");
    let sent = bot
        .send_message(ChatId(anna.id), "Выберите")
        .reply_markup(InlineKeyboardMarkup::new(vec![vec![
            InlineKeyboardButton::callback("A", "a"),
        ]]))
        .await
        .unwrap();
    assert!(fake.press_button(&anna, anna.id, sent.id.0, "zzz").is_err());
    let press = fake.press_button(&anna, anna.id, sent.id.0, "a").unwrap();

    let updates = bot.get_updates().await.unwrap();
    let query = updates
        .iter()
        .find(|u| u.id.0 as i64 == press)
        .and_then(|u| match &u.kind {
            teloxide::types::UpdateKind::CallbackQuery(q) => Some(q.clone()),
            _ => None,
        })
        .expect("the callback query update");
    assert_eq!(query.data.as_deref(), Some("a"));
    assert_eq!(query.from.id.0 as i64, anna.id);
    assert_eq!(query.regular_message().map(|m| m.id), Some(sent.id));

    bot.answer_callback_query(query.id.clone())
        .text("Готово")
        .show_alert(true)
        .await
        .unwrap();
    let err = bot
        .answer_callback_query(query.id.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidQueryId)),
        "{err:?}"
    );
    let answer = fake.callback_answer(press).unwrap();
    assert_eq!(answer.text.as_deref(), Some("Готово"));
    assert!(answer.show_alert);
}

#[tokio::test]
async fn injected_faults_reach_teloxide_as_its_errors() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "hi");

    fake.fail_next("SendMessage", Failure::TooManyRequests { retry_after: 7 });
    let err = bot.send_message(ChatId(anna.id), "раз").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s == Seconds::from_seconds(7)),
        "{err:?}"
    );
    bot.send_message(ChatId(anna.id), "два").await.unwrap();

    fake.fail_next("getMe", Failure::DropConnection);
    let err = bot.get_me().await.unwrap_err();
    assert!(matches!(err, RequestError::Network(_)), "{err:?}");
    assert_eq!(fake.requests_to("getMe")[0].outcome, Some(Outcome::Dropped));

    fake.fail_next("getMe", Failure::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    bot.get_me().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    fake.fail_next(
        "sendMessage",
        Failure::Api {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
        },
    );
    let err = bot.send_message(ChatId(anna.id), "три").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );

    // teloxide itself waits 10 s on a 5xx, so the server error is checked over plain HTTP.
    fake.fail_next("getMe", Failure::ServerError);
    let response = reqwest::Client::new()
        .post(format!("{}bot{TOKEN}/getMe", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["error_code"], json!(500));
}

#[tokio::test]
async fn flood_limits_answer_429_with_retry_after() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "hi");
    fake.enforce_rate_limits(true);

    for i in 0..3 {
        bot.send_message(ChatId(anna.id), format!("сообщение {i}"))
            .await
            .unwrap();
    }
    let err = bot
        .send_message(ChatId(anna.id), "лишнее")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s == Seconds::from_seconds(1)),
        "{err:?}"
    );

    let staff = FakeChat::supergroup(-1001234567890, "Сотрудники");
    fake.add_group(&staff);
    for i in 0..20 {
        bot.send_message(ChatId(staff.id), format!("оповещение {i}"))
            .await
            .unwrap();
    }
    let err = bot
        .send_message(ChatId(staff.id), "21-е")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() > 30),
        "{err:?}"
    );

    fake.enforce_rate_limits(false);
    bot.send_message(ChatId(staff.id), "без ограничений")
        .await
        .unwrap();
}

#[tokio::test]
async fn learner_files_are_served_by_get_file_and_download() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    let diploma = vec![0x25, 0x50, 0x44, 0x46, 0x00, 0xFF, 0x10];
    fake.send_document(&anna, "диплом.pdf", "application/pdf", diploma.clone());
    let png = tiny_png();
    fake.send_photo(&anna, png.clone());

    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 2);
    let document_msg = match &updates[0].kind {
        teloxide::types::UpdateKind::Message(m) => m.clone(),
        other => panic!("unexpected {other:?}"),
    };
    let document = document_msg.document().unwrap();
    assert_eq!(document.file_name.as_deref(), Some("диплом.pdf"));
    assert_eq!(
        document
            .mime_type
            .as_ref()
            .map(|m| m.to_string())
            .as_deref(),
        Some("application/pdf")
    );
    let file = bot.get_file(document.file.id.clone()).await.unwrap();
    assert_eq!(file.meta.size as usize, diploma.len());
    let mut downloaded = Vec::new();
    bot.download_file(&file.path, &mut downloaded)
        .await
        .unwrap();
    assert_eq!(downloaded, diploma);

    let photo_msg = match &updates[1].kind {
        teloxide::types::UpdateKind::Message(m) => m.clone(),
        other => panic!("unexpected {other:?}"),
    };
    let sizes = photo_msg.photo().unwrap();
    assert_eq!(sizes.len(), 4, "90, 320, 800 and the 1000-pixel original");
    assert_eq!((sizes[3].width, sizes[3].height), (1000, 600));
    let largest = bot.get_file(sizes[3].file.id.clone()).await.unwrap();
    let mut downloaded = Vec::new();
    bot.download_file(&largest.path, &mut downloaded)
        .await
        .unwrap();
    assert_eq!(downloaded, png);

    let err = bot
        .get_file(teloxide::types::FileId("nonsense".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::FileIdInvalid)),
        "{err:?}"
    );
}

/// A PNG header of 1000×600 (enough for Telegram's sniffing and the fake's size reading).
fn tiny_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(1000u32.to_be_bytes());
    png.extend(600u32.to_be_bytes());
    png.extend([8, 2, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
    png
}

#[tokio::test]
async fn bot_photos_documents_copies_and_forwards() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    let staff = FakeChat::group(-4001, "Сотрудники");
    fake.add_group(&staff);
    fake.send_document(
        &anna,
        "snils.jpg",
        "image/jpeg",
        b"\xFF\xD8\xFF\xE0 scan".to_vec(),
    );
    let learner_message = MessageId(1);

    let photo = bot
        .send_photo(ChatId(anna.id), InputFile::memory(tiny_png()))
        .caption("<b>Образец</b> удостоверения")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(photo.caption(), Some("Образец удостоверения"));
    assert_eq!(photo.photo().map(<[_]>::len), Some(4));
    let err = bot
        .send_photo(ChatId(anna.id), InputFile::memory(b"not an image".to_vec()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ImageProcessFailed)),
        "{err:?}"
    );

    let doc = bot
        .send_document(
            ChatId(anna.id),
            InputFile::memory(b"PDF".to_vec()).file_name("offer.pdf"),
        )
        .await
        .unwrap();
    // Sending the same file again by its file_id needs no upload.
    let again = bot
        .send_document(
            ChatId(staff.id),
            InputFile::file_id(doc.document().unwrap().file.id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        again.document().unwrap().file_name.as_deref(),
        Some("offer.pdf")
    );
    assert_eq!(
        fake.messages(staff.id)[0].document.as_ref().unwrap().bytes,
        b"PDF"
    );

    let copy = bot
        .copy_message(ChatId(staff.id), ChatId(anna.id), learner_message)
        .caption("Скан СНИЛС от Анны")
        .await
        .unwrap();
    let copied = fake.message(staff.id, copy.0).unwrap();
    assert_eq!(copied.caption.as_deref(), Some("Скан СНИЛС от Анны"));
    assert_eq!(copied.document.unwrap().bytes, b"\xFF\xD8\xFF\xE0 scan");

    let forwarded = bot
        .forward_message(ChatId(staff.id), ChatId(anna.id), learner_message)
        .await
        .unwrap();
    assert_eq!(
        forwarded.forward_from_user().map(|u| u.id.0 as i64),
        Some(anna.id)
    );
    let err = bot
        .copy_message(ChatId(staff.id), ChatId(anna.id), MessageId(77))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToCopyNotFound)),
        "{err:?}"
    );
    // Message ids are counted per chat.
    assert_eq!(
        fake.messages(staff.id)
            .iter()
            .map(|m| m.message_id)
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn reply_keyboards_group_messages_and_blocking() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let anna = learner();
    fake.send_text(&anna, "/start");
    bot.send_message(ChatId(anna.id), "Поделитесь телефоном")
        .reply_markup(
            KeyboardMarkup::new(vec![vec![KeyboardButton::new("📱 Отправить номер")
                .request(teloxide::types::ButtonRequest::Contact)]])
            .one_time_keyboard(),
        )
        .await
        .unwrap();
    let keyboard = fake.reply_keyboard(anna.id).unwrap();
    assert_eq!(keyboard[0][0].text, "📱 Отправить номер");
    assert!(keyboard[0][0].request_contact);
    fake.send_message_with(
        &anna,
        json!({"contact": {"phone_number": "+79001234567", "first_name": "Анна", "user_id": anna.id}}),
    )
    .unwrap();
    assert!(
        fake.reply_keyboard(anna.id).is_none(),
        "one-time keyboard hides"
    );

    let staff = FakeChat::supergroup(-1009, "Сотрудники");
    let boris = FakeUser::new(55, "Борис");
    fake.send_text_in(&staff, &boris, "/review@uchbot_test_bot 12");
    let updates = bot.get_updates().await.unwrap();
    let group_msg = updates
        .iter()
        .find_map(|u| match &u.kind {
            teloxide::types::UpdateKind::Message(m) if m.chat.id.0 == staff.id => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert!(group_msg.chat.is_supergroup());
    assert_eq!(group_msg.id, MessageId(1));
    let entity = &group_msg.entities().unwrap()[0];
    assert_eq!((entity.offset, entity.length), (0, 23));

    // Boris never wrote to the bot privately.
    let err = bot.send_message(ChatId(55), "привет").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("Forbidden: bot can't initiate conversation with a user"),
        "{err}"
    );

    fake.set_blocked(&anna, true);
    let err = bot
        .send_message(ChatId(anna.id), "вы тут?")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
}

#[tokio::test]
async fn commands_and_menu_are_stored_per_scope() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let private = vec![
        BotCommand::new("start", "Начать"),
        BotCommand::new("status", "Где я сейчас"),
    ];
    bot.set_my_commands(private.clone())
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .unwrap();
    bot.set_my_commands(vec![BotCommand::new("help", "Помощь")])
        .language_code("en")
        .await
        .unwrap();

    assert_eq!(fake.commands(&BotCommandScope::AllPrivateChats), private);
    assert!(fake.commands(&BotCommandScope::Default).is_empty());
    assert_eq!(
        fake.commands_for_language(&BotCommandScope::Default, "en"),
        vec![BotCommand::new("help", "Помощь")]
    );
    let read_back = bot
        .get_my_commands()
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .unwrap();
    assert_eq!(read_back, private);

    let err = bot
        .set_my_commands(vec![BotCommand::new("Start", "Начать")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("BOT_COMMAND_INVALID"), "{err}");

    bot.delete_my_commands()
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .unwrap();
    assert!(fake.commands(&BotCommandScope::AllPrivateChats).is_empty());

    bot.set_chat_menu_button()
        .menu_button(teloxide::types::MenuButton::Commands)
        .await
        .unwrap();
    assert_eq!(fake.menu_button(None), Some(json!({"type": "commands"})));
    fake.send_text(&learner(), "hi");
    bot.send_chat_action(ChatId(learner().id), teloxide::types::ChatAction::Typing)
        .await
        .unwrap();
}

#[tokio::test]
async fn long_polling_waits_and_wakes_on_a_new_update() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);

    let started = Instant::now();
    let empty = bot.get_updates().timeout(1).await.unwrap();
    assert!(empty.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));

    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    fake.wait_for(
        |f| (f.requests_to("getUpdates").len() == 2).then_some(()),
        WAIT,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let id = fake.send_text(&learner(), "проснись");
    let updates = poll.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id.0 as i64, id);

    // An update stays until an offset above it confirms it.
    assert_eq!(bot.get_updates().await.unwrap().len(), 1);
    let next = bot.get_updates().offset(id as i32 + 1).await.unwrap();
    assert!(next.is_empty());
    assert_eq!(fake.confirmed_offset(), id + 1);
    assert_eq!(fake.pending_updates(), 0);

    // A second poller ends the first with 409, as Telegram does.
    let first = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    fake.wait_for(
        |f| (f.requests_to("getUpdates").len() == 5).then_some(()),
        WAIT,
    )
    .await
    .unwrap();
    bot.get_updates().await.unwrap();
    let err = first.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Api(ApiError::TerminatedByOtherGetUpdates)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_methods_are_recorded_and_answered_404() {
    let fake = FakeBotApi::start().await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}bot{TOKEN}/SendHologram", fake.url()))
        .form(&[("chat_id", "1"), ("text", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"})
    );
    let recorded = &fake.requests()[0];
    assert_eq!(recorded.method, "sendHologram");
    // Form values are typed like JSON ones, text stays text.
    assert_eq!(recorded.params, json!({"chat_id": 1, "text": "123"}));
}

/// What the webhook receiver got: the secret header and the update.
type Delivery = (Option<String>, Value);

#[derive(Clone)]
struct Receiver {
    deliveries: tokio::sync::mpsc::UnboundedSender<Delivery>,
    attempts: Arc<AtomicUsize>,
}

async fn receive(
    axum::extract::State(receiver): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    axum::Json(update): axum::Json<Value>,
) -> axum::http::StatusCode {
    if receiver.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    }
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = receiver.deliveries.send((secret, update));
    axum::http::StatusCode::OK
}

/// Receives webhook POSTs: answers 500 to the first one, 200 afterwards.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<Delivery>,
    Arc<AtomicUsize>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let attempts = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Receiver {
            deliveries: tx,
            attempts: attempts.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx, attempts)
}

#[tokio::test]
async fn webhook_delivery_with_secret_and_retry() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    let (url, mut received, attempts) = webhook_receiver().await;

    bot.set_webhook(url.parse().unwrap())
        .secret_token("s3cr3t_Token-1".to_owned())
        .await
        .unwrap();
    assert_eq!(fake.webhook_url().as_deref(), Some(url.as_str()));
    let err = bot.get_updates().await.unwrap_err();
    assert!(err.to_string().contains("webhook is active"), "{err}");

    let anna = learner();
    let id = fake.send_text(&anna, "через вебхук");
    let (secret, update) = tokio::time::timeout(WAIT, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret.as_deref(), Some("s3cr3t_Token-1"));
    assert_eq!(update["update_id"], json!(id));
    assert_eq!(update["message"]["text"], json!("через вебхук"));
    // The first attempt got a 500 and was retried.
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    fake.wait_for(|f| (f.pending_updates() == 0).then_some(()), WAIT)
        .await
        .unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url.map(|u| u.to_string()), Some(url.clone()));
    assert_eq!(info.pending_update_count, 0);

    bot.delete_webhook().await.unwrap();
    let id = fake.send_text(&anna, "снова опрос");
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates[0].id.0 as i64, id);
}

#[tokio::test]
async fn stops_when_shut_down() {
    let fake = FakeBotApi::start().await.unwrap();
    let bot = bot(&fake);
    bot.get_me().await.unwrap();
    fake.shutdown().await;
    let err = bot.get_me().await.unwrap_err();
    assert!(matches!(err, RequestError::Network(_)), "{err:?}");

    // Dropping the last handle stops the server too (its task notices a moment later).
    let url = {
        let dropped = FakeBotApi::start().await.unwrap();
        dropped.url()
    };
    let orphan = Bot::new(TOKEN).set_api_url(url);
    let stopped = tokio::time::timeout(WAIT, async {
        loop {
            match orphan.get_me().await {
                Err(RequestError::Network(_)) => return,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await;
    assert!(
        stopped.is_ok(),
        "the server kept answering after its last handle was dropped"
    );
}
