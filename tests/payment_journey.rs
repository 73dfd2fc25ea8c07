//! Paying for a course through YooKassa (a faithful local fake): the request the bot makes,
//! the notification trusted only after reading the payment back, a cancelled payment and a
//! new link, a lost notification covered by the re-check, and "paid" told exactly once.
mod support;

#[path = "support/yookassa_fake.rs"]
mod yookassa_fake;

use base64::Engine;
use support::bot::*;
use support::db::TestDb;
use uchbot::telegram::fake_api::FakeUser;
use yookassa_fake::{YooKassaFake, SECRET_KEY, SHOP_ID};

async fn code_from_outbox(bot: &TestBot) -> String {
    let (payload,): (String,) = sqlx::query_as(
        "SELECT payload FROM outbox WHERE channel = 'email' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(bot.app.store.pool())
    .await
    .unwrap();
    let letter: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let text = letter["text"].as_str().unwrap().to_owned();
    let at = text.find("адреса: ").unwrap() + "адреса: ".len();
    text[at..at + 6].to_owned()
}

async fn to_the_payment_link(bot: &mut TestBot, user: &FakeUser) {
    run(
        bot,
        user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say("masha@example.org"),
        ],
    )
    .await;
    let code = code_from_outbox(bot).await;
    run(
        bot,
        user,
        vec![
            say(code),
            sees("подтверждён"),
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            sees("Заказ № 1"),
            sees("картой или через СБП"),
            button("Я оплатил — проверить"),
        ],
    )
    .await;
}

/// The `[payments]` settings of a shop at the fake.
fn paid_notices(bot: &TestBot, chat: i64) -> usize {
    bot.fake
        .messages(chat)
        .iter()
        .filter(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("получена. Спасибо"))
        })
        .count()
}

