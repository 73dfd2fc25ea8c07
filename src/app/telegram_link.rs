//! `/start link_<token>`: the link in the bot's letters joins the Telegram account that
//! follows it to the learner known by email, before the step runs — so the step (and every
//! one after it) sees that learner, their enrollments and the test they can now take.
use super::letters::QueuedLetter;
use super::outbox;
use super::App;
use crate::journey::registration::LINK_PREFIX;
use crate::journey::Input;
use crate::store::{self, learners};
use crate::tr;

/// Links when `input` is such a `/start`; the journey then tells the learner whether it
/// worked (the learner's own token is in their snapshot).
pub async fn from_start(
    app: &App,
    input: &Input,
    tg_user_id: i64,
    chat_id: i64,
    username: Option<&str>,
) -> store::Result<()> {
    let Input::Start { payload: Some(p) } = input else {
        return Ok(());
    };
    let Some(token) = p.strip_prefix(LINK_PREFIX) else {
        return Ok(());
    };
    if token.is_empty() || token.len() > 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(());
    }
    let mut tx = app.store.begin().await?;
    let now = app.now().timestamp();
    let before = learners::by_mail_token(&mut tx, token).await?;
    let linked =
        learners::link_telegram(&mut tx, token, tg_user_id, chat_id, username, now).await?;
    // Whoever holds one of the learner's letters can follow its link: the learner hears by
    // letter that an account was joined, so a stranger's link does not go unnoticed.
    if let Some(learner) = before.filter(|l| linked && l.tg_user_id.is_none()) {
        if let Some(email) = learner.email.as_ref() {
            let account = match username {
                Some(u) => format!("@{u}"),
                None => tg_user_id.to_string(),
            };
            let letter = QueuedLetter {
                to: email.clone(),
                subject: tr!(
                    app.texts,
                    "letter-notice-subject",
                    school = &app.school.name
                ),
                text: tr!(app.texts, "telegram-linked-letter", account = account),
                reply_to: None,
                message_id: crate::email::smtp::new_message_id(app.mail_domain()),
                in_reply_to: None,
                attachments: Vec::new(),
            };
            let key = format!("telegram-linked:{}:{tg_user_id}", learner.id);
            outbox::enqueue_letter(&mut tx, &key, &letter, now).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(linked, "telegram link from a letter");
    Ok(())
}
