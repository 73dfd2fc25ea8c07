//! The real bot (the same dispatcher and runtime as `uchbot serve`) against the fake Bot API,
//! on a fresh database, with conversation scripts as data.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uchbot::app::letters::MailTransport;
use uchbot::app::payments::Provider;
use uchbot::app::App;
use uchbot::config::Settings;
use uchbot::telegram::fake_api::{BotMessage, FakeBotApi, FakeUser};
use uchbot::telegram::runner::{self, Running};

use super::db::TestDb;

pub const STAFF_CHAT: i64 = -1_001_234_567_890;
pub const MANAGER: i64 = 5001;
pub const ADMIN: i64 = 5002;
/// 32 bytes of base64: the document key of test bots.
pub const TEST_KEY: &str = "dGVzdC1rZXktZm9yLWRvY3VtZW50cy0zMi1ieXRlcyE=";

pub struct TestBot {
    pub fake: FakeBotApi,
    pub app: Arc<App>,
    pub db: TestDb,
    pub docs: tempfile::TempDir,
    env: Vec<(String, String)>,
    provider: fn(&Settings) -> Provider,
    mail: Option<Arc<dyn MailTransport>>,
    running: Option<Running>,
    handled: tokio::sync::broadcast::Receiver<i64>,
    seen: Mutex<HashMap<(i64, i32), String>>,
    /// `http://127.0.0.1:PORT` when `Options::http` was set.
    pub http_url: Option<String>,
    http_task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub env: Vec<(String, String)>,
    pub provider: fn(&Settings) -> Provider,
    pub mail: Option<Arc<dyn MailTransport>>,
    /// Serve the HTTP endpoints (`/webhooks/yookassa`, `/healthz`, …) on a loopback port.
    pub http: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            provider: |_| Provider::Demo,
            mail: None,
            http: false,
        }
    }
}

/// The bot's pool limited to one connection: code that asks the pool for a second one while
/// it holds the first (a deadlock under load) stalls at once on this setting.
pub fn one_connection() -> (String, String) {
    ("UCHBOT_DATABASE__MAX_CONNECTIONS".into(), "1".into())
}

/// The payment provider as `serve` builds it from the configuration.
pub fn configured_provider(s: &Settings) -> Provider {
    uchbot::serve::payment_provider(s).expect("payment provider")
}

fn settings(env: &[(String, String)], docs: &std::path::Path, db: &TestDb) -> Settings {
    let mut all = vec![
        ("UCHBOT_DATABASE__URL".to_owned(), db.url.clone()),
        (
            "UCHBOT_STORAGE__DOCUMENTS_DIR".to_owned(),
            docs.display().to_string(),
        ),
        (
            "UCHBOT_TELEGRAM__STAFF_CHAT_ID".to_owned(),
            STAFF_CHAT.to_string(),
        ),
        (
            "UCHBOT_STORAGE__ENCRYPTION_KEY".to_owned(),
            TEST_KEY.to_owned(),
        ),
        // Scripts talk to the staff chat faster than Telegram's 20 a minute per group; the
        // fake does not enforce it unless asked, and the limiter has tests of its own.
        (
            "UCHBOT_TELEGRAM__GROUP_MESSAGES_PER_MINUTE".to_owned(),
            "6000".to_owned(),
        ),
        // Likewise one message a second in a private chat: a script of fifty answers would
        // wait most of a minute for nothing (the rate tests set the real limits themselves).
        (
            "UCHBOT_TELEGRAM__PRIVATE_CHAT_MESSAGES_PER_SECOND".to_owned(),
            "100".to_owned(),
        ),
        (
            "UCHBOT_TELEGRAM__STAFF_USER_IDS".to_owned(),
            format!("[{MANAGER}]"),
        ),
        (
            "UCHBOT_TELEGRAM__ADMIN_USER_IDS".to_owned(),
            format!("[{ADMIN}]"),
        ),
    ];
    all.extend(env.iter().cloned());
    Settings::load_from(None, all).expect("test settings")
}

