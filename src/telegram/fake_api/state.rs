//! Everything the fake server knows, and the Bot API methods as synchronous functions over
//! it: the HTTP layer only parses requests, waits (long polling, fetching URLs) and answers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Display;
use std::time::Instant;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::limits::{ChatClass, RateLimiter};
use super::markup;
use super::media;
use super::{
    BotMessage, CallbackAnswer, Failure, FakeChat, FakeError, FakeUser, GroupKind, InlineButton,
    Outcome, RecordedRequest, ReplyButton, SentFile, UploadedFile,
};

/// Longest text of a message, in characters after entity parsing.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest caption of a media message.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Longest `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;
/// Largest file a bot may download with getFile.
pub const MAX_DOWNLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Largest file a bot may upload.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// Update types Telegram sends when `allowed_updates` was never given.
const DEFAULT_EXCLUDED_UPDATES: &[&str] =
    &["chat_member", "message_reaction", "message_reaction_count"];

/// Fields of a Message that describe where and when it was sent rather than what it says:
/// not carried over by copyMessage/forwardMessage.
const MESSAGE_META_KEYS: &[&str] = &[
    "message_id",
    "message_thread_id",
    "from",
    "sender_chat",
    "date",
    "chat",
    "edit_date",
    "reply_markup",
    "reply_to_message",
    "forward_origin",
    "is_automatic_forward",
    "via_bot",
    "author_signature",
    "has_protected_content",
    "is_topic_message",
    "media_group_id",
];

const MEDIA_KEYS: &[&str] = &["document", "photo", "video", "audio", "animation", "voice"];

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

/// An error answer of the Bot API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn new(code: u16, description: String) -> Self {
        ApiError {
            code,
            description,
            retry_after: None,
        }
    }
    pub fn bad_request(what: impl Display) -> Self {
        Self::new(400, format!("Bad Request: {what}"))
    }
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized".to_owned())
    }
    pub fn forbidden(what: impl Display) -> Self {
        Self::new(403, format!("Forbidden: {what}"))
    }
    pub fn method_not_found() -> Self {
        Self::new(404, "Not Found: method not found".to_owned())
    }
    pub fn not_found() -> Self {
        Self::new(404, "Not Found".to_owned())
    }
    pub fn conflict(what: impl Display) -> Self {
        Self::new(409, format!("Conflict: {what}"))
    }
    pub fn too_large() -> Self {
        Self::new(413, "Request Entity Too Large".to_owned())
    }
    pub fn too_many_requests(retry_after: u32) -> Self {
        ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }
    pub fn server_error() -> Self {
        Self::new(500, "Internal Server Error".to_owned())
    }
    pub fn with_code(code: u16, description: String) -> Self {
        Self::new(code, description)
    }

    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(retry_after) = self.retry_after {
            body["parameters"] = json!({ "retry_after": retry_after });
        }
        body
    }
}

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One Bot API call, parsed.
#[derive(Debug, Default)]
pub struct Call {
    /// Canonical camelCase name.
    pub method: String,
    pub params: Map<String, Value>,
    /// File parts by part name.
    pub uploads: HashMap<String, Upload>,
    /// Bodies of the HTTP URLs given as files, fetched beforehand (`None`: fetch failed).
    pub fetched: HashMap<String, Option<Vec<u8>>>,
}

/// The time of a call.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub unix: i64,
    pub instant: Instant,
}

impl Clock {
    pub fn now() -> Self {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Clock {
            unix,
            instant: Instant::now(),
        }
    }
}

// ---- loosely typed parameters, like the real server reads them ----

