//! [`Messenger`] over the Telegram Bot API (teloxide): replies become messages with inline
//! keyboards in Telegram HTML; new messages wait for a place under Telegram's flood limits
//! ([`RateLimiter`]), 429 answers are waited out, other failures classified.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use teloxide::net::Download;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, SendDocumentSetters, SendMessageSetters,
};
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, FileId, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode, ReplyMarkup,
    ThreadId,
};
use teloxide::{ApiError, RequestError};

use super::limiter::{Lane, RateLimiter};
use super::split::{split_html, MAX_MESSAGE_CHARS};
use crate::app::messenger::{Messenger, SendError};
use crate::journey::reply::{Button, Reply};
use crate::texts::Texts;
use crate::tr;

/// The longest flood-control pause worth waiting inside a call; longer ones go back to the
/// caller as temporary failures (the outbox retries later).
const MAX_INLINE_WAIT: Duration = Duration::from_secs(30);

/// How long `serve` waits for getMe at start before going on without the username.
const GET_ME_TIMEOUT: Duration = Duration::from_secs(10);

/// The bot's username from getMe (deep links in letters need it), or `None` when Telegram
/// does not answer in time: the bot still starts, letters then go without the link.
pub async fn username_from_get_me(bot: &Bot) -> Option<String> {
    match tokio::time::timeout(GET_ME_TIMEOUT, bot.get_me()).await {
        Ok(Ok(me)) => me.user.username.clone().filter(|u| !u.is_empty()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "getMe failed: letters go without the bot's link");
            None
        }
        Err(_) => {
            tracing::warn!("getMe timed out: letters go without the bot's link");
            None
        }
    }
}

#[derive(Clone)]
pub struct TelegramMessenger {
    bot: Bot,
    menu: KeyboardMarkup,
    limiter: Arc<RateLimiter>,
    /// The queue its messages wait in under the limiter (the dispatcher's answers go first,
    /// the scheduler's and the outbox's reminders after them).
    lane: Lane,
}

/// The main menu under the input field.
pub fn main_menu(t: &Texts) -> KeyboardMarkup {
    KeyboardMarkup::new(vec![
        vec![
            KeyboardButton::new(tr!(t, "menu-catalog")),
            KeyboardButton::new(tr!(t, "menu-status")),
        ],
        vec![
            KeyboardButton::new(tr!(t, "menu-schedule")),
            KeyboardButton::new(tr!(t, "menu-help")),
        ],
        vec![KeyboardButton::new(tr!(t, "menu-test"))],
    ])
    .resize_keyboard()
    .persistent()
}

pub fn inline_keyboard(reply: &Reply) -> Option<InlineKeyboardMarkup> {
    if reply.buttons.is_empty() {
        return None;
    }
    let rows = reply.buttons.iter().map(|row| {
        row.iter()
            .filter_map(|b| match b {
                Button::Action { label, action } => Some(InlineKeyboardButton::callback(
                    label.clone(),
                    action.encode(),
                )),
                Button::Url { label, url } => reqwest::Url::parse(url)
                    .ok()
                    .map(|u| InlineKeyboardButton::url(label.clone(), u)),
            })
            .collect::<Vec<_>>()
    });
    Some(InlineKeyboardMarkup::new(rows))
}

/// Telegram's answer when a forum topic no longer exists.
fn thread_gone(e: &SendError) -> bool {
    matches!(e, SendError::Permanent(text) if text.contains("message thread not found"))
}

fn classify(e: RequestError) -> SendError {
    match e {
        RequestError::Network(e) => SendError::Temporary(e.to_string()),
        RequestError::RetryAfter(s) => {
            SendError::Temporary(format!("flood control: retry after {}s", s.seconds()))
        }
        RequestError::Api(
            ApiError::BotBlocked | ApiError::ChatNotFound | ApiError::UserDeactivated,
        ) => SendError::Permanent(e.to_string()),
        RequestError::Api(ApiError::Unknown(ref s))
            if s.contains("Internal Server Error") || s.contains("Bad Gateway") =>
        {
            SendError::Temporary(e.to_string())
        }
        other => SendError::Permanent(other.to_string()),
    }
}

/// Runs a request, waiting out flood control (429 `retry_after`) a few times; the pause holds
/// every other message back too. A 429 means the message was not taken, so trying again
/// cannot duplicate it.
async fn with_flood_wait<T, F, Fut>(limiter: &RateLimiter, mut call: F) -> Result<T, SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut waits = 0;
    loop {
        match call().await {
            Err(RequestError::RetryAfter(s)) => {
                limiter.pause_for(s.duration());
                if waits == 3 || s.duration() > MAX_INLINE_WAIT {
                    // The caller (the outbox) tries again later.
                    return Err(classify(RequestError::RetryAfter(s)));
                }
                waits += 1;
                tracing::warn!(seconds = s.seconds(), "Telegram flood control; waiting");
                tokio::time::sleep(s.duration()).await;
            }
            other => return other.map_err(classify),
        }
    }
}

impl TelegramMessenger {
    pub fn new(bot: Bot, texts: &Texts) -> Self {
        Self {
            bot,
            menu: main_menu(texts),
            limiter: Arc::new(RateLimiter::default()),
            lane: Lane::Conversation,
        }
    }

    /// Sends under this limiter instead (several instances share Telegram's quota).
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// The same bot and limiter, its messages waiting in `lane`: give the scheduler and the
    /// outbox worker a [`Lane::Bulk`] one, so that their thousands of messages do not hold
    /// up answers to learners.
    pub fn in_lane(&self, lane: Lane) -> Self {
        Self {
            lane,
            ..self.clone()
        }
    }

