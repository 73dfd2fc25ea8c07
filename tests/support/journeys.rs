//! Journeys shared by several test files: registering, enrolling up to «Вы зачислены».
use uchbot::telegram::fake_api::FakeUser;

use super::bot::*;

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];

pub fn masha() -> FakeUser {
    FakeUser::new(1001, "Мария").with_username("masha")
}

/// The code from the newest letter in the outbox to this address.
pub async fn code_from_outbox(bot: &TestBot, email: &str) -> String {
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

pub async fn register(bot: &mut TestBot, user: &FakeUser, email: &str) {
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

/// From `/start` to «Вы зачислены»: the path every branch test starts from.
pub async fn enroll(bot: &mut TestBot, user: &FakeUser) {
    register(bot, user, "masha@example.org").await;
    run(
        bot,
        user,
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
            sees("Номер СНИЛС не сходится"),
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
}
