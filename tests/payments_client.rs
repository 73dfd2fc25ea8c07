//! The YooKassa client against the local fake: request shape, idempotent retries, timeouts,
//! error mapping, reading payments back, and notifications.
#[path = "support/yookassa_fake.rs"]
mod yookassa_fake;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use uchbot::domain::catalog::Money;
use uchbot::payments::yookassa::parse_payment;
use uchbot::payments::{
    parse_notification, NewPayment, NotificationError, NotificationEvent, PaymentError,
    PaymentStatus, RetryPolicy, YooKassa, YooKassaParams,
};
use yookassa_fake::{YooKassaFake, SECRET_KEY, SHOP_ID};

const RETURN_URL: &str = "https://t.me/uchbot_test_bot?start=paid_42";
const EMAIL: &str = "ivanova.learner@example.ru";

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(3),
        ..RetryPolicy::default()
    }
}

fn client_with(fake: &YooKassaFake, secret: &str, timeout: Duration) -> YooKassa {
    YooKassa::new(YooKassaParams {
        api_url: fake.api_url(),
        shop_id: SHOP_ID.into(),
        secret_key: secret.into(),
        return_url: RETURN_URL.into(),
        timeout,
    })
    .expect("valid params")
    .with_retry_policy(fast_retries(3))
}

fn client(fake: &YooKassaFake) -> YooKassa {
    client_with(fake, SECRET_KEY, Duration::from_secs(5))
}

fn order_42() -> NewPayment {
    NewPayment {
        idempotence_key: "order-42-attempt-1".into(),
        amount: Money(1_250_000),
        description: "Оплата курса «Охрана труда для руководителей», заказ 42".into(),
        customer_email: EMAIL.into(),
        item_description: "Повышение квалификации «Охрана труда для руководителей», 40 ч".into(),
        vat_code: 1,
        metadata: BTreeMap::from([
            ("order_id".to_owned(), "42".to_owned()),
            ("group_id".to_owned(), "ot-2025-03".to_owned()),
        ]),
    }
}

#[tokio::test]
async fn create_payment_sends_the_documented_request_and_reads_the_answer() {
    let fake = YooKassaFake::start().await;
    let payment = client(&fake)
        .create_payment(&order_42())
        .await
        .expect("payment");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v3/payments");
    let credentials = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap())
        .expect("basic auth");
    assert_eq!(credentials, format!("{SHOP_ID}:{SECRET_KEY}").as_bytes());
    assert_eq!(
        request.header("idempotence-key"),
        Some("order-42-attempt-1")
    );
    assert!(request
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));

    let body = request.json();
    assert_eq!(body["amount"]["value"], "12500.00");
    assert_eq!(body["amount"]["currency"], "RUB");
    assert_eq!(body["capture"], true);
    assert_eq!(body["confirmation"]["type"], "redirect");
    assert_eq!(body["confirmation"]["return_url"], RETURN_URL);
    assert_eq!(body["metadata"]["order_id"], "42");
    assert_eq!(body["receipt"]["customer"]["email"], EMAIL);
    let items = body["receipt"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["description"],
        "Повышение квалификации «Охрана труда для руководителей», 40 ч"
    );
    assert_eq!(items[0]["quantity"], 1);
    assert_eq!(items[0]["amount"]["value"], "12500.00");
    assert_eq!(items[0]["vat_code"], 1);
    assert_eq!(items[0]["payment_subject"], "service");
    assert_eq!(items[0]["payment_mode"], "full_payment");

    assert_eq!(payment.status, PaymentStatus::Pending);
    assert!(!payment.paid);
    assert!(payment.test);
    assert_eq!(payment.amount, Money(1_250_000));
    assert_eq!(payment.metadata["order_id"], "42");
    assert!(uuid::Uuid::parse_str(&payment.id).is_ok(), "{}", payment.id);
    assert_eq!(
        payment.confirmation_url.as_deref(),
        Some(fake.checkout_url(&payment.id).as_str())
    );
    assert!(
        (chrono::Utc::now() - payment.created_at)
            .num_seconds()
            .abs()
            < 60
    );
    let stored = fake.payments();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, payment.id);
}

