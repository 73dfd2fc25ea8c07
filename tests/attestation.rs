//! The final test and the qualification document (issue 5) through the real dispatcher, on
//! SQLite and PostgreSQL: from «Вы зачислены» to the tracking number — the test one question
//! at a time in one message, the result and the staff alert, the group's end, the sample PDF
//! in Telegram and in the letter, a correction, the confirmation, «Напечатано», `/track`.
//! Time moves with `app.clock.advance` and the scheduler is ticked by hand.
mod support;

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use uchbot::app::App;
use uchbot::scheduler::Worker;
use uchbot::store::learners;
use uchbot::telegram::fake_api::{BotMessage, FakeUser};

use support::bot::*;
use support::db::TestDb;
use support::journeys::{enroll, masha};

const COURSE: &str = "pk-fgos";

fn moscow(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Europe::Moscow
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Moves the bot's clock to `at`.
fn travel(bot: &TestBot, at: chrono::DateTime<Utc>) {
    // Rounded up: the clock keeps whole seconds of offset over a sub-second now.
    let by = (at - bot.app.now()).num_seconds() + 1;
    assert!(by >= 0, "time only moves forward");
    bot.app.clock.advance(by);
}

/// Plans the test-window jobs as `catalog import` and `serve` do.
async fn plan(app: &App) {
    let catalog = app.catalog().await.unwrap();
    let mut tx = app.store.begin().await.unwrap();
    uchbot::scheduler::attestation::plan(&mut tx, &catalog, app.school.tz, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Runs the scheduler until nothing is due.
async fn tick(bot: &TestBot) -> usize {
    let worker = Worker::with_id("test-worker");
    let messenger = bot.messenger();
    let mut total = 0;
    loop {
        let n = worker
            .run_once(&bot.app, messenger.as_ref(), bot.app.now().timestamp())
            .await
            .unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

async fn learner_id(bot: &TestBot, user: &FakeUser) -> i64 {
    let mut conn = bot.app.store.pool().acquire().await.unwrap();
    learners::by_tg_user(&mut conn, user.id)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The newest message of the chat that shows a question of the test.
fn question_message(bot: &TestBot, chat: i64) -> BotMessage {
    bot.fake
        .messages(chat)
        .into_iter()
        .rev()
        .find(|m| m.shown_text().is_some_and(|t| t.contains("Вопрос ")))
        .expect("a question on screen")
}

/// The shown number of each option of the question on screen whose text is in `wanted`.
fn numbers_of(message: &BotMessage, wanted: &[&String]) -> Vec<String> {
    let text = message.shown_text().unwrap();
    wanted
        .iter()
        .map(|option| {
            text.lines()
                .find_map(|l| {
                    let l = l.trim_start_matches("✅ ");
                    let (n, rest) = l.split_once(". ")?;
                    (rest == option.as_str()).then(|| n.to_owned())
                })
                .unwrap_or_else(|| panic!("option «{option}» not shown in:\n{text}"))
        })
        .collect()
}

/// Answers the question on screen from the example catalog's bank: right or wrong.
/// Returns whether it was a multiple-choice question.
async fn answer(bot: &mut TestBot, user: &FakeUser, right: bool) -> bool {
    let catalog = uchbot::catalog::example_catalog().unwrap();
    let bank = &catalog.course(COURSE).unwrap().attestation.questions;
    let message = question_message(bot, user.id);
    let text = message.shown_text().unwrap().to_owned();
    let q = bank
        .iter()
        .find(|q| text.contains(&q.text))
        .unwrap_or_else(|| panic!("not a question of the bank:\n{text}"));
    let picks: Vec<&String> = q
        .options
        .iter()
        .enumerate()
        .filter(|(i, _)| q.correct.contains(i) == right)
        .map(|(_, o)| o)
        .collect();
    let numbers = numbers_of(&message, &picks);
    match q.kind {
        uchbot::domain::catalog::QuestionKind::Single => {
            assert!(text.contains("Выберите один ответ"), "{text}");
            bot.press(user, &numbers[0]).await;
            false
        }
        uchbot::domain::catalog::QuestionKind::Multiple => {
            assert!(text.contains("Отметьте все верные"), "{text}");
            for n in &numbers {
                let changed = bot.press(user, n).await;
                let marked = format!("✅ {n}");
                assert!(
                    changed
                        .iter()
                        .any(|m| m.message_id == message.message_id && m.button(&marked).is_some()),
                    "the mark shows in place"
                );
            }
            bot.press(user, "➡️ Готово").await;
            true
        }
    }
}

/// Text of a PDF as a reader extracts it.
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text extracts")
}

/// The letters queued to an address, newest last.
async fn letters_to(app: &App, to: &str) -> Vec<serde_json::Value> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE channel = 'email' ORDER BY id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(p,)| serde_json::from_str::<serde_json::Value>(&p).unwrap())
        .filter(|l| l["to"] == to)
        .collect()
}

/// The PDFs sent into a chat, oldest first.
fn pdfs_in(bot: &TestBot, chat: i64) -> Vec<Vec<u8>> {
    bot.fake
        .messages(chat)
        .into_iter()
        .filter_map(|m| m.document)
        .filter(|d| d.file_name.as_deref().is_some_and(|n| n.ends_with(".pdf")))
        .map(|d| d.bytes)
        .collect()
}

/// Waits for a message that shows every needle.
async fn wait_message(bot: &TestBot, chat: i64, needles: &[&str]) -> BotMessage {
    for _ in 0..150 {
        let found = bot.fake.messages(chat).into_iter().rev().find(|m| {
            m.shown_text()
                .is_some_and(|t| needles.iter().all(|n| t.contains(n)))
        });
        if let Some(m) = found {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no message with {needles:?} in chat {chat}");
}

async fn wait_pdfs(bot: &TestBot, chat: i64, count: usize) -> Vec<Vec<u8>> {
    for _ in 0..150 {
        let pdfs = pdfs_in(bot, chat);
        if pdfs.len() >= count {
            return pdfs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{count} PDFs did not arrive in chat {chat}");
}

/// Enrolled in the January group (test opens 9 February 2027, the group ends on the 12th).
async fn enrolled_and_open(bot: &mut TestBot) -> FakeUser {
    let user = masha();
    enroll(bot, &user).await;
    travel(bot, moscow(2027, 2, 9, 10, 0));
    plan(&bot.app).await;
    tick(bot).await;
    bot.wait_text(user.id, "Итоговая аттестация открыта").await;
    user
}

async fn from_enrolled_to_the_tracking_number(db: TestDb) {
    // The longest path, on one connection (see `one_connection`).
    let options = Options {
        env: vec![one_connection()],
        ..Options::default()
    };
    let mut bot = TestBot::start(db, options).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    // Before the window: the date it opens.
    run(
        &mut bot,
        &user,
        vec![say("/test"), sees("откроется 9 февраля 2027 г.")],
    )
    .await;
    travel(&bot, moscow(2027, 2, 9, 10, 0));
    plan(&bot.app).await;
    assert!(tick(&bot).await >= 2, "the window's fan-out and the notice");
    let opened = bot.wait_text(user.id, "Итоговая аттестация открыта").await;
    assert!(opened.button("▶️ Начать тест").is_some());
    run(
        &mut bot,
        &user,
        vec![
            say("📝 Итоговая аттестация"),
            sees("Вопросов: 10"),
            sees("хотя бы на 7 (70 %)"),
            sees("Время на попытку: 30 мин"),
            sees("Попытка 1 из 3"),
            sees("до 12 февраля 2027 г. включительно"),
        ],
    )
    .await;
    let before = bot.fake.messages(user.id).len();
    let intro = bot
        .fake
        .messages(user.id)
        .into_iter()
        .rev()
        .find(|m| m.button("▶️ Начать тест").is_some())
        .unwrap()
        .message_id;
    let shown = bot.press(&user, "▶️ Начать тест").await;
    let text = text_of(&shown);
    assert!(text.contains("Вопрос 1 из 10"), "{text}");
    assert!(text.contains("осталось 30 мин"), "{text}");
    assert_eq!(
        question_message(&bot, user.id).message_id,
        intro,
        "edited in place"
    );

    let mut multiple = 0;
    for step in 1..=10 {
        let q = question_message(&bot, user.id);
        assert!(
            q.shown_text()
                .unwrap()
                .contains(&format!("Вопрос {step} из 10")),
            "{:?}",
            q.shown_text()
        );
        if answer(&mut bot, &user, true).await {
            multiple += 1;
        }
    }
    assert!(multiple > 0, "the bank's multiple-choice questions came up");
    assert_eq!(
        bot.fake.messages(user.id).len(),
        before,
        "the whole test ran in one message"
    );
    let result = bot.fake.message(user.id, intro).unwrap();
    let text = result.shown_text().unwrap();
    assert!(text.contains("Тест сдан"), "{text}");
    assert!(text.contains("10 из 10 (100 %)"), "{text}");
    assert!(
        text.contains("после окончания обучения (12 февраля 2027 г.)"),
        "{text}"
    );
    let alert = bot.wait_text(STAFF_CHAT, "тест сдан: 10 из 10").await;
    assert!(alert.shown_text().unwrap().contains("Иванова Мария"));

    // The group ends: the sample comes, as a PDF and a letter with it attached.
    travel(&bot, moscow(2027, 2, 13, 0, 1));
    assert!(tick(&bot).await >= 2);
    let check = bot.wait_text(user.id, "Образец документа").await;
    let check_text = check.shown_text().unwrap();
    assert!(
        check_text.contains("Иванова Мария Сергеевна"),
        "{check_text}"
    );
    assert!(
        check_text.contains("620014, г. Екатеринбург"),
        "{check_text}"
    );
    assert!(check.button("✅ ФИО и адрес верны").is_some());
    assert!(
        !bot.fake.messages(user.id).iter().any(|m| m
            .shown_text()
            .is_some_and(|t| t.contains("До закрытия итоговой аттестации"))),
        "no warning for a passed test"
    );
    let pdfs = wait_pdfs(&bot, user.id, 1).await;
    let sample = pdf_text(&pdfs[0]);
    for needle in [
        "Иванова Мария Сергеевна",
        "УДОСТОВЕРЕНИЕ",
        "Организация образовательного процесса в соответствии с ФГОС",
        "72",
        "ПК-2027-",
    ] {
        assert!(
            sample.contains(needle),
            "«{needle}» not in the PDF:\n{sample}"
        );
    }
    let letters = letters_to(&bot.app, "masha@example.org").await;
    let letter = letters.last().unwrap();
    assert!(letter["text"].as_str().unwrap().contains("Подтверждаю"));
    let attachment = &letter["attachments"][0];
    assert_eq!(attachment["mime"], "application/pdf");
    let attached = base64::engine::general_purpose::STANDARD
        .decode(attachment["content"].as_str().unwrap())
        .unwrap();
    assert!(pdf_text(&attached).contains("Иванова Мария Сергеевна"));

    // A correction of the name: a new sample, asked again; the old buttons are stale.
    let first_check = check.message_id;
    run(
        &mut bot,
        &user,
        vec![
            press("✏️ Исправить ФИО"),
            sees("в именительном падеже"),
            sees("Иванова Мария Сергеевна"),
            say("Иванова"),
            sees("фамилию, имя и отчество"),
        ],
    )
    .await;
    let said = bot.say(&user, "иванова марья сергеевна").await;
    assert!(text_of(&said).contains("Исправлено"), "{}", text_of(&said));
    let second = wait_message(
        &bot,
        user.id,
        &["Образец документа", "Иванова Марья Сергеевна"],
    )
    .await;
    assert_ne!(second.message_id, first_check);
    let pdfs = wait_pdfs(&bot, user.id, 2).await;
    assert!(pdf_text(&pdfs[1]).contains("Иванова Марья Сергеевна"));
    bot.wait_text(STAFF_CHAT, "просит исправить образец").await;
    let old = bot
        .fake
        .message(user.id, first_check)
        .unwrap()
        .button("✅ ФИО и адрес верны")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    bot.press_data(&user, user.id, first_check, &old).await;
    let toast = last_toast(&bot);
    assert_eq!(
        toast.as_deref(),
        Some("Этот образец устарел — проверьте, пожалуйста, последний.")
    );

    // Confirmed: locked, staff alerted; printed; the tracking number reaches the learner.
    let confirmed = bot.press(&user, "✅ ФИО и адрес верны").await;
    let text = text_of(&confirmed);
    assert!(text.contains("Данные документа подтверждены"), "{text}");
    assert!(text.contains("Иванова Марья Сергеевна"), "{text}");
    run(
        &mut bot,
        &user,
        vec![press("✏️ Исправить ФИО"), sees("уже подтверждены")],
    )
    .await;
    let alert = bot
        .wait_text(STAFF_CHAT, "Образец документа подтверждён")
        .await;
    assert!(alert.shown_text().unwrap().contains("ПК-2027-"));
    let (toast, news) = bot.press_in(&manager(), STAFF_CHAT, "🖨 Напечатано").await;
    assert_eq!(toast.as_deref(), Some("Отмечено"));
    assert!(text_of(&news).contains("напечатан"), "{}", text_of(&news));
    // «Ввести трек-номер»: asked as a reply; a wrong number is explained, the question stays.
    let (_, asked) = bot
        .press_in(&manager(), STAFF_CHAT, "📮 Ввести трек-номер")
        .await;
    let prompt = asked
        .iter()
        .find(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("трек-номер письма"))
        })
        .expect("the question for the number")
        .message_id;
    let answer = text_of(&bot.staff_reply(&manager(), prompt, "RA123456788RU").await);
    assert!(answer.contains("контрольной цифре"), "{answer}");
    let answer = text_of(
        &bot.staff_reply(&manager(), prompt, "ra 123 456 785 ru")
            .await,
    );
    assert!(answer.contains("RA123456785RU сохранён"), "{answer}");
    let answer = text_of(&bot.staff_reply(&manager(), prompt, "RA123456785RU").await);
    assert!(answer.contains("уже обработано"), "{answer}");
    let id = learner_id(&bot, &user).await;
    let trail: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE learner_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(bot.app.store.pool())
            .await
            .unwrap();
    let trail: Vec<String> = trail.into_iter().map(|(a,)| a).collect();
    for action in [
        "test-attempt-started",
        "test-attempt-finished",
        "sample-issued",
        "sample-confirmed",
        "certificate-printed",
        "tracking-number-set",
    ] {
        assert!(trail.iter().any(|a| a == action), "{action} in {trail:?}");
    }
    let notice = bot.wait_text(user.id, "RA123456785RU").await;
    assert!(notice
        .shown_text()
        .unwrap()
        .contains("https://www.pochta.ru/tracking#RA123456785RU"));
    assert_eq!(
        notice
            .button("📮 Отследить письмо")
            .and_then(|b| b.url.clone())
            .as_deref(),
        Some("https://www.pochta.ru/tracking#RA123456785RU")
    );
    run(
        &mut bot,
        &user,
        vec![say("/status"), sees("трек-номер RA123456785RU")],
    )
    .await;
    bot.stop().await;
}

fn manager() -> FakeUser {
    FakeUser::new(MANAGER, "Ольга").with_username("olga_manager")
}

/// The text of the newest callback answer.
fn last_toast(bot: &TestBot) -> Option<String> {
    bot.fake
        .requests_to("answerCallbackQuery")
        .last()
        .and_then(|r| r.param_str("text").map(str::to_owned))
}

async fn stale_forged_and_repeated_presses_and_a_restart(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = enrolled_and_open(&mut bot).await;
    bot.say(&user, "/test").await;
    bot.press(&user, "▶️ Начать тест").await;
    let first = question_message(&bot, user.id);
    let data = first.button("1").unwrap().callback_data.clone().unwrap();
    answer(&mut bot, &user, false).await;
    let progress = |bot: &TestBot| {
        let m = bot.fake.message(user.id, first.message_id).unwrap();
        m.shown_text().unwrap().to_owned()
    };
    assert!(progress(&bot).contains("Вопрос 2 из 10"));

    // The first question's button again (a double press or an old message): nothing.
    bot.forge_button(&user, user.id, first.message_id, &data)
        .await;
    assert_eq!(
        last_toast(&bot).as_deref(),
        Some("Этот вопрос уже позади — ответьте на последний вопрос теста.")
    );
    assert!(progress(&bot).contains("Вопрос 2 из 10"));
    // Forged: another attempt, another learner's enrollment, garbage.
    let parts: Vec<&str> = data.split(':').collect();
    let current = question_message(&bot, user.id)
        .button("1")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    let cur: Vec<&str> = current.split(':').collect();
    for forged in [
        format!("ta:{}:2:{}:{}:0", cur[1], cur[3], cur[4]),
        format!(
            "ta:{}:1:{}:{}:0",
            cur[1].parse::<i64>().unwrap() + 1,
            cur[3],
            cur[4]
        ),
        format!("ta:{}:1:{}:{}:0", cur[1], cur[3], "deadbeef"),
        format!("ta:{}:1:{}:{}:9", cur[1], cur[3], cur[4]),
        "ta:1:1:1:zzzzzzzz:0".to_owned(),
        "✓".to_owned(),
    ] {
        bot.forge_button(&user, user.id, first.message_id, &forged)
            .await;
        assert!(last_toast(&bot).is_some(), "{forged}: a short answer");
        assert!(progress(&bot).contains("Вопрос 2 из 10"), "{forged}");
    }
    assert_eq!(parts[0], "ta");

    // A restart: the attempt resumes at the same question, on the same message.
    bot.restart().await;
    answer(&mut bot, &user, true).await;
    assert!(
        progress(&bot).contains("Вопрос 3 из 10"),
        "{}",
        progress(&bot)
    );
    bot.restart().await;
    run(
        &mut bot,
        &user,
        vec![
            say("/test"),
            sees("продолжаем с вопроса 3 из 10"),
            sees("Вопрос 3 из 10"),
        ],
    )
    .await;
    // The question resent is the live one; the old message's buttons are retired.
    let resent = question_message(&bot, user.id);
    assert_ne!(resent.message_id, first.message_id);
    let old = bot
        .fake
        .message(user.id, first.message_id)
        .unwrap()
        .button("1")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    bot.forge_button(&user, user.id, first.message_id, &old)
        .await;
    assert!(last_toast(&bot).is_some());
    assert!(resent.shown_text().unwrap().contains("Вопрос 3 из 10"));
    bot.stop().await;
}

async fn time_limit_pause_attempts_and_the_close(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = enrolled_and_open(&mut bot).await;
    // Attempt 1 runs out of time: the scheduler ends it at the deadline.
    bot.say(&user, "/test").await;
    bot.press(&user, "▶️ Начать тест").await;
    answer(&mut bot, &user, true).await;
    bot.app.clock.advance(30 * 60 + 1);
    assert!(tick(&bot).await >= 1);
    let ended = bot.wait_text(user.id, "Время на попытку истекло").await;
    let text = ended.shown_text().unwrap();
    assert!(text.contains("Тест не сдан"), "{text}");
    assert!(text.contains("1 из 10"), "{text}");
    assert!(text.contains("Осталось попыток: 2"), "{text}");
    bot.wait_text(STAFF_CHAT, "тест не сдан: 1 из 10").await;
    // The pause (60 min): too early, then allowed.
    bot.press(&user, "🔁 Пройти ещё раз").await;
    assert!(
        last_toast(&bot).is_some_and(|t| t.contains("Следующую попытку можно начать")),
        "{:?}",
        last_toast(&bot)
    );
    bot.app.clock.advance(60 * 60);
    let shown = bot.press(&user, "🔁 Пройти ещё раз").await;
    assert!(
        text_of(&shown).contains("Вопрос 1 из 10"),
        "{}",
        text_of(&shown)
    );
    for _ in 0..10 {
        answer(&mut bot, &user, false).await;
    }
    let result = question_message_or_result(&bot, user.id);
    assert!(result.contains("Осталось попыток: 1"), "{result}");
    // Not passed: warned 3 days and 1 day before the close.
    travel(&bot, moscow(2027, 2, 10, 0, 0));
    assert!(tick(&bot).await >= 2);
    let warning = bot.wait_text(user.id, "осталось 3 дня").await;
    assert!(warning.button("📝 Итоговая аттестация").is_some());
    travel(&bot, moscow(2027, 2, 12, 0, 0));
    assert!(tick(&bot).await >= 2);
    let warning = bot.wait_text(user.id, "остался 1 день").await;
    assert!(warning
        .shown_text()
        .unwrap()
        .contains("до 12 февраля 2027 г. включительно"));
    // The test closes with the group: refused, with the staff contact.
    travel(&bot, moscow(2027, 2, 13, 0, 0));
    run(
        &mut bot,
        &user,
        vec![
            say("/test"),
            sees("закрыта"),
            sees("до 12 февраля 2027 г. включительно"),
            sees("teach@uchmet.org"),
        ],
    )
    .await;
    bot.stop().await;
}

/// The newest message mentioning the test's result.
fn question_message_or_result(bot: &TestBot, chat: i64) -> String {
    bot.fake
        .messages(chat)
        .into_iter()
        .rev()
        .find_map(|m| {
            m.shown_text()
                .filter(|t| t.contains("Тест не сдан") || t.contains("Тест сдан"))
                .map(str::to_owned)
        })
        .expect("a result")
}

/// Takes `keys` out of every stored application: an application that lacks them (filled
/// in before a field was asked, or cleared by staff).
async fn strip_applications(app: &App, keys: &[&str]) {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT enrollment_id, fields FROM applications")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    for (id, fields) in rows {
        let mut map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&fields).unwrap();
        for key in keys {
            map.remove(*key);
        }
        sqlx::query("UPDATE applications SET fields = $1 WHERE enrollment_id = $2")
            .bind(serde_json::to_string(&map).unwrap())
            .bind(id)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
}

/// Passes the test with every answer right.
async fn pass(bot: &mut TestBot, user: &FakeUser) {
    bot.say(user, "/test").await;
    bot.press(user, "▶️ Начать тест").await;
    for _ in 0..10 {
        answer(bot, user, true).await;
    }
    bot.wait_text(STAFF_CHAT, "тест сдан: 10 из 10").await;
}

fn count_texts(bot: &TestBot, chat: i64, needle: &str) -> usize {
    bot.fake
        .messages(chat)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains(needle)))
        .count()
}

async fn a_missing_address_is_asked_for_and_staff_hear_if_it_stays_missing(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = enrolled_and_open(&mut bot).await;
    pass(&mut bot, &user).await;
    strip_applications(&bot.app, &["address"]).await;

    // The group ends: no sample yet, the learner is asked for the address.
    travel(&bot, moscow(2027, 2, 13, 0, 1));
    tick(&bot).await;
    let asked = bot.wait_text(user.id, "сдана — поздравляем").await;
    let text = asked.shown_text().unwrap();
    assert!(text.contains("почтовый адрес с индексом"), "{text}");
    assert!(
        pdfs_in(&bot, user.id).is_empty(),
        "no sample without the address"
    );

    // Three days later, still nothing: the learner is reminded, staff told.
    travel(&bot, moscow(2027, 2, 16, 0, 1));
    tick(&bot).await;
    let alert = bot
        .wait_text(STAFF_CHAT, "Образец документа ждёт данных")
        .await;
    let alert = alert.shown_text().unwrap();
    assert!(alert.contains("нет почтового адреса"), "{alert}");
    assert!(alert.contains("Иванова Мария"), "{alert}");
    bot.wait_text(user.id, "Напоминаем: образец документа")
        .await;

    // The answer: checked like any address, then kept and the sample made with it.
    run(
        &mut bot,
        &user,
        vec![say("г. Екатеринбург, ул. Ленина, 5"), sees("индекс")],
    )
    .await;
    let said = bot
        .say(&user, "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12")
        .await;
    assert!(
        text_of(&said).contains("Готовим образец"),
        "{}",
        text_of(&said)
    );
    let check = wait_message(&bot, user.id, &["Образец документа", "620014"]).await;
    assert!(check.button("✅ ФИО и адрес верны").is_some());
    let pdfs = wait_pdfs(&bot, user.id, 1).await;
    assert!(pdf_text(&pdfs[0]).contains("Иванова Мария Сергеевна"));
    // A later run of the jobs changes nothing.
    plan(&bot.app).await;
    tick(&bot).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(pdfs_in(&bot, user.id).len(), 1);
    bot.stop().await;
}

async fn a_learner_enrolled_after_the_opening_is_told_once(db: TestDb) {
    use uchbot::app::engine::{handle, Origin};
    use uchbot::journey::action::Action;
    use uchbot::journey::Input;
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    enroll(&mut bot, &user).await;
    // The file went back for a fix before enrollment counted: not enrolled at the opening.
    sqlx::query("UPDATE enrollments SET enrolled_at = NULL, review_status = 'returned'")
        .execute(bot.app.store.pool())
        .await
        .unwrap();
    travel(&bot, moscow(2027, 2, 9, 10, 0));
    plan(&bot.app).await;
    tick(&bot).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count_texts(&bot, user.id, "Итоговая аттестация открыта"), 0);

    // Sent again while the test is open: enrolled now, and told the test is open.
    let id = learner_id(&bot, &user).await;
    let (enrollment,): (i64,) = sqlx::query_as("SELECT id FROM enrollments WHERE learner_id = $1")
        .bind(id)
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    let origin = Origin {
        chat_id: Some(user.id),
        tg_user_id: Some(user.id),
        interactive: true,
        ..Origin::default()
    };
    let messenger = bot.messenger();
    handle(
        &bot.app,
        messenger.as_ref(),
        id,
        &origin,
        Input::Button(Action::Submit(enrollment)),
    )
    .await
    .unwrap();
    bot.wait_text(user.id, "Вы зачислены").await;
    tick(&bot).await;
    let opened = bot.wait_text(user.id, "Итоговая аттестация открыта").await;
    assert!(opened.button("▶️ Начать тест").is_some());
    // Planned again (a restart, an import) and sent again: still once.
    plan(&bot.app).await;
    handle(
        &bot.app,
        messenger.as_ref(),
        id,
        &origin,
        Input::Button(Action::Submit(enrollment)),
    )
    .await
    .unwrap();
    tick(&bot).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(count_texts(&bot, user.id, "Итоговая аттестация открыта"), 1);
    bot.stop().await;
}

/// A learner who writes only by email, enrolled in the January group with a full
/// application: `token` is their plus-address token.
async fn by_letter_only(app: &App, email: &str, name: (&str, &str), token: &str) -> i64 {
    use uchbot::store::enrollments;
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await.unwrap();
    let learner = learners::ensure_email_only(&mut tx, email, name.1, token, now)
        .await
        .unwrap();
    learners::record_consent(&mut tx, learner.id, true, "2026-09", now)
        .await
        .unwrap();
    let (enrollment, _) = enrollments::accept_offer(
        &mut tx,
        &enrollments::OfferAcceptance {
            learner_id: learner.id,
            course_id: COURSE,
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
    let fields = [
        ("surname", name.0),
        ("name", name.1),
        ("address", "620014, г. Екатеринбург, ул. Ленина, д. 7"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    enrollments::save_application(&mut tx, enrollment, &fields, true, now)
        .await
        .unwrap();
    assert!(enrollments::submit_for_review(&mut tx, enrollment, now)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    learner.id
}

async fn learners_by_letter_take_the_test_through_the_link_and_staff_hear_of_the_rest(db: TestDb) {
    const OLGA: &str = "a1b2c3d4e5f60718";
    let mut bot = TestBot::start(
        db,
        Options {
            env: vec![(
                "UCHBOT_TELEGRAM__BOT_USERNAME".into(),
                "uchbot_test_bot".into(),
            )],
            ..Options::default()
        },
    )
    .await;
    by_letter_only(&bot.app, "olga@example.org", ("Смирнова", "Ольга"), OLGA).await;
    by_letter_only(
        &bot.app,
        "petr@example.org",
        ("Петров", "Пётр"),
        "0f1e2d3c4b5a6978",
    )
    .await;
    travel(&bot, moscow(2027, 2, 9, 10, 0));
    plan(&bot.app).await;
    tick(&bot).await;
    let link = format!("https://t.me/uchbot_test_bot?start=link_{OLGA}");
    let letters = letters_to(&bot.app, "olga@example.org").await;
    let opened = letters
        .iter()
        .find(|l| {
            l["text"]
                .as_str()
                .unwrap()
                .contains("Итоговая аттестация по курсу")
        })
        .expect("the window's letter");
    let text = opened["text"].as_str().unwrap();
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Telegram-боте"), "{text}");

    // Olga follows the link: the bot knows her, her course and her test.
    let olga = FakeUser::new(4242, "Оля");
    run(
        &mut bot,
        &olga,
        vec![
            // A plain /start first makes a record of its own for this account: it gives
            // the account up to Olga's when she follows the link.
            say("/start"),
            sees("152-ФЗ"),
            say(format!("/start link_{OLGA}")),
            sees("связан с вашей записью"),
            say("/test"),
            sees("Попытка 1 из 3"),
        ],
    )
    .await;
    // Olga hears by letter that an account was joined (a stranger's link would not go
    // unnoticed); one letter however often the link is followed.
    run(
        &mut bot,
        &olga,
        vec![say(format!("/start link_{OLGA}")), sees("связан")],
    )
    .await;
    let joined: Vec<String> = letters_to(&bot.app, "olga@example.org")
        .await
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .filter(|t| t.contains("подключён Telegram-аккаунт"))
        .collect();
    assert_eq!(joined.len(), 1, "{joined:#?}");
    assert!(joined[0].contains("4242"), "{}", joined[0]);
    let shown = bot.press(&olga, "▶️ Начать тест").await;
    assert!(
        text_of(&shown).contains("Вопрос 1 из 10"),
        "{}",
        text_of(&shown)
    );
    // Someone with a made-up link links nothing.
    let stranger = FakeUser::new(4343, "Гость");
    run(
        &mut bot,
        &stranger,
        vec![
            say("/start link_ffffffffffffffff"),
            sees("Не получилось связать"),
        ],
    )
    .await;

    // A day before the close: staff hear of Пётр, who reads letters only and has not passed.
    travel(&bot, moscow(2027, 2, 12, 0, 1));
    tick(&bot).await;
    let alert = bot
        .wait_text(STAFF_CHAT, "до закрытия остался 1 день")
        .await;
    let alert = alert.shown_text().unwrap();
    assert!(alert.contains("Петров Пётр"), "{alert}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let about_olga = bot
        .fake
        .messages(STAFF_CHAT)
        .iter()
        .filter(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("до закрытия остался 1 день") && t.contains("Ольга"))
        })
        .count();
    assert_eq!(about_olga, 0, "Olga takes the test in Telegram now");
    bot.wait_text(olga.id, "остался 1 день").await;
    bot.stop().await;
}

on_both_backends! {
    missing_address => a_missing_address_is_asked_for_and_staff_hear_if_it_stays_missing;
    late_enrollment => a_learner_enrolled_after_the_opening_is_told_once;
    by_letter => learners_by_letter_take_the_test_through_the_link_and_staff_hear_of_the_rest;
}

on_both_backends! {
    enrolled_to_tracking_number => from_enrolled_to_the_tracking_number;
    stale_and_forged_buttons_and_restart => stale_forged_and_repeated_presses_and_a_restart;
    time_limit_pause_and_close => time_limit_pause_attempts_and_the_close;
}

mod post_poll {
    use super::*;
    use support::russian_post_fake::{
        RussianPostFake, ACCEPTED, ARRIVED, DELIVERED, LOGIN, PASSWORD,
    };
    use uchbot::store::enrollments;

    const BARCODE: &str = "RA123456785RU";

    /// A learner whose printed document went by post with `BARCODE`.
    async fn posted(bot: &mut TestBot, user: &FakeUser) {
        bot.say(user, "/start").await;
        let id = learner_id(bot, user).await;
        let now = bot.app.now().timestamp();
        let mut tx = bot.app.store.begin().await.unwrap();
        let (enrollment, _) = enrollments::accept_offer(
            &mut tx,
            &enrollments::OfferAcceptance {
                learner_id: id,
                course_id: COURSE,
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
        sqlx::query(
            "INSERT INTO certificates (enrollment_id, registration_number, full_name, \
             postal_address, sample_version, confirmed_at, printed_at, tracking_number, \
             tracking_sent_at, created_at) VALUES ($1, 'ПК-2027-000001', 'Иванова Мария Сергеевна', \
             '620014, г. Екатеринбург, ул. Ленина, д. 5', 1, $2, $2, $3, $2, $2)",
        )
        .bind(enrollment)
        .bind(now)
        .bind(BARCODE)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    fn count(bot: &TestBot, chat: i64, needle: &str) -> usize {
        bot.fake
            .messages(chat)
            .iter()
            .filter(|m| m.shown_text().is_some_and(|t| t.contains(needle)))
            .count()
    }

    /// Plans the daily poll as `serve` does when `[russian_post]` is configured.
    async fn plan_poll(bot: &TestBot) {
        assert!(bot.app.post.is_some(), "configured");
        let mut tx = bot.app.store.begin().await.unwrap();
        uchbot::scheduler::attestation::plan_post_poll(&mut tx, bot.app.school.tz, bot.app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Moves to the next daily poll and runs it.
    async fn next_poll(bot: &TestBot) {
        let (_, at) =
            uchbot::scheduler::attestation::next_post_poll(bot.app.school.tz, bot.app.now());
        travel(bot, chrono::DateTime::from_timestamp(at, 0).unwrap());
        assert_eq!(tick(bot).await, 1, "one poll a day");
    }

    async fn arrival_and_delivery_are_told_once(db: TestDb) {
        let post = RussianPostFake::start().await;
        let mut bot = TestBot::start(
            db,
            Options {
                env: vec![
                    ("UCHBOT_RUSSIAN_POST__API_URL".into(), post.url().into()),
                    ("UCHBOT_RUSSIAN_POST__LOGIN".into(), LOGIN.into()),
                    ("UCHBOT_RUSSIAN_POST__PASSWORD".into(), PASSWORD.into()),
                ],
                ..Options::default()
            },
        )
        .await;
        let user = masha();
        posted(&mut bot, &user).await;
        plan_poll(&bot).await;

        post.set_history(BARCODE, vec![ACCEPTED]);
        next_poll(&bot).await;
        let requests = post.requests();
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert!(
            r.content_type.starts_with("application/soap+xml"),
            "{}",
            r.content_type
        );
        assert_eq!(r.field("Barcode").as_deref(), Some(BARCODE));
        assert_eq!(r.field("MessageType").as_deref(), Some("0"));
        assert_eq!(r.field("Language").as_deref(), Some("RUS"));
        assert_eq!(r.field("login").as_deref(), Some(LOGIN));

        post.set_history(BARCODE, vec![ACCEPTED, ARRIVED]);
        next_poll(&bot).await;
        let arrived = bot.wait_text(user.id, "прибыло в почтовое отделение").await;
        assert!(arrived.shown_text().unwrap().contains(BARCODE));
        assert_eq!(
            arrived
                .button("📮 Отследить письмо")
                .and_then(|b| b.url.clone())
                .as_deref(),
            Some("https://www.pochta.ru/tracking#RA123456785RU")
        );
        next_poll(&bot).await;

        post.set_history(BARCODE, vec![ACCEPTED, ARRIVED, DELIVERED]);
        next_poll(&bot).await;
        bot.wait_text(user.id, "вручено").await;
        // Delivered letters are no longer looked up.
        next_poll(&bot).await;
        assert_eq!(post.requests().len(), 4);
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(count(&bot, user.id, "прибыло в почтовое отделение"), 1);
        assert_eq!(count(&bot, user.id, "вручено"), 1);
        bot.stop().await;
    }

    async fn a_refusing_service_alerts_staff(db: TestDb) {
        let post = RussianPostFake::start().await;
        let mut bot = TestBot::start(
            db,
            Options {
                env: vec![
                    ("UCHBOT_RUSSIAN_POST__API_URL".into(), post.url().into()),
                    ("UCHBOT_RUSSIAN_POST__LOGIN".into(), LOGIN.into()),
                    ("UCHBOT_RUSSIAN_POST__PASSWORD".into(), "wrong".into()),
                ],
                ..Options::default()
            },
        )
        .await;
        let user = masha();
        posted(&mut bot, &user).await;
        plan_poll(&bot).await;
        next_poll(&bot).await;
        let alert = bot.wait_text(STAFF_CHAT, "Почта России").await;
        let text = alert.shown_text().unwrap();
        assert!(text.contains("Ошибка авторизации"), "{text}");
        // The poll goes on tomorrow.
        next_poll(&bot).await;
        bot.stop().await;
    }

    on_both_backends! {
        told_once => arrival_and_delivery_are_told_once;
        service_refusal => a_refusing_service_alerts_staff;
    }
}
