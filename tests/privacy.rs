//! Personal data as 152-ФЗ expects: consent before anything personal, `/mydata` gives the
//! learner everything stored, `/forget` destroys it with an act recorded and keeps contract
//! records for their term; document files are encrypted at rest.
mod support;

use support::bot::*;
use support::db::TestDb;
use support::journeys::*;
use uchbot::telegram::fake_api::FakeUser;

async fn my_data_and_forget(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = masha();
    enroll(&mut bot, &user).await;

    // Files on disk are not readable without the key.
    let mut stored = Vec::new();
    for entry in walk(bot.docs.path()) {
        stored.push(std::fs::read(entry).unwrap());
    }
    assert_eq!(stored.len(), 2, "two documents on disk");
    assert!(
        stored
            .iter()
            .all(|f| !f.windows(8).any(|w| w == b"%PDF-1.4")),
        "encrypted at rest"
    );

    // /mydata: one JSON file with everything.
    bot.say(&user, "/mydata").await;
    let file = bot
        .fake
        .messages(user.id)
        .into_iter()
        .rev()
        .find_map(|m| m.document)
        .expect("a file with the learner's data");
    assert_eq!(file.file_name.as_deref(), Some("мои-данные.json"));
    let data: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(data["learner"]["email"], "masha@example.org");
    assert_eq!(data["courses"][0]["application"]["snils"], "112-233-445 95");
    assert_eq!(data["documents"].as_array().unwrap().len(), 2);
    assert!(data["consent"]["given_at"].is_i64());

    // /forget asks first; «Нет» keeps everything.
    run(
        &mut bot,
        &user,
        vec![
            say("/forget"),
            sees("отозвать согласие"),
            press("Нет, оставить как есть"),
        ],
    )
    .await;
    let (email,): (Option<String>,) = sqlx::query_as("SELECT email FROM learners")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    assert!(email.is_some());
    run(
        &mut bot,
        &user,
        vec![
            say("/forget"),
            press("Да, отозвать согласие и удалить данные"),
            sees("согласие отозвано"),
            sees("файлов документов: 2"),
        ],
    )
    .await;
    let store = bot.app.store.clone();
    let pool = store.pool();
    let (email, tg, withdrawn): (Option<String>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT email, tg_user_id, consent_withdrawn_at FROM learners")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(email.is_none() && tg.is_none() && withdrawn.is_some());
    let (fields,): (String,) = sqlx::query_as("SELECT fields FROM applications")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fields, "{}", "the application is destroyed");
    let (live,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM documents WHERE status <> 'destroyed'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(live, 0);
    assert_eq!(walk(bot.docs.path()).len(), 0, "the files are gone");
    let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(orders, 1, "contract records are kept");
    let (retained,): (String,) = sqlx::query_as("SELECT data FROM retained_records")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(retained.contains("Иванова Мария Сергеевна"), "{retained}");
    let (act,): (String,) =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = 'destruction-act'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(act.contains("document files 2"), "{act}");
    bot.wait_text(STAFF_CHAT, "отозвал согласие").await;
    // Coming back starts afresh, consent first.
    run(
        &mut bot,
        &user,
        vec![say("/start"), sees("152-ФЗ"), button("✅ Согласен")],
    )
    .await;
    // After the retention term the identity kept for the contracts goes too.
    let mut conn = pool.acquire().await.unwrap();
    let years = uchbot::journey::privacy::CONTRACT_RETENTION_YEARS;
    let later = chrono::Utc::now().timestamp() + years * 366 * 24 * 3600;
    assert_eq!(
        uchbot::store::privacy::purge_expired(&mut conn, later)
            .await
            .unwrap(),
        1
    );
    bot.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn no_personal_data_before_consent(db: TestDb) {
    let mut bot = TestBot::start(db, Options::default()).await;
    let user = FakeUser::new(2002, "Пётр");
    // Typing an email before consenting: it is not taken.
    run(
        &mut bot,
        &user,
        vec![
            say("/start"),
            say("petr@example.org"),
            sees("152-ФЗ"),
            not_sees("кодом"),
        ],
    )
    .await;
    let (emails,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM email_verifications")
        .fetch_one(bot.app.store.pool())
        .await
        .unwrap();
    assert_eq!(emails, 0);
    bot.stop().await;
}

on_both_backends! {
    my_data_export_and_withdrawal => my_data_and_forget;
    nothing_personal_is_taken_before_consent => no_personal_data_before_consent;
}
