//! A faithful local fake of the Telegram Bot API.
//!
//! It serves the Bot API over HTTP on `127.0.0.1` (random port) so that the real teloxide
//! stack — `Bot`, the dispatcher, long polling, webhooks — runs against it unchanged:
//! `Bot::new(fake.token()).set_api_url(fake.url())`, or simply [`FakeBotApi::bot`].
//! It is used by the conversation tests and by `uchbot shell`, where a person plays the
//! learner in a terminal without a Telegram token.
//!
//! The learner's side is driven with [`FakeBotApi::send_text`], [`FakeBotApi::press_button`]
//! and friends, which queue updates the way Telegram would; the bot's side is observed with
//! [`FakeBotApi::messages`] (chat contents as they currently are), [`FakeBotApi::requests`]
//! (every call) and the waiting helpers, which wake on activity instead of sleeping.
//!
//! Answers follow the real server: result shapes as teloxide parses them, per-chat message
//! ids shared by the user and the bot, and validation errors with Telegram's own
//! descriptions (text length, `callback_data` size, HTML/MarkdownV2 parsing, edits that
//! change nothing, unknown messages and callback queries, 409 while a webhook is set…).
//! Faults can be injected per method, once ([`FakeBotApi::fail_next`]) or as an outage until
//! cleared ([`FakeBotApi::start_outage`]), and flood limits enforced
//! ([`FakeBotApi::enforce_rate_limits`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use uchbot::telegram::fake_api::{FakeBotApi, FakeUser};
//!
//! let fake = FakeBotApi::start().await?;
//! let bot = fake.bot(); // a teloxide::Bot pointed at the fake: give it to the dispatcher
//! let anna = FakeUser::new(42, "Анна");
//! fake.send_text(&anna, "/start");
//! let menu = fake.next_bot_message(anna.id, Duration::from_secs(5)).await?;
//! let data = menu.button("Записаться").and_then(|b| b.callback_data.clone());
//! fake.press_button(&anna, anna.id, menu.message_id, &data.unwrap_or_default())?;
//! fake.wait_until_idle(Duration::from_millis(200), Duration::from_secs(5)).await?;
//! for message in fake.messages(anna.id) {
//!     println!("{}", message.shown_text().unwrap_or_default());
//! }
//! # drop(bot); Ok(()) }
//! ```
//!
//! Forum supergroups ([`FakeChat::forum`]) have topics: createForumTopic makes one (its id is
//! that of its service message), and messages sent with `message_thread_id` land in it
//! ("message thread not found" for a topic that does not exist, "the chat is not a forum"
//! when creating one elsewhere).
//!
//! Known differences from Telegram: webhooks may be plain HTTP on loopback; all sizes of a
//! photo serve the original bytes; inline mode, payments, media groups and chat
//! administration methods answer 404 "method not found" (and are recorded).

mod limits;
mod markup;
mod media;
mod methods;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use state::{BotIdentity, Clock, State};

/// Settings of a fake server.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The bot's user id; a token is accepted when it starts with `"{bot_id}:"`.
    pub bot_id: i64,
    pub bot_username: String,
    pub bot_first_name: String,
    /// First pause before a failed webhook delivery is retried; it doubles up to the maximum.
    pub webhook_retry_initial: Duration,
    pub webhook_retry_max: Duration,
    /// Timeout of one webhook POST and of fetching a file given by URL.
    pub http_timeout: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            bot_id: 123456,
            bot_username: "uchbot_test_bot".to_owned(),
            bot_first_name: "Uchbot".to_owned(),
            webhook_retry_initial: Duration::from_millis(200),
            webhook_retry_max: Duration::from_secs(30),
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// A Telegram user played by a test or by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl FakeUser {
    /// A user with the Russian interface language, as most learners have.
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        FakeUser {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: Some("ru".to_owned()),
        }
    }

    pub fn with_last_name(mut self, last_name: impl Into<String>) -> Self {
        self.last_name = Some(last_name.into());
        self
    }

    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    pub fn with_language_code(mut self, language_code: Option<&str>) -> Self {
        self.language_code = language_code.map(str::to_owned);
        self
    }

    /// The Bot API `User` object.
    pub fn to_json(&self) -> Value {
        let mut user = serde_json::json!({
            "id": self.id,
            "is_bot": false,
            "first_name": self.first_name,
        });
        if let Some(last_name) = &self.last_name {
            user["last_name"] = last_name.clone().into();
        }
        if let Some(username) = &self.username {
            user["username"] = username.clone().into();
        }
        if let Some(language_code) = &self.language_code {
            user["language_code"] = language_code.clone().into();
        }
        user
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Group,
    Supergroup,
    /// A supergroup with topics (`is_forum`): messages go to topics by `message_thread_id`.
    Forum,
}

