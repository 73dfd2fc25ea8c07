//! The MTS Link client against the local fake: request shape, one participation per email,
//! retries, timeouts and the errors after which the learner gets the group's general link.
#[path = "support/mts_link_fake.rs"]
mod mts_link_fake;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mts_link_fake::{MtsLinkFake, TOKEN};
use uchbot::webinar::{MtsLink, MtsLinkParams, Registration, RetryPolicy, WebinarError};

const SESSION: u64 = 569_285_096;
const EVENT: u64 = 81_296_985;
const GROUP_ROOM: &str = "https://my.mts-link.ru/j/81296985/569285096";

fn client_with(fake: &MtsLinkFake, token: &str, timeout: Duration) -> MtsLink {
    MtsLink::new(MtsLinkParams {
        api_url: fake.api_url(),
        token: token.into(),
        timeout,
    })
    .expect("valid params")
    .with_retry_policy(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        ..RetryPolicy::default()
    })
}

fn client(fake: &MtsLinkFake) -> MtsLink {
    client_with(fake, TOKEN, Duration::from_secs(5))
}

async fn fake_with_session() -> MtsLinkFake {
    let fake = MtsLinkFake::start().await;
    fake.add_session(SESSION, EVENT);
    fake
}

fn maria() -> Registration {
    Registration {
        event_session_id: SESSION.to_string(),
        email: "m.ivanova@example.ru".into(),
        name: "Мария".into(),
        second_name: "Иванова".into(),
    }
}

#[tokio::test]
async fn register_sends_the_documented_request_and_returns_the_personal_link() {
    let fake = fake_with_session().await;
    let link = client(&fake).register(&maria()).await.expect("link");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v3/eventsessions/{SESSION}/register")
    );
    assert_eq!(request.header("x-auth-token"), Some(TOKEN));
    assert!(request
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let form = request.form();
    assert_eq!(form["email"], "m.ivanova@example.ru");
    assert_eq!(form["name"], "Мария");
    assert_eq!(form["secondName"], "Иванова");
    assert_eq!(form["role"], "GUEST");
    assert_eq!(form["isAutoEnter"], "true");
    assert_eq!(form["sendEmail"], "false");

    let participations = fake.participations(SESSION);
    assert_eq!(participations.len(), 1);
    let registered = &participations[0];
    assert_eq!(link.participation_id, registered.participation_id);
    assert_eq!(link.link, registered.link);
    assert!(
        link.link.contains(&format!("/{EVENT}/{SESSION}/")),
        "{}",
        link.link
    );
    assert!(registered.is_auto_enter);
    assert!(!registered.send_email);
    assert_eq!(registered.role, "GUEST");
}

#[tokio::test]
async fn registering_twice_gives_one_participation_and_the_same_link() {
    let fake = fake_with_session().await;
    let mts = client(&fake);
    let first = mts.register(&maria()).await.unwrap();
    let mut again = maria();
    again.email = " M.Ivanova@Example.ru ".into();
    again.second_name = "Петрова".into();
    let second = mts.register(&again).await.unwrap();

    assert_eq!(first, second);
    let participations = fake.participations(SESSION);
    assert_eq!(participations.len(), 1);
    // MTS Link keeps the data of the first registration.
    assert_eq!(participations[0].second_name.as_deref(), Some("Иванова"));

    let other = Registration {
        email: "p.sidorov@example.ru".into(),
        name: "Пётр".into(),
        second_name: "Сидоров".into(),
        ..maria()
    };
    let third = mts.register(&other).await.unwrap();
    assert_ne!(third.link, first.link);
    assert_eq!(fake.participations(SESSION).len(), 2);
}

#[tokio::test]
async fn a_lost_answer_is_retried_into_the_same_participation() {
    let fake = fake_with_session().await;
    fake.fail_next_after_processing(1, 500);
    let link = client(&fake).register(&maria()).await.unwrap();
    assert_eq!(fake.requests().len(), 2);
    let participations = fake.participations(SESSION);
    assert_eq!(participations.len(), 1);
    assert_eq!(link.link, participations[0].link);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let fake = fake_with_session().await;
    fake.fail_next(1, 429);
    fake.fail_next(1, 503);
    let link = client(&fake).register(&maria()).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(link.link, fake.participations(SESSION)[0].link);
}

#[tokio::test]
async fn an_api_failure_is_an_error_and_the_learner_gets_the_group_room() {
    let fake = fake_with_session().await;
    fake.fail_next(10, 500);
    let result = client(&fake).register(&maria()).await;
    let error = result.clone().unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(
        matches!(&error, WebinarError::Unavailable { reason, .. } if reason.contains("500")),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 3);
    assert!(fake.participations(SESSION).is_empty());

    let link_for_learner = result
        .map(|l| l.link)
        .unwrap_or_else(|_| GROUP_ROOM.to_owned());
    assert_eq!(link_for_learner, GROUP_ROOM);
}