    pub fn lane(&self) -> Lane {
        self.lane
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    fn markup(&self, reply: &Reply) -> Option<ReplyMarkup> {
        // A message carries one keyboard: the inline one wins; the menu, once shown, stays.
        match inline_keyboard(reply) {
            Some(k) => Some(ReplyMarkup::InlineKeyboard(k)),
            None if reply.menu => Some(ReplyMarkup::Keyboard(self.menu.clone())),
            None => None,
        }
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

#[async_trait]
impl Messenger for TelegramMessenger {
    async fn send(&self, chat_id: i64, reply: &Reply) -> Result<i32, SendError> {
        self.send_in(chat_id, None, reply).await
    }

    async fn send_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        reply: &Reply,
    ) -> Result<i32, SendError> {
        let parts = split_html(&reply.text, MAX_MESSAGE_CHARS);
        if let Some((last, first)) = parts.split_last().filter(|(_, first)| !first.is_empty()) {
            // A long text goes as several messages; the buttons stay under the last one.
            for part in first {
                self.send_in(chat_id, thread_id, &Reply::text(part.clone()))
                    .await?;
            }
            let last = Reply {
                text: last.clone(),
                ..reply.clone()
            };
            return self.send_in(chat_id, thread_id, &last).await;
        }
        let markup = self.markup(reply);
        let _place = self.limiter.acquire(chat_id, self.lane).await;
        let call = |thread: Option<i32>| {
            let markup = markup.clone();
            with_flood_wait(&self.limiter, move || {
                let mut req = self
                    .bot
                    .send_message(ChatId(chat_id), reply.text.clone())
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview());
                if let Some(m) = markup.clone() {
                    req = req.reply_markup(m);
                }
                if let Some(t) = thread {
                    req = req.message_thread_id(ThreadId(MessageId(t)));
                }
                async move { req.await }
            })
        };
        let sent = match call(thread_id).await {
            // The topic was deleted: the main thread rather than nowhere.
            Err(e) if thread_id.is_some() && thread_gone(&e) => call(None).await?,
            other => other?,
        };
        Ok(sent.id.0)
    }

    async fn edit(&self, chat_id: i64, message_id: i32, reply: &Reply) -> Result<(), SendError> {
        let keyboard = inline_keyboard(reply);
        with_flood_wait(&self.limiter, || {
            let mut req = self
                .bot
                .edit_message_text(ChatId(chat_id), MessageId(message_id), reply.text.clone())
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview());
            if let Some(k) = keyboard.clone() {
                req = req.reply_markup(k);
            }
            async move { req.await }
        })
        .await
        .map(|_| ())
    }

    async fn answer_button(&self, callback_id: &str, text: Option<&str>) -> Result<(), SendError> {
        let id = teloxide::types::CallbackQueryId(callback_id.to_owned());
        with_flood_wait(&self.limiter, || {
            let mut req = self.bot.answer_callback_query(id.clone());
            if let Some(t) = text {
                req = req.text(t.chars().take(200).collect::<String>());
            }
            async move { req.await }
        })
        .await
        .map(|_| ())
    }

    async fn send_file(
        &self,
        chat_id: i64,
        file_name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<i32, SendError> {
        self.send_file_in(chat_id, None, file_name, bytes, caption)
            .await
    }

    async fn send_file_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        file_name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<i32, SendError> {
        let _place = self.limiter.acquire(chat_id, self.lane).await;
        let call = |thread: Option<i32>| {
            let bytes = bytes.clone();
            with_flood_wait(&self.limiter, move || {
                let mut req = self
                    .bot
                    .send_document(
                        ChatId(chat_id),
                        InputFile::memory(bytes.clone()).file_name(file_name.to_owned()),
                    )
                    .caption(caption.to_owned());
                if let Some(t) = thread {
                    req = req.message_thread_id(ThreadId(MessageId(t)));
                }
                async move { req.await }
            })
        };
        let sent = match call(thread_id).await {
            Err(e) if thread_id.is_some() && thread_gone(&e) => call(None).await?,
            other => other?,
        };
        Ok(sent.id.0)
    }

    async fn ask_reply(&self, chat_id: i64, text: &str) -> Result<i32, SendError> {
        self.ask_reply_in(chat_id, None, text).await
    }

    async fn ask_reply_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        text: &str,
    ) -> Result<i32, SendError> {
        let _place = self.limiter.acquire(chat_id, self.lane).await;
        let sent = with_flood_wait(&self.limiter, || {
            let mut req = self
                .bot
                .send_message(ChatId(chat_id), text.to_owned())
                .reply_markup(ReplyMarkup::ForceReply(ForceReply::new().selective()));
            if let Some(t) = thread_id {
                req = req.message_thread_id(ThreadId(MessageId(t)));
            }
            async move { req.await }
        })
        .await?;
        Ok(sent.id.0)
    }

    async fn download(&self, file_id: &str, max_bytes: u64) -> Result<Vec<u8>, SendError> {
        let file = with_flood_wait(&self.limiter, || {
            let req = self.bot.get_file(FileId(file_id.to_owned()));
            async move { req.await }
        })
        .await?;
        if u64::from(file.meta.size) > max_bytes {
            return Err(SendError::Permanent(format!(
                "file too large: {} bytes",
                file.meta.size
            )));
        }
        let mut buffer = Vec::with_capacity(file.meta.size as usize);
        tokio::time::timeout(
            Duration::from_secs(120),
            self.bot.download_file(&file.path, &mut buffer),
        )
        .await
        .map_err(|_| SendError::Temporary("download timed out".into()))?
        .map_err(|e| SendError::Temporary(e.to_string()))?;
        if buffer.len() as u64 > max_bytes {
            return Err(SendError::Permanent(format!(
                "file too large: {} bytes",
                buffer.len()
            )));
        }
        Ok(buffer)
    }
}