/// A group chat (for instance the staff chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeChat {
    /// Negative, like Telegram's group ids (`-100…` for supergroups).
    pub id: i64,
    pub title: String,
    pub kind: GroupKind,
}

impl FakeChat {
    pub fn group(id: i64, title: impl Into<String>) -> Self {
        FakeChat {
            id,
            title: title.into(),
            kind: GroupKind::Group,
        }
    }

    pub fn supergroup(id: i64, title: impl Into<String>) -> Self {
        FakeChat {
            id,
            title: title.into(),
            kind: GroupKind::Supergroup,
        }
    }

    /// A supergroup with topics; the bot may create them with createForumTopic.
    pub fn forum(id: i64, title: impl Into<String>) -> Self {
        FakeChat {
            id,
            title: title.into(),
            kind: GroupKind::Forum,
        }
    }
}

/// A fault to answer the next call of a method with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429 with `parameters.retry_after` (teloxide: `RequestError::RetryAfter`).
    TooManyRequests { retry_after: u32 },
    /// 500 Internal Server Error (teloxide waits 10 s before returning it).
    ServerError,
    /// Answer normally, but only after this long.
    Delay(Duration),
    /// Close the connection without answering (teloxide: `RequestError::Network`).
    DropConnection,
    /// Never answer and never carry the call out, until the caller gives up (its timeout)
    /// or the fake stops: a request lost on the way.
    Hang,
    /// Any other error answer, e.g. `403, "Forbidden: bot was blocked by the user"`.
    Api { code: u16, description: String },
}

/// A file uploaded with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// The parameter that refers to the file (`document`, `photo`…), else the part name.
    pub param: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// How a call was answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Error {
        code: u16,
        description: String,
    },
    /// The connection was closed without an answer ([`Failure::DropConnection`]).
    Dropped,
}

/// One Bot API call as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Position in the order of arrival, from 0.
    pub seq: usize,
    /// The Bot API's camelCase name, e.g. "sendMessage", whatever case the URL used.
    pub method: String,
    /// Parameters as a JSON object (form and multipart values converted to numbers, booleans
    /// and objects where they are such).
    pub params: Value,
    pub files: Vec<UploadedFile>,
    /// `None` while the call is in progress (a long poll).
    pub outcome: Option<Outcome>,
    /// When the call arrived and when it was answered (benchmarks time the bot with these:
    /// an update is delivered when its getUpdates is answered).
    pub received_at: std::time::Instant,
    pub answered_at: Option<std::time::Instant>,
}

impl RecordedRequest {
    pub fn param(&self, key: &str) -> Option<&Value> {
        self.params.get(key)
    }

    pub fn param_str(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }

    pub fn param_i64(&self, key: &str) -> Option<i64> {
        self.params.get(key).and_then(Value::as_i64)
    }

    /// The result when the call succeeded.
    pub fn result(&self) -> Option<&Value> {
        match &self.outcome {
            Some(Outcome::Ok(result)) => Some(result),
            _ => None,
        }
    }

