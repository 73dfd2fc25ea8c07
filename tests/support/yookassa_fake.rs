//! A stateful stand-in for YooKassa API v3 on 127.0.0.1, for tests.
//!
//! It follows YooKassa's documentation: Basic auth with shop id and secret key (401
//! `invalid_credentials` otherwise), `Idempotence-Key` required on POST (the same key with the
//! same body gives the first answer back, with another body a 400), a validated body (amount
//! "12500.00" in RUB, redirect confirmation with `return_url`, a 54-ФЗ receipt whose items sum
//! to the amount; 400 `invalid_request` naming the `parameter` otherwise), and payment objects
//! shaped like YooKassa's (UUID id, `pending`, `paid: false`, `confirmation_url`, `created_at`,
//! `recipient`, `test: true`).
//!
//! Test controls move payments on (`succeed`, `cancel`), send notifications (`notify`), inject
//! trouble (`fail_next`, `fail_next_after_processing`, `delay`) and show what happened
//! (`requests`, `payments`). `GET /checkout/{id}` stands for the payer paying on YooKassa's
//! page: the payment succeeds and the browser is sent to `return_url`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, Response, StatusCode};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;
use url::Url;
use uuid::Uuid;

pub const SHOP_ID: &str = "506751";
pub const SECRET_KEY: &str = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0";

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

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A payment the fake holds.
#[derive(Debug, Clone)]
pub struct FakePayment {
    pub id: String,
    pub status: String,
    pub paid: bool,
    /// As sent: "12500.00".
    pub amount_value: String,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub receipt: Value,
    pub return_url: String,
    pub idempotence_key: String,
    pub created_at: DateTime<Utc>,
    pub captured_at: Option<DateTime<Utc>>,
    /// `(party, reason)` once canceled.
    pub cancellation: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy)]
struct Failure {
    status: u16,
    /// The request is carried out, only the answer is lost: YooKassa's "result unknown".
    after_processing: bool,
    retry_after_secs: Option<u64>,
}

struct Stored {
    body: Value,
    status: u16,
    answer: Value,
}

struct FakeState {
    shop_id: String,
    secret_key: String,
    base_url: String,
    payments: Vec<FakePayment>,
    by_key: HashMap<String, Stored>,
    requests: Vec<RecordedRequest>,
    failures: VecDeque<Failure>,
    delay: Duration,
}

type Shared = Arc<Mutex<FakeState>>;

pub struct YooKassaFake {
    addr: SocketAddr,
    state: Shared,
    server: JoinHandle<()>,
}

impl Drop for YooKassaFake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl YooKassaFake {
    /// Starts with [`SHOP_ID`] and [`SECRET_KEY`] as the valid credentials.
    pub async fn start() -> Self {
        Self::start_with(SHOP_ID, SECRET_KEY).await
    }