fn param_str(p: &Map<String, Value>, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn param_i64(p: &Map<String, Value>, key: &str) -> Option<i64> {
    match p.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn param_bool(p: &Map<String, Value>, key: &str) -> bool {
    match p.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// A parameter that is a JSON object or array, sent either as JSON or as a JSON string.
fn param_json(p: &Map<String, Value>, key: &str) -> Result<Option<Value>, ()> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

// ---- reply markup ----

#[derive(Debug, Clone, PartialEq)]
enum Markup {
    None,
    Inline(Value),
    Keyboard {
        rows: Vec<Vec<ReplyButton>>,
        one_time: bool,
    },
    Remove,
    ForceReply,
}

impl Markup {
    fn inline(&self) -> Option<&Value> {
        match self {
            Markup::Inline(v) => Some(v),
            _ => None,
        }
    }
}

fn parse_markup(p: &Map<String, Value>) -> Result<Markup, ApiError> {
    let bad_object = || ApiError::bad_request("can't parse reply keyboard markup JSON object");
    let Some(markup) = param_json(p, "reply_markup").map_err(|_| bad_object())? else {
        return Ok(Markup::None);
    };
    let object = markup.as_object().ok_or_else(bad_object)?;
    if let Some(rows) = object.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(|| {
            ApiError::bad_request(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array",
            )
        })?;
        let mut count = 0;
        let mut normalized_rows = Vec::new();
        for row in rows {
            let row = row.as_array().ok_or_else(|| {
                ApiError::bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton should be an Array",
                )
            })?;
            let mut normalized = Vec::new();
            for button in row {
                normalized.push(check_inline_button(button)?);
                count += 1;
            }
            if !normalized.is_empty() {
                normalized_rows.push(Value::Array(normalized));
            }
        }
        if count > 100 {
            return Err(ApiError::bad_request("reply markup is too long"));
        }
        if normalized_rows.is_empty() {
            return Ok(Markup::None);
        }
        return Ok(Markup::Inline(
            json!({ "inline_keyboard": normalized_rows }),
        ));
    }
    if let Some(rows) = object.get("keyboard") {
        let rows = rows.as_array().ok_or_else(|| {
            ApiError::bad_request(
                "field \"keyboard\" of the ReplyKeyboardMarkup should be an Array",
            )
        })?;
        let mut parsed = Vec::new();
        for row in rows {
            let row = row.as_array().ok_or_else(|| {
                ApiError::bad_request(
                    "can't parse keyboard button: KeyboardButton should be an Array",
                )
            })?;
            let mut buttons = Vec::new();
            for button in row {
                let (text, contact, location) = match button {
                    Value::String(text) => (text.clone(), false, false),
                    Value::Object(b) => (
                        b.get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        b.get("request_contact")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        b.get("request_location")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    ),
                    _ => return Err(ApiError::bad_request(
                        "can't parse keyboard button: KeyboardButton must be a String or an Object",
                    )),
                };
                if text.is_empty() {
                    return Err(ApiError::bad_request(
                        "can't parse keyboard button: Field \"text\" must be of type String",
                    ));
                }
                buttons.push(ReplyButton {
                    text,
                    request_contact: contact,
                    request_location: location,
                });
            }
            if !buttons.is_empty() {
                parsed.push(buttons);
            }
        }
        let one_time = object
            .get("one_time_keyboard")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Ok(Markup::Keyboard {
            rows: parsed,
            one_time,
        });
    }
    if object.get("remove_keyboard").and_then(Value::as_bool) == Some(true) {
        return Ok(Markup::Remove);
    }
    if object.get("force_reply").and_then(Value::as_bool) == Some(true) {
        return Ok(Markup::ForceReply);
    }
    Err(bad_object())
}

const INLINE_ACTIONS: &[&str] = &[
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

fn check_inline_button(button: &Value) -> Result<Value, ApiError> {
    let object = button.as_object().ok_or_else(|| {
        ApiError::bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
        )
    })?;
    if !object.get("text").is_some_and(Value::is_string) {
        return Err(ApiError::bad_request(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    }
    let actions: Vec<&str> = INLINE_ACTIONS
        .iter()
        .copied()
        .filter(|key| object.get(*key).is_some_and(|v| !v.is_null()))
        .collect();
    if actions.is_empty() {
        return Err(ApiError::bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = object.get("callback_data") {
        let len = data.as_str().map(str::len).unwrap_or(0);
        if len == 0 || len > MAX_CALLBACK_DATA_BYTES {
            return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = object.get("url") {
        let valid = url
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| {
                matches!(u.scheme(), "http" | "https" | "tg")
                    && (u.scheme() == "tg" || u.host_str().is_some())
            });
        if !valid {
            return Err(ApiError::bad_request("BUTTON_URL_INVALID"));
        }
    }
    // Telegram echoes the button with the fields it knows.
    let mut normalized = Map::new();
    normalized.insert("text".into(), object["text"].clone());
    for key in actions {
        normalized.insert(key.into(), object[key].clone());
    }
    Ok(Value::Object(normalized))
}

// ---- stored data ----

#[derive(Debug, Clone)]
pub struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_path: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct StoredMessage {
    json: Value,
    from_bot: bool,
    /// The text or caption exactly as the bot sent it, and its parse_mode.
    source: Option<(String, Option<String>)>,
    reply_keyboard: Option<Vec<Vec<ReplyButton>>>,
    remove_keyboard: bool,
}

#[derive(Debug)]
struct ChatState {
    json: Value,
    class: ChatClass,
    last_message_id: i32,
    messages: BTreeMap<i32, StoredMessage>,
    blocked: bool,
    /// Highest bot message id handed out by `next_bot_message`.
    cursor: i32,
    reply_keyboard: Option<(Vec<Vec<ReplyButton>>, bool)>,
    /// Forum topics by message_thread_id (the id of the topic's service message).
    topics: BTreeMap<i32, String>,
}

#[derive(Debug)]
struct CallbackState {
    update_id: i64,
    answer: Option<CallbackAnswer>,
}

#[derive(Debug)]
struct PendingUpdate {
    id: i64,
    json: Value,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    pub secret: Option<String>,
    max_connections: u32,
    allowed_updates: Option<Vec<String>>,
    last_error: Option<(i64, String)>,
}

/// Work for the webhook sender: POST `body` to `url`.
#[derive(Debug, Clone)]
pub struct WebhookJob {
    pub url: url::Url,
    pub secret: Option<String>,
    pub update_id: i64,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct BotIdentity {
    pub id: i64,
    pub first_name: String,
    pub username: String,
}

pub struct State {
    bot: BotIdentity,
    next_update_id: i64,
    updates: VecDeque<PendingUpdate>,
    confirmed_offset: i64,
    allowed_updates: Option<Vec<String>>,
    poll_generation: u64,
    webhook: Option<Webhook>,
    chats: HashMap<i64, ChatState>,
    users: HashMap<i64, Value>,
    files: HashMap<String, StoredFile>,
    file_ids_by_path: HashMap<String, String>,
    file_seq: u64,
    callbacks: HashMap<String, CallbackState>,
    callback_ids_by_update: HashMap<i64, String>,
    callback_seq: u64,
    commands: BTreeMap<(String, String), Vec<(String, String)>>,
    menu_buttons: HashMap<Option<i64>, Value>,
    requests: Vec<RecordedRequest>,
    failures: HashMap<String, VecDeque<Failure>>,
    /// Faults that last until cleared (an outage), after the queued ones.
    outages: HashMap<String, Failure>,
    limiter: RateLimiter,
    enforce_limits: bool,
}

enum FileKind {
    Document,
    Photo,
}

impl State {
    pub fn new(bot: BotIdentity) -> Self {
        State {
            bot,
            next_update_id: 1,
            updates: VecDeque::new(),
            confirmed_offset: 0,
            allowed_updates: None,
            poll_generation: 0,
            webhook: None,
            chats: HashMap::new(),
            users: HashMap::new(),
            files: HashMap::new(),
            file_ids_by_path: HashMap::new(),
            file_seq: 0,
            callbacks: HashMap::new(),
            callback_ids_by_update: HashMap::new(),
            callback_seq: 0,
            commands: BTreeMap::new(),
            menu_buttons: HashMap::new(),
            requests: Vec::new(),
            failures: HashMap::new(),
            outages: HashMap::new(),
            limiter: RateLimiter::default(),
            enforce_limits: false,
        }
    }

    fn bot_user_json(&self) -> Value {
        json!({
            "id": self.bot.id,
            "is_bot": true,
            "first_name": self.bot.first_name,
            "username": self.bot.username,
        })
    }

    fn me_json(&self) -> Value {
        let mut me = self.bot_user_json();
        let extra = json!({
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
            "can_connect_to_business": false,
            "has_main_web_app": false,
        });
        if let (Some(me), Some(extra)) = (me.as_object_mut(), extra.as_object()) {
            me.extend(extra.clone());
        }
        me
    }

    fn user_json(&self, user_id: i64) -> Value {
        self.users
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| json!({ "id": user_id, "is_bot": false, "first_name": "" }))
    }

    // ---- recording and faults ----

    pub fn record(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
        uploads: &HashMap<String, Upload>,
    ) -> usize {
        let mut files: Vec<UploadedFile> = uploads
            .iter()
            .map(|(part, upload)| UploadedFile {
                param: params
                    .iter()
                    .find(|(_, v)| v.as_str() == Some(&format!("attach://{part}")))
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| part.clone()),
                file_name: upload.file_name.clone(),
                bytes: upload.bytes.clone(),
            })
            .collect();
        files.sort_by(|a, b| a.param.cmp(&b.param));
        let seq = self.requests.len();
        self.requests.push(RecordedRequest {
            seq,
            method: method.to_owned(),
            params: Value::Object(params.clone()),
            files,
            outcome: None,
            received_at: std::time::Instant::now(),
            answered_at: None,
        });
        seq
    }

    pub fn complete(&mut self, seq: usize, outcome: Outcome) {
        if let Some(request) = self.requests.get_mut(seq) {
            request.outcome = Some(outcome);
            request.answered_at = Some(std::time::Instant::now());
        }
    }

    pub fn requests(&self) -> &[RecordedRequest] {
        &self.requests
    }

    pub fn push_failure(&mut self, method: String, failure: Failure) {
        self.failures.entry(method).or_default().push_back(failure);
    }

    pub fn take_failure(&mut self, method: &str) -> Option<Failure> {
        self.failures
            .get_mut(method)
            .and_then(VecDeque::pop_front)
            .or_else(|| self.outages.get(method).cloned())
    }

    pub fn set_outage(&mut self, method: String, failure: Option<Failure>) {
        match failure {
            Some(failure) => self.outages.insert(method, failure),
            None => self.outages.remove(&method),
        };
    }

    pub fn set_enforce_limits(&mut self, on: bool) {
        self.enforce_limits = on;
    }

    // ---- updates ----

    fn update_allowed(&self, kind: &str) -> bool {
        let list = match &self.webhook {
            Some(hook) => hook.allowed_updates.as_ref(),
            None => self.allowed_updates.as_ref(),
        };
        match list {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !DEFAULT_EXCLUDED_UPDATES.contains(&kind),
        }
    }

    /// Queues an update of `kind` (the Update field: "message", "callback_query", …) and
    /// returns its update_id. Like Telegram, an update of a type the bot excluded with
    /// `allowed_updates` is not kept.
    pub fn enqueue(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        if self.update_allowed(kind) {
            let mut json = json!({ "update_id": id });
            json[kind] = payload;
            self.updates.push_back(PendingUpdate { id, json });
        }
        id
    }

    /// Queues an update given whole (its update_id, if any, is replaced).
    pub fn enqueue_raw(&mut self, mut update: Value) -> Result<i64, FakeError> {
        let object = update
            .as_object_mut()
            .ok_or_else(|| FakeError::InvalidUpdate("an update must be a JSON object".into()))?;
        object.remove("update_id");
        if object.len() != 1 {
            return Err(FakeError::InvalidUpdate(
                "an update must have exactly one field besides update_id".into(),
            ));
        }
        let (kind, payload) = object
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap_or_default();
        Ok(self.enqueue(&kind, payload))
    }

    pub fn pending_update_count(&self) -> usize {
        self.updates.len()
    }

    pub fn confirmed_offset(&self) -> i64 {
        self.confirmed_offset
    }

    /// A new getUpdates call: older ones waiting must give way (409), like Telegram's.
    pub fn begin_poll(&mut self) -> u64 {
        self.poll_generation += 1;
        self.poll_generation
    }

    /// One attempt of getUpdates: confirms updates before `offset` and returns up to `limit`
    /// pending ones (possibly none; the caller waits and asks again).
    pub fn poll(
        &mut self,
        generation: u64,
        params: &Map<String, Value>,
    ) -> Result<Vec<Value>, ApiError> {
        if self.webhook.is_some() {
            return Err(ApiError::conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if generation != self.poll_generation {
            return Err(ApiError::conflict(
                "terminated by other getUpdates request; make sure that only one bot instance is running",
            ));
        }
        if let Ok(Some(Value::Array(kinds))) = param_json(params, "allowed_updates") {
            let kinds: Vec<String> = kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
            self.allowed_updates = (!kinds.is_empty()).then_some(kinds);
        }
        if let Some(offset) = param_i64(params, "offset") {
            if offset < 0 {
                let keep = offset.unsigned_abs() as usize;
                while self.updates.len() > keep {
                    self.updates.pop_front();
                }
                let first = self
                    .updates
                    .front()
                    .map(|u| u.id)
                    .unwrap_or(self.next_update_id);
                self.confirmed_offset = self.confirmed_offset.max(first);
            } else if offset > 0 {
                while self.updates.front().is_some_and(|u| u.id < offset) {
                    self.updates.pop_front();
                }
                self.confirmed_offset = self.confirmed_offset.max(offset);
            }
        }
        let limit = param_i64(params, "limit").unwrap_or(100).clamp(1, 100) as usize;
        Ok(self
            .updates
            .iter()
            .take(limit)
            .map(|u| u.json.clone())
            .collect())
    }

    // ---- webhook ----

    pub fn webhook(&self) -> Option<&Webhook> {
        self.webhook.as_ref()
    }

    pub fn next_webhook_job(&self) -> Option<WebhookJob> {
        let hook = self.webhook.as_ref()?;
        let update = self.updates.front()?;
        Some(WebhookJob {
            url: hook.url.clone(),
            secret: hook.secret.clone(),
            update_id: update.id,
            body: update.json.clone(),
        })
    }

    pub fn webhook_delivered(&mut self, update_id: i64) {
        if self.updates.front().is_some_and(|u| u.id == update_id) {
            self.updates.pop_front();
        }
        if let Some(hook) = &mut self.webhook {
            hook.last_error = None;
        }
    }

    pub fn webhook_failed(&mut self, url: &url::Url, message: String, unix: i64) {
        if let Some(hook) = &mut self.webhook {
            if &hook.url == url {
                hook.last_error = Some((unix, message));
            }
        }
    }

    fn set_webhook(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let raw = param_str(p, "url").unwrap_or_default();
        if param_bool(p, "drop_pending_updates") {
            self.updates.clear();
        }
        if raw.trim().is_empty() {
            self.webhook = None;
            return Ok(json!(true));
        }
        let url = url::Url::parse(raw.trim()).map_err(|_| {
            ApiError::bad_request("bad webhook: Failed to resolve host: Name or service not known")
        })?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        // Telegram wants HTTPS; the fake also takes plain HTTP on loopback, where tests run.
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(ApiError::bad_request(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        let secret = param_str(p, "secret_token").filter(|s| !s.is_empty());
        if let Some(secret) = &secret {
            let valid = secret.len() <= 256
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(ApiError::bad_request(
                    "secret token contains unallowed characters",
                ));
            }
        }
        let allowed_updates = match param_json(p, "allowed_updates") {
            Ok(Some(Value::Array(kinds))) => {
                let kinds: Vec<String> = kinds
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect();
                (!kinds.is_empty()).then_some(kinds)
            }
            _ => self
                .webhook
                .as_ref()
                .and_then(|h| h.allowed_updates.clone()),
        };
        let max_connections = param_i64(p, "max_connections").unwrap_or(40).clamp(1, 100) as u32;
        self.webhook = Some(Webhook {
            url,
            secret,
            max_connections,
            allowed_updates,
            last_error: None,
        });
        Ok(json!(true))
    }

    fn webhook_info(&self) -> Value {
        let mut info = json!({
            "url": self.webhook.as_ref().map(|h| h.url.to_string()).unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": self.updates.len(),
        });
        if let Some(hook) = &self.webhook {
            info["max_connections"] = json!(hook.max_connections);
            info["ip_address"] = json!("127.0.0.1");
            if let Some(allowed) = &hook.allowed_updates {
                info["allowed_updates"] = json!(allowed);
            }
            if let Some((date, message)) = &hook.last_error {
                info["last_error_date"] = json!(date);
                info["last_error_message"] = json!(message);
            }
        }
        info
    }

    // ---- chats ----

    pub fn register_user(&mut self, user: &FakeUser) {
        self.users.insert(user.id, user.to_json());
    }

    fn ensure_chat(&mut self, id: i64, json: Value, class: ChatClass) -> &mut ChatState {
        let chat = self.chats.entry(id).or_insert_with(|| ChatState {
            json: json.clone(),
            class,
            last_message_id: 0,
            messages: BTreeMap::new(),
            blocked: false,
            cursor: 0,
            reply_keyboard: None,
            topics: BTreeMap::new(),
        });
        chat.json = json;
        chat
    }

    pub fn ensure_private_chat(&mut self, user: &FakeUser) {
        self.register_user(user);
        let mut json = json!({ "id": user.id, "first_name": user.first_name, "type": "private" });
        if let Some(last) = &user.last_name {
            json["last_name"] = json!(last);
        }
        if let Some(username) = &user.username {
            json["username"] = json!(username);
        }
        self.ensure_chat(user.id, json, ChatClass::Private);
    }

    pub fn ensure_group_chat(&mut self, chat: &FakeChat) {
        let kind = match chat.kind {
            GroupKind::Group => "group",
            GroupKind::Supergroup | GroupKind::Forum => "supergroup",
        };
        let mut json = json!({ "id": chat.id, "title": chat.title, "type": kind });
        if chat.kind == GroupKind::Forum {
            json["is_forum"] = json!(true);
        }
        self.ensure_chat(chat.id, json, ChatClass::Group);
    }

    fn resolve_chat(
        &self,
        p: &Map<String, Value>,
        key: &str,
        for_sending: bool,
    ) -> Result<i64, ApiError> {
        let raw = p
            .get(key)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(raw) = raw else {
            return Err(ApiError::bad_request(format!("{key} is empty")));
        };
        let id = match value_i64(raw) {
            Some(id) => id,
            None => {
                let name = raw
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('@')
                    .to_lowercase();
                self.chats
                    .iter()
                    .find(|(_, c)| {
                        c.json
                            .get("username")
                            .and_then(Value::as_str)
                            .map(str::to_lowercase)
                            == Some(name.clone())
                            && c.class == ChatClass::Group
                    })
                    .map(|(id, _)| *id)
                    .ok_or_else(|| ApiError::bad_request("chat not found"))?
            }
        };
        let Some(chat) = self.chats.get(&id) else {
            if self.users.contains_key(&id) {
                return Err(ApiError::forbidden(
                    "bot can't initiate conversation with a user",
                ));
            }
            return Err(ApiError::bad_request("chat not found"));
        };
        if for_sending && chat.blocked {
            return Err(ApiError::forbidden("bot was blocked by the user"));
        }
        Ok(id)
    }

    fn chat(&self, id: i64) -> &ChatState {
        &self.chats[&id]
    }

    fn chat_mut(&mut self, id: i64) -> &mut ChatState {
        self.chats.get_mut(&id).expect("chat resolved before use")
    }

    /// Blocks or unblocks the bot for `user`, with the my_chat_member update Telegram sends.
    pub fn set_blocked(&mut self, user: &FakeUser, blocked: bool, clock: Clock) -> i64 {
        self.ensure_private_chat(user);
        let chat = self.chat_mut(user.id);
        chat.blocked = blocked;
        let chat_json = chat.json.clone();
        let (old, new) = if blocked {
            ("member", "kicked")
        } else {
            ("kicked", "member")
        };
        let bot = self.bot_user_json();
        let mut new_member = json!({ "status": new, "user": bot });
        if blocked {
            new_member["until_date"] = json!(0);
        }
        let mut old_member = json!({ "status": old, "user": bot });
        if !blocked {
            old_member["until_date"] = json!(0);
        }
        let payload = json!({
            "chat": chat_json,
            "from": user.to_json(),
            "date": clock.unix,
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        });
        self.enqueue("my_chat_member", payload)
    }

    // ---- files ----

    fn register_file(&mut self, kind: FileKind, bytes: Vec<u8>, extension: &str) -> StoredFile {
        self.file_seq += 1;
        let seq = self.file_seq;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (id_prefix, unique_prefix, folder) = match kind {
            FileKind::Document => ("BQACAgIAAxkBAAI", "AgAD", "documents"),
            FileKind::Photo => ("AgACAgIAAxkBAAI", "AQAD", "photos"),
        };
        let mut id_bytes = self.bot.id.to_be_bytes().to_vec();
        id_bytes.extend(seq.to_be_bytes());
        let file = StoredFile {
            file_id: format!("{id_prefix}{}", b64.encode(&id_bytes)),
            file_unique_id: format!("{unique_prefix}{}", b64.encode(seq.to_be_bytes())),
            file_path: format!("{folder}/file_{seq}.{extension}"),
            bytes,
        };
        self.file_ids_by_path
            .insert(file.file_path.clone(), file.file_id.clone());
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }

    pub fn file_by_path(&self, path: &str) -> Option<&StoredFile> {
        self.files.get(self.file_ids_by_path.get(path)?)
    }

    fn document_json(&mut self, file_name: &str, declared: Option<&str>, bytes: Vec<u8>) -> Value {
        let mime = media::document_mime(file_name, declared, &bytes);
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| {
                !e.is_empty() && e.len() <= 8 && e.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .unwrap_or_else(|| "bin".to_owned());
        let size = bytes.len();
        let file = self.register_file(FileKind::Document, bytes, &extension);
        let mut json = json!({
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": size,
        });
        if !file_name.is_empty() {
            json["file_name"] = json!(file_name);
        }
        if let Some(mime) = mime {
            json["mime_type"] = json!(mime);
        }
        json
    }

    /// The `PhotoSize` array of a photo. All sizes serve the original bytes: the fake does not
    /// resample images.
    fn photo_json(&mut self, bytes: Vec<u8>) -> Value {
        let (width, height) = media::image_size(&bytes).unwrap_or((1280, 960));
        let sizes = media::photo_ladder(width, height);
        let size = bytes.len();
        let sizes: Vec<Value> = sizes
            .into_iter()
            .map(|(w, h)| {
                let file = self.register_file(FileKind::Photo, bytes.clone(), "jpg");
                json!({
                    "file_id": file.file_id,
                    "file_unique_id": file.file_unique_id,
                    "file_size": size,
                    "width": w,
                    "height": h,
                })
            })
            .collect();
        Value::Array(sizes)
    }

    /// The file a send method refers to in `param`: an upload (`attach://` or a part of that
    /// name), a fetched HTTP URL, or the file_id of a known file.
    fn input_file(&self, call: &Call, param: &str) -> Result<InputFile, ApiError> {
        let raw = param_str(&call.params, param).unwrap_or_default();
        let upload =
            if let Some(part) = raw.strip_prefix("attach://") {
                Some(call.uploads.get(part).ok_or_else(|| {
                    ApiError::bad_request("wrong file identifier/HTTP URL specified")
                })?)
            } else if raw.is_empty() {
                call.uploads.get(param)
            } else {
                None
            };
        if let Some(upload) = upload {
            if upload.bytes.is_empty() {
                return Err(ApiError::bad_request("file must be non-empty"));
            }
            if upload.bytes.len() > MAX_UPLOAD_BYTES {
                return Err(ApiError::too_large());
            }
            return Ok(InputFile::New {
                file_name: upload.file_name.clone(),
                content_type: upload.content_type.clone(),
                bytes: upload.bytes.clone(),
            });
        }
        if raw.is_empty() {
            return Err(ApiError::bad_request(format!(
                "there is no {param} in the request"
            )));
        }
        if raw.starts_with("http://") || raw.starts_with("https://") {
            let bytes = call
                .fetched
                .get(&raw)
                .cloned()
                .flatten()
                .ok_or_else(|| ApiError::bad_request("failed to get HTTP URL content"))?;
            if bytes.is_empty() {
                return Err(ApiError::bad_request("failed to get HTTP URL content"));
            }
            let file_name = url::Url::parse(&raw)
                .ok()
                .and_then(|u| {
                    u.path_segments()
                        .and_then(|mut s| s.next_back().map(str::to_owned))
                })
                .unwrap_or_default();
            return Ok(InputFile::New {
                file_name,
                content_type: None,
                bytes,
            });
        }
        if self.files.contains_key(&raw) {
            return Ok(InputFile::Existing(raw));
        }
        Err(ApiError::bad_request(
            "wrong file identifier/HTTP URL specified",
        ))
    }

    // ---- messages ----

    fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let chat = self.chat_mut(chat_id);
        chat.last_message_id += 1;
        chat.last_message_id
    }

    fn entities_json(&self, entities: &[markup::Entity]) -> Vec<Value> {
        entities
            .iter()
            .map(|e| e.to_json(|id| self.user_json(id)))
            .collect()
    }

    /// Text (or caption) after `parse_mode`, or the explicit entities when given.
    fn formatted(
        &self,
        p: &Map<String, Value>,
        text: &str,
        entities_key: &str,
        parse_mode_key: &str,
    ) -> Result<(String, Vec<Value>), ApiError> {
        if let Ok(Some(Value::Array(entities))) = param_json(p, entities_key) {
            return Ok((text.to_owned(), entities));
        }
        let parse_mode = param_str(p, parse_mode_key);
        let parsed = markup::parse(text, parse_mode.as_deref()).map_err(ApiError::bad_request)?;
        Ok((parsed.text, self.entities_json(&parsed.entities)))
    }

    fn caption(&self, p: &Map<String, Value>) -> Result<Option<(String, Vec<Value>)>, ApiError> {
        let Some(caption) = param_str(p, "caption").filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let (text, entities) = self.formatted(p, &caption, "caption_entities", "parse_mode")?;
        if text.chars().count() > MAX_CAPTION_CHARS {
            return Err(ApiError::bad_request("message caption is too long"));
        }
        Ok(Some((text, entities)).filter(|(t, _)| !t.trim().is_empty()))
    }

    fn reply_target(
        &self,
        chat_id: i64,
        p: &Map<String, Value>,
    ) -> Result<Option<Value>, ApiError> {
        let (message_id, allow_missing) = match param_json(p, "reply_parameters") {
            Ok(Some(params)) => (
                params.get("message_id").and_then(value_i64),
                params
                    .get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
            _ => (
                param_i64(p, "reply_to_message_id"),
                param_bool(p, "allow_sending_without_reply"),
            ),
        };
        let Some(message_id) = message_id else {
            return Ok(None);
        };
        match self.chat(chat_id).messages.get(&(message_id as i32)) {
            Some(target) => {
                let mut json = target.json.clone();
                if let Some(object) = json.as_object_mut() {
                    object.remove("reply_to_message");
                }
                Ok(Some(json))
            }
            None if allow_missing => Ok(None),
            None => Err(ApiError::bad_request("message to be replied not found")),
        }
    }

    fn is_forum(&self, chat_id: i64) -> bool {
        self.chat(chat_id).json.get("is_forum") == Some(&json!(true))
    }

    /// The thread a message is sent to (`message_thread_id`), and whether it is a forum
    /// topic. In a forum it must be a topic; elsewhere an existing message (a reply thread).
    fn thread_target(
        &self,
        chat_id: i64,
        p: &Map<String, Value>,
    ) -> Result<Option<(i32, bool)>, ApiError> {
        let Some(thread) = param_i64(p, "message_thread_id").filter(|t| *t != 0) else {
            return Ok(None);
        };
        let thread =
            i32::try_from(thread).map_err(|_| ApiError::bad_request("message thread not found"))?;
        let chat = self.chat(chat_id);
        if self.is_forum(chat_id) {
            if chat.topics.contains_key(&thread) {
                return Ok(Some((thread, true)));
            }
        } else if chat.class == ChatClass::Group && chat.messages.contains_key(&thread) {
            return Ok(Some((thread, false)));
        }
        Err(ApiError::bad_request("message thread not found"))
    }

    fn create_forum_topic(
        &mut self,
        p: &Map<String, Value>,
        clock: Clock,
    ) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", true)?;
        if !self.is_forum(chat_id) {
            return Err(ApiError::bad_request("the chat is not a forum"));
        }
        let name = param_str(p, "name").unwrap_or_default();
        if name.trim().is_empty() {
            return Err(ApiError::bad_request("TOPIC_TITLE_EMPTY"));
        }
        if name.chars().count() > 128 {
            return Err(ApiError::bad_request("TOPIC_TITLE_TOO_LONG"));
        }
        const COLORS: [i64; 6] = [7322096, 16766590, 13338331, 9367192, 16749490, 16478047];
        let color = param_i64(p, "icon_color").unwrap_or(COLORS[0]);
        if !COLORS.contains(&color) {
            return Err(ApiError::bad_request("TOPIC_ICON_COLOR_INVALID"));
        }
        // The topic's id is the id of its service message, as in Telegram.
        let thread_id = self.next_message_id(chat_id);
        let created = json!({ "name": name, "icon_color": color });
        let json = json!({
            "message_id": thread_id,
            "message_thread_id": thread_id,
            "from": self.bot_user_json(),
            "chat": self.chat(chat_id).json,
            "date": clock.unix,
            "is_topic_message": true,
            "forum_topic_created": created,
        });
        let chat = self.chat_mut(chat_id);
        chat.topics.insert(thread_id, name.clone());
        chat.messages.insert(
            thread_id,
            StoredMessage {
                json,
                from_bot: true,
                source: None,
                reply_keyboard: None,
                remove_keyboard: false,
            },
        );
        Ok(json!({ "message_thread_id": thread_id, "name": name, "icon_color": color }))
    }

    pub fn topics(&self, chat_id: i64) -> Vec<(i32, String)> {
        self.chats
            .get(&chat_id)
            .map(|c| {
                c.topics
                    .iter()
                    .map(|(id, name)| (*id, name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check_rate(&mut self, chat_id: i64, clock: Clock) -> Result<(), ApiError> {
        if !self.enforce_limits {
            return Ok(());
        }
        let class = self.chat(chat_id).class;
        self.limiter
            .try_send(chat_id, class, clock.instant)
            .map_err(ApiError::too_many_requests)
    }

    /// Stores a new bot message in `chat_id` with `content` and returns its JSON.
    fn deliver(
        &mut self,
        chat_id: i64,
        p: &Map<String, Value>,
        content: Map<String, Value>,
        source: Option<(String, Option<String>)>,
        markup: Markup,
        clock: Clock,
    ) -> Result<Value, ApiError> {
        let reply_to = self.reply_target(chat_id, p)?;
        let thread = self.thread_target(chat_id, p)?;
        self.check_rate(chat_id, clock)?;
        let message_id = self.next_message_id(chat_id);
        let mut json = json!({
            "message_id": message_id,
            "from": self.bot_user_json(),
            "chat": self.chat(chat_id).json,
            "date": clock.unix,
        });
        if let Some(reply_to) = reply_to {
            json["reply_to_message"] = reply_to;
        }
        if let Some((thread_id, topic)) = thread {
            json["message_thread_id"] = json!(thread_id);
            if topic {
                json["is_topic_message"] = json!(true);
            }
        }
        if param_bool(p, "protect_content") {
            json["has_protected_content"] = json!(true);
        }
        if let Some(object) = json.as_object_mut() {
            object.extend(content);
        }
        if let Some(inline) = markup.inline() {
            json["reply_markup"] = inline.clone();
        }
        let (reply_keyboard, remove_keyboard) = match &markup {
            Markup::Keyboard { rows, .. } => (Some(rows.clone()), false),
            Markup::Remove => (None, true),
            _ => (None, false),
        };
        let chat = self.chat_mut(chat_id);
        match markup {
            Markup::Keyboard { rows, one_time } => chat.reply_keyboard = Some((rows, one_time)),
            Markup::Remove => chat.reply_keyboard = None,
            _ => {}
        }
        chat.messages.insert(
            message_id,
            StoredMessage {
                json: json.clone(),
                from_bot: true,
                source,
                reply_keyboard,
                remove_keyboard,
            },
        );
        Ok(json)
    }

    fn send_message(&mut self, p: &Map<String, Value>, clock: Clock) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", true)?;
        let raw = param_str(p, "text").unwrap_or_default();
        if raw.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        let (text, entities) = self.formatted(p, &raw, "entities", "parse_mode")?;
        if text.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::bad_request("message is too long"));
        }
        let markup = parse_markup(p)?;
        let mut content = Map::new();
        content.insert("text".into(), json!(text));
        if !entities.is_empty() {
            content.insert("entities".into(), Value::Array(entities));
        }
        let source = Some((raw, param_str(p, "parse_mode")));
        self.deliver(chat_id, p, content, source, markup, clock)
    }

    fn send_file(&mut self, call: &Call, kind: FileKind, clock: Clock) -> Result<Value, ApiError> {
        let p = &call.params;
        let chat_id = self.resolve_chat(p, "chat_id", true)?;
        let param = match kind {
            FileKind::Document => "document",
            FileKind::Photo => "photo",
        };
        let input = self.input_file(call, param)?;
        let caption = self.caption(p)?;
        let markup = parse_markup(p)?;
        let media = match (kind, input) {
            (FileKind::Photo, InputFile::New { bytes, .. }) => {
                if !media::is_image(&bytes) {
                    return Err(ApiError::bad_request("IMAGE_PROCESS_FAILED"));
                }
                self.photo_json(bytes)
            }
            (
                FileKind::Document,
                InputFile::New {
                    file_name,
                    content_type,
                    bytes,
                },
            ) => self.document_json(&file_name, content_type.as_deref(), bytes),
            (kind, InputFile::Existing(file_id)) => self.existing_media(&file_id, kind),
        };
        let mut content = Map::new();
        content.insert(param.into(), media);
        if let Some((text, entities)) = &caption {
            content.insert("caption".into(), json!(text));
            if !entities.is_empty() {
                content.insert("caption_entities".into(), json!(entities));
            }
        }
        let source = param_str(p, "caption").map(|c| (c, param_str(p, "parse_mode")));
        self.deliver(chat_id, p, content, source, markup, clock)
    }

    /// The media JSON of a file sent again by file_id: as in the message that carried it.
    fn existing_media(&self, file_id: &str, kind: FileKind) -> Value {
        let key = match kind {
            FileKind::Document => "document",
            FileKind::Photo => "photo",
        };
        for chat in self.chats.values() {
            for message in chat.messages.values() {
                let Some(media) = message.json.get(key) else {
                    continue;
                };
                let matches = match media {
                    Value::Array(sizes) => sizes.iter().any(|s| s["file_id"] == file_id),
                    other => other["file_id"] == file_id,
                };
                if matches {
                    return media.clone();
                }
            }
        }
        let size = self.files.get(file_id).map(|f| f.bytes.len()).unwrap_or(0);
        let unique = self
            .files
            .get(file_id)
            .map(|f| f.file_unique_id.clone())
            .unwrap_or_default();
        let base = json!({ "file_id": file_id, "file_unique_id": unique, "file_size": size });
        match kind {
            FileKind::Photo => {
                let mut size = base;
                size["width"] = json!(1280);
                size["height"] = json!(960);
                json!([size])
            }
            FileKind::Document => base,
        }
    }

    fn message_to_edit(&self, p: &Map<String, Value>) -> Result<(i64, i32), ApiError> {
        if p.contains_key("inline_message_id") {
            return Err(ApiError::bad_request("MESSAGE_ID_INVALID"));
        }
        let chat_id = self.resolve_chat(p, "chat_id", false)?;
        let message_id = param_i64(p, "message_id")
            .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?
            as i32;
        let message = self
            .chat(chat_id)
            .messages
            .get(&message_id)
            .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
        if !message.from_bot {
            return Err(ApiError::bad_request("message can't be edited"));
        }
        Ok((chat_id, message_id))
    }

    fn not_modified() -> ApiError {
        ApiError::bad_request(
            "message is not modified: specified new message content and reply markup are exactly \
             the same as a current content and reply markup of the message",
        )
    }

    fn apply_edit(
        &mut self,
        chat_id: i64,
        message_id: i32,
        fields: Vec<(&str, Option<Value>)>,
        source: Option<(String, Option<String>)>,
        clock: Clock,
    ) -> Value {
        let message = self
            .chat_mut(chat_id)
            .messages
            .get_mut(&message_id)
            .expect("edited message exists");
        if let Some(object) = message.json.as_object_mut() {
            for (key, value) in fields {
                match value {
                    Some(value) => object.insert(key.to_owned(), value),
                    None => object.remove(key),
                };
            }
            object.insert("edit_date".into(), json!(clock.unix));
        }
        if source.is_some() {
            message.source = source;
        }
        message.json.clone()
    }

    fn edit_message_text(
        &mut self,
        p: &Map<String, Value>,
        clock: Clock,
    ) -> Result<Value, ApiError> {
        let (chat_id, message_id) = self.message_to_edit(p)?;
        let current = self.chat(chat_id).messages[&message_id].json.clone();
        if current.get("text").is_none() {
            return Err(ApiError::bad_request(
                "there is no text in the message to edit",
            ));
        }
        let raw = param_str(p, "text").unwrap_or_default();
        if raw.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        let (text, entities) = self.formatted(p, &raw, "entities", "parse_mode")?;
        if text.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
        }
        let markup = parse_markup(p)?;
        let new_markup = markup.inline().cloned();
        let entities = (!entities.is_empty()).then_some(Value::Array(entities));
        if current.get("text") == Some(&json!(text))
            && current.get("entities") == entities.as_ref()
            && current.get("reply_markup") == new_markup.as_ref()
        {
            return Err(Self::not_modified());
        }
        let fields = vec![
            ("text", Some(json!(text))),
            ("entities", entities),
            ("reply_markup", new_markup),
        ];
        let source = Some((raw, param_str(p, "parse_mode")));
        Ok(self.apply_edit(chat_id, message_id, fields, source, clock))
    }

    fn edit_message_caption(
        &mut self,
        p: &Map<String, Value>,
        clock: Clock,
    ) -> Result<Value, ApiError> {
        let (chat_id, message_id) = self.message_to_edit(p)?;
        let current = self.chat(chat_id).messages[&message_id].json.clone();
        if !MEDIA_KEYS.iter().any(|k| current.get(*k).is_some()) {
            return Err(ApiError::bad_request(
                "there is no caption in the message to edit",
            ));
        }
        let caption = self.caption(p)?;
        let markup = parse_markup(p)?;
        let new_markup = markup.inline().cloned();
        let (text, entities) = match caption {
            Some((text, entities)) => (
                Some(json!(text)),
                (!entities.is_empty()).then_some(Value::Array(entities)),
            ),
            None => (None, None),
        };
        if current.get("caption") == text.as_ref()
            && current.get("caption_entities") == entities.as_ref()
            && current.get("reply_markup") == new_markup.as_ref()
        {
            return Err(Self::not_modified());
        }
        let fields = vec![
            ("caption", text),
            ("caption_entities", entities),
            ("reply_markup", new_markup),
        ];
        let source = param_str(p, "caption").map(|c| (c, param_str(p, "parse_mode")));
        Ok(self.apply_edit(chat_id, message_id, fields, source, clock))
    }

    fn edit_message_reply_markup(
        &mut self,
        p: &Map<String, Value>,
        clock: Clock,
    ) -> Result<Value, ApiError> {
        let (chat_id, message_id) = self.message_to_edit(p)?;
        let current = self.chat(chat_id).messages[&message_id].json.clone();
        let new_markup = parse_markup(p)?.inline().cloned();
        if current.get("reply_markup") == new_markup.as_ref() {
            return Err(Self::not_modified());
        }
        Ok(self.apply_edit(
            chat_id,
            message_id,
            vec![("reply_markup", new_markup)],
            None,
            clock,
        ))
    }

    fn delete_message(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", false)?;
        let message_id = param_i64(p, "message_id")
            .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?
            as i32;
        let chat = self.chat(chat_id);
        let message = chat
            .messages
            .get(&message_id)
            .ok_or_else(|| ApiError::bad_request("message to delete not found"))?;
        // Without admin rights a bot deletes only its own messages in groups.
        if !message.from_bot && chat.class == ChatClass::Group {
            return Err(ApiError::bad_request("message can't be deleted"));
        }
        self.chat_mut(chat_id).messages.remove(&message_id);
        Ok(json!(true))
    }

    fn delete_messages(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", false)?;
        let ids: Vec<i32> = match param_json(p, "message_ids") {
            Ok(Some(Value::Array(ids))) => ids
                .iter()
                .filter_map(value_i64)
                .map(|id| id as i32)
                .collect(),
            _ => Vec::new(),
        };
        if ids.is_empty() || ids.len() > 100 {
            return Err(ApiError::bad_request(
                "message identifiers are not specified",
            ));
        }
        let chat = self.chat_mut(chat_id);
        let class = chat.class;
        for id in ids {
            if chat
                .messages
                .get(&id)
                .is_some_and(|m| m.from_bot || class == ChatClass::Private)
            {
                chat.messages.remove(&id);
            }
        }
        Ok(json!(true))
    }

    fn source_message(&self, p: &Map<String, Value>, not_found: &str) -> Result<Value, ApiError> {
        let from_chat = self.resolve_chat(p, "from_chat_id", false)?;
        let message_id = param_i64(p, "message_id")
            .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?
            as i32;
        self.chat(from_chat)
            .messages
            .get(&message_id)
            .map(|m| m.json.clone())
            .ok_or_else(|| ApiError::bad_request(not_found))
    }

    fn content_of(message: &Value) -> Map<String, Value> {
        let mut content = message.as_object().cloned().unwrap_or_default();
        for key in MESSAGE_META_KEYS {
            content.remove(*key);
        }
        content
    }

    fn copy_message(&mut self, p: &Map<String, Value>, clock: Clock) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", true)?;
        let source = self.source_message(p, "message to copy not found")?;
        let mut content = Self::content_of(&source);
        let is_media = MEDIA_KEYS.iter().any(|k| content.contains_key(*k));
        if is_media && p.contains_key("caption") {
            content.remove("caption");
            content.remove("caption_entities");
            if let Some((text, entities)) = self.caption(p)? {
                content.insert("caption".into(), json!(text));
                if !entities.is_empty() {
                    content.insert("caption_entities".into(), json!(entities));
                }
            }
        }
        if param_bool(p, "remove_caption") {
            content.remove("caption");
            content.remove("caption_entities");
        }
        let markup = parse_markup(p)?;
        let message = self.deliver(chat_id, p, content, None, markup, clock)?;
        Ok(json!({ "message_id": message["message_id"] }))
    }

    fn forward_message(&mut self, p: &Map<String, Value>, clock: Clock) -> Result<Value, ApiError> {
        let chat_id = self.resolve_chat(p, "chat_id", true)?;
        let source = self.source_message(p, "message to forward not found")?;
        let mut content = Self::content_of(&source);
        let origin = source.get("forward_origin").cloned().unwrap_or_else(|| {
            if source["chat"]["type"] == "channel" {
                json!({
                    "type": "channel",
                    "date": source["date"],
                    "chat": source["chat"],
                    "message_id": source["message_id"],
                })
            } else {
                json!({ "type": "user", "date": source["date"], "sender_user": source["from"] })
            }
        });
        content.insert("forward_origin".into(), origin);
        self.deliver(chat_id, p, content, None, Markup::None, clock)
    }

    fn answer_callback_query(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "query is too old and response timeout expired or query id is invalid",
            )
        };
        let id = param_str(p, "callback_query_id").unwrap_or_default();
        let text = param_str(p, "text").filter(|t| !t.is_empty());
        if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
        }
        let query = self.callbacks.get_mut(&id).ok_or_else(invalid)?;
        if query.answer.is_some() {
            return Err(invalid());
        }
        query.answer = Some(CallbackAnswer {
            text,
            show_alert: param_bool(p, "show_alert"),
            url: param_str(p, "url").filter(|u| !u.is_empty()),
        });
        Ok(json!(true))
    }

    fn get_file(&self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let id = param_str(p, "file_id").unwrap_or_default();
        let file = self
            .files
            .get(&id)
            .ok_or_else(|| ApiError::bad_request("invalid file id"))?;
        if file.bytes.len() > MAX_DOWNLOAD_BYTES {
            return Err(ApiError::bad_request("file is too big"));
        }
        Ok(json!({
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": file.bytes.len(),
            "file_path": file.file_path,
        }))
    }

    // ---- commands and menu ----

    /// Key of a BotCommandScope, so that equal scopes written differently match.
    pub fn scope_key(&self, scope: Option<&Value>) -> Result<String, ApiError> {
        let Some(scope) = scope else {
            return Ok("default".to_owned());
        };
        let kind = scope
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let chat = || -> Result<i64, ApiError> {
            let mut p = Map::new();
            p.insert(
                "chat_id".into(),
                scope.get("chat_id").cloned().unwrap_or(Value::Null),
            );
            self.resolve_chat(&p, "chat_id", false)
        };
        match kind {
            "default" | "all_private_chats" | "all_group_chats" | "all_chat_administrators" => {
                Ok(kind.to_owned())
            }
            "chat" | "chat_administrators" => Ok(format!("{kind}:{}", chat()?)),
            "chat_member" => {
                let user = scope.get("user_id").and_then(value_i64).unwrap_or(0);
                Ok(format!("{kind}:{}:{user}", chat()?))
            }
            _ => Err(ApiError::bad_request("unsupported scope type")),
        }
    }

    fn command_key(&self, p: &Map<String, Value>) -> Result<(String, String), ApiError> {
        let scope = param_json(p, "scope")
            .map_err(|_| ApiError::bad_request("can't parse BotCommandScope JSON object"))?;
        let scope = self.scope_key(scope.as_ref())?;
        let language = param_str(p, "language_code").unwrap_or_default();
        if !(language.is_empty()
            || (language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase())))
        {
            return Err(ApiError::bad_request("invalid language code specified"));
        }
        Ok((scope, language))
    }

    fn set_my_commands(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let commands = match param_json(p, "commands") {
            Ok(Some(Value::Array(commands))) => commands,
            Ok(_) => Vec::new(),
            Err(()) => return Err(ApiError::bad_request("can't parse commands JSON object")),
        };
        if commands.len() > 100 {
            return Err(ApiError::bad_request("BOT_COMMANDS_TOO_MUCH"));
        }
        let mut parsed = Vec::new();
        for command in &commands {
            let name = command
                .get("command")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let description = command
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let valid_name = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_name {
                return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
            }
            if !(1..=256).contains(&description.chars().count()) {
                return Err(ApiError::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
            }
            parsed.push((name.to_owned(), description.to_owned()));
        }
        let key = self.command_key(p)?;
        if parsed.is_empty() {
            self.commands.remove(&key);
        } else {
            self.commands.insert(key, parsed);
        }
        Ok(json!(true))
    }

    pub fn commands(&self, scope_key: &str, language: &str) -> Vec<(String, String)> {
        self.commands
            .get(&(scope_key.to_owned(), language.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn set_chat_menu_button(&mut self, p: &Map<String, Value>) -> Result<Value, ApiError> {
        let chat = match p.get("chat_id") {
            Some(v) if !v.is_null() => Some(self.resolve_chat(p, "chat_id", false)?),
            _ => None,
        };
        let button = param_json(p, "menu_button")
            .map_err(|_| ApiError::bad_request("can't parse menu button JSON object"))?
            .unwrap_or_else(|| json!({ "type": "default" }));
        match button.get("type").and_then(Value::as_str) {
            Some("default" | "commands") => {}
            Some("web_app") => {
                let has_app = button.get("text").is_some_and(Value::is_string)
                    && button.pointer("/web_app/url").is_some_and(Value::is_string);
                if !has_app {
                    return Err(ApiError::bad_request("can't parse menu button JSON object"));
                }
            }
            _ => return Err(ApiError::bad_request("unsupported menu button type")),
        }
        self.menu_buttons.insert(chat, button);
        Ok(json!(true))
    }

    pub fn menu_button(&self, chat: Option<i64>) -> Option<Value> {
        self.menu_buttons.get(&chat).cloned()
    }

    // ---- dispatch ----

    /// Runs one Bot API method (all but getUpdates, which waits).
    pub fn execute(&mut self, call: &Call, clock: Clock) -> Result<Value, ApiError> {
        let p = &call.params;
        match call.method.as_str() {
            "getMe" => Ok(self.me_json()),
            "logOut" | "close" => Ok(json!(true)),
            "getWebhookInfo" => Ok(self.webhook_info()),
            "setWebhook" => self.set_webhook(p),
            "deleteWebhook" => {
                if param_bool(p, "drop_pending_updates") {
                    self.updates.clear();
                }
                self.webhook = None;
                Ok(json!(true))
            }
            "sendMessage" => self.send_message(p, clock),
            "sendDocument" => self.send_file(call, FileKind::Document, clock),
            "sendPhoto" => self.send_file(call, FileKind::Photo, clock),
            "copyMessage" => self.copy_message(p, clock),
            "forwardMessage" => self.forward_message(p, clock),
            "editMessageText" => self.edit_message_text(p, clock),
            "editMessageCaption" => self.edit_message_caption(p, clock),
            "editMessageReplyMarkup" => self.edit_message_reply_markup(p, clock),
            "deleteMessage" => self.delete_message(p),
            "deleteMessages" => self.delete_messages(p),
            "answerCallbackQuery" => self.answer_callback_query(p),
            "getFile" => self.get_file(p),
            "createForumTopic" => self.create_forum_topic(p, clock),
            "setMyCommands" => self.set_my_commands(p),
            "deleteMyCommands" => {
                let key = self.command_key(p)?;
                self.commands.remove(&key);
                Ok(json!(true))
            }
            "getMyCommands" => {
                let (scope, language) = self.command_key(p)?;
                let list: Vec<Value> = self
                    .commands(&scope, &language)
                    .into_iter()
                    .map(|(command, description)| json!({ "command": command, "description": description }))
                    .collect();
                Ok(Value::Array(list))
            }
            "setChatMenuButton" => self.set_chat_menu_button(p),
            "getChatMenuButton" => {
                let chat = match p.get("chat_id") {
                    Some(v) if !v.is_null() => Some(self.resolve_chat(p, "chat_id", false)?),
                    _ => None,
                };
                Ok(self
                    .menu_button(chat)
                    .or_else(|| self.menu_button(None))
                    .unwrap_or_else(|| json!({ "type": "default" })))
            }
            "sendChatAction" => {
                self.resolve_chat(p, "chat_id", true)?;
                let action = param_str(p, "action").unwrap_or_default();
                if !CHAT_ACTIONS.contains(&action.as_str()) {
                    return Err(ApiError::bad_request("wrong parameter action in request"));
                }
                Ok(json!(true))
            }
            _ => Err(ApiError::method_not_found()),
        }
    }

    // ---- the learner's side ----

    /// Stores a user's message in `chat_id` with `content` and queues it as an update.
    pub fn user_message(
        &mut self,
        chat_id: i64,
        user: &FakeUser,
        content: Map<String, Value>,
        clock: Clock,
    ) -> i64 {
        self.register_user(user);
        let message_id = self.next_message_id(chat_id);
        let mut json = json!({
            "message_id": message_id,
            "from": user.to_json(),
            "chat": self.chat(chat_id).json,
            "date": clock.unix,
        });
        if let Some(object) = json.as_object_mut() {
            object.extend(content);
        }
        let chat = self.chat_mut(chat_id);
        // A one-time keyboard hides once the user has answered.
        if chat
            .reply_keyboard
            .as_ref()
            .is_some_and(|(_, one_time)| *one_time)
        {
            chat.reply_keyboard = None;
        }
        chat.messages.insert(
            message_id,
            StoredMessage {
                json: json.clone(),
                from_bot: false,
                source: None,
                reply_keyboard: None,
                remove_keyboard: false,
            },
        );
        self.enqueue("message", json)
    }

    pub fn text_content(text: &str) -> Map<String, Value> {
        let mut content = Map::new();
        content.insert("text".into(), json!(text));
        let entities = markup::detect_entities(text);
        if !entities.is_empty() {
            let entities: Vec<Value> = entities
                .iter()
                .map(|e| e.to_json(|_| Value::Null))
                .collect();
            content.insert("entities".into(), Value::Array(entities));
        }
        content
    }

    pub fn document_content(
        &mut self,
        file_name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Map<String, Value> {
        let document = self.document_json(file_name, Some(mime_type), bytes);
        let mut content = Map::new();
        content.insert("document".into(), document);
        content
    }

    pub fn photo_content(&mut self, bytes: Vec<u8>) -> Map<String, Value> {
        let photo = self.photo_json(bytes);
        let mut content = Map::new();
        content.insert("photo".into(), photo);
        content
    }

    pub fn press_button(
        &mut self,
        user: &FakeUser,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> Result<i64, FakeError> {
        let message = self
            .chats
            .get(&chat_id)
            .and_then(|c| c.messages.get(&message_id))
            .filter(|m| m.from_bot)
            .ok_or(FakeError::NoSuchMessage {
                chat_id,
                message_id,
            })?;
        let has_button = message
            .json
            .pointer("/reply_markup/inline_keyboard")
            .and_then(Value::as_array)
            .is_some_and(|rows| {
                rows.iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .any(|b| b.get("callback_data").and_then(Value::as_str) == Some(data))
            });
        if !has_button {
            return Err(FakeError::NoSuchButton {
                chat_id,
                message_id,
                data: data.to_owned(),
            });
        }
        let message_json = message.json.clone();
        self.register_user(user);
        self.callback_seq += 1;
        let query_id = format!("{}{:06}", user.id.unsigned_abs(), self.callback_seq);
        let chat_instance = (chat_id.wrapping_mul(7919) ^ self.bot.id)
            .unsigned_abs()
            .to_string();
        let payload = json!({
            "id": query_id,
            "from": user.to_json(),
            "message": message_json,
            "chat_instance": chat_instance,
            "data": data,
        });
        let update_id = self.enqueue("callback_query", payload);
        self.callbacks.insert(
            query_id.clone(),
            CallbackState {
                update_id,
                answer: None,
            },
        );
        self.callback_ids_by_update.insert(update_id, query_id);
        Ok(update_id)
    }

    pub fn callback_answer(&self, update_id: i64) -> Option<CallbackAnswer> {
        let id = self.callback_ids_by_update.get(&update_id)?;
        let query = self.callbacks.get(id)?;
        debug_assert_eq!(query.update_id, update_id);
        query.answer.clone()
    }

    // ---- observation ----

    fn view(&self, chat_id: i64, message: &StoredMessage) -> BotMessage {
        let json = &message.json;
        let text_of = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let inline_keyboard = json
            .pointer("/reply_markup/inline_keyboard")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(Value::as_array)
                    .map(|row| {
                        row.iter()
                            .map(|b| InlineButton {
                                text: b
                                    .get("text")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                callback_data: b
                                    .get("callback_data")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                                url: b.get("url").and_then(Value::as_str).map(str::to_owned),
                            })
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let sent_file = |media: &Value| -> Option<SentFile> {
            let file_id = media.get("file_id")?.as_str()?.to_owned();
            Some(SentFile {
                bytes: self
                    .files
                    .get(&file_id)
                    .map(|f| f.bytes.clone())
                    .unwrap_or_default(),
                file_name: media
                    .get("file_name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                mime_type: media
                    .get("mime_type")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                file_id,
            })
        };
        let entities_key = if json.get("text").is_some() {
            "entities"
        } else {
            "caption_entities"
        };
        BotMessage {
            chat_id,
            message_id: json["message_id"].as_i64().unwrap_or_default() as i32,
            text: text_of("text"),
            caption: text_of("caption"),
            source_text: message.source.as_ref().map(|(text, _)| text.clone()),
            parse_mode: message.source.as_ref().and_then(|(_, mode)| mode.clone()),
            entities: json
                .get(entities_key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            inline_keyboard,
            reply_keyboard: message.reply_keyboard.clone(),
            remove_keyboard: message.remove_keyboard,
            document: json.get("document").and_then(sent_file),
            photo: json
                .get("photo")
                .and_then(Value::as_array)
                .and_then(|sizes| sizes.last())
                .and_then(sent_file),
            edited: json.get("edit_date").is_some(),
            reply_to_message_id: json
                .pointer("/reply_to_message/message_id")
                .and_then(Value::as_i64)
                .map(|id| id as i32),
            thread_id: json
                .get("message_thread_id")
                .and_then(Value::as_i64)
                .map(|id| id as i32),
            json: json.clone(),
        }
    }

    pub fn bot_messages(&self, chat_id: i64) -> Vec<BotMessage> {
        self.chats
            .get(&chat_id)
            .map(|chat| {
                chat.messages
                    .values()
                    .filter(|m| m.from_bot)
                    .map(|m| self.view(chat_id, m))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn bot_message(&self, chat_id: i64, message_id: i32) -> Option<BotMessage> {
        let message = self.chats.get(&chat_id)?.messages.get(&message_id)?;
        message.from_bot.then(|| self.view(chat_id, message))
    }

    /// The first bot message in `chat_id` not yet handed out, if any; advances the cursor.
    pub fn take_next_bot_message(&mut self, chat_id: i64) -> Option<BotMessage> {
        let chat = self.chats.get(&chat_id)?;
        let (id, message) = chat
            .messages
            .range(chat.cursor + 1..)
            .find(|(_, m)| m.from_bot)?;
        let (id, view) = (*id, self.view(chat_id, message));
        self.chat_mut(chat_id).cursor = id;
        Some(view)
    }

    pub fn reply_keyboard(&self, chat_id: i64) -> Option<Vec<Vec<ReplyButton>>> {
        self.chats
            .get(&chat_id)?
            .reply_keyboard
            .as_ref()
            .map(|(rows, _)| rows.clone())
    }
}

enum InputFile {
    New {
        file_name: String,
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
    Existing(String),
}
