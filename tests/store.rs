//! The store's conformance suite: every scenario runs on SQLite and on PostgreSQL.
mod support;

use support::db::TestDb;
use uchbot::store::{conversations, enrollments, jobs, learners, outbox};

async fn learners_and_verification(db: TestDb) {
    let mut c = db.store.pool().acquire().await.unwrap();
    let a = learners::ensure_telegram(&mut c, 1001, 1001, Some("masha"), "Маша", "tok1", 100)
        .await
        .unwrap();
    let again = learners::ensure_telegram(&mut c, 1001, 1001, Some("masha2"), "Мария", "tok2", 200)
        .await
        .unwrap();
    assert_eq!(a.id, again.id, "one learner per Telegram account");
    assert_eq!(again.display_name, "Мария");
    assert_eq!(
        again.mail_token.as_deref(),
        Some("tok1"),
        "mail token is kept"
    );

    learners::record_consent(&mut c, a.id, true, "2026-09", 300)
        .await
        .unwrap();
    learners::start_verification(&mut c, a.id, "m@example.org", "h1", 5, 300, 900)
        .await
        .unwrap();
    learners::start_verification(&mut c, a.id, "m@example.org", "h2", 5, 400, 1000)
        .await
        .unwrap();
    let v = learners::verification(&mut c, a.id).await.unwrap().unwrap();
    assert_eq!((v.code_hash.as_str(), v.sends), ("h2", 2));
    learners::spend_code_attempt(&mut c, a.id).await.unwrap();
    let v = learners::verification(&mut c, a.id).await.unwrap().unwrap();
    assert_eq!(v.attempts_left, 4);
    assert!(learners::confirm_email(&mut c, a.id, "m@example.org", 500)
        .await
        .unwrap());
    let b = learners::ensure_telegram(&mut c, 2002, 2002, None, "Петя", "tok3", 600)
        .await
        .unwrap();
    assert!(
        !learners::confirm_email(&mut c, b.id, "m@example.org", 600)
            .await
            .unwrap(),
        "an address belongs to one learner"
    );
    let a = learners::by_email(&mut c, "m@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.tg_user_id, Some(1001));
    assert_eq!(a.consent_version.as_deref(), Some("2026-09"));
}

async fn conversation_versions(db: TestDb) {
    let mut c = db.store.pool().acquire().await.unwrap();
    assert!(conversations::load(&mut c, 5).await.unwrap().is_none());
    assert!(conversations::save(&mut c, 5, "{\"a\":1}", 0, 1)
        .await
        .unwrap());
    assert!(
        !conversations::save(&mut c, 5, "{\"a\":2}", 0, 1)
            .await
            .unwrap(),
        "stale insert loses"
    );
    assert!(conversations::save(&mut c, 5, "{\"a\":3}", 1, 2)
        .await
        .unwrap());
    assert!(
        !conversations::save(&mut c, 5, "{\"a\":4}", 1, 2)
            .await
            .unwrap(),
        "stale update loses"
    );
    assert_eq!(
        conversations::load(&mut c, 5).await.unwrap(),
        Some(("{\"a\":3}".to_owned(), 2))
    );
}

async fn jobs_fire_once(db: TestDb) {
    let backend = db.store.backend();
    let mut c = db.store.pool().acquire().await.unwrap();
    for (key, at) in [("r:1", 10), ("r:2", 20), ("r:3", 30)] {
        let job = jobs::NewJob {
            kind: "reminder",
            dedupe_key: key,
            run_at: at,
            payload: "{}",
        };
        jobs::schedule(&mut c, &job, 0).await.unwrap();
    }
    // Re-scheduling moves a pending job instead of adding one.
    let moved = jobs::NewJob {
        kind: "reminder",
        dedupe_key: "r:3",
        run_at: 15,
        payload: "{}",
    };
    jobs::schedule(&mut c, &moved, 0).await.unwrap();

    let claimed = jobs::claim_due(&mut c, backend, "w1", 20, 60, 10)
        .await
        .unwrap();
    let keys: Vec<_> = claimed.iter().map(|j| j.dedupe_key.as_str()).collect();
    assert_eq!(keys, ["r:1", "r:3", "r:2"]);
    assert!(jobs::claim_due(&mut c, backend, "w2", 20, 60, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(jobs::complete(&mut c, claimed[0].id, "w1", 21)
        .await
        .unwrap());
    assert!(
        !jobs::complete(&mut c, claimed[1].id, "w2", 21)
            .await
            .unwrap(),
        "only the holder finishes"
    );
    // w1 died holding r:3 and r:2: after the lease another worker takes them.
    let again = jobs::claim_due(&mut c, backend, "w2", 81, 60, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|j| j.attempts == 2));
    assert!(
        !jobs::complete(&mut c, again[0].id, "w1", 82).await.unwrap(),
        "the old holder lost it"
    );
}

async fn concurrent_claims_split_the_work(db: TestDb) {
    let backend = db.store.backend();
    {
        let mut c = db.store.pool().acquire().await.unwrap();
        for i in 0..200 {
            let key = format!("k:{i}");
            let job = jobs::NewJob {
                kind: "x",
                dedupe_key: &key,
                run_at: 1,
                payload: "{}",
            };
            jobs::schedule(&mut c, &job, 0).await.unwrap();
        }
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let mut c = store.pool().acquire().await.unwrap();
                let got = jobs::claim_due(&mut c, backend, &worker, 5, 60, 7)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                for j in got {
                    assert!(jobs::complete(&mut c, j.id, &worker, 6).await.unwrap());
                    mine.push(j.id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 200, "every job ran");
    assert_eq!(all.len(), 200, "no job ran twice");
}

async fn outbox_queues_once(db: TestDb) {
    let backend = db.store.backend();
    let mut c = db.store.pool().acquire().await.unwrap();
    assert!(outbox::enqueue(&mut c, "email", "code:1:1", "{}", 10)
        .await
        .unwrap());
    assert!(!outbox::enqueue(&mut c, "email", "code:1:1", "{}", 11)
        .await
        .unwrap());
    let items = outbox::claim(&mut c, backend, "email", 10, 30, 10)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert!(outbox::claim(&mut c, backend, "email", 10, 30, 10)
        .await
        .unwrap()
        .is_empty());
    outbox::retry_at(&mut c, items[0].id, 100, "421 try later")
        .await
        .unwrap();
    assert!(outbox::claim(&mut c, backend, "email", 50, 30, 10)
        .await
        .unwrap()
        .is_empty());
    let items = outbox::claim(&mut c, backend, "email", 100, 30, 10)
        .await
        .unwrap();
    assert_eq!(items[0].attempts, 2);
    outbox::mark_sent(&mut c, items[0].id, 101).await.unwrap();
    assert_eq!(
        outbox::status_of(&mut c, "code:1:1").await.unwrap(),
        Some(outbox::OutboxStatus::Sent)
    );
}

async fn payments_and_documents(db: TestDb) {
    let mut c = db.store.pool().acquire().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let catalog = uchbot::domain::catalog::Catalog::default();
    uchbot::store::catalog::import(&mut tx, &catalog)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A minimal course and group for foreign keys.
    sqlx::query("INSERT INTO courses (id, position, program, title, description, hours, price_kopecks, format, document, pass_percent, max_attempts, pause_minutes) VALUES ('c1', 0, 'qualification', 'К', '', 72, 1250000, 'онлайн', 'certificate', 70, 3, 60)")
        .execute(&mut *c).await.unwrap();
    sqlx::query("INSERT INTO course_groups (id, course_id, position, title, starts_on, ends_on, webinar_url) VALUES ('g1', 'c1', 0, 'Г', '2026-12-01', '2026-12-20', 'https://x')")
        .execute(&mut *c).await.unwrap();
    let l = learners::ensure_telegram(&mut c, 7, 7, None, "Л", "t7", 1)
        .await
        .unwrap();
    let acceptance = enrollments::OfferAcceptance {
        learner_id: l.id,
        course_id: "c1",
        group_id: "g1",
        offer_version: "v1",
        offer_sha256: "ab",
        tg_user_id: Some(7),
        tg_message_id: Some(42),
        amount_kopecks: 1_250_000,
    };
    let (e, new) = enrollments::accept_offer(&mut c, &acceptance, 10)
        .await
        .unwrap();
    assert!(new);
    let (e2, new2) = enrollments::accept_offer(&mut c, &acceptance, 11)
        .await
        .unwrap();
    assert_eq!((e2, new2), (e, false));
    let order = enrollments::order_of(&mut c, e).await.unwrap().unwrap();
    assert_eq!(order.amount_kopecks, 1_250_000);
    assert_eq!(
        enrollments::payment_attempt(&mut c, order.id, false)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        enrollments::payment_attempt(&mut c, order.id, false)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        enrollments::payment_attempt(&mut c, order.id, true)
            .await
            .unwrap(),
        2
    );
    let p = enrollments::PaymentRecord {
        id: "pay-1".into(),
        order_id: order.id,
        attempt: 2,
        idempotence_key: "order-1-2".into(),
        status: "pending".into(),
        confirmation_url: Some("https://pay".into()),
        created_at: 12,
    };
    enrollments::save_payment(&mut c, &p, 12).await.unwrap();
    assert_eq!(
        enrollments::pending_payments(&mut c).await.unwrap().len(),
        1
    );
    assert!(
        enrollments::mark_paid(&mut c, order.id, "yookassa", None, None, 13)
            .await
            .unwrap()
    );
    assert!(
        !enrollments::mark_paid(&mut c, order.id, "yookassa", None, None, 14)
            .await
            .unwrap(),
        "paid once"
    );
    assert!(enrollments::pending_payments(&mut c)
        .await
        .unwrap()
        .is_empty());

    let doc = enrollments::NewDocument {
        learner_id: l.id,
        enrollment_id: Some(e),
        kind: "passport",
        file_name: "паспорт.pdf",
        mime: "application/pdf",
        size_bytes: 1000,
        sha256: "ff",
        storage_key: "k1",
        source: "telegram",
        source_ref: None,
    };
    let (d1, new) = enrollments::add_document(&mut c, &doc, 20).await.unwrap();
    let (d2, new2) = enrollments::add_document(&mut c, &doc, 21).await.unwrap();
    assert!(new && !new2 && d1 == d2, "the same file is stored once");
    assert!(enrollments::submit_for_review(&mut c, e, 30).await.unwrap());
    assert!(!enrollments::submit_for_review(&mut c, e, 31).await.unwrap());
    assert!(
        enrollments::return_document(&mut c, d1, "Нечитаемо", 99, 40)
            .await
            .unwrap()
    );
    assert!(
        !enrollments::accept_review(&mut c, e, 99, 41).await.unwrap(),
        "returned, not pending"
    );
    assert!(enrollments::submit_for_review(&mut c, e, 50).await.unwrap());
    assert!(enrollments::accept_review(&mut c, e, 99, 51).await.unwrap());
    let rec = enrollments::by_id(&mut c, e).await.unwrap().unwrap();
    assert_eq!(
        rec.enrolled_at,
        Some(30),
        "enrolled at the first submission"
    );
    assert_eq!(rec.review_status.as_deref(), Some("accepted"));
}

async fn telegram_linked_by_the_mail_token(db: TestDb) {
    let mut c = db.store.pool().acquire().await.unwrap();
    let olga = learners::ensure_email_only(&mut c, "olga@example.org", "Ольга", "aaaa", 100)
        .await
        .unwrap();
    // Olga's letters kept a conversation under her negative key.
    assert!(
        conversations::save(&mut c, -olga.id, "{\"state\":\"sample_address\"}", 0, 100)
            .await
            .unwrap()
    );
    // The account said /start first: a bare record with a conversation of its own.
    let bare = learners::ensure_telegram(&mut c, 3003, 3003, None, "Оля", "bbbb", 150)
        .await
        .unwrap();
    assert!(
        conversations::save(&mut c, 3003, "{\"state\":\"idle\"}", 0, 150)
            .await
            .unwrap()
    );
    assert!(
        !learners::link_telegram(&mut c, "zzzz", 3003, 3003, None, 200)
            .await
            .unwrap()
    );
    assert!(
        learners::link_telegram(&mut c, "aaaa", 3003, 3003, Some("olga"), 200)
            .await
            .unwrap()
    );
    let linked = learners::by_tg_user(&mut c, 3003).await.unwrap().unwrap();
    assert_eq!(linked.id, olga.id);
    assert_eq!(linked.tg_chat_id, Some(3003));
    let bare = learners::by_id(&mut c, bare.id).await.unwrap().unwrap();
    assert_eq!((bare.tg_user_id, bare.tg_chat_id), (None, None));
    // Her letters' conversation is the chat's now.
    let (state, _) = conversations::load(&mut c, 3003).await.unwrap().unwrap();
    assert!(state.contains("sample_address"), "{state}");
    assert!(conversations::load(&mut c, -olga.id)
        .await
        .unwrap()
        .is_none());
    // Again from the same account: fine; from another account: no.
    assert!(
        learners::link_telegram(&mut c, "aaaa", 3003, 3003, None, 300)
            .await
            .unwrap()
    );
    assert!(
        !learners::link_telegram(&mut c, "aaaa", 4004, 4004, None, 300)
            .await
            .unwrap()
    );
    // An account whose record has data of its own keeps it.
    let petr = learners::ensure_email_only(&mut c, "petr@example.org", "Пётр", "cccc", 400)
        .await
        .unwrap();
    let masha = learners::ensure_telegram(&mut c, 5005, 5005, None, "Маша", "dddd", 400)
        .await
        .unwrap();
    assert!(
        learners::confirm_email(&mut c, masha.id, "m@example.org", 400)
            .await
            .unwrap()
    );
    assert!(
        !learners::link_telegram(&mut c, "cccc", 5005, 5005, None, 500)
            .await
            .unwrap()
    );
    let petr = learners::by_id(&mut c, petr.id).await.unwrap().unwrap();
    assert_eq!(petr.tg_user_id, None);
}

on_both_backends! {
    learners_and_email_verification => learners_and_verification;
    conversations_use_optimistic_versions => conversation_versions;
    jobs_fire_once_and_survive_a_dead_worker => jobs_fire_once;
    concurrent_workers_never_share_a_job => concurrent_claims_split_the_work;
    outbox_queues_each_message_once => outbox_queues_once;
    orders_payments_documents_and_review => payments_and_documents;
    telegram_linked_by_the_mail_token => telegram_linked_by_the_mail_token;
}
