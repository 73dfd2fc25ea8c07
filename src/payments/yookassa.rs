//! YooKassa API v3 client: create a payment with its 54-ФЗ receipt, read a payment back, and
//! parse the HTTP notifications YooKassa sends about status changes.
//!
//! Facts from YooKassa's documentation this client relies on:
//! - HTTP Basic auth with the shop id and the secret key; JSON in and out.
//! - A POST carries an `Idempotence-Key` (up to 64 characters): the same key with the same
//!   body gives back the result of the first request instead of a second payment.
//! - HTTP 500 means "result unknown": repeat with the same key or read the object back.
//!   429 means too many requests. Other 4xx are final; 401 is `invalid_credentials`.
//! - Errors are `{"type":"error","id","code","description","parameter"}`.
//! - Notifications are not signed: their content must be confirmed by reading the object back.
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::retry::{is_retryable_status, send_with_retry, RawResponse, RetryPolicy};
use crate::domain::catalog::Money;

/// Longest payment description and receipt item name YooKassa accepts, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 128;
/// Longest `Idempotence-Key` YooKassa accepts.
pub const IDEMPOTENCE_KEY_MAX_LEN: usize = 64;
/// Metadata limits: 16 keys, key up to 32 characters, value up to 512.
pub const METADATA_MAX_KEYS: usize = 16;
pub const METADATA_KEY_MAX_CHARS: usize = 32;
pub const METADATA_VALUE_MAX_CHARS: usize = 512;

const CURRENCY: &str = "RUB";

/// Settings of the YooKassa client.
#[derive(Debug, Clone)]
pub struct YooKassaParams {
    /// `https://api.yookassa.ru/v3/` in production.
    pub api_url: Url,
    pub shop_id: String,
    pub secret_key: SecretString,
    /// Where YooKassa sends the learner back after paying (the bot's deep link or a page).
    pub return_url: String,
    /// Limit for one HTTP request, connection to last byte.
    pub timeout: Duration,
}

/// The settings cannot make a working client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("YooKassa api_url must be an http(s) URL, got {0:?}")]
    ApiUrl(String),
    #[error("YooKassa shop_id is empty")]
    EmptyShopId,
    #[error("YooKassa secret_key is empty")]
    EmptySecretKey,
    #[error("YooKassa return_url must be an absolute http(s) URL, got {0:?}")]
    ReturnUrl(String),
    #[error("YooKassa timeout must be positive")]
    ZeroTimeout,
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// A payment to create: one course, one receipt line.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// Derived from the order (e.g. `order-<id>-<attempt>`), never random per call: a retry
    /// after a timeout must not create a second payment. At most 64 characters.
    pub idempotence_key: String,
    pub amount: Money,
    /// Shown to the payer; cut to 128 characters.
    pub description: String,
    /// Where YooKassa sends the electronic receipt (54-ФЗ).
    pub customer_email: String,
    /// The receipt line: the service sold; cut to 128 characters.
    pub item_description: String,
    /// VAT code of the receipt line (1 = без НДС); see YooKassa's table of `vat_code` values.
    pub vat_code: u8,
    /// Comes back with the payment and its notifications (e.g. `order_id`).
    pub metadata: BTreeMap<String, String>,
}

// The customer's email stays out of logs, Debug included.
impl fmt::Debug for NewPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPayment")
            .field("idempotence_key", &self.idempotence_key)
            .field("amount", &self.amount)
            .field("description", &self.description)
            .field("customer_email", &"[REDACTED]")
            .field("item_description", &self.item_description)
            .field("vat_code", &self.vat_code)
            .field("metadata", &self.metadata)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Created, the payer has not paid yet.
    Pending,
    /// Paid, waiting for the shop to capture (never with `capture: true`, kept for completeness).
    WaitingForCapture,
    /// Paid and final.
    Succeeded,
    /// Final: not paid (expired, declined, canceled).
    Canceled,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::WaitingForCapture => "waiting_for_capture",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::WaitingForCapture,
            Self::Succeeded,
            Self::Canceled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }

    /// `succeeded` and `canceled` never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Canceled)
    }
}

/// Why a payment was canceled (`cancellation_details`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Cancellation {
    /// `yoo_money`, `payment_network` or `merchant`.
    pub party: String,
    /// E.g. `expired_on_confirmation`, `insufficient_funds`, `canceled_by_merchant`.
    pub reason: String,
}

