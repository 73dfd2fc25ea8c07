//! The staff side in Telegram, end to end: the real dispatcher and runtime against the fake
//! Bot API, staff acting in the staff chat (MANAGER, ADMIN), a non-staff member of that chat,
//! and a manager trying admin actions; on SQLite and PostgreSQL.
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use support::bot::*;
use support::db::TestDb;
use teloxide::types::{BotCommandScope, ChatId, Recipient};
use uchbot::app::alerts;
use uchbot::journey::StaffAlert;
use uchbot::store::{self, audit, enrollments, learners};
use uchbot::telegram::fake_api::{BotMessage, FakeChat, FakeUser};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];
const GROUP: &str = "pk-fgos-2026-11";

fn manager() -> FakeUser {
    FakeUser::new(MANAGER, "Ольга").with_last_name("Менеджер")
}
fn admin() -> FakeUser {
    FakeUser::new(ADMIN, "Антон").with_last_name("Админ")
}
/// In the staff chat, but not in the configured staff.
fn outsider() -> FakeUser {
    FakeUser::new(5999, "Случайный")
}

fn texts(messages: &[BotMessage]) -> String {
    text_of(messages)
}

async fn audit_actions(bot: &TestBot, learner: Option<i64>) -> Vec<(String, String)> {
    let rows: Vec<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT actor, action, learner_id FROM audit_log ORDER BY id")
            .fetch_all(bot.app.store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .filter(|(_, _, l)| learner.is_none() || *l == learner)
        .map(|(a, b, _)| (a, b))
        .collect()
}

struct Seeded {
    learner: i64,
    enrollment: i64,
    order: i64,
}

/// A learner who wrote to the bot (so their private chat exists), with an enrollment in
/// `GROUP`, paid or not, with a completed form and submitted documents or not.
async fn seed(
    bot: &mut TestBot,
    user: &FakeUser,
    email: &str,
    form: &[(&str, &str)],
    paid: bool,
    submitted: bool,
) -> Seeded {
    bot.say(user, "/help").await;
    let now = bot.app.now().timestamp();
    let catalog = bot.app.catalog().await.unwrap();
    let (course, _) = catalog.group(GROUP).unwrap();
    let storage_key = bot.app.files.put(PDF).await.unwrap();
    let mut tx = bot.app.store.begin().await.unwrap();
    let learner = learners::by_tg_user(&mut tx, user.id)
        .await
        .unwrap()
        .unwrap();
    learners::record_consent(&mut tx, learner.id, true, "2026-01", now)
        .await
        .unwrap();
    assert!(learners::confirm_email(&mut tx, learner.id, email, now)
        .await
        .unwrap());
    let (enrollment, _) = enrollments::accept_offer(
        &mut tx,
        &enrollments::OfferAcceptance {
            learner_id: learner.id,
            course_id: &course.id,
            group_id: GROUP,
            offer_version: "test",
            offer_sha256: "0",
            tg_user_id: Some(user.id),
            tg_message_id: None,
            amount_kopecks: course.price.kopecks(),
        },
        now,
    )
    .await
    .unwrap();
    let order = enrollments::order_of(&mut tx, enrollment)
        .await
        .unwrap()
        .unwrap();
    if paid {
        enrollments::mark_paid(&mut tx, order.id, "yookassa", None, None, now)
            .await
            .unwrap();
        let fields: BTreeMap<String, String> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        enrollments::save_application(&mut tx, enrollment, &fields, true, now)
            .await
            .unwrap();
    }
    if submitted {
        enrollments::add_document(
            &mut tx,
            &enrollments::NewDocument {
                learner_id: learner.id,
                enrollment_id: Some(enrollment),
                kind: "passport",
                file_name: "паспорт.pdf",
                mime: "application/pdf",
                size_bytes: PDF.len() as i64,
                sha256: "seeded",
                storage_key: &storage_key,
                source: "telegram",
                source_ref: None,
            },
            now,
        )
        .await
        .unwrap();
        assert!(enrollments::submit_for_review(&mut tx, enrollment, now)
            .await
            .unwrap());
    }
    tx.commit().await.unwrap();
    Seeded {
        learner: learner.id,
        enrollment,
        order: order.id,
    }
}

fn form_of(
    surname: &str,
    name: &str,
    phone: &str,
    snils: &str,
    address: &str,
) -> Vec<(String, String)> {
    vec![
        ("surname".into(), surname.into()),
        ("name".into(), name.into()),
        ("patronymic".into(), "Петровна".into()),
        ("birth_date".into(), "07.03.1985".into()),
        ("snils".into(), snils.into()),
        ("phone".into(), phone.into()),
        ("email".into(), format!("{}@example.org", surname.len())),
        ("education".into(), "higher".into()),
        ("address".into(), address.into()),
    ]
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

// ---- the review path, from the learner's real conversation ----

async fn register_and_submit(bot: &mut TestBot, user: &FakeUser, email: &str) {
    run(
        bot,
        user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say(email),
            sees("6-значным кодом"),
        ],
    )
    .await;
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE channel = 'email' ORDER BY id DESC")
            .fetch_all(bot.app.store.pool())
            .await
            .unwrap();
    let letter: serde_json::Value = rows
        .iter()
        .map(|(p,)| serde_json::from_str::<serde_json::Value>(p).unwrap())
        .find(|l| l["to"] == email)
        .unwrap();
    let text = letter["text"].as_str().unwrap();
    let at = text.find("адреса: ").unwrap() + "адреса: ".len();
    let code = text[at..at + 6].to_owned();
    run(
        bot,
        user,
        vec![
            say(code),
            sees("подтверждён"),
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
            press(format!("Оставить: {email}")),
            press("Высшее"),
            press("Совпадает с текущими ФИО"),
            say("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12"),
            press("✅ Всё верно"),
            file("паспорт.pdf", "application/pdf", PDF),
            press("Готово, дальше →"),
            file("диплом.png", "image/png", PNG),
            press("Готово, дальше →"),
            press("✅ Отправить на проверку"),
            sees("Вы зачислены в группу"),
        ],
    )
    .await;
}

async fn review_path(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let masha = FakeUser::new(1001, "Мария").with_username("masha");
    register_and_submit(&mut bot, &masha, "masha@example.org").await;

    // Every step of the learner reached the staff chat, naming learner, course and group.
    for needle in [
        "🆕 Новый слушатель: Мария (@masha)",
        "📄 Оферта принята: Мария (@masha)",
        "💳 Оплата получена (демо)",
        "Заявление на зачисление",
    ] {
        let m = bot.wait_text(STAFF_CHAT, needle).await;
        let text = m.shown_text().unwrap();
        assert!(text.contains("слушатель № 1"), "{text}");
        if !needle.starts_with("🆕") {
            assert!(
                text.contains("«Организация образовательного процесса в соответствии с ФГОС»"),
                "{text}"
            );
            assert!(text.contains("группа «"), "{text}");
        }
        assert!(m.button("👤 Карточка слушателя").is_some(), "{text}");
    }
    let application = bot.wait_text(STAFF_CHAT, "Заявление на зачисление").await;
    let text = application.shown_text().unwrap();
    assert!(text.contains("Иванова Мария Сергеевна (@masha)"), "{text}");
    assert!(text.contains("112-233-445 95"), "{text}");
    assert!(text.contains("Образование: Высшее"), "{text}");
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
            Duration::from_secs(10),
        )
        .await
        .expect("both documents in the staff chat");

    // Someone in the chat who is not staff: refused, nothing changes, the attempt is logged.
    let (toast, _) = bot.press_in(&outsider(), STAFF_CHAT, "✅ Принять").await;
    assert_eq!(
        toast.as_deref(),
        Some("Эта кнопка — для сотрудников учебного центра.")
    );
    let status: (Option<String>,) =
        sqlx::query_as("SELECT review_status FROM enrollments WHERE id = 1")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(status.0.as_deref(), Some("pending"));
    assert!(audit_actions(&bot, None)
        .await
        .contains(&("tg:5999".into(), "staff-action-refused".into())));

    // A forged press: the same message, data nobody signed.
    let forged = json!({"callback_query": {
        "id": "forged-1",
        "from": manager().to_json(),
        "message": application.json,
        "chat_instance": "1",
        "data": "!a1.AAAAAAAAAAA",
    }});
    bot.send_update(forged).await;
    // A signed button moved to another chat (the manager's private chat) fails too.
    let signed = application
        .button("✅ Принять")
        .unwrap()
        .callback_data
        .clone()
        .unwrap();
    bot.say(&manager(), "/staff").await;
    let private_message = bot.fake.messages(MANAGER).last().unwrap().json.clone();
    bot.send_update(json!({"callback_query": {
        "id": "moved-1",
        "from": manager().to_json(),
        "message": private_message,
        "chat_instance": "2",
        "data": signed,
    }}))
    .await;
    let status: (Option<String>,) =
        sqlx::query_as("SELECT review_status FROM enrollments WHERE id = 1")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        status.0.as_deref(),
        Some("pending"),
        "forged presses change nothing"
    );
    let forged_count = audit_actions(&bot, None)
        .await
        .iter()
        .filter(|(_, a)| a == "staff-button-forged")
        .count();
    assert_eq!(forged_count, 2);

    // The manager returns the passport; the admin cannot answer the manager's question.
    let (_, which) = bot
        .press_in(&manager(), STAFF_CHAT, "↩️ Вернуть документ")
        .await;
    assert!(texts(&which).contains("Какой документ вернуть"));
    let (_, prompt) = bot
        .press_in(&manager(), STAFF_CHAT, "Паспорт: паспорт.pdf")
        .await;
    let prompt = prompt
        .iter()
        .find(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("Напишите причину"))
        })
        .expect("reason prompt")
        .message_id;
    let answer = bot.staff_reply(&admin(), prompt, "плохо").await;
    assert!(
        texts(&answer).contains("другого сотрудника"),
        "{}",
        texts(&answer)
    );
    let answer = bot
        .staff_reply(&manager(), prompt, "Скан нечитаемый, пришлите чётче")
        .await;
    assert!(texts(&answer).contains("возвращён"), "{}", texts(&answer));
    bot.wait_text(masha.id, "Скан нечитаемый, пришлите чётче")
        .await;
    // Answering the same question again does nothing.
    let again = bot.staff_reply(&manager(), prompt, "ещё раз").await;
    assert!(
        texts(&again).contains("уже обработано"),
        "{}",
        texts(&again)
    );

    // The learner sends a new scan; the new application comes; the manager accepts it.
    run(
        &mut bot,
        &masha,
        vec![say("/status"), press("📎 Документы")],
    )
    .await;
    let last = bot.fake.messages(masha.id);
    let replace = last
        .iter()
        .rev()
        .find_map(|m| m.buttons().find(|b| b.text.contains("Паспорт")).cloned())
        .expect("a button to resend the passport");
    bot.press(&masha, &replace.text).await;
    run(
        &mut bot,
        &masha,
        vec![file(
            "паспорт-2.pdf",
            "application/pdf",
            b"%PDF-1.4\nnew scan\n%%EOF\n",
        )],
    )
    .await;
    let submit = bot
        .fake
        .messages(masha.id)
        .iter()
        .rev()
        .find_map(|m| m.button("✅ Отправить на проверку").cloned());
    if submit.is_none() {
        bot.press(&masha, "Готово, дальше →").await;
    }
    bot.press(&masha, "✅ Отправить на проверку").await;
    bot.fake
        .wait_for(
            |f| {
                (f.messages(STAFF_CHAT)
                    .iter()
                    .filter(|m| m.button("✅ Принять").is_some())
                    .count()
                    >= 2)
                    .then_some(())
            },
            Duration::from_secs(10),
        )
        .await
        .expect("the second application");
    let (toast, news) = bot.press_in(&manager(), STAFF_CHAT, "✅ Принять").await;
    assert_eq!(toast.as_deref(), Some("Принято"));
    assert!(texts(&news).contains("приняты (Ольга Менеджер)"));
    bot.wait_text(masha.id, "приняты").await;
    // Pressed again (a replay): nothing more happens.
    let (toast, _) = bot.press_in(&manager(), STAFF_CHAT, "✅ Принять").await;
    assert_eq!(toast.as_deref(), Some("Это уже обработано."));
    let accepted = audit_actions(&bot, Some(1))
        .await
        .iter()
        .filter(|(_, a)| a == "application-accepted")
        .count();
    assert_eq!(accepted, 1);
    assert!(audit_actions(&bot, Some(1))
        .await
        .contains(&(format!("staff:{MANAGER}"), "document-returned".into())));
    bot.stop().await;
}