impl TestBot {
    pub async fn start(db: TestDb, options: Options) -> TestBot {
        // `RUST_LOG=uchbot=debug cargo test …` shows what the bot did.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let docs = tempfile::tempdir().unwrap();
        let fake = FakeBotApi::start().await.expect("fake Bot API");
        fake.add_group(&uchbot::telegram::fake_api::FakeChat::supergroup(
            STAFF_CHAT,
            "Сотрудники",
        ));
        {
            let catalog = uchbot::catalog::example_catalog().expect("example catalog");
            let mut tx = db.store.begin().await.unwrap();
            uchbot::store::catalog::import(&mut tx, &catalog)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let s = settings(&options.env, docs.path(), &db);
        // The bot's own pool, opened as `serve` opens it (its size and busy timeout from
        // the settings).
        let store = uchbot::cli::open_store(&s).await.expect("the bot's store");
        let app = Arc::new(
            App::new(&s, store, (options.provider)(&s), options.mail.clone()).expect("app"),
        );
        let running = runner::start(app.clone(), fake.bot())
            .await
            .expect("bot starts");
        let handled = running.handled.subscribe();
        let (http_url, http_task) = if options.http {
            let (url, task) = serve_http(app.clone(), running.messenger.clone()).await;
            (Some(url), Some(task))
        } else {
            (None, None)
        };
        TestBot {
            http_url,
            http_task,
            fake,
            app,
            db,
            docs,
            env: options.env,
            provider: options.provider,
            mail: options.mail,
            running: Some(running),
            handled,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Stops the bot as a crash or deploy would and starts a new one on the same database
    /// and Bot API: nothing in memory survives.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), running.stop())
                .await
                .expect("the bot stops within 30 s");
        }
        let s = settings(&self.env, self.docs.path(), &self.db);
        let store = uchbot::cli::open_store(&s).await.expect("the bot's store");
        self.app =
            Arc::new(App::new(&s, store, (self.provider)(&s), self.mail.clone()).expect("app"));
        let running = runner::start(self.app.clone(), self.fake.bot())
            .await
            .unwrap();
        self.handled = running.handled.subscribe();
        if let Some(task) = self.http_task.take() {
            task.abort();
            let (url, task) = serve_http(self.app.clone(), running.messenger.clone()).await;
            self.http_url = Some(url);
            self.http_task = Some(task);
        }
        self.running = Some(running);
    }

    /// Marks these handled updates not done in the inbox, as a kill between the change and
    /// the done mark leaves them: the next start hands them out again.
    pub async fn undo_done(&self, update_ids: &[i64]) {
        for id in update_ids {
            sqlx::query(
                "UPDATE telegram_inbox SET done_at = NULL, taken_until = NULL WHERE update_id = $1",
            )
            .bind(id)
            .execute(self.app.store.pool())
            .await
            .unwrap();
        }
    }

    pub fn http(&self) -> &str {
        self.http_url
            .as_deref()
            .expect("started with Options { http: true }")
    }

    pub async fn stop(mut self) {
        if let Some(task) = self.http_task.take() {
            task.abort();
        }
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), running.stop())
                .await
                .expect("the bot stops within 30 s");
        }
        tokio::time::timeout(Duration::from_secs(10), self.fake.shutdown())
            .await
            .expect("the fake Bot API stops");
    }

    pub fn messenger(&self) -> Arc<dyn uchbot::app::Messenger> {
        self.running.as_ref().unwrap().messenger.clone()
    }

    async fn wait_handled(&mut self, update_id: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.handled.recv()).await {
                Ok(Ok(id)) if id >= update_id => return,
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(e)) => panic!("bot stopped: {e}"),
                Err(_) => panic!("update {update_id} not handled within 20 s"),
            }
        }
    }

    /// Bot messages in the chat that are new or changed since the last look.
    pub fn fresh(&self, chat: i64) -> Vec<BotMessage> {
        let mut seen = self.seen.lock().unwrap();
        self.fake
            .messages(chat)
            .into_iter()
            .filter(|m| {
                let shown = format!("{:?}{:?}", m.shown_text(), m.inline_keyboard);
                seen.insert((chat, m.message_id), shown.clone()).as_ref() != Some(&shown)
            })
            .collect()
    }

    pub async fn say(&mut self, user: &FakeUser, text: &str) -> Vec<BotMessage> {
        self.fresh(user.id);
        let id = self.fake.send_text(user, text);
        self.wait_handled(id).await;
        self.fresh(user.id)
    }

    /// Presses the button with this label under the newest message that has it.
    pub async fn press(&mut self, user: &FakeUser, label: &str) -> Vec<BotMessage> {
        self.fresh(user.id);
        let messages = self.fake.messages(user.id);
        let (message_id, data) = messages
            .iter()
            .rev()
            .find_map(|m| {
                m.button(label)
                    .map(|b| (m.message_id, b.callback_data.clone()))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no button «{label}» in the chat; last: {:?}",
                    messages.last().map(|m| m.shown_text())
                )
            });
        let data = data.unwrap_or_else(|| panic!("«{label}» is a URL button"));
        let id = self
            .fake
            .press_button(user, user.id, message_id, &data)
            .unwrap();
        self.wait_handled(id).await;
        self.fresh(user.id)
    }

    /// Presses a button with raw callback data (forged or replayed) under a message.
    pub async fn press_data(
        &mut self,
        user: &FakeUser,
        chat: i64,
        message_id: i32,
        data: &str,
    ) -> Vec<BotMessage> {
        self.fresh(chat);
        let id = self
            .fake
            .press_button(user, chat, message_id, data)
            .unwrap();
        self.wait_handled(id).await;
        self.fresh(chat)
    }

    /// A callback query no real client would send: data that is not on the message (forged,
    /// tampered or replayed from another message).
    pub async fn forge_button(
        &mut self,
        user: &FakeUser,
        chat: i64,
        message_id: i32,
        data: &str,
    ) -> Vec<BotMessage> {
        self.fresh(chat);
        let message = self
            .fake
            .message(chat, message_id)
            .expect("message to forge on")
            .json;
        let id = self
            .fake
            .send_update(serde_json::json!({
                "callback_query": {
                    "id": format!("forged-{}", rand::random::<u32>()),
                    "from": user.to_json(),
                    "message": message,
                    "chat_instance": "forged",
                    "data": data,
                }
            }))
            .unwrap();
        self.wait_handled(id).await;
        self.fresh(chat)
    }

    pub async fn send_file(
        &mut self,
        user: &FakeUser,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Vec<BotMessage> {
        self.fresh(user.id);
        let id = self.fake.send_document(user, name, mime, bytes.to_vec());
        self.wait_handled(id).await;
        self.fresh(user.id)
    }

    pub async fn send_photo(&mut self, user: &FakeUser, bytes: &[u8]) -> Vec<BotMessage> {
        self.fresh(user.id);
        let id = self.fake.send_photo(user, bytes.to_vec());
        self.wait_handled(id).await;
        self.fresh(user.id)
    }

    /// Sends a staff member's text in the staff chat, as a reply to the bot's message.
    pub async fn staff_reply(
        &mut self,
        staff: &FakeUser,
        to_message: i32,
        text: &str,
    ) -> Vec<BotMessage> {
        self.fresh(STAFF_CHAT);
        let content = serde_json::json!({
            "text": text,
            "reply_to_message": self.fake.message(STAFF_CHAT, to_message).expect("staff message").json,
        });
        let id = self
            .fake
            .send_message_in_with(STAFF_CHAT, staff, content)
            .unwrap();
        self.wait_handled(id).await;
        self.fresh(STAFF_CHAT)
    }

    /// A staff member (or anyone) writes `text` in the staff chat.
    pub async fn staff_say(&mut self, user: &FakeUser, text: &str) -> Vec<BotMessage> {
        self.fresh(STAFF_CHAT);
        let chat = uchbot::telegram::fake_api::FakeChat::supergroup(STAFF_CHAT, "Сотрудники");
        let id = self.fake.send_text_in(&chat, user, text);
        self.wait_handled(id).await;
        self.fresh(STAFF_CHAT)
    }

    /// `user` presses the button with this label under the newest message of `chat` that has
    /// it; returns the toast (the callback answer) and the chat's new or changed messages.
    pub async fn press_in(
        &mut self,
        user: &FakeUser,
        chat: i64,
        label: &str,
    ) -> (Option<String>, Vec<BotMessage>) {
        self.fresh(chat);
        let messages = self.fake.messages(chat);
        let (message_id, data) = messages
            .iter()
            .rev()
            .find_map(|m| {
                m.button(label)
                    .map(|b| (m.message_id, b.callback_data.clone()))
            })
            .unwrap_or_else(|| panic!("no button «{label}» in chat {chat}"));
        let data = data.unwrap_or_else(|| panic!("«{label}» is a URL button"));
        let id = self
            .fake
            .press_button(user, chat, message_id, &data)
            .unwrap();
        self.wait_handled(id).await;
        let toast = self.fake.callback_answer(id).and_then(|a| a.text);
        (toast, self.fresh(chat))
    }

    /// The learner sends a message with these content fields (a sticker, a location, a
    /// document by file_id…) in their private chat; returns the bot's new messages there.
    pub async fn send_content(
        &mut self,
        user: &FakeUser,
        content: serde_json::Value,
    ) -> Vec<BotMessage> {
        self.fresh(user.id);
        let id = self.fake.send_message_with(user, content).unwrap();
        self.wait_handled(id).await;
        self.fresh(user.id)
    }

    /// `user` writes `text` in a group chat; waits until the bot has handled it.
    pub async fn say_in_group(
        &mut self,
        chat: &uchbot::telegram::fake_api::FakeChat,
        user: &FakeUser,
        text: &str,
    ) -> Vec<BotMessage> {
        self.fresh(chat.id);
        let id = self.fake.send_text_in(chat, user, text);
        self.wait_handled(id).await;
        self.fresh(chat.id)
    }

    /// Queues any update (e.g. a forged callback query) and waits until it is handled.
    pub async fn send_update(&mut self, update: serde_json::Value) {
        let id = self.fake.send_update(update).unwrap();
        self.wait_handled(id).await;
    }

    /// Waits until a message in `chat` contains `needle` (for notices that go through the
    /// outbox rather than straight back).
    pub async fn wait_text(&self, chat: i64, needle: &str) -> BotMessage {
        self.fake
            .wait_for(
                |f| {
                    f.messages(chat)
                        .into_iter()
                        .rev()
                        .find(|m| m.shown_text().is_some_and(|t| t.contains(needle)))
                },
                Duration::from_secs(15),
            )
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no message with «{needle}» in chat {chat}; have: {:#?}",
                    self.fake
                        .messages(chat)
                        .iter()
                        .map(|m| m.shown_text().map(str::to_owned))
                        .collect::<Vec<_>>()
                )
            })
    }
}