/// A payment as YooKassa reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub status: PaymentStatus,
    pub paid: bool,
    pub amount: Money,
    /// The page where the payer pays; present while a redirect confirmation is pending.
    pub confirmation_url: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub cancellation: Option<Cancellation>,
    pub created_at: DateTime<Utc>,
    /// A payment made in a test shop: no money moved.
    pub test: bool,
}

/// What went wrong with a YooKassa call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// YooKassa could not be reached, timed out, or answered 429/5xx on every attempt.
    /// Try again later with the same idempotence key: no second payment can result.
    #[error("YooKassa is unavailable: {reason}")]
    Unavailable {
        reason: String,
        /// How long YooKassa asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// YooKassa refused the request (400, 403, 404, …): it is wrong and retrying will not help.
    #[error("YooKassa rejected the request: HTTP {status} {code}: {description}{}",
        parameter.as_deref().map(|p| format!(" (parameter {p})")).unwrap_or_default())]
    Rejected {
        status: u16,
        /// `invalid_request`, `forbidden`, `not_found`, …
        code: String,
        description: String,
        /// The field or header at fault.
        parameter: Option<String>,
        /// YooKassa's error id, for its support.
        error_id: Option<String>,
    },
    /// 401 `invalid_credentials`: the shop id or secret key is wrong.
    #[error("YooKassa refused the shop's credentials: {description}")]
    Unauthorized { description: String },
    /// Our data cannot make a valid request; nothing was sent.
    #[error("invalid payment request: {0}")]
    InvalidInput(String),
    /// YooKassa answered something this client does not understand.
    #[error("unexpected answer from YooKassa: {0}")]
    InvalidResponse(String),
}

impl PaymentError {
    /// A later try with the same idempotence key may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// YooKassa knows no such payment.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Rejected { status: 404, .. })
    }
}

/// The YooKassa client. Cheap to share behind an `Arc`; holds a connection pool.
pub struct YooKassa {
    http: reqwest::Client,
    payments_url: Url,
    shop_id: String,
    secret_key: SecretString,
    return_url: String,
    retry: RetryPolicy,
}

impl fmt::Debug for YooKassa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YooKassa")
            .field("payments_url", &self.payments_url.as_str())
            .field("shop_id", &self.shop_id)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl YooKassa {
    pub fn new(params: YooKassaParams) -> Result<Self, ConfigError> {
        let api_url = with_trailing_slash(params.api_url);
        if !matches!(api_url.scheme(), "http" | "https") || api_url.cannot_be_a_base() {
            return Err(ConfigError::ApiUrl(api_url.to_string()));
        }
        let payments_url = api_url
            .join("payments")
            .map_err(|_| ConfigError::ApiUrl(api_url.to_string()))?;
        if params.shop_id.trim().is_empty() {
            return Err(ConfigError::EmptyShopId);
        }
        if params.secret_key.expose_secret().trim().is_empty() {
            return Err(ConfigError::EmptySecretKey);
        }
        match Url::parse(&params.return_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return Err(ConfigError::ReturnUrl(params.return_url)),
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
            payments_url,
            shop_id: params.shop_id,
            secret_key: params.secret_key,
            return_url: params.return_url,
            // A learner waits for the answer: two timeouts' worth in all, not four.
            retry: RetryPolicy {
                give_up_after: (params.timeout * 2).max(RetryPolicy::default().give_up_after),
                ..RetryPolicy::default()
            },
        })
    }

    /// Replaces the default retry policy (4 tries, 0.5 s doubling, at most 10 s a pause,
    /// given up after twice the timeout and at least 30 s).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Creates a one-stage payment (`capture: true`) with a redirect confirmation and a
    /// receipt, and returns it, normally `pending` with a `confirmation_url` for the payer.
    ///
    /// Retried on timeouts, connection errors, 429 and 5xx with the same `Idempotence-Key`,
    /// so at most one payment exists per key whatever happens on the wire.
    pub async fn create_payment(&self, new: &NewPayment) -> Result<Payment, PaymentError> {
        let body = create_payment_body(new, &self.return_url)?;
        let response = send_with_retry(&self.retry, "yookassa", || {
            self.http
                .post(self.payments_url.clone())
                .basic_auth(&self.shop_id, Some(self.secret_key.expose_secret()))
                .header("Idempotence-Key", &new.idempotence_key)
                .json(&body)
        })
        .await
        .map_err(|e| PaymentError::Unavailable {
            reason: e.to_string(),
            retry_after: None,
        })?;
        let payment = interpret(response)?;
        tracing::info!(
            payment_id = %payment.id,
            status = payment.status.as_str(),
            idempotence_key = %new.idempotence_key,
            "YooKassa payment created"
        );
        Ok(payment)
    }

    /// Reads a payment's current state: the only trustworthy source of its status.
    pub async fn get_payment(&self, payment_id: &str) -> Result<Payment, PaymentError> {
        if !is_valid_object_id(payment_id) {
            return Err(PaymentError::InvalidInput(format!(
                "payment id {payment_id:?} is not a YooKassa object id"
            )));
        }
        let mut url = self.payments_url.clone();
        url.path_segments_mut()
            .map_err(|()| PaymentError::InvalidInput("api_url cannot take a path".into()))?
            .push(payment_id);
        let response = send_with_retry(&self.retry, "yookassa", || {
            self.http
                .get(url.clone())
                .basic_auth(&self.shop_id, Some(self.secret_key.expose_secret()))
        })
        .await
        .map_err(|e| PaymentError::Unavailable {
            reason: e.to_string(),
            retry_after: None,
        })?;
        interpret(response)
    }
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// YooKassa ids look like `2419a771-000f-5000-9000-1edaf29243f2`.
fn is_valid_object_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `s` trimmed and cut to `max` characters on a character boundary, with "…" when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[derive(Serialize)]
struct AmountJson {
    value: String,
    currency: &'static str,
}