// ---- /find, the card, documents, /group with the CSV ----

async fn find_card_and_roster(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let anna = FakeUser::new(2001, "Аня");
    let boris = FakeUser::new(2002, "Боря");
    let vera = FakeUser::new(2003, "Вера");
    let a_form = form_of(
        "Ёлкина",
        "Анна",
        "+79123456789",
        "112-233-445 95",
        "620014, г. Екатеринбург; ул. \"Ленина\", д. 5",
    );
    let a = seed(
        &mut bot,
        &anna,
        "anna@example.org",
        &pairs(&a_form),
        true,
        true,
    )
    .await;
    let b_form = form_of(
        "Борисов",
        "Борис",
        "+79001112233",
        "123-456-789 64",
        "125009, г. Москва, ул. Тверская, д. 1",
    );
    let b = seed(
        &mut bot,
        &boris,
        "boris@example.org",
        &pairs(&b_form),
        true,
        false,
    )
    .await;
    let v = seed(&mut bot, &vera, "vera@example.org", &[], false, false).await;

    // A manager finds a learner by surname (any case, ё as е), phone, email.
    for query in [
        "/find елкина",
        "/find 8 (912) 345-67-89",
        "/find ANNA@example.org",
    ] {
        let card = bot.staff_say(&manager(), query).await;
        let text = texts(&card);
        assert!(text.contains("Ёлкина Анна Петровна"), "{query}: {text}");
        assert!(
            text.contains(&format!("слушатель № {}", a.learner)),
            "{text}"
        );
        assert!(text.contains("документы на проверке"), "{text}");
        assert!(text.contains("оплачен (ЮKassa)"), "{text}");
        assert!(text.contains("«паспорт.pdf» — получен"), "{text}");
        let buttons = buttons_of(&card);
        assert!(
            buttons.contains(&"📎 Документы (1)".to_owned()),
            "{buttons:?}"
        );
        assert!(buttons.contains(&format!("✅ Принять (№ {})", a.enrollment)));
        // The audit button is an admin's.
        assert!(!buttons.contains(&"🧾 Журнал действий".to_owned()));
    }
    let help = texts(&bot.staff_say(&manager(), "/staff").await);
    assert!(
        help.contains("Команды сотрудников") && help.contains("/paid"),
        "{help}"
    );
    let many = bot.staff_say(&manager(), "/find example.org").await;
    assert!(
        texts(&many).contains("нашлось 3 слушателя"),
        "{}",
        texts(&many)
    );
    let none = bot.staff_say(&manager(), "/find Сидоров").await;
    assert!(texts(&none).contains("никого не нашлось"));
    let vera_card = bot
        .staff_say(&manager(), &format!("/find {}", v.learner))
        .await;
    assert!(
        texts(&vera_card).contains("ждём оплату"),
        "{}",
        texts(&vera_card)
    );
    let boris_card = bot.staff_say(&manager(), "/find борисов").await;
    assert!(texts(&boris_card).contains("заявление заполнено, ждём документы"));

    // Documents opened from the card come as files; each opening is audited.
    bot.staff_say(&manager(), "/find Ёлкина").await;
    let (_, files) = bot
        .press_in(&manager(), STAFF_CHAT, "📎 Документы (1)")
        .await;
    let doc = files
        .iter()
        .find_map(|m| m.document.clone())
        .expect("a file");
    assert_eq!(doc.file_name.as_deref(), Some("паспорт.pdf"));
    assert_eq!(doc.bytes, PDF);
    let trail = audit_actions(&bot, Some(a.learner)).await;
    assert!(trail.contains(&(format!("staff:{MANAGER}"), "document-opened".into())));
    assert!(trail.contains(&(format!("staff:{MANAGER}"), "learner-card-viewed".into())));

    // The roster with stages, and the CSV.
    let roster = bot.staff_say(&manager(), &format!("/group {GROUP}")).await;
    let text = texts(&roster);
    assert!(text.contains("3 слушателя"), "{text}");
    assert!(text.contains("Ёлкина Анна Петровна") && text.contains("документы на проверке"));
    assert!(text.contains("Борисов Борис Петровна"), "{text}");
    let csv_file = roster
        .iter()
        .find_map(|m| m.document.clone())
        .or_else(|| {
            bot.fake
                .messages(STAFF_CHAT)
                .iter()
                .rev()
                .find_map(|m| m.document.clone())
        })
        .expect("the CSV file");
    assert_eq!(csv_file.file_name.as_deref(), Some("pk-fgos-2026-11.csv"));
    let bytes = csv_file.bytes;
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in [
        "ФИО",
        "Дата рождения",
        "СНИЛС",
        "Почтовый адрес",
        "Программа",
        "Часов",
        "Начало обучения",
        "Окончание обучения",
        "Рег. номер",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "every learner of the group");
    let anna_row = rows
        .iter()
        .find(|r| &r[col("ФИО")] == "Ёлкина Анна Петровна")
        .expect("Anna's row");
    assert_eq!(&anna_row[col("СНИЛС")], "112-233-445 95");
    assert_eq!(&anna_row[col("Дата рождения")], "07.03.1985");
    assert_eq!(
        &anna_row[col("Почтовый адрес")],
        "620014, г. Екатеринбург; ул. \"Ленина\", д. 5"
    );
    assert_eq!(&anna_row[col("Часов")], "72");
    assert_eq!(&anna_row[col("Телефон")], "+79123456789");
    assert!(rows.iter().any(|r| &r[col("СНИЛС")] == "123-456-789 64"));
    let _ = b;
    assert!(audit_actions(&bot, Some(a.learner))
        .await
        .contains(&(format!("staff:{MANAGER}"), "roster-exported".into())));

    // Not staff: every command refused, nothing shown.
    for command in [
        "/find Ёлкина",
        "/group pk-fgos-2026-11",
        "/pending",
        "/stats",
        "/track 1 14084006734100",
        "/paid 1 x",
        "/broadcast pk-fgos-2026-11 x",
        "/audit 1",
    ] {
        let answer = bot.staff_say(&outsider(), command).await;
        let text = texts(&answer);
        assert!(text.contains("для сотрудников"), "{command}: {text}");
        assert!(!text.contains("Ёлкина"), "{text}");
        assert!(answer.iter().all(|m| m.document.is_none()));
    }
    // A learner typing a staff command in private gets the learner's answer.
    let answer = bot.say(&anna, "/find Борисов").await;
    assert!(!texts(&answer).contains("Борисов"), "{}", texts(&answer));

    // /stats and /pending.
    let stats = texts(&bot.staff_say(&manager(), "/stats").await);
    assert!(stats.contains("3 зачисления"), "{stats}");
    assert!(stats.contains("ждём оплату: 1"), "{stats}");
    assert!(stats.contains("документы на проверке: 1"), "{stats}");
    let pending = bot.staff_say(&manager(), "/pending").await;
    let text = texts(&pending);
    assert!(
        text.contains("Заявления на проверку</b> (1)")
            || text.contains("Заявления на проверку (1)"),
        "{text}"
    );
    assert!(text.contains("Ёлкина Анна Петровна"), "{text}");
    assert!(text.contains(&format!("заказ № {}", v.order)), "{text}");
    bot.stop().await;
}