async fn serve_http(
    app: Arc<App>,
    messenger: Arc<uchbot::telegram::bot::TelegramMessenger>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = uchbot::http::router(uchbot::http::HttpState { app, messenger });
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (url, task)
}

pub fn text_of(messages: &[BotMessage]) -> String {
    messages
        .iter()
        .map(|m| m.shown_text().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

pub fn buttons_of(messages: &[BotMessage]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| m.buttons().map(|b| b.text.clone()))
        .collect()
}

/// One step of a conversation script.
pub enum Step {
    Say(String),
    Press(String),
    /// Presses the newest button whose label starts with this.
    PressPrefix(String),
    File {
        name: String,
        mime: String,
        bytes: Vec<u8>,
    },
    /// The bot's answer to the last action contains this text.
    Sees(String),
    /// …and offers this button.
    Button(String),
    /// …and does not contain this text.
    NotSees(String),
}

pub fn say(s: impl Into<String>) -> Step {
    Step::Say(s.into())
}
pub fn press(s: impl Into<String>) -> Step {
    Step::Press(s.into())
}
pub fn press_prefix(s: impl Into<String>) -> Step {
    Step::PressPrefix(s.into())
}
pub fn sees(s: impl Into<String>) -> Step {
    Step::Sees(s.into())
}
pub fn button(s: impl Into<String>) -> Step {
    Step::Button(s.into())
}
pub fn not_sees(s: impl Into<String>) -> Step {
    Step::NotSees(s.into())
}
pub fn file(name: &str, mime: &str, bytes: &[u8]) -> Step {
    Step::File {
        name: name.into(),
        mime: mime.into(),
        bytes: bytes.to_vec(),
    }
}

/// Runs a script: actions, each followed by what the learner must see in the answer.
pub async fn run(bot: &mut TestBot, user: &FakeUser, script: Vec<Step>) {
    let mut last: Vec<BotMessage> = Vec::new();
    let mut last_action = String::from("(start)");
    for step in script {
        match step {
            Step::Say(text) => {
                last_action = format!("say «{text}»");
                last = bot.say(user, &text).await;
            }
            Step::Press(label) => {
                last_action = format!("press «{label}»");
                last = bot.press(user, &label).await;
            }
            Step::PressPrefix(prefix) => {
                let label = bot
                    .fake
                    .messages(user.id)
                    .iter()
                    .rev()
                    .find_map(|m| {
                        m.buttons()
                            .find(|b| b.text.starts_with(&prefix))
                            .map(|b| b.text.clone())
                    })
                    .unwrap_or_else(|| panic!("no button starting with «{prefix}»"));
                last_action = format!("press «{label}»");
                last = bot.press(user, &label).await;
            }
            Step::File { name, mime, bytes } => {
                last_action = format!("file «{name}»");
                last = bot.send_file(user, &name, &mime, &bytes).await;
            }
            Step::Sees(needle) => {
                let text = text_of(&last);
                assert!(
                    text.contains(&needle),
                    "after {last_action}: expected «{needle}» in:\n{text}"
                );
            }
            Step::Button(label) => {
                let buttons = buttons_of(&last);
                assert!(
                    buttons.contains(&label),
                    "after {last_action}: expected button «{label}» in {buttons:?}"
                );
            }
            Step::NotSees(needle) => {
                let text = text_of(&last);
                assert!(
                    !text.contains(&needle),
                    "after {last_action}: did not expect «{needle}» in:\n{text}"
                );
            }
        }
    }
}
