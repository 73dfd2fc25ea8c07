//! The learner-facing channel as the runtime needs it. Telegram implements it over the Bot
//! API; tests and the shell use the same implementation against a local Bot API.
use async_trait::async_trait;

use crate::journey::reply::Reply;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (network, 5xx, 429).
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Will not work however often it is tried (chat gone, bot blocked, bad request).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Messenger: Send + Sync {
    /// Sends a message; returns its id.
    async fn send(&self, chat_id: i64, reply: &Reply) -> Result<i32, SendError>;
    /// Replaces a message's text and buttons.
    async fn edit(&self, chat_id: i64, message_id: i32, reply: &Reply) -> Result<(), SendError>;
    /// Answers a button press (stops the spinner), with an optional short text.
    async fn answer_button(&self, callback_id: &str, text: Option<&str>) -> Result<(), SendError>;
    /// Sends a file.
    async fn send_file(
        &self,
        chat_id: i64,
        file_name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<i32, SendError>;
    /// Asks for a reply to a message (staff typing a reason).
    async fn ask_reply(&self, chat_id: i64, text: &str) -> Result<i32, SendError>;
    /// Sends a message into a forum topic of a group (`None`: the chat's main thread). A
    /// channel without topics sends it to the chat.
    async fn send_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        reply: &Reply,
    ) -> Result<i32, SendError> {
        let _ = thread_id;
        self.send(chat_id, reply).await
    }
    /// Sends a file into a forum topic (`None`: the chat's main thread).
    async fn send_file_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        file_name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<i32, SendError> {
        let _ = thread_id;
        self.send_file(chat_id, file_name, bytes, caption).await
    }
    /// Asks for a reply in a forum topic (`None`: the chat's main thread).
    async fn ask_reply_in(
        &self,
        chat_id: i64,
        thread_id: Option<i32>,
        text: &str,
    ) -> Result<i32, SendError> {
        let _ = thread_id;
        self.ask_reply(chat_id, text).await
    }
    /// Downloads a file the learner sent, refusing it above `max_bytes`.
    async fn download(&self, file_id: &str, max_bytes: u64) -> Result<Vec<u8>, SendError>;
}
