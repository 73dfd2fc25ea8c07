//! `/start link_<token>`: the link in the bot's letters joins the Telegram account that
//! follows it to the learner known by email, before the step runs — so the step (and every
//! one after it) sees that learner, their enrollments and the test they can now take.
use super::App;
use crate::journey::registration::LINK_PREFIX;
use crate::journey::Input;
use crate::store::{self, learners};

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
    let linked =
        learners::link_telegram(&mut tx, token, tg_user_id, chat_id, username, now).await?;
    tx.commit().await?;
    tracing::info!(linked, "telegram link from a letter");
    Ok(())
}
