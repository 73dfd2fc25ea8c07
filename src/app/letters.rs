//! Letters the bot sends: queued in the outbox as data, delivered by a [`MailTransport`].
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::email::smtp::{Letter, Mailer, OutgoingAttachment, SendError};

/// A letter as stored in the outbox. Attachments are referenced, not copied, when they are
/// stored documents; generated files (samples) are carried inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedLetter {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub reply_to: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub attachments: Vec<QueuedAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAttachment {
    pub file_name: String,
    pub mime: String,
    /// Base64 of the bytes.
    pub content: String,
}

impl QueuedLetter {
    pub fn to_letter(&self) -> Letter {
        use base64::Engine;
        Letter {
            to: self.to.clone(),
            to_name: None,
            subject: self.subject.clone(),
            text: self.text.clone(),
            html: Some(html_of(&self.text)),
            reply_to: self.reply_to.clone(),
            message_id: self.message_id.clone(),
            in_reply_to: self.in_reply_to.clone(),
            attachments: self
                .attachments
                .iter()
                .map(|a| OutgoingAttachment {
                    file_name: a.file_name.clone(),
                    mime: a.mime.clone(),
                    bytes: base64::engine::general_purpose::STANDARD
                        .decode(&a.content)
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// The HTML alternative of a plain-text letter: paragraphs, line breaks and links.
pub fn html_of(text: &str) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif;font-size:15px;line-height:1.5\">",
    );
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<String> = paragraph.lines().map(linkify).collect();
        html.push_str("<p>");
        html.push_str(&lines.join("<br>"));
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    html
}

/// One line escaped, with its http(s) addresses as links.
fn linkify(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            let escaped = crate::journey::reply::escape(word);
            if word.starts_with("https://") || word.starts_with("http://") {
                format!("<a href=\"{escaped}\">{escaped}</a>")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, letter: &Letter) -> Result<(), SendError>;
}

#[async_trait]
impl MailTransport for Mailer {
    async fn send(&self, letter: &Letter) -> Result<(), SendError> {
        Mailer::send(self, letter).await
    }
}

/// `uchbot shell`: letters are printed in the terminal instead of being sent.
pub struct TerminalMail {
    pub out: std::sync::Arc<dyn Fn(String) + Send + Sync>,
}

#[async_trait]
impl MailTransport for TerminalMail {
    async fn send(&self, letter: &Letter) -> Result<(), SendError> {
        let attachments: Vec<&str> = letter
            .attachments
            .iter()
            .map(|a| a.file_name.as_str())
            .collect();
        let mut text = format!("✉  {} · {}\n", letter.to, letter.subject);
        for line in letter.text.lines() {
            text.push_str("   │ ");
            text.push_str(line);
            text.push('\n');
        }
        if !attachments.is_empty() {
            text.push_str(&format!("   📎 {}\n", attachments.join(", ")));
        }
        (self.out)(text);
        Ok(())
    }
}