    /// The error description when the call failed.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Some(Outcome::Error { description, .. }) => Some(description),
            _ => None,
        }
    }
}

/// An inline keyboard button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

/// A reply keyboard button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub text: String,
    pub request_contact: bool,
    pub request_location: bool,
}

/// A file the bot sent, with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    pub file_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// How the bot answered a button press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackAnswer {
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
}

/// A message of the bot as it currently is (after edits).
#[derive(Debug, Clone, PartialEq)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i32,
    /// The text as the user sees it (markup parsed out).
    pub text: Option<String>,
    pub caption: Option<String>,
    /// The text or caption exactly as the bot sent it, before `parse_mode`.
    pub source_text: Option<String>,
    pub parse_mode: Option<String>,
    /// Entities of the text or caption, as Bot API JSON.
    pub entities: Vec<Value>,
    pub inline_keyboard: Vec<Vec<InlineButton>>,
    /// The reply keyboard this message showed, if it carried one.
    pub reply_keyboard: Option<Vec<Vec<ReplyButton>>>,
    /// Whether this message removed the reply keyboard.
    pub remove_keyboard: bool,
    pub document: Option<SentFile>,
    /// The largest size of a photo.
    pub photo: Option<SentFile>,
    pub edited: bool,
    pub reply_to_message_id: Option<i32>,
    /// The forum topic the message was sent to.
    pub thread_id: Option<i32>,
    /// The whole Message object as Telegram would return it.
    pub json: Value,
}

impl BotMessage {
    /// The text, or else the caption.
    pub fn shown_text(&self) -> Option<&str> {
        self.text.as_deref().or(self.caption.as_deref())
    }

    pub fn buttons(&self) -> impl Iterator<Item = &InlineButton> {
        self.inline_keyboard.iter().flatten()
    }

    /// The inline button with exactly this text.
    pub fn button(&self, text: &str) -> Option<&InlineButton> {
        self.buttons().find(|b| b.text == text)
    }
}

/// A learner-side action that Telegram's apps would not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FakeError {
    #[error("chat {chat_id} has no bot message {message_id}")]
    NoSuchMessage { chat_id: i64, message_id: i32 },
    #[error("message {message_id} in chat {chat_id} has no button with callback_data {data:?}")]
    NoSuchButton {
        chat_id: i64,
        message_id: i32,
        data: String,
    },
    #[error("invalid update: {0}")]
    InvalidUpdate(String),
}

/// The bot did not do what was awaited in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the bot did not get there within {0:?}")]
pub struct WaitTimeout(pub Duration);

struct Shared {
    state: Mutex<State>,
    /// Bumped on every change; waiters subscribe and re-check.
    events: watch::Sender<u64>,
    shutdown: CancellationToken,
    addr: SocketAddr,
    config: FakeConfig,
    http: reqwest::Client,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not wedge every later call of a test.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.events
            .send_modify(|version| *version = version.wrapping_add(1));
    }
}

/// Stops the server when the last handle goes.
struct StopOnDrop(CancellationToken);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A running fake Bot API server. Cheap to clone; stops when the last clone is dropped or
/// on [`FakeBotApi::shutdown`].
#[derive(Clone)]
pub struct FakeBotApi {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

impl std::fmt::Debug for FakeBotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBotApi")
            .field("url", &self.url().as_str())
            .finish_non_exhaustive()
    }
}