impl AmountJson {
    fn rub(amount: Money) -> Self {
        Self {
            value: amount.to_decimal_string(),
            currency: CURRENCY,
        }
    }
}

#[derive(Serialize)]
struct CreatePaymentRequest<'a> {
    amount: AmountJson,
    capture: bool,
    confirmation: ConfirmationRequest<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    metadata: &'a BTreeMap<String, String>,
    receipt: ReceiptRequest<'a>,
}

#[derive(Serialize)]
struct ConfirmationRequest<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    return_url: &'a str,
}

#[derive(Serialize)]
struct ReceiptRequest<'a> {
    customer: CustomerRequest<'a>,
    items: Vec<ReceiptItemRequest>,
}

#[derive(Serialize)]
struct CustomerRequest<'a> {
    email: &'a str,
}

#[derive(Serialize)]
struct ReceiptItemRequest {
    description: String,
    /// A JSON number: whole or with up to 3 decimals, point as separator.
    quantity: u32,
    /// Price of one unit.
    amount: AmountJson,
    vat_code: u8,
    /// The course is a service…
    payment_subject: &'static str,
    /// …paid in full in one go.
    payment_mode: &'static str,
    /// Required by "Чеки от ЮKassa" and by registers on ФФД 1.2; pieces for a service.
    measure: &'static str,
}

/// The JSON body of `POST /payments` for `new`, validated. Pure: no I/O.
pub fn create_payment_body(new: &NewPayment, return_url: &str) -> Result<Value, PaymentError> {
    validate(new)?;
    let description = truncate_chars(&new.description, DESCRIPTION_MAX_CHARS);
    let request = CreatePaymentRequest {
        amount: AmountJson::rub(new.amount),
        capture: true,
        confirmation: ConfirmationRequest {
            kind: "redirect",
            return_url,
        },
        description: (!description.is_empty()).then_some(description),
        metadata: &new.metadata,
        receipt: ReceiptRequest {
            customer: CustomerRequest {
                email: new.customer_email.trim(),
            },
            items: vec![ReceiptItemRequest {
                description: truncate_chars(&new.item_description, DESCRIPTION_MAX_CHARS),
                quantity: 1,
                amount: AmountJson::rub(new.amount),
                vat_code: new.vat_code,
                payment_subject: "service",
                payment_mode: "full_payment",
                measure: "piece",
            }],
        },
    };
    serde_json::to_value(&request).map_err(|e| PaymentError::InvalidInput(e.to_string()))
}

