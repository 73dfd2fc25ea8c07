//! MTS Link (formerly webinar.ru) UserAPI v3 client: personal webinar links for learners.
//!
//! Facts from MTS Link's documentation (help.mts-link.ru, "API. Зарегистрировать на
//! мероприятие", "API. Ошибки") this client relies on:
//! - Every request carries the token in the `x-auth-token` header; bodies are form-urlencoded.
//! - `POST /eventsessions/{eventsessionID}/register` (email required; name, secondName, role,
//!   isAutoEnter, sendEmail optional) answers `201 {"participationId","link","contactId"}`.
//! - "If the email registered before, the new data is ignored and the existing data is used":
//!   registering twice gives the same participation and the same link. The errors page also
//!   lists `409 Conflict` for an email already registered; that answer carries no link and
//!   becomes [`WebinarError::AlreadyRegistered`].
//! - 400: parameters missing or malformed; 401: no or malformed `x-auth-token`; 403: token
//!   inactive or unknown; 404: no such entity in this organization.
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::payments::retry::{is_retryable_status, send_with_retry, RawResponse, RetryPolicy};

/// Settings of the MTS Link client.
#[derive(Debug, Clone)]
pub struct MtsLinkParams {
    /// `https://userapi.mts-link.ru/v3/` in production.
    pub api_url: Url,
    pub token: SecretString,
    /// Limit for one HTTP request, connection to last byte.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("MTS Link api_url must be an http(s) URL, got {0:?}")]
    ApiUrl(String),
    #[error("MTS Link token is empty")]
    EmptyToken,
    #[error("MTS Link timeout must be positive")]
    ZeroTimeout,
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// A learner to register for one webinar session.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// MTS Link's numeric event session id (the lesson's `webinar_session_id`).
    pub event_session_id: String,
    pub email: String,
    pub name: String,
    pub second_name: String,
}

// Personal data stays out of logs, Debug included.
impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("event_session_id", &self.event_session_id)
            .finish_non_exhaustive()
    }
}

/// The learner's own way into the webinar room.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalLink {
    pub participation_id: u64,
    /// Lets whoever holds it in as this learner: send it to the learner only, do not log it.
    pub link: String,
}

impl fmt::Debug for PersonalLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalLink")
            .field("participation_id", &self.participation_id)
            .field("link", &"[REDACTED]")
            .finish()
    }
}

/// What went wrong with an MTS Link call. In every case the learner can still be sent the
/// group's general webinar link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebinarError {
    /// Not reachable, timed out, or 429/5xx on every attempt: worth trying again later.
    #[error("MTS Link is unavailable: {reason}")]
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 401/403: the token is missing, wrong or inactive.
    #[error("MTS Link refused the token (HTTP {status})")]
    Unauthorized { status: u16 },
    /// 404: no such event session in this organization.
    #[error("MTS Link knows no event session {event_session_id}")]
    SessionNotFound { event_session_id: String },
    /// 409: the email is registered already and MTS Link did not return the link.
    #[error("this email is already registered for event session {event_session_id}")]
    AlreadyRegistered { event_session_id: String },
    /// Another 4xx: the request is wrong (e.g. 400 ERROR_BLANK for a missing required field).
    #[error("MTS Link rejected the request: HTTP {status} {message}")]
    Rejected { status: u16, message: String },
    /// Our data cannot make a valid request; nothing was sent.
    #[error("invalid registration: {0}")]
    InvalidInput(String),
    #[error("unexpected answer from MTS Link: {0}")]
    InvalidResponse(String),
}