#[tokio::test]
async fn the_same_idempotence_key_never_makes_a_second_payment() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let first = yookassa.create_payment(&order_42()).await.unwrap();
    let second = yookassa.create_payment(&order_42()).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(fake.payments().len(), 1);

    // The same key for another order is YooKassa's "Idempotence key duplicated".
    let mut other = order_42();
    other.amount = Money(990_000);
    match yookassa.create_payment(&other).await {
        Err(PaymentError::Rejected {
            status: 400,
            code,
            parameter,
            ..
        }) => {
            assert_eq!(code, "invalid_request");
            assert_eq!(parameter.as_deref(), Some("Idempotence-Key"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(fake.payments().len(), 1);
}

#[tokio::test]
async fn a_retry_after_500_reuses_the_key_and_yields_exactly_one_payment() {
    let fake = YooKassaFake::start().await;
    // YooKassa created the payment but the answer was a 500: "result unknown".
    fake.fail_next_after_processing(1, 500);
    let payment = client(&fake).create_payment(&order_42()).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "one failure, one retry");
    assert!(requests
        .iter()
        .all(|r| r.header("idempotence-key") == Some("order-42-attempt-1")));
    assert_eq!(requests[0].body, requests[1].body);
    let stored = fake.payments();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, payment.id);
}

#[tokio::test]
async fn rate_limits_are_waited_out_as_retry_after_asks() {
    let fake = YooKassaFake::start().await;
    fake.fail_next_with_retry_after(1, 429, 1);
    let started = Instant::now();
    let payment = client(&fake).create_payment(&order_42()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_server_that_stays_down_is_reported_unavailable_after_the_last_try() {
    let fake = YooKassaFake::start().await;
    fake.fail_next(10, 503);
    let error = client(&fake).create_payment(&order_42()).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(
        matches!(&error, PaymentError::Unavailable { reason, .. } if reason.contains("503")),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 3, "max_attempts");
    assert!(fake.payments().is_empty());
}

/// Order 42's payment, which must end as unavailable because the server timed out; how
/// long it took.
async fn create_timing_out(yookassa: &YooKassa) -> Duration {
    let started = Instant::now();
    let error = yookassa.create_payment(&order_42()).await.unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        PaymentError::Unavailable { reason, .. } => {
            assert!(reason.contains("timed out"), "{reason}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    elapsed
}

#[tokio::test]
async fn a_timeout_is_retried_with_the_same_key_and_the_payment_is_found_later() {
    let fake = YooKassaFake::start().await;
    fake.delay(Duration::from_millis(1500));
    let yookassa = client_with(&fake, SECRET_KEY, Duration::from_millis(300));
    let elapsed = create_timing_out(&yookassa).await;
    // Three tries of 0.3 s and two short pauses, nowhere near three slow answers.
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests
        .iter()
        .all(|r| r.header("idempotence-key") == Some("order-42-attempt-1")));
    // YooKassa did its part although we never saw the answer: still one payment.
    assert_eq!(fake.payments().len(), 1);

    // Later, YooKassa answers in time: the same key gives back that very payment.
    fake.delay(Duration::ZERO);
    let payment = yookassa.create_payment(&order_42()).await.unwrap();
    assert_eq!(payment.id, fake.payments()[0].id);
    assert_eq!(fake.payments().len(), 1);
}

/// YooKassa hanging on every attempt: the call ends when the policy's whole time is up,
/// however many attempts it would still allow, so the learner is not kept waiting.
#[tokio::test]
async fn a_hanging_server_is_given_up_on_when_the_whole_time_is_up() {
    let fake = YooKassaFake::start().await;
    fake.delay(Duration::from_secs(30));
    let yookassa =
        client_with(&fake, SECRET_KEY, Duration::from_secs(2)).with_retry_policy(RetryPolicy {
            max_attempts: 10,
            give_up_after: Duration::from_secs(3),
            ..fast_retries(10)
        });
    let elapsed = create_timing_out(&yookassa).await;
    // Ten attempts of 2 s would be 20 s; the whole call had 3 s.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let requests = fake.requests();
    assert!(
        (1..=2).contains(&requests.len()),
        "{} attempts",
        requests.len()
    );
    assert!(requests
        .iter()
        .all(|r| r.header("idempotence-key") == Some("order-42-attempt-1")));
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_not_retried() {
    let fake = YooKassaFake::start().await;
    let yookassa = client_with(&fake, "test_wrong-secret", Duration::from_secs(5));
    match yookassa.create_payment(&order_42()).await {
        Err(PaymentError::Unauthorized { description }) => {
            assert!(description.contains("invalid_credentials"), "{description}")
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
    assert!(fake.payments().is_empty());
}

#[tokio::test]
async fn a_rejected_request_names_the_parameter_and_is_not_retried() {
    let fake = YooKassaFake::start().await;
    let mut payment = order_42();
    payment.vat_code = 0;
    match client(&fake).create_payment(&payment).await {
        Err(PaymentError::Rejected {
            status,
            code,
            description,
            parameter,
            error_id,
        }) => {
            assert_eq!(status, 400);
            assert_eq!(code, "invalid_request");
            assert_eq!(parameter.as_deref(), Some("receipt.items[0].vat_code"));
            assert!(description.contains("vat_code"), "{description}");
            assert!(error_id.is_some());
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
    assert!(fake.payments().is_empty());
}

#[tokio::test]
async fn invalid_input_never_reaches_yookassa() {
    let fake = YooKassaFake::start().await;
    let mut payment = order_42();
    payment.customer_email = "ivanova at example.ru".into();
    let error = client(&fake).create_payment(&payment).await.unwrap_err();
    assert!(matches!(error, PaymentError::InvalidInput(_)), "{error:?}");
    assert!(!error.to_string().contains("ivanova"), "{error}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn get_payment_follows_the_payment_to_success() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    fake.succeed(&created.id);

    let payment = yookassa.get_payment(&created.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert!(payment.status.is_final());
    assert!(payment.paid);
    assert_eq!(payment.amount, Money(1_250_000));
    assert_eq!(payment.metadata["order_id"], "42");
    assert_eq!(payment.confirmation_url, None);
    assert_eq!(payment.cancellation, None);

    let get = fake.requests().pop().unwrap();
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, format!("/v3/payments/{}", created.id));
    assert!(get.header("authorization").unwrap().starts_with("Basic "));
}

#[tokio::test]
async fn get_payment_reports_why_a_payment_was_canceled() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    fake.cancel(&created.id, "expired_on_confirmation");

    let payment = yookassa.get_payment(&created.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Canceled);
    assert!(!payment.paid);
    let cancellation = payment.cancellation.expect("cancellation_details");
    assert_eq!(cancellation.party, "yoo_money");
    assert_eq!(cancellation.reason, "expired_on_confirmation");
}

#[tokio::test]
async fn get_payment_is_retried_and_unknown_ids_are_not_found() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    fake.fail_next(2, 502);
    let payment = yookassa.get_payment(&created.id).await.unwrap();
    assert_eq!(payment.id, created.id);
    assert_eq!(fake.requests().len(), 1 + 3);

    let missing = yookassa
        .get_payment("2419a771-000f-5000-9000-1edaf29243f2")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");

    let error = yookassa.get_payment("../refunds").await.unwrap_err();
    assert!(matches!(error, PaymentError::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn the_checkout_page_of_the_fake_pays_and_returns_to_the_bot() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(created.confirmation_url.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], RETURN_URL);
    let payment = yookassa.get_payment(&created.id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/yookassa/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn documented_notifications_parse() {
    let succeeded = parse_notification(&fixture("payment.succeeded")).unwrap();
    assert_eq!(succeeded.event, NotificationEvent::PaymentSucceeded);
    assert_eq!(succeeded.payment_id, "2e8dd95a-000f-5000-a000-1e3515f51c18");
    assert_eq!(succeeded.refund_id, None);

    let waiting = parse_notification(&fixture("payment.waiting_for_capture")).unwrap();
    assert_eq!(waiting.event, NotificationEvent::PaymentWaitingForCapture);
    assert_eq!(waiting.payment_id, "22d6d597-000f-5000-9000-145f6df21d6f");

    let canceled = parse_notification(&fixture("payment.canceled")).unwrap();
    assert_eq!(canceled.event, NotificationEvent::PaymentCanceled);
    assert_eq!(canceled.payment_id, "2e8c6d52-000f-5000-a000-1b9837f46f9c");

    let refund = parse_notification(&fixture("refund.succeeded")).unwrap();
    assert_eq!(refund.event, NotificationEvent::RefundSucceeded);
    assert_eq!(refund.payment_id, "216749da-000f-50be-b000-096747fad91e");
    assert_eq!(
        refund.refund_id.as_deref(),
        Some("216749f7-0016-50be-b000-078d43a63ae4")
    );

    assert_eq!(
        parse_notification(&fixture("payout.succeeded")),
        Err(NotificationError::UnknownEvent("payout.succeeded".into()))
    );
    assert!(matches!(
        parse_notification(br#"{"type":"error","event":"payment.succeeded","object":{"id":"x"}}"#),
        Err(NotificationError::NotANotification(_))
    ));
    assert!(matches!(
        parse_notification(b"payment succeeded, honest"),
        Err(NotificationError::Malformed(_))
    ));
    assert!(matches!(
        parse_notification(
            br#"{"type":"notification","event":"payment.succeeded","object":{"id":"../../admin"}}"#
        ),
        Err(NotificationError::Malformed(_))
    ));
}

#[test]
fn the_payment_object_inside_a_notification_reads_like_get_payment() {
    let notification: serde_json::Value =
        serde_json::from_slice(&fixture("payment.succeeded")).unwrap();
    let payment = parse_payment(notification["object"].to_string().as_bytes()).unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert!(payment.paid);
    assert_eq!(payment.amount, Money(1_250_000));
    assert_eq!(payment.metadata["order_id"], "42");
}

/// A webhook receiver on loopback that keeps the bodies it gets.
async fn webhook() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/yookassa",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.to_vec());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/yookassa", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn a_notification_from_the_fake_is_confirmed_by_reading_the_payment_back() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    fake.succeed(&created.id);
    let (url, received) = webhook().await;

    let status = fake.notify(&url, "payment.succeeded", &created.id).await;
    assert_eq!(status, 200);
    let body = received
        .lock()
        .unwrap()
        .pop()
        .expect("notification received");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], "notification");
    assert_eq!(json["object"]["status"], "succeeded");

    let notification = parse_notification(&body).unwrap();
    assert_eq!(notification.event, NotificationEvent::PaymentSucceeded);
    assert_eq!(notification.payment_id, created.id);
    let confirmed = yookassa
        .get_payment(&notification.payment_id)
        .await
        .unwrap();
    assert_eq!(confirmed.status, PaymentStatus::Succeeded);
}

#[tokio::test]
async fn a_forged_notification_is_exposed_by_reading_the_payment_back() {
    let fake = YooKassaFake::start().await;
    let yookassa = client(&fake);
    let created = yookassa.create_payment(&order_42()).await.unwrap();
    // Someone posts "succeeded" for a payment nobody paid.
    let forged = fake.notification_json("payment.succeeded", &created.id);
    let notification = parse_notification(forged.to_string().as_bytes()).unwrap();
    let actual = yookassa
        .get_payment(&notification.payment_id)
        .await
        .unwrap();
    assert_eq!(actual.status, PaymentStatus::Pending);
    assert!(!actual.paid);
}

/// A `MakeWriter` that keeps everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_name_the_retry_but_never_the_secret_or_the_email() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = YooKassaFake::start().await;
    fake.fail_next(1, 500);
    let yookassa = client(&fake);
    let payment = yookassa.create_payment(&order_42()).await.unwrap();
    let _ = yookassa.get_payment(&payment.id).await.unwrap();
    let _ = client_with(&fake, "test_wrong-secret", Duration::from_secs(5))
        .create_payment(&order_42())
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains(&payment.id), "{logs}");
    assert!(!logs.contains(SECRET_KEY));
    assert!(!logs.contains("test_wrong-secret"));
    assert!(!logs.contains(EMAIL));
    let shown = format!("{yookassa:?} {:?}", order_42());
    assert!(
        !shown.contains(SECRET_KEY) && !shown.contains(EMAIL),
        "{shown}"
    );
}

#[tokio::test]
async fn the_fake_enforces_the_documented_rules() {
    let fake = YooKassaFake::start().await;
    let url = format!("{}payments", fake.api_url());
    let valid = uchbot::payments::yookassa::create_payment_body(&order_42(), RETURN_URL).unwrap();
    let http = reqwest::Client::new();
    let post = |key: Option<&str>, body: &serde_json::Value| {
        let mut request = http
            .post(&url)
            .basic_auth(SHOP_ID, Some(SECRET_KEY))
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotence-Key", key);
        }
        request.send()
    };
    let answer = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body)
    };

    let (status, body) = answer(post(None, &valid).await.unwrap()).await;
    assert_eq!(
        (status, &body["parameter"]),
        (400, &"Idempotence-Key".into())
    );

    type Spoil = fn(&mut serde_json::Value);
    let spoiled: [(&str, Spoil, &str); 7] = [
        (
            "k1",
            |b| b["amount"]["value"] = "12 500,00".into(),
            "amount.value",
        ),
        (
            "k2",
            |b| b["amount"]["currency"] = "USD".into(),
            "amount.currency",
        ),
        (
            "k3",
            |b| b["confirmation"] = serde_json::json!({"type": "redirect"}),
            "confirmation.return_url",
        ),
        (
            "k4",
            |b| {
                b.as_object_mut().unwrap().remove("receipt");
            },
            "receipt",
        ),
        (
            "k5",
            |b| b["receipt"]["customer"] = serde_json::json!({}),
            "receipt.customer",
        ),
        (
            "k6",
            |b| b["receipt"]["items"][0]["amount"]["value"] = "12000.00".into(),
            "receipt.items",
        ),
        (
            "k7",
            |b| b["receipt"]["items"][0]["payment_mode"] = "whenever".into(),
            "receipt.items[0].payment_mode",
        ),
    ];
    for (key, spoil, parameter) in spoiled {
        let mut body = valid.clone();
        spoil(&mut body);
        let (status, error) = answer(post(Some(key), &body).await.unwrap()).await;
        assert_eq!(status, 400, "{parameter}: {error}");
        assert_eq!(error["type"], "error");
        assert_eq!(error["code"], "invalid_request");
        assert_eq!(error["parameter"], parameter, "{error}");
    }

    let unauthenticated = http
        .post(&url)
        .header("Idempotence-Key", "k8")
        .json(&valid)
        .send()
        .await
        .unwrap();
    let (status, error) = answer(unauthenticated).await;
    assert_eq!(
        (status, &error["code"]),
        (401, &"invalid_credentials".into())
    );

    assert!(fake.payments().is_empty());
    let (status, _) = answer(post(Some("k9"), &valid).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(fake.payments().len(), 1);
}
