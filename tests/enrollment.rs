//! The enrollment journey in Telegram, end to end: the real dispatcher against the fake Bot
//! API, on SQLite and PostgreSQL.
mod support;

use support::bot::*;
use support::db::TestDb;
use uchbot::telegram::fake_api::FakeUser;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];

fn masha() -> FakeUser {
    FakeUser::new(1001, "Мария").with_username("masha")
}

/// The code from the newest letter in the outbox to this address.
async fn code_from_outbox(bot: &TestBot, email: &str) -> String {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE channel = 'email' ORDER BY id DESC")
            .fetch_all(bot.app.store.pool())
            .await
            .unwrap();
    let letter: serde_json::Value = rows
        .iter()
        .map(|(p,)| serde_json::from_str::<serde_json::Value>(p).unwrap())
        .find(|l| l["to"] == email)
        .expect("a letter with the code");
    let text = letter["text"].as_str().unwrap();
    let at = text.find("адреса: ").expect("code line") + "адреса: ".len();
    text[at..at + 6].to_owned()
}

async fn register(bot: &mut TestBot, user: &FakeUser, email: &str) {
    run(
        bot,
        user,
        vec![
            say("/start"),
            sees("Здравствуйте"),
            sees("152-ФЗ"),
            button("✅ Согласен"),
            press("✅ Согласен"),
            sees("адрес электронной почты"),
            say("masha@"),
            sees("@"),
            say(email),
            sees("6-значным кодом"),
        ],
    )
    .await;
    let code = code_from_outbox(bot, email).await;
    run(bot, user, vec![say(code), sees("подтверждён")]).await;
}

async fn whole_path(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    register(&mut bot, &user, "masha@example.org").await;
    run(
        &mut bot,
        &user,
        vec![
            press("📚 Каталог курсов"),
            sees("Выберите раздел"),
            press("Повышение квалификации (3)"),
            press("Организация образовательного процесса в соответствии с ФГОС · 72 часа"),
            sees("72 часа"),
            sees("4\u{a0}900\u{a0}₽"),
            sees("удостоверение о повышении квалификации"),
            press("Записаться: с 18 января 2027 г. по 12 февраля 2027 г."),
            sees("Договор-оферта"),
            press("✅ Принимаю условия оферты"),
            sees("Демо-режим"),
            press("💳 Оплатить 4\u{a0}900\u{a0}₽ (демо)"),
            sees("получена"),
            press("📝 Заполнить заявление"),
            sees("Вопрос 1 из 10"),
            say("иванова"),
            sees("Вопрос 2 из 10"),
            say("Мария"),
            say("Сергеевна"),
            say("31.02.1985"),
            sees("Такой даты нет"),
            not_sees("Вопрос 5"),
            say("07.03.1985"),
            sees("СНИЛС"),
            say("112-233-445 96"),
            not_sees("Вопрос 6"),
            say("112-233-445 95"),
            sees("Телефон"),
            say("8 912 345 67 89"),
            sees("Электронная почта"),
            press("Оставить: masha@example.org"),
            press("Высшее"),
            press("Совпадает с текущими ФИО"),
            say("г. Екатеринбург, ул. Ленина, 5"),
            not_sees("Проверьте"),
            say("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12"),
            sees("Проверьте"),
            sees("Иванова"),
            sees("+79123456789"),
            press("✅ Всё верно"),
            sees("скан или фото паспорта"),
            file("паспорт.pdf", "application/pdf", PDF),
            sees("Принято: Паспорт"),
            press("Готово, дальше →"),
            sees("документ об образовании"),
            file("диплом.png", "image/png", PNG),
            sees("Принято: Документ об образовании"),
            press("Готово, дальше →"),
            sees("Все документы на месте"),
            press("✅ Отправить на проверку"),
            sees("Вы зачислены в группу"),
            say("/status"),
            sees("Документы на проверке"),
        ],
    )
    .await;
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
    bot.stop().await;
}

on_both_backends! {
    the_whole_enrollment_path => whole_path;
}