impl WebinarError {
    /// A later try may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// The MTS Link client. Cheap to share behind an `Arc`; holds a connection pool.
pub struct MtsLink {
    http: reqwest::Client,
    api_url: Url,
    token: SecretString,
    retry: RetryPolicy,
}

impl fmt::Debug for MtsLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtsLink")
            .field("api_url", &self.api_url.as_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl MtsLink {
    pub fn new(params: MtsLinkParams) -> Result<Self, ConfigError> {
        let mut api_url = params.api_url;
        if !api_url.path().ends_with('/') {
            let path = format!("{}/", api_url.path());
            api_url.set_path(&path);
        }
        if !matches!(api_url.scheme(), "http" | "https") || api_url.cannot_be_a_base() {
            return Err(ConfigError::ApiUrl(api_url.to_string()));
        }
        if params.token.expose_secret().trim().is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        if params.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let http = reqwest::Client::builder()
            .timeout(params.timeout)
            .connect_timeout(params.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("uchbot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Self {
            http,
            api_url,
            token: params.token,
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces the default retry policy (4 tries, 0.5 s doubling, at most 10 s a pause).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Registers the learner as a guest of the session, without MTS Link's own email (the
    /// bot sends the link), and returns the personal link. Registering the same email again
    /// returns the same participation and link, so a retried or repeated call is harmless;
    /// keep the link from the first call all the same, MTS Link may answer 409 instead.
    pub async fn register(
        &self,
        registration: &Registration,
    ) -> Result<PersonalLink, WebinarError> {
        let form = registration_form(registration)?;
        let session = registration.event_session_id.trim();
        let mut url = self.api_url.clone();
        url.path_segments_mut()
            .map_err(|()| WebinarError::InvalidInput("api_url cannot take a path".into()))?
            .pop_if_empty()
            .extend(["eventsessions", session, "register"]);
        let response = send_with_retry(&self.retry, "mts_link", || {
            self.http
                .post(url.clone())
                .header("x-auth-token", self.token.expose_secret())
                .form(&form)
        })
        .await
        .map_err(|e| WebinarError::Unavailable {
            reason: e.to_string(),
            retry_after: None,
        })?;
        let link = interpret(session, response)?;
        tracing::info!(
            event_session_id = session,
            participation_id = link.participation_id,
            "MTS Link personal link obtained"
        );
        Ok(link)
    }
}

/// The form of `POST /eventsessions/{id}/register`, validated. Pure: no I/O.
pub fn registration_form(r: &Registration) -> Result<Vec<(&'static str, String)>, WebinarError> {
    let session = r.event_session_id.trim();
    if session.is_empty() || session.len() > 20 || !session.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebinarError::InvalidInput(format!(
            "event session id {:?} is not an MTS Link id (digits)",
            r.event_session_id
        )));
    }
    // MTS Link keys registrations by email: one spelling for one person.
    let email = r.email.trim().to_lowercase();
    let well_formed = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(WebinarError::InvalidInput(
            "email is not an email address".into(),
        ));
    }
    let mut form = vec![("email", email)];
    for (field, value) in [("name", &r.name), ("secondName", &r.second_name)] {
        let value = value.trim();
        if !value.is_empty() {
            form.push((field, value.to_owned()));
        }
    }
    form.extend([
        ("role", "GUEST".to_owned()),
        // Straight into the room when the webinar starts, no "how shall we call you" form.
        ("isAutoEnter", "true".to_owned()),
        // The bot delivers the link; MTS Link's own "you are registered" email would duplicate it.
        ("sendEmail", "false".to_owned()),
    ]);
    Ok(form)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterAnswer {
    participation_id: u64,
    link: String,
}

fn interpret(session: &str, response: RawResponse) -> Result<PersonalLink, WebinarError> {
    let status = response.status;
    if status.is_success() {
        let answer: RegisterAnswer = serde_json::from_slice(&response.body)
            .map_err(|e| WebinarError::InvalidResponse(format!("registration answer: {e}")))?;
        match Url::parse(&answer.link) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(WebinarError::InvalidResponse(
                    "registration answer has no http(s) link".into(),
                ))
            }
        }
        return Ok(PersonalLink {
            participation_id: answer.participation_id,
            link: answer.link,
        });
    }
    let message = error_message(&response.body);
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(WebinarError::Unauthorized {
            status: status.as_u16(),
        }),
        StatusCode::NOT_FOUND => Err(WebinarError::SessionNotFound {
            event_session_id: session.to_owned(),
        }),
        StatusCode::CONFLICT => Err(WebinarError::AlreadyRegistered {
            event_session_id: session.to_owned(),
        }),
        s if is_retryable_status(s) => Err(WebinarError::Unavailable {
            reason: format!("HTTP {} {message}", s.as_u16())
                .trim_end()
                .to_owned(),
            retry_after: response.retry_after,
        }),
        s if s.is_client_error() => Err(WebinarError::Rejected {
            status: s.as_u16(),
            message,
        }),
        s => Err(WebinarError::InvalidResponse(format!(
            "unexpected HTTP status {}",
            s.as_u16()
        ))),
    }
}

