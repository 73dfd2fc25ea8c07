//! The HTTP side: requests parsed the way the Bot API server reads them (query string, JSON,
//! form or multipart; method names in any case), long polling, file downloads, fault
//! injection, and webhook delivery with retries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

use super::state::{ApiError, Call, Clock, Upload};
use super::{Failure, Outcome, Shared};

/// Header that carries the webhook's secret token.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Largest request body accepted (Telegram's upload limit plus room for the other fields).
const MAX_BODY_BYTES: usize = 52 * 1024 * 1024;

use super::methods::BOT_API_METHODS;

/// Parameters whose values are text even when they look like numbers or JSON.
const TEXT_PARAMS: &[&str] = &[
    "text",
    "caption",
    "title",
    "description",
    "short_description",
    "name",
    "file_name",
    "url",
    "secret_token",
    "document",
    "photo",
    "audio",
    "video",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "thumbnail",
    "query",
    "callback_query_id",
    "inline_query_id",
    "inline_message_id",
    "language_code",
    "action",
    "parse_mode",
    "first_name",
    "last_name",
    "phone_number",
    "question",
    "explanation",
    "address",
    "emoji",
    "payload",
    "business_connection_id",
    "message_effect_id",
    "file_id",
    "ip_address",
];

/// The Bot API's own spelling of a method name given in any case ("GetUpdates",
/// "sendmessage"…); unknown names keep their spelling with a lower-case first letter.
pub fn canonical_method(raw: &str) -> String {
    if let Some(known) = BOT_API_METHODS.iter().find(|m| m.eq_ignore_ascii_case(raw)) {
        return (*known).to_owned();
    }
    let mut chars = raw.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn coerce(key: &str, raw: String) -> Value {
    if TEXT_PARAMS.contains(&key) {
        return Value::String(raw);
    }
    match serde_json::from_str::<Value>(&raw) {
        Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_))) => {
            value
        }
        _ => Value::String(raw),
    }
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

fn error_response(error: &ApiError) -> Response<Body> {
    json_response(error.code, &error.to_json())
}

/// The service answered by closing the connection (fault injection).
#[derive(Debug)]
struct ConnectionDropped;

impl std::fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for ConnectionDropped {}

/// Accepts connections until shutdown. Each connection is served by hyper directly so that
/// a request can be answered by closing its connection.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors or similar: give the system a moment.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn({
                let shared = shared.clone();
                move |request| handle(shared.clone(), request)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shared.shutdown.cancelled() => {}
            }
        });
    }
}

fn token_is_valid(shared: &Shared, token: &str) -> bool {
    match token.split_once(':') {
        Some((id, secret)) => {
            id.parse::<i64>().ok() == Some(shared.config.bot_id) && !secret.is_empty()
        }
        None => false,
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, ConnectionDropped> {
    let segments: Vec<String> = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    match segments.as_slice() {
        [file, token, path @ ..] if file == "file" && !path.is_empty() => {
            let Some(token) = token.strip_prefix("bot") else {
                return Ok(error_response(&ApiError::not_found()));
            };
            Ok(download(&shared, token, &path.join("/")))
        }
        [token, method] if token.starts_with("bot") && !method.is_empty() => {
            let token = &token["bot".len()..];
            if !token_is_valid(&shared, token) {
                return Ok(error_response(&ApiError::unauthorized()));
            }
            let method = canonical_method(method);
            let call = match parse_call(method, request).await {
                Ok(call) => call,
                Err(error) => return Ok(error_response(&error)),
            };
            let result = process(&shared, call, true).await?;
            Ok(match result {
                Ok(result) => json_response(200, &json!({ "ok": true, "result": result })),
                Err(error) => error_response(&error),
            })
        }
        _ => Ok(error_response(&ApiError::not_found())),
    }
}

fn download(shared: &Shared, token: &str, path: &str) -> Response<Body> {
    if !token_is_valid(shared, token) {
        return error_response(&ApiError::unauthorized());
    }
    let state = shared.lock();
    match state.file_by_path(path) {
        Some(file) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/octet-stream")
            .body(Body::from(file.bytes.clone()))
            .expect("valid response"),
        None => error_response(&ApiError::not_found()),
    }
}

/// Reads the parameters from the query string and the body, whatever its encoding.
async fn parse_call(method: String, request: Request<Incoming>) -> Result<Call, ApiError> {
    let mut call = Call {
        method,
        ..Call::default()
    };
    if let Some(query) = request.uri().query() {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = key.into_owned();
            let value = coerce(&key, value.into_owned());
            call.params.insert(key, value);
        }
    }
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = Body::new(request.into_body());
    if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let boundary = multer::parse_boundary(&content_type)
            .map_err(|_| ApiError::bad_request("can't parse multipart/form-data body"))?;
        let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
        let broken = |_| ApiError::bad_request("can't parse multipart/form-data body");
        while let Some(field) = multipart.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(|m| m.to_string());
            let bytes = field.bytes().await.map_err(broken)?;
            match file_name {
                Some(file_name) => {
                    call.uploads.insert(
                        name,
                        Upload {
                            file_name,
                            content_type,
                            bytes: bytes.to_vec(),
                        },
                    );
                }
                None => {
                    let value = coerce(&name, String::from_utf8_lossy(&bytes).into_owned());
                    call.params.insert(name, value);
                }
            }
        }
        return Ok(call);
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(call);
    }
    if content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(ApiError::bad_request("can't parse JSON object"));
        };
        call.params.extend(object);
    } else {
        for (key, value) in url::form_urlencoded::parse(&bytes) {
            let key = key.into_owned();
            let value = coerce(&key, value.into_owned());
            call.params.insert(key, value);
        }
    }
    Ok(call)
}

