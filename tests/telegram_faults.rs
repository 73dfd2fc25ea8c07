//! The outside world misbehaving: the Telegram Bot API answering 429, 500, hanging, dropping
//! connections or down for a while; the payment provider slow; the PostgreSQL connections
//! killed and the database refusing connections for a while. Each time the learner's answer
//! arrives exactly once when the fault clears, the learner hears when something takes long,
//! and the bot recovers by itself.
mod support;

#[path = "support/yookassa_fake.rs"]
mod yookassa_fake;

use std::time::Duration;

use support::bot::*;
use support::db::{TestDb, PG_ADMIN_URL};
use uchbot::telegram::fake_api::{Failure, FakeBotApi, FakeUser};
use yookassa_fake::YooKassaFake;

const WELCOME: &str = "Здравствуйте";

/// Messages with this text Telegram accepted in the chat (a failed call delivered nothing).
fn delivered(fake: &FakeBotApi, chat: i64, needle: &str) -> usize {
    fake.requests_to("sendMessage")
        .iter()
        .filter(|r| r.param_i64("chat_id") == Some(chat) && r.result().is_some())
        .filter(|r| r.param_str("text").is_some_and(|t| t.contains(needle)))
        .count()
}

/// Calls that delivered nothing: failed, dropped, or never answered (hung).
fn failed_calls(fake: &FakeBotApi) -> usize {
    fake.requests_to("sendMessage")
        .iter()
        .filter(|r| r.result().is_none())
        .count()
}

async fn started() -> (TestBot, FakeUser) {
    let bot = TestBot::start(TestDb::sqlite().await, Options::default()).await;
    (bot, FakeUser::new(1001, "Мария"))
}