async fn yookassa_flow(db: TestDb) {
    let kassa = YooKassaFake::start().await;
    // On one connection (see `one_connection`): the payment's calls and notifications.
    let mut env = kassa.shop_env();
    env.push(one_connection());
    let mut bot = TestBot::start(
        db,
        Options {
            env,
            provider: configured_provider,
            http: true,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    to_the_payment_link(&mut bot, &user).await;

    // The request YooKassa received is the documented one.
    let created: Vec<_> = kassa
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(created.len(), 1);
    let request = &created[0];
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SHOP_ID}:{SECRET_KEY}"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(request.header("idempotence-key"), Some("uchbot-order-1-1"));
    let body = request.json();
    assert_eq!(body["amount"]["value"], "1500.00", "{body}");
    assert_eq!(body["amount"]["currency"], "RUB");
    assert_eq!(body["capture"], true);
    assert_eq!(body["confirmation"]["type"], "redirect");
    assert_eq!(body["metadata"]["order_id"], "1");
    assert_eq!(body["receipt"]["customer"]["email"], "masha@example.org");
    assert!(body["receipt"]["items"][0]["description"]
        .as_str()
        .unwrap()
        .contains("первой помощи"));
    assert_eq!(body["receipt"]["items"][0]["payment_subject"], "service");

    let payment = kassa.payments()[0].id.clone();
    let link = bot
        .fake
        .messages(user.id)
        .iter()
        .rev()
        .find_map(|m| m.buttons().find_map(|b| b.url.clone()))
        .unwrap();
    assert_eq!(link, kassa.checkout_url(&payment));

    // A notification that claims success while the API says "pending" changes nothing.
    let webhook = format!("{}/webhooks/yookassa", bot.http());
    let mut forged = kassa.notification_json("payment.succeeded", &payment);
    forged["object"]["status"] = "succeeded".into();
    let status = reqwest::Client::new()
        .post(&webhook)
        .json(&forged)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert_eq!(
        paid_notices(&bot, user.id),
        0,
        "not trusted without reading it back"
    );

    // Cancelled: a new link with a new Idempotence-Key.
    kassa.cancel(&payment, "expired_on_confirmation");
    assert_eq!(
        kassa.notify(&webhook, "payment.canceled", &payment).await,
        200
    );
    bot.wait_text(user.id, "не прошёл или был отменён").await;
    bot.wait_text(STAFF_CHAT, "Платёж отменён").await;
    run(
        &mut bot,
        &user,
        vec![press("Получить новую ссылку на оплату"), sees("Заказ № 1")],
    )
    .await;
    let keys: Vec<String> = kassa
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .filter_map(|r| r.header("idempotence-key").map(str::to_owned))
        .collect();
    assert_eq!(keys, ["uchbot-order-1-1", "uchbot-order-1-2"]);

    // Paid, but the notification is lost: «Я оплатил — проверить» reads it back.
    let second = kassa.payments()[1].id.clone();
    run(
        &mut bot,
        &user,
        vec![press("Я оплатил — проверить"), sees("пока не поступила")],
    )
    .await;
    kassa.succeed(&second);
    run(
        &mut bot,
        &user,
        vec![
            press("Я оплатил — проверить"),
            sees("получена. Спасибо"),
            button("📝 Заполнить заявление"),
        ],
    )
    .await;
    // The late notification and the background re-check change nothing more.
    assert_eq!(
        kassa.notify(&webhook, "payment.succeeded", &second).await,
        200
    );
    uchbot::http::recheck_pending_payments(&bot.app, bot.messenger().as_ref())
        .await
        .unwrap();
    bot.wait_text(STAFF_CHAT, "Оплата получена").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(paid_notices(&bot, user.id), 1, "the learner is told once");
    let staff_paid = bot
        .fake
        .messages(STAFF_CHAT)
        .iter()
        .filter(|m| {
            m.shown_text()
                .is_some_and(|t| t.contains("Оплата получена"))
        })
        .count();
    assert_eq!(staff_paid, 1, "staff are told once");
    bot.stop().await;
}

async fn lost_notification_recheck(db: TestDb) {
    let kassa = YooKassaFake::start().await;
    let env = kassa.shop_env();
    let mut bot = TestBot::start(
        db,
        Options {
            env,
            provider: configured_provider,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    to_the_payment_link(&mut bot, &user).await;
    kassa.succeed(&kassa.payments()[0].id);
    // Nobody notifies and nobody presses: the background re-check finds it.
    assert_eq!(
        uchbot::http::recheck_pending_payments(&bot.app, bot.messenger().as_ref())
            .await
            .unwrap(),
        1
    );
    bot.wait_text(user.id, "получена. Спасибо").await;
    assert_eq!(
        uchbot::http::recheck_pending_payments(&bot.app, bot.messenger().as_ref())
            .await
            .unwrap(),
        0
    );
    bot.stop().await;
}

async fn provider_down(db: TestDb) {
    let kassa = YooKassaFake::start().await;
    let env = kassa.shop_env();
    let mut bot = TestBot::start(
        db,
        Options {
            env,
            provider: configured_provider,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    run(
        &mut bot,
        &user,
        vec![
            say("/start"),
            press("✅ Согласен"),
            say("masha@example.org"),
        ],
    )
    .await;
    let code = code_from_outbox(&bot).await;
    kassa.fail_next(4, 503); // every retry of the first request fails
    run(
        &mut bot,
        &user,
        vec![
            say(code),
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            sees("не отвечает"),
            button("Попробовать ещё раз"),
        ],
    )
    .await;
    bot.wait_text(STAFF_CHAT, "yookassa").await;
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
    assert_eq!(
        kassa.payments().len(),
        1,
        "retries reused one Idempotence-Key: one payment"
    );
    bot.stop().await;
}

on_both_backends! {
    yookassa_payment_is_trusted_only_when_read_back => yookassa_flow;
    a_lost_notification_is_covered_by_the_recheck => lost_notification_recheck;
    the_provider_being_down_is_survived => provider_down;
}