// ---- admin commands: /paid, /broadcast, /audit ----

async fn admin_commands(db: TestDb) {
    let mut bot = TestBot::start(
        db,
        Options {
            provider: |_| uchbot::app::payments::Provider::BankTransfer,
            ..Options::default()
        },
    )
    .await;
    let gleb = FakeUser::new(3001, "Глеб");
    let dina = FakeUser::new(3002, "Дина");
    let g = seed(&mut bot, &gleb, "gleb@example.org", &[], false, false).await;
    let d_form = form_of(
        "Дмитриева",
        "Дина",
        "+79005554433",
        "112-233-445 95",
        "101000, г. Москва, ул. Мира, д. 1",
    );
    seed(
        &mut bot,
        &dina,
        "dina@example.org",
        &pairs(&d_form),
        true,
        false,
    )
    .await;

    // A manager may not mark an order paid, broadcast or read the audit log.
    for command in [
        format!("/paid {} перевод", g.order),
        format!("/broadcast {GROUP} Привет"),
        format!("/audit {}", g.learner),
    ] {
        let answer = texts(&bot.staff_say(&manager(), &command).await);
        assert!(
            answer.contains("только администратор"),
            "{command}: {answer}"
        );
    }
    assert!(audit_actions(&bot, None)
        .await
        .contains(&(format!("staff:{MANAGER}"), "staff-action-refused".into())));

    // /paid: validated, previewed, confirmed by its author only, once.
    let answer = texts(&bot.staff_say(&admin(), &format!("/paid {}", g.order)).await);
    assert!(answer.contains("причину"), "{answer}");
    let answer = texts(&bot.staff_say(&admin(), "/paid 999 перевод").await);
    assert!(answer.contains("Заказа № 999 нет"), "{answer}");
    let preview = bot
        .staff_say(
            &admin(),
            &format!("/paid {} платёжное поручение № 42", g.order),
        )
        .await;
    let text = texts(&preview);
    assert!(
        text.contains(&format!("Отметить заказ № {} оплаченным?", g.order)),
        "{text}"
    );
    assert!(text.contains("платёжное поручение № 42"));
    let (toast, _) = bot
        .press_in(&manager(), STAFF_CHAT, "✅ Да, отметить оплаченным")
        .await;
    assert_eq!(
        toast.as_deref(),
        Some("Это может сделать только администратор.")
    );
    let (_, done) = bot
        .press_in(&admin(), STAFF_CHAT, "✅ Да, отметить оплаченным")
        .await;
    assert!(
        texts(&done).contains("отмечен оплаченным (Антон Админ)"),
        "{}",
        texts(&done)
    );
    bot.wait_text(gleb.id, "получена").await;
    let (status, note, by): (String, Option<String>, Option<i64>) =
        sqlx::query_as("SELECT status, paid_note, paid_by FROM orders WHERE id = $1")
            .bind(g.order)
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(status, "paid");
    assert_eq!(note.as_deref(), Some("платёжное поручение № 42"));
    assert_eq!(by, Some(ADMIN));
    // The same confirmation pressed again (a replay, forged from the same message): nothing.
    let paid_message = bot
        .fake
        .messages(STAFF_CHAT)
        .into_iter()
        .find(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("отмечен оплаченным"))
        })
        .unwrap();
    let original_data = preview
        .iter()
        .find_map(|m| m.button("✅ Да, отметить оплаченным").cloned())
        .unwrap()
        .callback_data
        .unwrap();
    bot.send_update(json!({"callback_query": {
        "id": "replay-1",
        "from": admin().to_json(),
        "message": paid_message.json,
        "chat_instance": "1",
        "data": original_data,
    }}))
    .await;
    let learner_notices = bot
        .fake
        .messages(gleb.id)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains("получена")))
        .count();
    assert_eq!(learner_notices, 1, "the learner is told once");
    let answer = texts(
        &bot.staff_say(&admin(), &format!("/paid {} ещё", g.order))
            .await,
    );
    assert!(answer.contains("уже оплачен"), "{answer}");
    assert!(audit_actions(&bot, Some(g.learner))
        .await
        .contains(&(format!("staff:{ADMIN}"), "order-paid-by-hand".into())));

    // /broadcast: a preview, then to every learner of the group, once.
    let preview = bot
        .staff_say(
            &admin(),
            &format!("/broadcast {GROUP} Занятие 1 декабря переносится на 19:00 <важно>"),
        )
        .await;
    let text = texts(&preview);
    assert!(text.contains("получат 2 слушателя"), "{text}");
    assert!(text.contains("переносится на 19:00 <важно>"), "{text}");
    let (toast, _) = bot
        .press_in(&manager(), STAFF_CHAT, "📨 Отправить (2)")
        .await;
    assert_eq!(
        toast.as_deref(),
        Some("Это может сделать только администратор.")
    );
    let (_, sent) = bot.press_in(&admin(), STAFF_CHAT, "📨 Отправить (2)").await;
    assert!(texts(&sent).contains("2 получателя"), "{}", texts(&sent));
    for user in [&gleb, &dina] {
        let m = bot.wait_text(user.id, "переносится на 19:00").await;
        assert!(m.shown_text().unwrap().contains("<важно>"));
    }
    let sent_message = bot.fake.messages(STAFF_CHAT).last().unwrap().clone();
    let original = preview
        .iter()
        .find_map(|m| m.button("📨 Отправить (2)").cloned())
        .unwrap()
        .callback_data
        .unwrap();
    bot.send_update(json!({"callback_query": {
        "id": "replay-2",
        "from": admin().to_json(),
        "message": sent_message.json,
        "chat_instance": "1",
        "data": original,
    }}))
    .await;
    let queued: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'broadcast:%'")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(queued.0, 2, "a replayed confirmation queues nothing");

    // Without text: the bot asks for it as a reply, then previews; cancel leaves all as is.
    let ask = bot
        .staff_say(&admin(), &format!("/broadcast {GROUP}"))
        .await;
    let prompt = ask
        .iter()
        .find(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("ответом на это сообщение"))
        })
        .unwrap()
        .message_id;
    let preview = bot.staff_reply(&admin(), prompt, "Проверка связи").await;
    assert!(texts(&preview).contains("Проверка связи"));
    let (_, cancelled) = bot.press_in(&admin(), STAFF_CHAT, "Отмена").await;
    assert!(texts(&cancelled).contains("Отменено"));
    let queued: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'broadcast:%'")
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(queued.0, 2);

    // /audit: the trail of the learner, with who did what.
    let trail = texts(
        &bot.staff_say(&admin(), &format!("/audit {}", g.learner))
            .await,
    );
    assert!(trail.contains("order-paid-by-hand"), "{trail}");
    assert!(trail.contains(&format!("администратор {ADMIN}")), "{trail}");
    assert!(trail.contains("платёжное поручение № 42"), "{trail}");
    bot.stop().await;
}