/// Records a call, applies an injected fault if one is queued, runs it and records the
/// outcome. `Err` means: close the connection without answering.
async fn process(
    shared: &Arc<Shared>,
    mut call: Call,
    inject_faults: bool,
) -> Result<Result<Value, ApiError>, ConnectionDropped> {
    let (seq, failure) = {
        let mut state = shared.lock();
        let seq = state.record(&call.method, &call.params, &call.uploads);
        let failure = if inject_faults {
            state.take_failure(&call.method)
        } else {
            None
        };
        (seq, failure)
    };
    shared.bump();
    let result = match failure {
        Some(Failure::DropConnection) => {
            shared.lock().complete(seq, Outcome::Dropped);
            shared.bump();
            return Err(ConnectionDropped);
        }
        Some(Failure::Hang) => {
            // The caller's timeout drops this future with its connection; else the end.
            shared.shutdown.cancelled().await;
            shared.lock().complete(seq, Outcome::Dropped);
            shared.bump();
            return Err(ConnectionDropped);
        }
        Some(Failure::TooManyRequests { retry_after }) => {
            Err(ApiError::too_many_requests(retry_after))
        }
        Some(Failure::ServerError) => Err(ApiError::server_error()),
        Some(Failure::Api { code, description }) => Err(ApiError::with_code(code, description)),
        Some(Failure::Delay(delay)) => {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shared.shutdown.cancelled() => {}
            }
            run(shared, &mut call).await
        }
        None => run(shared, &mut call).await,
    };
    let outcome = match &result {
        Ok(value) => Outcome::Ok(value.clone()),
        Err(error) => Outcome::Error {
            code: error.code,
            description: error.description.clone(),
        },
    };
    shared.lock().complete(seq, outcome);
    shared.bump();
    Ok(result)
}

async fn run(shared: &Arc<Shared>, call: &mut Call) -> Result<Value, ApiError> {
    if call.method == "getUpdates" {
        return long_poll(shared, &call.params).await;
    }
    fetch_file_urls(shared, call).await;
    let result = shared.lock().execute(call, Clock::now());
    result
}

/// Files given as HTTP URLs are downloaded by Telegram; so does the fake, before it locks.
async fn fetch_file_urls(shared: &Shared, call: &mut Call) {
    let urls: Vec<String> = ["document", "photo"]
        .iter()
        .filter_map(|key| call.params.get(*key).and_then(Value::as_str))
        .filter(|v| v.starts_with("http://") || v.starts_with("https://"))
        .map(str::to_owned)
        .collect();
    for url in urls {
        let body = match shared.http.get(&url).send().await {
            Ok(response) if response.status().is_success() => {
                response.bytes().await.ok().map(|b| b.to_vec())
            }
            _ => None,
        };
        call.fetched.insert(url, body);
    }
}