    pub async fn start_with(shop_id: &str, secret_key: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(FakeState {
            shop_id: shop_id.to_owned(),
            secret_key: secret_key.to_owned(),
            base_url: format!("http://{addr}"),
            payments: Vec::new(),
            by_key: HashMap::new(),
            requests: Vec::new(),
            failures: VecDeque::new(),
            delay: Duration::ZERO,
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake YooKassa server");
        });
        Self {
            addr,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/v3/`, what `YooKassaParams::api_url` takes.
    /// The `[payments]` settings of a shop at this fake, as environment overrides.
    pub fn shop_env(&self) -> Vec<(String, String)> {
        [
            ("UCHBOT_PAYMENTS__API_URL", self.api_url().to_string()),
            ("UCHBOT_PAYMENTS__SHOP_ID", SHOP_ID.to_owned()),
            ("UCHBOT_PAYMENTS__SECRET_KEY", SECRET_KEY.to_owned()),
            (
                "UCHBOT_PAYMENTS__RETURN_URL",
                "https://t.me/uchbot".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn api_url(&self) -> Url {
        Url::parse(&format!("http://{}/v3/", self.addr)).expect("url")
    }

    /// The page standing for YooKassa's payment form of `payment_id`.
    pub fn checkout_url(&self, payment_id: &str) -> String {
        format!("http://{}/checkout/{payment_id}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().expect("fake state")
    }

    /// The payer paid: `succeeded`, `paid: true`, `captured_at` set.
    pub fn succeed(&self, payment_id: &str) {
        let mut state = self.lock();
        let payment = find(&mut state, payment_id);
        payment.status = "succeeded".into();
        payment.paid = true;
        payment.captured_at = Some(Utc::now());
    }

    /// The payment failed or expired: `canceled` with `cancellation_details` for `reason`
    /// (e.g. `expired_on_confirmation`, `insufficient_funds`, `canceled_by_merchant`).
    pub fn cancel(&self, payment_id: &str, reason: &str) {
        let mut state = self.lock();
        let payment = find(&mut state, payment_id);
        payment.status = "canceled".into();
        payment.paid = false;
        payment.cancellation = Some((party_of(reason).into(), reason.into()));
    }

    /// POSTs the documented notification (`{"type":"notification","event":…,"object":…}`) for
    /// `payment_id` to `url`, as YooKassa would, and returns the webhook's HTTP status.
    pub async fn notify(&self, url: &str, event: &str, payment_id: &str) -> StatusCode {
        let body = self.notification_json(event, payment_id);
        let response = reqwest::Client::new()
            .post(url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await
            .expect("webhook reachable");
        StatusCode::from_u16(response.status().as_u16()).expect("status")
    }

    /// The notification `notify` sends, without sending it.
    pub fn notification_json(&self, event: &str, payment_id: &str) -> Value {
        let state = self.lock();
        let payment = state
            .payments
            .iter()
            .find(|p| p.id == payment_id)
            .unwrap_or_else(|| panic!("no payment {payment_id} in the fake"));
        let object = if event.starts_with("refund.") {
            json!({
                "id": Uuid::new_v4().to_string(),
                "payment_id": payment.id,
                "status": "succeeded",
                "amount": {"value": payment.amount_value, "currency": "RUB"},
                "created_at": timestamp(Utc::now()),
            })
        } else {
            payment_json(&state, payment)
        };
        json!({"type": "notification", "event": event, "object": object})
    }

    /// The next `n` requests get `status` with YooKassa's error body, and are not carried out.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push_failures(n, status, false, None);
    }

    /// Like `fail_next`, with a `Retry-After` header.
    pub fn fail_next_with_retry_after(&self, n: usize, status: u16, retry_after_secs: u64) {
        self.push_failures(n, status, false, Some(retry_after_secs));
    }

    /// The next `n` requests are carried out but answered with `status`: the caller cannot
    /// know whether a payment was created (YooKassa's HTTP 500, "result unknown").
    pub fn fail_next_after_processing(&self, n: usize, status: u16) {
        self.push_failures(n, status, true, None);
    }

    fn push_failures(&self, n: usize, status: u16, after_processing: bool, retry: Option<u64>) {
        let mut state = self.lock();
        for _ in 0..n {
            state.failures.push_back(Failure {
                status,
                after_processing,
                retry_after_secs: retry,
            });
        }
    }

    /// The outage is over: failures still queued by `fail_next…` are dropped.
    pub fn recover(&self) {
        self.lock().failures.clear();
    }

    /// Every answer from now on leaves after `delay` (requests are carried out first).
    pub fn delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub fn payments(&self) -> Vec<FakePayment> {
        self.lock().payments.clone()
    }

    /// The payment object as `GET /payments/{id}` would show it.
    pub fn payment_json(&self, payment_id: &str) -> Value {
        let state = self.lock();
        let payment = state
            .payments
            .iter()
            .find(|p| p.id == payment_id)
            .unwrap_or_else(|| panic!("no payment {payment_id} in the fake"));
        payment_json(&state, payment)
    }
}

fn find<'a>(state: &'a mut FakeState, payment_id: &str) -> &'a mut FakePayment {
    state
        .payments
        .iter_mut()
        .find(|p| p.id == payment_id)
        .unwrap_or_else(|| panic!("no payment {payment_id} in the fake"))
}

/// Who cancels for which reason, after YooKassa's table of `cancellation_details`.
fn party_of(reason: &str) -> &'static str {
    match reason {
        "canceled_by_merchant" => "merchant",
        "3d_secure_failed"
        | "call_issuer"
        | "card_expired"
        | "country_forbidden"
        | "fraud_suspected"
        | "general_decline"
        | "identification_required"
        | "insufficient_funds"
        | "invalid_card_number"
        | "invalid_csc"
        | "issuer_unavailable"
        | "payment_method_limit_exceeded"
        | "payment_method_restricted" => "payment_network",
        _ => "yoo_money",
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn kopecks_to_value(kopecks: i64) -> String {
    format!("{}.{:02}", kopecks / 100, kopecks % 100)
}

fn payment_json(state: &FakeState, p: &FakePayment) -> Value {
    let mut object = json!({
        "id": p.id,
        "status": p.status,
        "paid": p.paid,
        "amount": {"value": p.amount_value, "currency": "RUB"},
        "created_at": timestamp(p.created_at),
        "metadata": p.metadata,
        "recipient": {"account_id": state.shop_id, "gateway_id": "2340567"},
        "refundable": p.status == "succeeded",
        "test": true,
    });
    let fields = object.as_object_mut().expect("object");
    if let Some(description) = &p.description {
        fields.insert("description".into(), json!(description));
    }
    match p.status.as_str() {
        "pending" => {
            fields.insert(
                "confirmation".into(),
                json!({
                    "type": "redirect",
                    "confirmation_url": format!("{}/checkout/{}", state.base_url, p.id),
                    "return_url": p.return_url,
                }),
            );
        }
        "succeeded" => {
            let kopecks = value_to_kopecks(&p.amount_value).unwrap_or(0);
            fields.insert(
                "income_amount".into(),
                json!({"value": kopecks_to_value(kopecks * 965 / 1000), "currency": "RUB"}),
            );
            if let Some(at) = p.captured_at {
                fields.insert("captured_at".into(), json!(timestamp(at)));
            }
            fields.insert(
                "payment_method".into(),
                json!({
                    "type": "bank_card",
                    "id": p.id,
                    "saved": false,
                    "title": "Bank card *4444",
                    "card": {"first6": "555555", "last4": "4444", "expiry_month": "12",
                             "expiry_year": "2030", "card_type": "MasterCard", "issuer_country": "RU"},
                }),
            );
            fields.insert("receipt_registration".into(), json!("succeeded"));
        }
        "canceled" => {
            if let Some((party, reason)) = &p.cancellation {
                fields.insert(
                    "cancellation_details".into(),
                    json!({"party": party, "reason": reason}),
                );
            }
        }
        _ => {}
    }
    object
}

fn error_json(code: &str, description: &str, parameter: Option<&str>) -> Value {
    let mut body = json!({
        "type": "error",
        "id": Uuid::new_v4().to_string(),
        "code": code,
        "description": description,
    });
    if let Some(parameter) = parameter {
        body["parameter"] = json!(parameter);
    }
    body
}

fn status_error(status: u16) -> Value {
    match status {
        400 => error_json("invalid_request", "Request is invalid", None),
        401 => error_json(
            "invalid_credentials",
            "Login and password are invalid",
            Some("Authorization"),
        ),
        403 => error_json("forbidden", "Not enough rights for the operation", None),
        404 => error_json("not_found", "Resource not found", None),
        429 => error_json("too_many_requests", "Too many requests", None),
        _ => error_json(
            "internal_server_error",
            "Internal server error. The result of the operation is unknown",
            None,
        ),
    }
}

fn reply(status: u16, body: &Value, retry_after: Option<u64>) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(seconds) = retry_after {
        builder = builder.header(header::RETRY_AFTER, seconds.to_string());
    }
    builder
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
        let response = respond(&mut state, &parts.method, &recorded);
        (response, state.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

fn respond(state: &mut FakeState, method: &Method, request: &RecordedRequest) -> Response<Body> {
    let path = request.path.as_str();
    if let Some(id) = path.strip_prefix("/checkout/") {
        return checkout(state, id);
    }
    let failure = state.failures.pop_front();
    if let Some(f) = failure.filter(|f| !f.after_processing) {
        return reply(f.status, &status_error(f.status), f.retry_after_secs);
    }
    let (status, body) = api(state, method, request);
    match failure {
        Some(f) => reply(f.status, &status_error(f.status), f.retry_after_secs),
        None => reply(status, &body, None),
    }
}

fn checkout(state: &mut FakeState, id: &str) -> Response<Body> {
    let Some(payment) = state.payments.iter_mut().find(|p| p.id == id) else {
        return reply(404, &status_error(404), None);
    };
    if payment.status == "pending" {
        payment.status = "succeeded".into();
        payment.paid = true;
        payment.captured_at = Some(Utc::now());
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, payment.return_url.clone())
        .body(Body::empty())
        .expect("redirect")
}

fn api(state: &mut FakeState, method: &Method, request: &RecordedRequest) -> (u16, Value) {
    let Some(rest) = request.path.strip_prefix("/v3/") else {
        return (404, status_error(404));
    };
    if !authorized(state, request.header("authorization")) {
        return (
            401,
            error_json(
                "invalid_credentials",
                "Basic authentication failed. Check the shop ID and the secret key",
                Some("Authorization"),
            ),
        );
    }
    match (method, rest.trim_end_matches('/')) {
        (&Method::POST, "payments") => create(state, request),
        (&Method::GET, id) if id.starts_with("payments/") => {
            let id = &id["payments/".len()..];
            match state.payments.iter().find(|p| p.id == id) {
                Some(payment) => (200, payment_json(state, payment)),
                None => (
                    404,
                    error_json(
                        "not_found",
                        "Payment doesn't exist or access denied",
                        Some("payment_id"),
                    ),
                ),
            }
        }
        (_, "payments") => (
            405,
            error_json("invalid_request", "Method not allowed", None),
        ),
        _ => (404, status_error(404)),
    }
}

fn authorized(state: &FakeState, header: Option<&str>) -> bool {
    let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", state.shop_id, state.secret_key);
    decoded == expected.as_bytes()
}

fn create(state: &mut FakeState, request: &RecordedRequest) -> (u16, Value) {
    let key = request.header("idempotence-key").unwrap_or_default().trim();
    if key.is_empty() {
        return (
            400,
            error_json(
                "invalid_request",
                "Idempotence key is required for POST requests",
                Some("Idempotence-Key"),
            ),
        );
    }
    if key.len() > 64 {
        return (
            400,
            error_json(
                "invalid_request",
                "Idempotence key is too long: 64 characters at most",
                Some("Idempotence-Key"),
            ),
        );
    }
    let content_type = request.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return (
            415,
            error_json("invalid_request", "Unsupported content type", None),
        );
    }
    let Ok(body) = serde_json::from_str::<Value>(&request.body) else {
        return (
            400,
            error_json("invalid_request", "Request body is not valid JSON", None),
        );
    };
    if let Some(stored) = state.by_key.get(key) {
        if stored.body == body {
            return (stored.status, stored.answer.clone());
        }
        return (
            400,
            error_json(
                "invalid_request",
                "Idempotence key duplicated: it was used for another request",
                Some("Idempotence-Key"),
            ),
        );
    }
    let (status, answer) = match validate(&body) {
        Err((parameter, description)) => (
            400,
            error_json("invalid_request", &description, Some(&parameter)),
        ),
        Ok(()) => {
            let payment = FakePayment {
                id: Uuid::new_v4().to_string(),
                status: "pending".into(),
                paid: false,
                amount_value: body["amount"]["value"].as_str().unwrap_or_default().into(),
                description: body["description"].as_str().map(str::to_owned),
                metadata: body["metadata"].as_object().cloned().unwrap_or_default(),
                receipt: body["receipt"].clone(),
                return_url: body["confirmation"]["return_url"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                idempotence_key: key.to_owned(),
                created_at: Utc::now(),
                captured_at: None,
                cancellation: None,
            };
            let answer = payment_json(state, &payment);
            state.payments.push(payment);
            (200, answer)
        }
    };
    state.by_key.insert(
        key.to_owned(),
        Stored {
            body,
            status,
            answer: answer.clone(),
        },
    );
    (status, answer)
}

/// "12500.00" (up to two decimals) → kopecks.
fn value_to_kopecks(value: &str) -> Option<i64> {
    let (rubles, kopecks) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if rubles.is_empty() || !digits(rubles) || kopecks.len() > 2 || !digits(kopecks) {
        return None;
    }
    let kopecks = format!("{kopecks:0<2}");
    Some(rubles.parse::<i64>().ok()? * 100 + kopecks.parse::<i64>().ok()?)
}

/// A quantity (a number or a numeric string, up to 3 decimals) in thousandths.
fn quantity_milli(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || fraction.len() > 3 || !digits(fraction) {
        return None;
    }
    let fraction = format!("{fraction:0<3}");
    let milli = whole.parse::<i64>().ok()? * 1000 + fraction.parse::<i64>().ok()?;
    (milli > 0).then_some(milli)
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

const PAYMENT_SUBJECTS: &[&str] = &[
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "property_right",
    "non_operating_gain",
    "insurance_premium",
    "sales_tax",
    "resort_fee",
    "composite",
    "another",
];
const PAYMENT_MODES: &[&str] = &[
    "full_prepayment",
    "partial_prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
];
const MEASURES: &[&str] = &[
    "piece",
    "gram",
    "kilogram",
    "ton",
    "centimeter",
    "decimeter",
    "meter",
    "square_centimeter",
    "square_decimeter",
    "square_meter",
    "milliliter",
    "liter",
    "cubic_meter",
    "kilowatt_hour",
    "gigacalorie",
    "day",
    "hour",
    "minute",
    "second",
    "kilobyte",
    "megabyte",
    "gigabyte",
    "terabyte",
    "another",
];

type Invalid = (String, String);

fn invalid(parameter: &str, description: &str) -> Result<(), Invalid> {
    Err((parameter.to_owned(), description.to_owned()))
}

fn check_amount(amount: &Value, parameter: &str) -> Result<i64, Invalid> {
    let value_param = format!("{parameter}.value");
    let Some(value) = amount.get("value").and_then(Value::as_str) else {
        return Err((
            value_param,
            "Amount value is missing or is not a string".into(),
        ));
    };
    let kopecks = value_to_kopecks(value).ok_or_else(|| {
        (
            value_param.clone(),
            format!("Invalid amount value {value:?}: a decimal with a point and up to 2 decimals"),
        )
    })?;
    if kopecks <= 0 {
        return Err((value_param, "Amount must be positive".into()));
    }
    if amount.get("currency").and_then(Value::as_str) != Some("RUB") {
        return Err((
            format!("{parameter}.currency"),
            "Currency must be RUB for this shop".into(),
        ));
    }
    Ok(kopecks)
}

/// Checks a `POST /payments` body against the documented rules; `(parameter, description)`.
fn validate(body: &Value) -> Result<(), Invalid> {
    let amount = check_amount(&body["amount"], "amount")?;
    if !matches!(body.get("capture"), None | Some(Value::Bool(_))) {
        invalid("capture", "capture must be a boolean")?;
    }
    let confirmation = &body["confirmation"];
    if confirmation["type"] != "redirect" {
        invalid(
            "confirmation.type",
            "Confirmation type must be redirect for this integration",
        )?;
    }
    match confirmation["return_url"].as_str() {
        Some(url) if url.len() <= 2048 && Url::parse(url).is_ok() => {}
        _ => invalid(
            "confirmation.return_url",
            "return_url is required for a redirect confirmation and must be a URL",
        )?,
    }
    match body.get("description") {
        None => {}
        Some(Value::String(s)) if s.chars().count() <= 128 => {}
        Some(_) => invalid(
            "description",
            "Description must be a string of at most 128 characters",
        )?,
    }
    match body.get("metadata") {
        None => {}
        Some(Value::Object(map)) => {
            if map.len() > 16 {
                invalid("metadata", "Metadata has more than 16 keys")?;
            }
            for (k, v) in map {
                let ok =
                    k.chars().count() <= 32 && v.as_str().is_some_and(|s| s.chars().count() <= 512);
                if !ok {
                    invalid(
                        &format!("metadata.{k}"),
                        "Metadata keys are up to 32 characters, values strings up to 512",
                    )?;
                }
            }
        }
        Some(_) => invalid("metadata", "Metadata must be an object")?,
    }
    let receipt = &body["receipt"];
    if !receipt.is_object() {
        invalid(
            "receipt",
            "Receipt is missing: this shop sends receipts under 54-FZ",
        )?;
    }
    let customer = &receipt["customer"];
    let email_ok = customer["email"]
        .as_str()
        .is_some_and(|e| e.contains('@') && !e.contains(' '));
    let phone_ok = customer["phone"].as_str().is_some_and(|p| !p.is_empty());
    if !email_ok && !phone_ok {
        invalid(
            "receipt.customer",
            "Customer email or phone is required for the receipt",
        )?;
    }
    let Some(items) = receipt["items"].as_array().filter(|i| !i.is_empty()) else {
        return invalid("receipt.items", "Receipt must have at least one item");
    };
    if items.len() > 100 {
        invalid("receipt.items", "Receipt has more than 100 items")?;
    }
    let mut total_milli = 0i64;
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("receipt.items[{i}].{field}");
        match item["description"].as_str() {
            Some(d) if (1..=128).contains(&d.chars().count()) => {}
            _ => invalid(
                &at("description"),
                "Item description must have 1 to 128 characters",
            )?,
        }
        let Some(quantity) = quantity_milli(&item["quantity"]) else {
            return invalid(
                &at("quantity"),
                "Quantity must be a positive number with up to 3 decimals",
            );
        };
        let price = check_amount(&item["amount"], &at("amount"))?;
        total_milli += price * quantity;
        if !integer(&item["vat_code"]).is_some_and(|c| (1..=10).contains(&c)) {
            invalid(&at("vat_code"), "vat_code must be an integer from 1 to 10")?;
        }
        for (field, allowed) in [
            ("payment_subject", PAYMENT_SUBJECTS),
            ("payment_mode", PAYMENT_MODES),
            ("measure", MEASURES),
        ] {
            if let Some(value) = item.get(field) {
                if !value.as_str().is_some_and(|v| allowed.contains(&v)) {
                    invalid(&at(field), &format!("Unknown {field} value {value}"))?;
                }
            }
        }
    }
    if total_milli != amount * 1000 {
        invalid(
            "receipt.items",
            "The sum of the receipt items differs from the payment amount",
        )?;
    }
    Ok(())
}