// ---- alerts the other channels raise; certificates; /track ----

async fn other_alerts_and_track(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let zoya = FakeUser::new(4001, "Зоя");
    let z_form = form_of(
        "Зуева",
        "Зоя",
        "+79001234567",
        "112-233-445 95",
        "620014, г. Екатеринбург, ул. Ленина, д. 5",
    );
    let z = seed(
        &mut bot,
        &zoya,
        "zoya@example.org",
        &pairs(&z_form),
        true,
        true,
    )
    .await;

    // /track before there is a document.
    let answer = texts(
        &bot.staff_say(&manager(), &format!("/track {} 14084006734100", z.learner))
            .await,
    );
    assert!(answer.contains("ещё нет документа"), "{answer}");

    let now = bot.app.now().timestamp();
    sqlx::query(
        "INSERT INTO certificates (enrollment_id, registration_number, full_name, postal_address, \
         sample_version, confirmed_at, created_at) VALUES ($1, 'ПК-2026-000123', 'Зуева Зоя Петровна', \
         '620014, г. Екатеринбург, ул. Ленина, д. 5', 1, $2, $2)",
    )
    .bind(z.enrollment)
    .bind(now)
    .execute(bot.app.store.pool())
    .await
    .unwrap();
    let document = {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        enrollments::documents_of_learner(&mut conn, z.learner)
            .await
            .unwrap()[0]
            .id
    };
    let learner = {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        learners::by_id(&mut conn, z.learner)
            .await
            .unwrap()
            .unwrap()
    };
    let alerts_to_queue = vec![
        (
            Some(learner.clone()),
            StaffAlert::PaymentCanceled {
                enrollment: z.enrollment,
            },
            "Платёж отменён",
        ),
        (
            Some(learner.clone()),
            StaffAlert::DocumentsByEmail {
                enrollment: Some(z.enrollment),
                documents: vec![document],
            },
            "Документы пришли по почте",
        ),
        (
            Some(learner.clone()),
            StaffAlert::TestResult {
                enrollment: z.enrollment,
                attempt: 1,
                score: 9,
                total: 10,
                passed: true,
            },
            "тест сдан: 9 из 10",
        ),
        (
            Some(learner.clone()),
            StaffAlert::CertificateCorrected {
                enrollment: z.enrollment,
                note: "Отчество с буквой ё".into(),
            },
            "Что исправить: Отчество с буквой ё",
        ),
        (
            Some(learner.clone()),
            StaffAlert::LetterBounced {
                to: "zoya@example.org".into(),
                reason: "550 mailbox unavailable".into(),
            },
            "Письмо не доставлено",
        ),
        (
            None,
            StaffAlert::UnknownSender {
                from: "stranger@example.net".into(),
                subject: "Вопрос про курс".into(),
            },
            "Письмо от неизвестного отправителя",
        ),
    ];
    {
        let mut tx = bot.app.store.begin().await.unwrap();
        for (learner, alert, _) in &alerts_to_queue {
            match learner {
                Some(l) => alerts::queue(&bot.app, &mut tx, l, alert, now)
                    .await
                    .unwrap(),
                None => alerts::queue_general(&bot.app, &mut tx, alert, now)
                    .await
                    .unwrap(),
            }
        }
        tx.commit().await.unwrap();
    }
    for (learner, _, needle) in &alerts_to_queue {
        let m = bot.wait_text(STAFF_CHAT, needle).await;
        let text = m.shown_text().unwrap();
        if learner.is_some() {
            assert!(text.contains("Зуева Зоя Петровна"), "{text}");
            assert!(m.button("👤 Карточка слушателя").is_some(), "{text}");
        }
    }
    bot.wait_text(STAFF_CHAT, "stranger@example.net").await;
    uchbot::app::alerts::integration_failure(&bot.app, "imap", "connection refused").await;
    bot.wait_text(STAFF_CHAT, "Сбой внешнего сервиса «imap»")
        .await;

    // A confirmed sample: the alert's button marks it printed, once.
    {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        alerts::queue(
            &bot.app,
            &mut conn,
            &learner,
            &StaffAlert::CertificateConfirmed {
                enrollment: z.enrollment,
            },
            now,
        )
        .await
        .unwrap();
    }
    let alert = bot
        .wait_text(STAFF_CHAT, "Образец документа подтверждён")
        .await;
    assert!(alert.shown_text().unwrap().contains("ПК-2026-000123"));
    let pending = texts(&bot.staff_say(&manager(), "/pending").await);
    assert!(
        pending.contains("Образцы подтверждены — напечатать (1)"),
        "{pending}"
    );
    let (toast, news) = bot.press_in(&manager(), STAFF_CHAT, "🖨 Напечатано").await;
    assert_eq!(toast.as_deref(), Some("Отмечено"));
    assert!(texts(&news).contains("напечатан"));
    let (toast, _) = bot.press_in(&manager(), STAFF_CHAT, "🖨 Напечатано").await;
    assert_eq!(toast.as_deref(), Some("Это уже обработано."));
    let pending = texts(&bot.staff_say(&manager(), "/pending").await);
    assert!(pending.contains("ввести трек-номер (1)"), "{pending}");

    // /track: validated; the learner is told; the certificate row keeps it.
    let answer = texts(
        &bot.staff_say(&manager(), &format!("/track {} 14084006734101", z.learner))
            .await,
    );
    assert!(answer.contains("контрольной цифре"), "{answer}");
    let answer = texts(
        &bot.staff_say(
            &manager(),
            &format!("/track {} 1408 4006 7341 00", z.learner),
        )
        .await,
    );
    assert!(
        answer.contains("Трек-номер 14084006734100 сохранён"),
        "{answer}"
    );
    let notice = bot.wait_text(zoya.id, "14084006734100").await;
    assert!(notice.shown_text().unwrap().contains("ПК-2026-000123"));
    let (tracking,): (Option<String>,) =
        sqlx::query_as("SELECT tracking_number FROM certificates WHERE enrollment_id = $1")
            .bind(z.enrollment)
            .fetch_one(bot.app.store.pool())
            .await
            .unwrap();
    assert_eq!(tracking.as_deref(), Some("14084006734100"));
    let trail = audit_actions(&bot, Some(z.learner)).await;
    for action in ["certificate-printed", "tracking-number-set"] {
        assert!(
            trail.contains(&(format!("staff:{MANAGER}"), action.into())),
            "{action}"
        );
    }
    bot.stop().await;
}