/// getUpdates: answers at once when updates are pending, else waits up to `timeout`
/// seconds for one. A newer getUpdates call ends this one with 409, like Telegram's.
async fn long_poll(shared: &Arc<Shared>, params: &Map<String, Value>) -> Result<Value, ApiError> {
    let timeout = params
        .get("timeout")
        .and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .unwrap_or(0)
        .clamp(0, 3600) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let generation = shared.lock().begin_poll();
    shared.bump();
    let mut events = shared.events.subscribe();
    loop {
        let updates = shared.lock().poll(generation, params)?;
        if !updates.is_empty()
            || tokio::time::Instant::now() >= deadline
            || shared.shutdown.is_cancelled()
        {
            return Ok(Value::Array(updates));
        }
        tokio::select! {
            _ = events.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shared.shutdown.cancelled() => {}
        }
    }
}

fn connection_error_text(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "Read timeout expired".to_owned()
    } else if error.is_connect() {
        "Connection refused".to_owned()
    } else {
        error.to_string()
    }
}

/// Delivers pending updates to the webhook one by one, in order. A failed delivery keeps
/// the update pending and is retried after a pause that doubles up to the configured
/// maximum, as Telegram does.
pub(super) async fn deliver_webhooks(shared: Arc<Shared>) {
    let mut events = shared.events.subscribe();
    let mut backoff: Option<Duration> = None;
    loop {
        if let Some(pause) = backoff {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shared.shutdown.cancelled() => return,
            }
        }
        let job = shared.lock().next_webhook_job();
        let Some(job) = job else {
            backoff = None;
            tokio::select! {
                _ = events.changed() => {}
                _ = shared.shutdown.cancelled() => return,
            }
            continue;
        };
        let mut request = shared
            .http
            .post(job.url.clone())
            .header("content-type", "application/json")
            .body(job.body.to_string());
        if let Some(secret) = &job.secret {
            request = request.header(SECRET_HEADER, secret);
        }
        let sent = tokio::select! {
            sent = request.send() => sent,
            _ = shared.shutdown.cancelled() => return,
        };
        let failure = match sent {
            Ok(response) if response.status().is_success() => {
                let body = response.bytes().await.unwrap_or_default();
                shared.lock().webhook_delivered(job.update_id);
                shared.bump();
                backoff = None;
                answer_in_webhook_response(&shared, &body).await;
                continue;
            }
            Ok(response) => {
                let status = response.status();
                format!(
                    "Wrong response from the webhook: {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default()
                )
            }
            Err(error) => connection_error_text(&error),
        };
        shared
            .lock()
            .webhook_failed(&job.url, failure, Clock::now().unix);
        shared.bump();
        backoff = Some(match backoff {
            None => shared.config.webhook_retry_initial,
            Some(pause) => (pause * 2).min(shared.config.webhook_retry_max),
        });
    }
}

/// A webhook may answer with a method call in its response body; Telegram runs it.
async fn answer_in_webhook_response(shared: &Arc<Shared>, body: &[u8]) {
    let Ok(Value::Object(mut params)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(Value::String(method)) = params.remove("method") else {
        return;
    };
    let call = Call {
        method: canonical_method(&method),
        params,
        uploads: HashMap::new(),
        fetched: HashMap::new(),
    };
    if call.method != "getUpdates" {
        let _: Result<_, ConnectionDropped> = process(shared, call, false).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_matched_in_any_case() {
        assert_eq!(canonical_method("GetUpdates"), "getUpdates");
        assert_eq!(canonical_method("SENDMESSAGE"), "sendMessage");
        assert_eq!(
            canonical_method("EditMessageReplyMarkup"),
            "editMessageReplyMarkup"
        );
        assert_eq!(canonical_method("DoMagic"), "doMagic");
    }

    #[test]
    fn form_values_become_numbers_and_objects_except_text() {
        assert_eq!(coerce("chat_id", "-100123".into()), json!(-100123));
        assert_eq!(
            coerce("reply_markup", "{\"inline_keyboard\":[]}".into()),
            json!({ "inline_keyboard": [] })
        );
        assert_eq!(coerce("text", "42".into()), json!("42"));
        assert_eq!(coerce("chat_id", "@channel".into()), json!("@channel"));
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(
            percent_decode("documents%2Ffile_1.pdf"),
            "documents/file_1.pdf"
        );
        assert_eq!(percent_decode("bot1:a%3Ab"), "bot1:a:b");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