fn validate(new: &NewPayment) -> Result<(), PaymentError> {
    let invalid = |msg: String| Err(PaymentError::InvalidInput(msg));
    let key = &new.idempotence_key;
    if key.is_empty() || key.len() > IDEMPOTENCE_KEY_MAX_LEN {
        return invalid(format!(
            "idempotence_key must have 1 to {IDEMPOTENCE_KEY_MAX_LEN} characters, has {}",
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return invalid(format!(
            "idempotence_key {key:?} must be printable ASCII without spaces"
        ));
    }
    if new.amount.kopecks() <= 0 {
        return invalid(format!(
            "amount must be positive, is {} kopecks",
            new.amount.kopecks()
        ));
    }
    let email = new.customer_email.trim();
    let well_formed = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !well_formed {
        // The address itself stays out of the message: it ends up in logs.
        return invalid("customer_email is not an email address".into());
    }
    if new.item_description.trim().is_empty() {
        return invalid("item_description is empty: the receipt needs the service's name".into());
    }
    if new.metadata.len() > METADATA_MAX_KEYS {
        return invalid(format!(
            "metadata has {} keys, YooKassa takes at most {METADATA_MAX_KEYS}",
            new.metadata.len()
        ));
    }
    for (k, v) in &new.metadata {
        if k.is_empty() || k.chars().count() > METADATA_KEY_MAX_CHARS {
            return invalid(format!(
                "metadata key {k:?} must have 1 to {METADATA_KEY_MAX_CHARS} characters"
            ));
        }
        if v.chars().count() > METADATA_VALUE_MAX_CHARS {
            return invalid(format!(
                "metadata value of {k:?} is longer than {METADATA_VALUE_MAX_CHARS} characters"
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct ApiErrorJson {
    id: Option<String>,
    code: Option<String>,
    description: Option<String>,
    parameter: Option<String>,
}

/// Maps a final answer to a payment or a typed error.
fn interpret(response: RawResponse) -> Result<Payment, PaymentError> {
    let status = response.status;
    if status.is_success() {
        return parse_payment(&response.body);
    }
    let error: Option<ApiErrorJson> = serde_json::from_slice(&response.body).ok();
    let (id, code, description, parameter) = match error {
        Some(e) => (e.id, e.code, e.description, e.parameter),
        None => (None, None, None, None),
    };
    let code = code.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let description = description.unwrap_or_default();
    if status == StatusCode::UNAUTHORIZED {
        return Err(PaymentError::Unauthorized {
            description: format!("{code}: {description}"),
        });
    }
    if is_retryable_status(status) {
        return Err(PaymentError::Unavailable {
            reason: format!("HTTP {} {code} {description}", status.as_u16())
                .trim_end()
                .to_owned(),
            retry_after: response.retry_after,
        });
    }
    if status.is_client_error() {
        return Err(PaymentError::Rejected {
            status: status.as_u16(),
            code,
            description,
            parameter,
            error_id: id,
        });
    }
    Err(PaymentError::InvalidResponse(format!(
        "unexpected HTTP status {}",
        status.as_u16()
    )))
}

#[derive(Deserialize)]
struct AmountIn {
    value: String,
    currency: String,
}

#[derive(Deserialize)]
struct ConfirmationIn {
    confirmation_url: Option<String>,
}

#[derive(Deserialize)]
struct PaymentJson {
    id: String,
    status: String,
    paid: bool,
    amount: AmountIn,
    confirmation: Option<ConfirmationIn>,
    metadata: Option<BTreeMap<String, Value>>,
    cancellation_details: Option<Cancellation>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    test: bool,
}

/// A payment object (the body of `GET /payments/{id}`), as YooKassa documents it.
pub fn parse_payment(body: &[u8]) -> Result<Payment, PaymentError> {
    let json: PaymentJson = serde_json::from_slice(body)
        .map_err(|e| PaymentError::InvalidResponse(format!("payment object: {e}")))?;
    payment_from_json(json)
}

fn payment_from_json(json: PaymentJson) -> Result<Payment, PaymentError> {
    let status = PaymentStatus::parse(&json.status).ok_or_else(|| {
        PaymentError::InvalidResponse(format!("unknown payment status {:?}", json.status))
    })?;
    if json.amount.currency != CURRENCY {
        return Err(PaymentError::InvalidResponse(format!(
            "payment {} is in {}, not {CURRENCY}",
            json.id, json.amount.currency
        )));
    }
    let amount = parse_amount(&json.amount.value).ok_or_else(|| {
        PaymentError::InvalidResponse(format!("amount {:?} is not a sum", json.amount.value))
    })?;
    let metadata = json
        .metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect();
    Ok(Payment {
        id: json.id,
        status,
        paid: json.paid,
        amount,
        confirmation_url: json.confirmation.and_then(|c| c.confirmation_url),
        metadata,
        cancellation: json.cancellation_details,
        created_at: json.created_at,
        test: json.test,
    })
}

/// "12500.00" → 1 250 000 kopecks. At most two decimals; no sign, no exponent.
pub fn parse_amount(value: &str) -> Option<Money> {
    let (rubles, kopecks) = match value.split_once('.') {
        Some((r, k)) => (r, k),
        None => (value, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if rubles.is_empty() || !digits(rubles) || kopecks.len() > 2 || !digits(kopecks) {
        return None;
    }
    let rubles: i64 = rubles.parse().ok()?;
    let kopecks: i64 = match kopecks.len() {
        0 => 0,
        1 => kopecks.parse::<i64>().ok()? * 10,
        _ => kopecks.parse().ok()?,
    };
    rubles.checked_mul(100)?.checked_add(kopecks).map(Money)
}

/// Events YooKassa notifies a shop about that concern payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationEvent {
    PaymentWaitingForCapture,
    PaymentSucceeded,
    PaymentCanceled,
    RefundSucceeded,
}

impl NotificationEvent {
    pub const ALL: [Self; 4] = [
        Self::PaymentWaitingForCapture,
        Self::PaymentSucceeded,
        Self::PaymentCanceled,
        Self::RefundSucceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentWaitingForCapture => "payment.waiting_for_capture",
            Self::PaymentSucceeded => "payment.succeeded",
            Self::PaymentCanceled => "payment.canceled",
            Self::RefundSucceeded => "refund.succeeded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A notification: which event, about which payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event: NotificationEvent,
    /// The payment concerned (for a refund, the payment refunded).
    pub payment_id: String,
    /// The refund, for `refund.*` events.
    pub refund_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("notification is not valid JSON of the documented shape: {0}")]
    Malformed(String),
    #[error("body is of type {0:?}, not \"notification\"")]
    NotANotification(String),
    /// An event this shop does not handle (payouts, deals, …): acknowledge it and move on.
    #[error("event {0:?} is not handled")]
    UnknownEvent(String),
}

#[derive(Deserialize)]
struct NotificationJson {
    #[serde(rename = "type")]
    kind: String,
    event: String,
    object: NotificationObject,
}

#[derive(Deserialize)]
struct NotificationObject {
    id: String,
    payment_id: Option<String>,
}

/// Parses a YooKassa HTTP notification (`{"type":"notification","event":…,"object":{…}}`).
///
/// **Do not trust its content.** YooKassa notifications carry no signature: anyone who
/// knows the webhook URL can post one. Use only the payment id from it and re-read the
/// payment with [`YooKassa::get_payment`] before acting on its status; the object in the
/// body is ignored on purpose. Answer the webhook with HTTP 200 once the notification is
/// recorded (YooKassa repeats unanswered ones), also for [`NotificationError::UnknownEvent`].
pub fn parse_notification(body: &[u8]) -> Result<Notification, NotificationError> {
    let json: NotificationJson =
        serde_json::from_slice(body).map_err(|e| NotificationError::Malformed(e.to_string()))?;
    if json.kind != "notification" {
        return Err(NotificationError::NotANotification(json.kind));
    }
    let event = NotificationEvent::parse(&json.event)
        .ok_or_else(|| NotificationError::UnknownEvent(json.event.clone()))?;
    let (payment_id, refund_id) = match event {
        NotificationEvent::RefundSucceeded => {
            let payment_id = json.object.payment_id.ok_or_else(|| {
                NotificationError::Malformed("refund object without payment_id".into())
            })?;
            (payment_id, Some(json.object.id))
        }
        _ => (json.object.id, None),
    };
    if !is_valid_object_id(&payment_id) {
        return Err(NotificationError::Malformed(format!(
            "payment id {payment_id:?} is not a YooKassa object id"
        )));
    }
    Ok(Notification {
        event,
        payment_id,
        refund_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_payment() -> NewPayment {
        NewPayment {
            idempotence_key: "order-42-1".into(),
            amount: Money(1_250_000),
            description: "Оплата курса «Охрана труда», заказ 42".into(),
            customer_email: "learner@example.ru".into(),
            item_description: "Курс повышения квалификации «Охрана труда», 72 ч".into(),
            vat_code: 1,
            metadata: BTreeMap::from([("order_id".to_owned(), "42".to_owned())]),
        }
    }

    #[test]
    fn body_has_the_documented_shape() {
        let body = create_payment_body(&new_payment(), "https://t.me/uchbot?start=paid").unwrap();
        assert_eq!(body["amount"]["value"], "12500.00");
        assert_eq!(body["amount"]["currency"], "RUB");
        assert_eq!(body["capture"], true);
        assert_eq!(body["confirmation"]["type"], "redirect");
        assert_eq!(
            body["confirmation"]["return_url"],
            "https://t.me/uchbot?start=paid"
        );
        assert_eq!(body["metadata"]["order_id"], "42");
        assert_eq!(body["receipt"]["customer"]["email"], "learner@example.ru");
        let item = &body["receipt"]["items"][0];
        assert_eq!(item["quantity"], 1);
        assert_eq!(item["amount"]["value"], "12500.00");
        assert_eq!(item["vat_code"], 1);
        assert_eq!(item["payment_subject"], "service");
        assert_eq!(item["payment_mode"], "full_payment");
        assert_eq!(item["measure"], "piece");
    }

    #[test]
    fn long_texts_are_cut_on_a_char_boundary() {
        let mut p = new_payment();
        p.description = "Ж".repeat(300);
        p.item_description = format!("{}  хвост", "ё".repeat(126));
        let body = create_payment_body(&p, "https://example.ru/").unwrap();
        let description = body["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), 128);
        assert!(description.ends_with('…'));
        let item = body["receipt"]["items"][0]["description"].as_str().unwrap();
        assert!(item.chars().count() <= 128);
        assert_eq!(item, format!("{}…", "ё".repeat(126)));
        assert_eq!(truncate_chars("  короткое  ", 128), "короткое");
    }

    #[test]
    fn invalid_input_is_refused_before_sending() {
        type Spoil = fn(&mut NewPayment);
        let cases: [(Spoil, &str); 6] = [
            (|p| p.idempotence_key = String::new(), "idempotence_key"),
            (|p| p.idempotence_key = "k".repeat(65), "idempotence_key"),
            (|p| p.amount = Money(0), "amount"),
            (
                |p| p.customer_email = "learner at example".into(),
                "customer_email",
            ),
            (|p| p.item_description = "  ".into(), "item_description"),
            (
                |p| {
                    p.metadata = (0..17).map(|i| (format!("k{i}"), "v".into())).collect();
                },
                "metadata",
            ),
        ];
        for (spoil, field) in cases {
            let mut p = new_payment();
            spoil(&mut p);
            match create_payment_body(&p, "https://example.ru/") {
                Err(PaymentError::InvalidInput(msg)) => assert!(msg.contains(field), "{msg}"),
                other => panic!("{field}: expected InvalidInput, got {other:?}"),
            }
        }
    }

    #[test]
    fn debug_hides_the_email() {
        let shown = format!("{:?}", new_payment());
        assert!(!shown.contains("learner@example.ru"));
        assert!(shown.contains("order-42-1"));
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount("12500.00"), Some(Money(1_250_000)));
        assert_eq!(parse_amount("2.5"), Some(Money(250)));
        assert_eq!(parse_amount("7"), Some(Money(700)));
        assert_eq!(parse_amount("0.01"), Some(Money(1)));
        for bad in ["", "-1.00", "1.005", "1e3", "1,00", ".50", "12 500.00"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_bodies_map_to_typed_errors() {
        let answer = |status: u16, body: &str| RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: body.as_bytes().to_vec(),
        };
        let rejected = interpret(answer(
            400,
            r#"{"type":"error","id":"ab1","code":"invalid_request","description":"Bad amount","parameter":"amount.value"}"#,
        ));
        assert_eq!(
            rejected,
            Err(PaymentError::Rejected {
                status: 400,
                code: "invalid_request".into(),
                description: "Bad amount".into(),
                parameter: Some("amount.value".into()),
                error_id: Some("ab1".into()),
            })
        );
        assert!(matches!(
            interpret(answer(
                401,
                r#"{"type":"error","code":"invalid_credentials","description":"x"}"#
            )),
            Err(PaymentError::Unauthorized { .. })
        ));
        assert!(
            interpret(answer(404, r#"{"type":"error","code":"not_found"}"#))
                .unwrap_err()
                .is_not_found()
        );
        assert!(interpret(answer(500, "<html>oops</html>"))
            .unwrap_err()
            .is_retryable());
    }
}