// ---- many alerts at once become a digest ----

async fn digest(db: TestDb) {
    let bot = TestBot::start(db, Options::default()).await;
    let now = bot.app.now().timestamp();
    {
        let mut tx = bot.app.store.begin().await.unwrap();
        for n in 1..=12 {
            let alert = StaffAlert::IntegrationFailure {
                service: format!("сервис-{n}"),
                detail: "timeout".into(),
            };
            alerts::queue_general(&bot.app, &mut tx, &alert, now)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    // Held while the burst may go on…
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !bot.fake
            .messages(STAFF_CHAT)
            .iter()
            .any(|m| m.shown_text().is_some_and(|t| t.contains("сервис-"))),
        "no alert of the burst goes alone"
    );
    // …then one message for all twelve.
    bot.app
        .clock
        .advance(uchbot::app::staff_alerts::HOLD_SECONDS + 1);
    let digest = bot.wait_text(STAFF_CHAT, "12 оповещений").await;
    let text = digest.shown_text().unwrap();
    for n in 1..=12 {
        assert!(text.contains(&format!("«сервис-{n}»")), "{text}");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let about_burst = bot
        .fake
        .messages(STAFF_CHAT)
        .iter()
        .filter(|m| m.shown_text().is_some_and(|t| t.contains("сервис-")))
        .count();
    assert_eq!(about_burst, 1, "one digest instead of twelve messages");
    bot.stop().await;
}

// ---- forum topics, command menus ----

async fn topics_and_menus(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    // Learners' default menu has no staff command; the staff chat's has them.
    let default: Vec<String> = bot
        .fake
        .commands(&BotCommandScope::Default)
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert!(default.contains(&"start".to_owned()) && default.contains(&"status".to_owned()));
    for staff_only in ["find", "paid", "broadcast", "audit", "group"] {
        assert!(
            !default.contains(&staff_only.to_owned()),
            "{staff_only} in {default:?}"
        );
    }
    let staff_chat: Vec<String> = bot
        .fake
        .commands(&BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(STAFF_CHAT)),
        })
        .into_iter()
        .map(|c| c.command)
        .collect();
    for c in [
        "find",
        "group",
        "pending",
        "paid",
        "broadcast",
        "track",
        "stats",
        "audit",
    ] {
        assert!(staff_chat.contains(&c.to_owned()), "{c} in {staff_chat:?}");
    }
    // A staff member's private chat gets learner and staff commands once they write.
    bot.say(&manager(), "/start").await;
    let private: Vec<String> = bot
        .fake
        .commands(&BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(MANAGER)),
        })
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert!(private.contains(&"start".to_owned()) && private.contains(&"find".to_owned()));
    // A learner's chat has no menu of its own.
    let learner = FakeUser::new(6001, "Лена");
    bot.say(&learner, "/start").await;
    assert!(bot
        .fake
        .commands(&BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(learner.id)),
        })
        .is_empty());
    // Staff commands work in the staff member's private chat too.
    let answer = texts(&bot.say(&manager(), "/stats").await);
    assert!(answer.contains("Сводка"), "{answer}");

    // The staff chat becomes a forum: the bot makes a topic per kind of alert.
    bot.fake
        .add_group(&FakeChat::forum(STAFF_CHAT, "Сотрудники"));
    bot.restart().await;
    let topics = bot.fake.topics(STAFF_CHAT);
    let names: Vec<&str> = topics.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "🆕 Слушатели",
            "💳 Оплаты",
            "📋 Заявления и документы",
            "✉️ Почта",
            "📝 Итоговые тесты",
            "🎓 Документы о квалификации",
            "🔧 Сбои сервисов",
        ]
    );
    bot.restart().await;
    assert_eq!(bot.fake.topics(STAFF_CHAT).len(), 7, "made once");
    let integrations = topics[6].0;
    uchbot::app::alerts::integration_failure(&bot.app, "smtp", "auth failed").await;
    let alert = bot.wait_text(STAFF_CHAT, "«smtp»").await;
    assert_eq!(alert.thread_id, Some(integrations));
    // A command typed in a topic is answered in that topic.
    let learners_topic = topics[0].0;
    let id = bot
        .fake
        .send_text_in_topic(STAFF_CHAT, learners_topic, &manager(), "/stats")
        .unwrap();
    let _ = id;
    let answer = bot.wait_text(STAFF_CHAT, "Сводка").await;
    assert_eq!(answer.thread_id, Some(learners_topic));
    bot.stop().await;
}