#[tokio::test]
async fn a_slow_api_times_out_without_a_duplicate_participation() {
    let fake = fake_with_session().await;
    fake.delay(Duration::from_millis(1500));
    let mts = client_with(&fake, TOKEN, Duration::from_millis(300));
    let started = Instant::now();
    let error = mts.register(&maria()).await.unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        WebinarError::Unavailable { reason, .. } => {
            assert!(reason.contains("timed out"), "{reason}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(fake.participations(SESSION).len(), 1);

    fake.delay(Duration::ZERO);
    let link = mts.register(&maria()).await.unwrap();
    assert_eq!(link.link, fake.participations(SESSION)[0].link);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_not_retried() {
    let fake = fake_with_session().await;
    let error = client_with(&fake, "0123456789abcdef", Duration::from_secs(5))
        .register(&maria())
        .await
        .unwrap_err();
    assert_eq!(error, WebinarError::Unauthorized { status: 403 });
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn an_unknown_session_is_reported_as_such() {
    let fake = fake_with_session().await;
    let registration = Registration {
        event_session_id: "1000001".into(),
        ..maria()
    };
    let error = client(&fake).register(&registration).await.unwrap_err();
    assert_eq!(
        error,
        WebinarError::SessionNotFound {
            event_session_id: "1000001".into()
        }
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_409_for_a_known_email_is_already_registered() {
    let fake = fake_with_session().await;
    let mts = client(&fake);
    let first = mts.register(&maria()).await.unwrap();
    fake.conflict_on_duplicate(true);
    let error = mts.register(&maria()).await.unwrap_err();
    assert_eq!(
        error,
        WebinarError::AlreadyRegistered {
            event_session_id: SESSION.to_string()
        }
    );
    assert!(!error.is_retryable());
    assert_eq!(fake.participations(SESSION).len(), 1);
    assert_eq!(fake.participations(SESSION)[0].link, first.link);
}

#[tokio::test]
async fn invalid_registrations_are_refused_before_sending() {
    let fake = fake_with_session().await;
    let mts = client(&fake);
    for registration in [
        Registration {
            event_session_id: "569285096/../../organization".into(),
            ..maria()
        },
        Registration {
            email: "m.ivanova".into(),
            ..maria()
        },
    ] {
        let error = mts.register(&registration).await.unwrap_err();
        assert!(matches!(error, WebinarError::InvalidInput(_)), "{error:?}");
    }
    assert!(fake.requests().is_empty());
}

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
async fn logs_keep_the_token_the_email_and_the_link_out() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = fake_with_session().await;
    fake.fail_next(1, 502);
    let mts = client(&fake);
    let link = mts.register(&maria()).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains(&link.participation_id.to_string()), "{logs}");
    for secret in [TOKEN, "m.ivanova@example.ru", link.link.as_str(), "Иванова"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
    let shown = format!("{mts:?} {link:?} {:?}", maria());
    assert!(
        !shown.contains(TOKEN) && !shown.contains(&link.link),
        "{shown}"
    );
}

#[tokio::test]
async fn the_fake_enforces_the_documented_rules() {
    let fake = fake_with_session().await;
    let url = format!("{}eventsessions/{SESSION}/register", fake.api_url());
    let http = reqwest::Client::new();
    let status = |response: reqwest::Response| response.status().as_u16();

    let no_token = http
        .post(&url)
        .form(&[("email", "a@example.ru")])
        .send()
        .await
        .unwrap();
    assert_eq!(status(no_token), 401);
    let no_email = http
        .post(&url)
        .header("x-auth-token", TOKEN)
        .form(&[("name", "Мария")])
        .send()
        .await
        .unwrap();
    assert_eq!(status(no_email), 400);
    let bad_role = http
        .post(&url)
        .header("x-auth-token", TOKEN)
        .form(&[("email", "a@example.ru"), ("role", "OWNER")])
        .send()
        .await
        .unwrap();
    assert_eq!(status(bad_role), 400);
    let json_body = http
        .post(&url)
        .header("x-auth-token", TOKEN)
        .json(&serde_json::json!({"email": "a@example.ru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(json_body), 400);
    assert!(fake.participations(SESSION).is_empty());

    let created = http
        .post(&url)
        .header("x-auth-token", TOKEN)
        .form(&[("email", "a@example.ru")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let body: serde_json::Value = created.json().await.unwrap();
    assert!(body["participationId"].is_u64() && body["contactId"].is_u64());
    assert!(body["link"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let participation = &fake.participations(SESSION)[0];
    assert_eq!(participation.role, "GUEST");
    assert!(!participation.is_auto_enter, "documented default: false");
    assert!(participation.send_email, "documented default: true");
}
