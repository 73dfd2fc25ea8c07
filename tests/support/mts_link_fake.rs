//! A stateful stand-in for MTS Link UserAPI v3 on 127.0.0.1, for tests.
//!
//! It follows help.mts-link.ru: the token in `x-auth-token` (401 when missing, 403 when
//! unknown), `POST /v3/eventsessions/{id}/register` with a form-urlencoded body (`email`
//! required; `name`, `secondName`, `role` ADMIN|LECTURER|GUEST, `isAutoEnter` and `sendEmail`
//! true|false), 404 for a session the organization does not have, and `201
//! {"participationId","link","contactId"}`. Registrations are kept per session and keyed by
//! email: registering an email again gives the existing participation back with its old data
//! ("new data is ignored, existing data is used"), or, after `conflict_on_duplicate(true)`,
//! the `409 Conflict` the errors page lists. Error bodies are `{"error":{"code","message"}}`:
//! MTS Link does not document their shape, the client relies only on the status.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use url::Url;

pub const TOKEN: &str = "a3f5c2e0b9d84f17a6c1e2d3b4a59687";

/// A request as the fake received it. Header names are lower case.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The form fields, decoded.
    pub fn form(&self) -> BTreeMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

/// A participant of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub participation_id: u64,
    pub contact_id: u64,
    pub email: String,
    pub name: Option<String>,
    pub second_name: Option<String>,
    pub role: String,
    pub is_auto_enter: bool,
    pub send_email: bool,
    pub link: String,
}

#[derive(Debug, Clone, Copy)]
struct Failure {
    status: u16,
    after_processing: bool,
}

struct Session {
    event_id: u64,
    participations: Vec<Participation>,
}

struct FakeState {
    base_url: String,
    sessions: BTreeMap<u64, Session>,
    requests: Vec<RecordedRequest>,
    failures: VecDeque<Failure>,
    delay: Duration,
    conflict_on_duplicate: bool,
    next_id: u64,
}

type Shared = Arc<Mutex<FakeState>>;

pub struct MtsLinkFake {
    addr: SocketAddr,
    state: Shared,
    server: JoinHandle<()>,
}

impl Drop for MtsLinkFake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl MtsLinkFake {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(FakeState {
            base_url: format!("http://{addr}"),
            sessions: BTreeMap::new(),
            requests: Vec::new(),
            failures: VecDeque::new(),
            delay: Duration::ZERO,
            conflict_on_duplicate: false,
            next_id: 60_680_825,
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake MTS Link server");
        });
        Self {
            addr,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/v3/`, what `MtsLinkParams::api_url` takes.
    pub fn api_url(&self) -> Url {
        Url::parse(&format!("http://{}/v3/", self.addr)).expect("url")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().expect("fake state")
    }

    /// The organization gets a webinar: event `event_id`, session `event_session_id`.
    pub fn add_session(&self, event_session_id: u64, event_id: u64) {
        self.lock().sessions.insert(
            event_session_id,
            Session {
                event_id,
                participations: Vec::new(),
            },
        );
    }

    /// From now on a second registration of an email answers 409 Conflict.
    pub fn conflict_on_duplicate(&self, on: bool) {
        self.lock().conflict_on_duplicate = on;
    }

    /// The next `n` requests get `status`, and are not carried out.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push_failures(n, status, false);
    }

    /// The next `n` requests are carried out but answered with `status`.
    pub fn fail_next_after_processing(&self, n: usize, status: u16) {
        self.push_failures(n, status, true);
    }

    fn push_failures(&self, n: usize, status: u16, after_processing: bool) {
        let mut state = self.lock();
        for _ in 0..n {
            state.failures.push_back(Failure {
                status,
                after_processing,
            });
        }
    }

    /// Every answer from now on leaves after `delay` (requests are carried out first).
    pub fn delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub fn participations(&self, event_session_id: u64) -> Vec<Participation> {
        self.lock()
            .sessions
            .get(&event_session_id)
            .map(|s| s.participations.clone())
            .unwrap_or_default()
    }
}

fn error(status: u16, message: &str) -> (u16, Value) {
    (
        status,
        json!({"error": {"code": status, "message": message}}),
    )
}

fn reply(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

async fn handle(State(state): State<Shared>, request: Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (response, delay) = {
        let mut state = state.lock().expect("fake state");
        state.requests.push(recorded.clone());
        let failure = state.failures.pop_front();
        let response = match failure {
            Some(f) if !f.after_processing => reply(f.status, &error(f.status, "Server error").1),
            _ => {
                let (status, body) = api(&mut state, &parts.method, &recorded);
                match failure {
                    Some(f) => reply(f.status, &error(f.status, "Server error").1),
                    None => reply(status, &body),
                }
            }
        };
        (response, state.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

fn api(state: &mut FakeState, method: &Method, request: &RecordedRequest) -> (u16, Value) {
    match request.header("x-auth-token") {
        None | Some("") => return error(401, "x-auth-token header is required"),
        Some(token) if token != TOKEN => return error(403, "Token is inactive or does not exist"),
        Some(_) => {}
    }
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::POST, ["v3", "eventsessions", id, "register"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return error(404, "Event session not found");
            };
            register(state, id, request)
        }
        _ => error(404, "Not found"),
    }
}

fn flag(form: &BTreeMap<String, String>, field: &str, default: bool) -> Result<bool, ()> {
    match form.get(field).map(String::as_str) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(()),
    }
}

fn register(state: &mut FakeState, session_id: u64, request: &RecordedRequest) -> (u16, Value) {
    let content_type = request.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return error(400, "Body must be application/x-www-form-urlencoded");
    }
    let form = request.form();
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    if email.is_empty() {
        return error(400, "ERROR_BLANK: email");
    }
    if !email.contains('@') || email.contains(' ') {
        return error(400, "Invalid email");
    }
    let role = form.get("role").cloned().unwrap_or_else(|| "GUEST".into());
    if !["ADMIN", "LECTURER", "GUEST"].contains(&role.as_str()) {
        return error(400, "Invalid role");
    }
    let (Ok(is_auto_enter), Ok(send_email)) = (
        flag(&form, "isAutoEnter", false),
        flag(&form, "sendEmail", true),
    ) else {
        return error(400, "isAutoEnter and sendEmail are true or false");
    };
    let base_url = state.base_url.clone();
    let conflict_on_duplicate = state.conflict_on_duplicate;
    state.next_id += 1;
    let id = state.next_id;
    let Some(session) = state.sessions.get_mut(&session_id) else {
        return error(404, "Event session not found");
    };
    let existing = session.participations.iter().find(|p| p.email == email);
    let participation = match existing {
        Some(_) if conflict_on_duplicate => {
            return error(409, "Participant with this email is already registered")
        }
        Some(p) => p.clone(),
        None => {
            let token = format!("{:032x}", u128::from(id) * 0x9E37_79B9_7F4A_7C15 + 0xA5A5);
            let participation = Participation {
                participation_id: id,
                contact_id: id + 1_000_000,
                email,
                name: form.get("name").cloned(),
                second_name: form.get("secondName").cloned(),
                role,
                is_auto_enter,
                send_email,
                link: format!("{base_url}/{}/{session_id}/{token}", session.event_id),
            };
            session.participations.push(participation.clone());
            participation
        }
    };
    (
        201,
        json!({
            "participationId": participation.participation_id,
            "link": participation.link,
            "contactId": participation.contact_id,
        }),
    )
}