impl FakeBotApi {
    /// Starts a fake with the default bot (id 123456, so the token "123456:TEST" works).
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(FakeConfig::default()).await
    }

    pub async fn start_with(config: FakeConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            .build()
            .map_err(std::io::Error::other)?;
        let bot = BotIdentity {
            id: config.bot_id,
            first_name: config.bot_first_name.clone(),
            username: config.bot_username.clone(),
        };
        let shutdown = CancellationToken::new();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(bot)),
            events: watch::Sender::new(0),
            shutdown: shutdown.clone(),
            addr,
            config,
            http,
            tasks: Mutex::new(Vec::new()),
        });
        let server = tokio::spawn(server::serve(listener, shared.clone()));
        let webhooks = tokio::spawn(server::deliver_webhooks(shared.clone()));
        shared
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend([server, webhooks]);
        Ok(FakeBotApi {
            shared,
            _stop: Arc::new(StopOnDrop(shutdown)),
        })
    }

    /// Stops serving and waits until the server's tasks have ended.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        let tasks = std::mem::take(
            &mut *self
                .shared
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for task in tasks {
            let _ = task.await;
        }
    }

    /// The API URL to give teloxide (`Bot::set_api_url`).
    pub fn url(&self) -> reqwest::Url {
        reqwest::Url::parse(&format!("http://{}", self.shared.addr)).expect("loopback URL")
    }

    /// A token the fake accepts.
    pub fn token(&self) -> String {
        format!("{}:FAKE-TOKEN", self.shared.config.bot_id)
    }

    /// A teloxide bot pointed at this fake.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(self.token()).set_api_url(self.url())
    }

    pub fn bot_id(&self) -> i64 {
        self.shared.config.bot_id
    }

    pub fn bot_username(&self) -> String {
        self.shared.config.bot_username.clone()
    }

    fn change<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.shared.lock());
        self.shared.bump();
        result
    }

    // ---- the learner's side ----

    /// The learner writes `text` in their private chat with the bot. `/commands` carry a
    /// bot_command entity, as from Telegram. Returns the update_id.
    pub fn send_text(&self, user: &FakeUser, text: &str) -> i64 {
        self.change(|state| {
            state.ensure_private_chat(user);
            state.user_message(user.id, user, State::text_content(text), Clock::now())
        })
    }

    /// The learner's private chat with the bot exists (they pressed Start some time ago),
    /// with no update queued for it.
    pub fn open_chat(&self, user: &FakeUser) {
        self.change(|state| state.ensure_private_chat(user));
    }

    /// `user` writes `text` in a group chat.
    pub fn send_text_in(&self, chat: &FakeChat, user: &FakeUser, text: &str) -> i64 {
        self.change(|state| {
            state.ensure_group_chat(chat);
            state.user_message(chat.id, user, State::text_content(text), Clock::now())
        })
    }

    /// The learner sends a message with arbitrary content fields in the private chat, e.g.
    /// `json!({"contact": {"phone_number": "+79001234567", "first_name": "Анна", "user_id": 42}})`
    /// or a location or sticker.
    pub fn send_message_with(&self, user: &FakeUser, content: Value) -> Result<i64, FakeError> {
        let Value::Object(content) = content else {
            return Err(FakeError::InvalidUpdate(
                "message content must be a JSON object".into(),
            ));
        };
        Ok(self.change(|state| {
            state.ensure_private_chat(user);
            state.user_message(user.id, user, content, Clock::now())
        }))
    }

    /// A user's message with arbitrary content in a group added with [`Self::add_group`]
    /// (staff replying to the bot's question, with `reply_to_message`).
    pub fn send_message_in_with(
        &self,
        chat_id: i64,
        user: &FakeUser,
        content: Value,
    ) -> Result<i64, FakeError> {
        let Value::Object(content) = content else {
            return Err(FakeError::InvalidUpdate(
                "message content must be a JSON object".into(),
            ));
        };
        Ok(self.change(|state| state.user_message(chat_id, user, content, Clock::now())))
    }

    /// `user` writes `text` in a forum topic of a group added with [`Self::add_group`].
    pub fn send_text_in_topic(
        &self,
        chat_id: i64,
        thread_id: i32,
        user: &FakeUser,
        text: &str,
    ) -> Result<i64, FakeError> {
        let mut content = State::text_content(text);
        content.insert("message_thread_id".into(), thread_id.into());
        content.insert("is_topic_message".into(), true.into());
        self.send_message_in_with(chat_id, user, Value::Object(content))
    }

    /// The forum topics of a chat: (message_thread_id, name), in order of creation.
    pub fn topics(&self, chat_id: i64) -> Vec<(i32, String)> {
        self.shared.lock().topics(chat_id)
    }

    /// The learner presses the inline button with `data` under the bot's message; the
    /// callback query carries the message as it currently is.
    pub fn press_button(
        &self,
        user: &FakeUser,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> Result<i64, FakeError> {
        self.change(|state| state.press_button(user, chat_id, message_id, data))
    }

    /// The learner sends a file as a document; the bot can getFile and download it.
    pub fn send_document(
        &self,
        user: &FakeUser,
        file_name: &str,
        mime_type: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> i64 {
        let bytes = bytes.into();
        self.change(|state| {
            state.ensure_private_chat(user);
            let content = state.document_content(file_name, mime_type, bytes);
            state.user_message(user.id, user, content, Clock::now())
        })
    }

    /// The learner sends a photo (several `PhotoSize`s, each downloadable).
    pub fn send_photo(&self, user: &FakeUser, bytes: impl Into<Vec<u8>>) -> i64 {
        let bytes = bytes.into();
        self.change(|state| {
            state.ensure_private_chat(user);
            let content = state.photo_content(bytes);
            state.user_message(user.id, user, content, Clock::now())
        })
    }

    /// Queues any update, e.g. `json!({"edited_message": {...}})`; its update_id is
    /// assigned here. Types the bot excluded with `allowed_updates` are dropped, as by
    /// Telegram.
    pub fn send_update(&self, update: Value) -> Result<i64, FakeError> {
        self.change(|state| state.enqueue_raw(update))
    }

    /// The learner blocks (or unblocks) the bot: sends to them fail with 403 and the bot gets
    /// the my_chat_member update.
    pub fn set_blocked(&self, user: &FakeUser, blocked: bool) -> i64 {
        self.change(|state| state.set_blocked(user, blocked, Clock::now()))
    }

    /// Makes a group chat known without a message in it (the bot was added to it).
    pub fn add_group(&self, chat: &FakeChat) {
        self.change(|state| state.ensure_group_chat(chat));
    }

    // ---- observation ----

    /// Every call so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests().to_vec()
    }

    /// The calls from position `seq` on (see [`RecordedRequest::seq`]).
    pub fn requests_since(&self, seq: usize) -> Vec<RecordedRequest> {
        let state = self.shared.lock();
        state.requests().get(seq..).unwrap_or_default().to_vec()
    }

    /// The calls of one method (camelCase or any case).
    pub fn requests_to(&self, method: &str) -> Vec<RecordedRequest> {
        let method = server::canonical_method(method);
        let state = self.shared.lock();
        state
            .requests()
            .iter()
            .filter(|r| r.method == method)
            .cloned()
            .collect()
    }

    /// The bot's messages in a chat as they currently are (edits applied, deleted ones gone).
    pub fn messages(&self, chat_id: i64) -> Vec<BotMessage> {
        self.shared.lock().bot_messages(chat_id)
    }

    pub fn message(&self, chat_id: i64, message_id: i32) -> Option<BotMessage> {
        self.shared.lock().bot_message(chat_id, message_id)
    }

    /// The reply keyboard the user currently sees in a chat.
    pub fn reply_keyboard(&self, chat_id: i64) -> Option<Vec<Vec<ReplyButton>>> {
        self.shared.lock().reply_keyboard(chat_id)
    }

    /// The bot's answer to the button press queued as `update_id`.
    pub fn callback_answer(&self, update_id: i64) -> Option<CallbackAnswer> {
        self.shared.lock().callback_answer(update_id)
    }

    /// Commands set for a scope with no language_code.
    pub fn commands(
        &self,
        scope: &teloxide::types::BotCommandScope,
    ) -> Vec<teloxide::types::BotCommand> {
        self.commands_for_language(scope, "")
    }

    pub fn commands_for_language(
        &self,
        scope: &teloxide::types::BotCommandScope,
        language_code: &str,
    ) -> Vec<teloxide::types::BotCommand> {
        let state = self.shared.lock();
        let Ok(scope) = serde_json::to_value(scope) else {
            return Vec::new();
        };
        let Ok(key) = state.scope_key(Some(&scope)) else {
            return Vec::new();
        };
        state
            .commands(&key, language_code)
            .into_iter()
            .map(|(command, description)| teloxide::types::BotCommand::new(command, description))
            .collect()
    }

    /// The menu button set for a chat (`None`: the default one).
    pub fn menu_button(&self, chat_id: Option<i64>) -> Option<Value> {
        self.shared.lock().menu_button(chat_id)
    }

    pub fn webhook_url(&self) -> Option<String> {
        self.shared
            .lock()
            .webhook()
            .map(|hook| hook.url.to_string())
    }

    /// The offset the bot has confirmed with getUpdates (updates below it are forgotten).
    pub fn confirmed_offset(&self) -> i64 {
        self.shared.lock().confirmed_offset()
    }

    /// Updates queued and not yet confirmed (polling) or delivered (webhook).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().pending_update_count()
    }

    /// Waits until `probe` returns something, re-checking on every call the bot makes and
    /// every update queued.
    pub async fn wait_for<T>(
        &self,
        mut probe: impl FnMut(&FakeBotApi) -> Option<T>,
        timeout: Duration,
    ) -> Result<T, WaitTimeout> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut events = self.shared.events.subscribe();
        loop {
            if let Some(found) = probe(self) {
                return Ok(found);
            }
            tokio::select! {
                _ = events.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return probe(self).ok_or(WaitTimeout(timeout));
                }
            }
        }
    }

    /// The bot's next message in a chat: the first one not yet returned by this method (as
    /// it currently is), waiting for it if needed.
    pub async fn next_bot_message(
        &self,
        chat_id: i64,
        timeout: Duration,
    ) -> Result<BotMessage, WaitTimeout> {
        self.wait_for(
            |fake| fake.shared.lock().take_next_bot_message(chat_id),
            timeout,
        )
        .await
    }

    /// Waits until every queued update has been taken by the bot and nothing has happened
    /// for `quiet` (the bot has finished reacting).
    pub async fn wait_until_idle(
        &self,
        quiet: Duration,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut events = self.shared.events.subscribe();
        loop {
            let drained = self.pending_updates() == 0;
            let quiet_end = tokio::time::Instant::now() + quiet;
            tokio::select! {
                _ = events.changed() => {}
                _ = tokio::time::sleep_until(quiet_end), if drained => return Ok(()),
                _ = tokio::time::sleep_until(deadline) => return Err(WaitTimeout(timeout)),
            }
        }
    }

    // ---- faults ----

    /// Answers the next call of `method` (any case) with `failure`; several queue up.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        let method = server::canonical_method(method);
        self.change(|state| state.push_failure(method, failure));
    }

    /// Answers every call of `method` with `failure` until [`Self::end_outage`] (after
    /// the faults queued with [`Self::fail_next`]).
    pub fn start_outage(&self, method: &str, failure: Failure) {
        let method = server::canonical_method(method);
        self.change(|state| state.set_outage(method, Some(failure)));
    }

    /// `method` works again.
    pub fn end_outage(&self, method: &str) {
        let method = server::canonical_method(method);
        self.change(|state| state.set_outage(method, None));
    }

    /// Answers 429 with retry_after when the bot exceeds Telegram's flood limits.
    pub fn enforce_rate_limits(&self, on: bool) {
        self.change(|state| state.set_enforce_limits(on));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_is_shareable_across_tasks() {
        fn check<T: Send + Sync + Clone>() {}
        check::<FakeBotApi>();
    }
}