#[tokio::test]
async fn a_topic_that_is_gone_falls_back_to_the_chat() {
    // Configured topic ids that do not exist: Telegram answers "message thread not found";
    // the alert still reaches the chat.
    let db = TestDb::sqlite().await;
    let mut bot = TestBot::start(
        db,
        Options {
            env: vec![(
                "UCHBOT_TELEGRAM__STAFF_TOPICS".into(),
                "{ integrations = 777 }".into(),
            )],
            ..Options::default()
        },
    )
    .await;
    bot.fake
        .add_group(&FakeChat::forum(STAFF_CHAT, "Сотрудники"));
    bot.restart().await;
    uchbot::app::alerts::integration_failure(&bot.app, "webinar", "502").await;
    let alert = bot.wait_text(STAFF_CHAT, "«webinar»").await;
    assert_eq!(alert.thread_id, None);
    let _ = store::staff::topics;
    let _ = audit::for_learner;
    bot.stop().await;
}

// ---- a staff update handled again (replayed after a crash, or a repeated webhook call) ----

/// The bot applied a card press, a command and an acceptance, and died before it marked
/// them done in the inbox: after the restart they are handed out again, and nothing is
/// posted or changed a second time (each claimed its update with, or before, its change).
async fn replayed_staff_updates(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let masha = FakeUser::new(1001, "Мария").with_username("masha");
    register_and_submit(&mut bot, &masha, "masha@example.org").await;
    bot.wait_text(STAFF_CHAT, "Заявление на зачисление").await;
    let (_, card) = bot
        .press_in(&manager(), STAFF_CHAT, "👤 Карточка слушателя")
        .await;
    assert!(!card.is_empty(), "the card is posted");
    let pending = bot.staff_say(&manager(), "/pending").await;
    assert!(!pending.is_empty(), "the command answers");
    let (toast, news) = bot.press_in(&manager(), STAFF_CHAT, "✅ Принять").await;
    assert_eq!(toast.as_deref(), Some("Принято"));
    assert!(texts(&news).contains("приняты (Ольга Менеджер)"));
    bot.wait_text(masha.id, "приняты").await;
    bot.fake
        .wait_until_idle(Duration::from_millis(500), Duration::from_secs(10))
        .await
        .unwrap();
    let staff_chat = bot.fake.messages(STAFF_CHAT).len();
    let learner_chat = bot.fake.messages(masha.id).len();
    let staff_calls = bot.fake.requests().len();

    // What a kill between the change and the done mark leaves behind.
    let ids: Vec<i64> = {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        let rows = store::inbox::all(&mut conn).await.unwrap();
        rows.iter().rev().take(3).map(|(id, _)| *id).collect()
    };
    bot.undo_done(&ids).await;
    bot.restart().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut conn = bot.app.store.pool().acquire().await.unwrap();
        let rows = store::inbox::all(&mut conn).await.unwrap();
        if ids.iter().all(|id| rows.contains(&(*id, true))) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "replayed: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bot.fake
        .wait_until_idle(Duration::from_millis(1000), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(bot.fake.messages(STAFF_CHAT).len(), staff_chat);
    assert_eq!(bot.fake.messages(masha.id).len(), learner_chat);
    let posted: Vec<String> = bot
        .fake
        .requests_since(staff_calls)
        .iter()
        .filter(|r| r.method.starts_with("send"))
        .map(|r| format!("{} {:?}", r.method, r.param_str("text")))
        .collect();
    assert!(posted.is_empty(), "posted again: {posted:#?}");
    let accepted = audit_actions(&bot, Some(1))
        .await
        .iter()
        .filter(|(_, a)| a == "application-accepted")
        .count();
    assert_eq!(accepted, 1);
    bot.stop().await;
}

on_both_backends! {
    review_from_the_staff_chat => review_path;
    a_replayed_staff_update_changes_and_posts_nothing => replayed_staff_updates;
    find_card_documents_and_roster_csv => find_card_and_roster;
    admin_commands_paid_broadcast_audit => admin_commands;
    alerts_of_other_channels_certificates_and_track => other_alerts_and_track;
    a_burst_of_alerts_becomes_a_digest => digest;
    forum_topics_and_command_menus => topics_and_menus;
}