/// The message of an MTS Link error body, when it has one: `{"error":{"message":…}}`,
/// `{"error":"…"}` or `{"message":…}`. Raw bodies are not passed on: they may echo the email.
fn error_message(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let message = json
        .pointer("/error/message")
        .or_else(|| json.get("error").filter(|e| e.is_string()))
        .or_else(|| json.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    message.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            event_session_id: "569285096".into(),
            email: "  Ivanova@Example.RU ".into(),
            name: "Мария".into(),
            second_name: "Иванова".into(),
        }
    }

    #[test]
    fn form_has_the_documented_fields() {
        let form = registration_form(&registration()).unwrap();
        let get = |k: &str| form.iter().find(|(f, _)| *f == k).map(|(_, v)| v.as_str());
        assert_eq!(get("email"), Some("ivanova@example.ru"));
        assert_eq!(get("name"), Some("Мария"));
        assert_eq!(get("secondName"), Some("Иванова"));
        assert_eq!(get("role"), Some("GUEST"));
        assert_eq!(get("isAutoEnter"), Some("true"));
        assert_eq!(get("sendEmail"), Some("false"));
    }

    #[test]
    fn empty_names_are_left_out_and_bad_input_refused() {
        let mut r = registration();
        r.second_name = " ".into();
        let form = registration_form(&r).unwrap();
        assert!(form.iter().all(|(f, _)| *f != "secondName"));

        for session in ["", "12a", "1/../2", &"9".repeat(21)] {
            let mut r = registration();
            r.event_session_id = session.into();
            assert!(matches!(
                registration_form(&r),
                Err(WebinarError::InvalidInput(_))
            ));
        }
        let mut r = registration();
        r.email = "мария иванова".into();
        let error = registration_form(&r).unwrap_err();
        assert!(!error.to_string().contains("мария"));
    }

    #[test]
    fn debug_hides_personal_data_and_the_link() {
        let shown = format!(
            "{:?} {:?}",
            registration(),
            PersonalLink {
                participation_id: 7,
                link: "https://my.mts-link.ru/1/2/abc".into()
            }
        );
        assert!(!shown.contains("Ivanova") && !shown.contains("Мария"));
        assert!(!shown.contains("abc"));
    }

    #[test]
    fn error_bodies_map_to_typed_errors() {
        let answer = |status: u16, body: &str| RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: body.as_bytes().to_vec(),
        };
        assert_eq!(
            interpret(
                "5",
                answer(400, r#"{"error":{"code":400,"message":"ERROR_BLANK"}}"#)
            ),
            Err(WebinarError::Rejected {
                status: 400,
                message: "ERROR_BLANK".into()
            })
        );
        assert_eq!(
            interpret("5", answer(403, "")),
            Err(WebinarError::Unauthorized { status: 403 })
        );
        assert!(matches!(
            interpret("5", answer(409, "{}")),
            Err(WebinarError::AlreadyRegistered { .. })
        ));
        assert!(interpret("5", answer(502, "<html/>"))
            .unwrap_err()
            .is_retryable());
        assert!(matches!(
            interpret(
                "5",
                answer(201, r#"{"participationId":1,"link":"javascript:x"}"#)
            ),
            Err(WebinarError::InvalidResponse(_))
        ));
    }
}