/// One fault on the answer to /start: the answer arrives once all the same, and the
/// conversation goes on.
async fn one_fault_then_once(failure: Failure) -> Duration {
    let (mut bot, user) = started().await;
    bot.fake.fail_next("sendMessage", failure.clone());
    let started = std::time::Instant::now();
    bot.say(&user, "/start").await;
    let took = started.elapsed();
    assert_eq!(delivered(&bot.fake, user.id, WELCOME), 1, "{failure:?}");
    assert!(
        failed_calls(&bot.fake) >= 1,
        "the fault happened: {failure:?}"
    );
    run(
        &mut bot,
        &user,
        vec![press("✅ Согласен"), sees("адрес электронной почты")],
    )
    .await;
    bot.stop().await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_control_is_waited_out_and_the_answer_arrives_once() {
    let took = one_fault_then_once(Failure::TooManyRequests { retry_after: 2 }).await;
    assert!(
        took >= Duration::from_secs(2),
        "retry_after respected: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried_and_the_answer_arrives_once() {
    one_fault_then_once(Failure::ServerError).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_retried_and_the_answer_arrives_once() {
    one_fault_then_once(Failure::DropConnection).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_hangs_past_the_timeout_is_retried_and_the_answer_arrives_once() {
    // teloxide's HTTP client gives up after 17 s; the retry goes through.
    one_fault_then_once(Failure::Hang).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_during_an_outage_wait_in_the_outbox_and_arrive_once_in_order() {
    let (mut bot, user) = started().await;
    bot.fake
        .start_outage("sendMessage", Failure::DropConnection);
    bot.say(&user, "/start").await;
    assert_eq!(delivered(&bot.fake, user.id, WELCOME), 0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    bot.fake.end_outage("sendMessage");
    // Back: the outbox delivers by itself, nobody has to write again.
    bot.wait_text(user.id, "152-ФЗ").await;
    bot.fake
        .wait_until_idle(Duration::from_millis(700), Duration::from_secs(10))
        .await
        .unwrap();
    let texts: Vec<String> = bot
        .fake
        .messages(user.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains(WELCOME)).count(),
        1,
        "{texts:#?}"
    );
    assert_eq!(texts.iter().filter(|t| t.contains("152-ФЗ")).count(), 1);
    let welcome = texts.iter().position(|t| t.contains(WELCOME)).unwrap();
    let consent = texts.iter().position(|t| t.contains("152-ФЗ")).unwrap();
    assert!(welcome < consent, "in order: {texts:#?}");
    // The queued consent question's buttons work.
    run(
        &mut bot,
        &user,
        vec![press("✅ Согласен"), sees("адрес электронной почты")],
    )
    .await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_sent_while_polling_fails_are_answered_once_it_works_again() {
    let (bot, user) = started().await;
    bot.fake.start_outage("getUpdates", Failure::DropConnection);
    // Let the failure be seen by the running poll loop.
    bot.fake
        .wait_for(
            |f| {
                f.requests_to("getUpdates")
                    .iter()
                    .any(|r| {
                        matches!(
                            r.outcome,
                            Some(uchbot::telegram::fake_api::Outcome::Dropped)
                        )
                    })
                    .then_some(())
            },
            Duration::from_secs(15),
        )
        .await
        .expect("polling fails");
    bot.fake.send_text(&user, "/start");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(delivered(&bot.fake, user.id, WELCOME), 0);
    bot.fake.end_outage("getUpdates");
    bot.wait_text(user.id, WELCOME).await;
    bot.fake
        .wait_until_idle(Duration::from_millis(500), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(delivered(&bot.fake, user.id, WELCOME), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_payment_provider_the_learner_is_told_to_wait() {
    let kassa = YooKassaFake::start().await;
    let mut bot = TestBot::start(
        TestDb::sqlite().await,
        Options {
            env: kassa.shop_env(),
            provider: configured_provider,
            ..Options::default()
        },
    )
    .await;
    let user = FakeUser::new(1001, "Мария");
    support::journeys::register(&mut bot, &user, "masha@example.org").await;
    kassa.delay(Duration::from_secs(5));
    run(
        &mut bot,
        &user,
        vec![
            say("/start course_pk-first-aid"),
            press("Записаться"),
            press("✅ Принимаю условия оферты"),
            sees("Минутку — сервис отвечает дольше обычного"),
            sees("Заказ № 1"),
            button("Я оплатил — проверить"),
        ],
    )
    .await;
    let texts: Vec<String> = bot
        .fake
        .messages(user.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    let notice = texts.iter().position(|t| t.contains("Минутку")).unwrap();
    let order = texts.iter().rposition(|t| t.contains("Заказ № 1")).unwrap();
    assert!(notice < order, "the notice comes first: {texts:#?}");
    assert_eq!(texts.iter().filter(|t| t.contains("Минутку")).count(), 1);
    // A quick provider: no notice.
    kassa.delay(Duration::ZERO);
    let before = texts.len();
    run(&mut bot, &user, vec![say("/status")]).await;
    let after: Vec<String> = bot
        .fake
        .messages(user.id)
        .into_iter()
        .skip(before)
        .filter_map(|m| m.text)
        .collect();
    assert!(after.iter().all(|t| !t.contains("Минутку")), "{after:#?}");
    bot.stop().await;
}

/// The test database's name, from its URL.
fn db_name(bot: &TestBot) -> String {
    bot.db.url.rsplit('/').next().unwrap().to_owned()
}

async fn admin(sql: &str) {
    let admin = uchbot::store::Store::connect(PG_ADMIN_URL, 1)
        .await
        .unwrap();
    sqlx::query(sql).execute(admin.pool()).await.unwrap();
    admin.close().await;
}

async fn kill_connections(name: &str) {
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_for_a_while_is_survived_and_the_learner_told() {
    let mut bot = TestBot::start(TestDb::postgres().await, Options::default()).await;
    let user = FakeUser::new(1001, "Мария");
    run(&mut bot, &user, vec![say("/start"), sees(WELCOME)]).await;
    let name = db_name(&bot);

    // Every connection of the pool killed (a failover, a restart): the next update works.
    kill_connections(&name).await;
    run(
        &mut bot,
        &user,
        vec![press("✅ Согласен"), sees("адрес электронной почты")],
    )
    .await;

    // The database refuses connections for a while: the message cannot even be stored, so
    // it stays with Telegram; the learner is told once that it will be answered by itself.
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    kill_connections(&name).await;
    bot.fake.send_text(&user, "masha@example.org");
    bot.wait_text(user.id, "временные технические неполадки")
        .await;
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    // Back: the same message goes through, from the question it was at, once.
    bot.wait_text(user.id, "6-значным кодом").await;
    let texts: Vec<String> = bot
        .fake
        .messages(user.id)
        .iter()
        .filter_map(|m| m.shown_text().map(str::to_owned))
        .collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains("неполадки")).count(),
        1,
        "{texts:#?}"
    );
    bot.stop().await;
}
