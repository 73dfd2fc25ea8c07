//! The update handler tree (dptree): staff buttons and replies, learners' messages and
//! buttons, everything else ignored. Updates become journey inputs here; the journey and
//! the engine do the rest.
use std::sync::Arc;

use rand::Rng;
use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::dptree;
use teloxide::prelude::*;
use teloxide::types::{ChatKind, MediaKind, MessageKind, User};

use super::bot::TelegramMessenger;
use super::inbox::Inbox;
use crate::app::{engine, staff, staff_commands, App, Origin};
use crate::journey::action::Action;
use crate::journey::documents::IncomingFile;
use crate::journey::{Cmd, Input};
use crate::store::learners;
use crate::tr;

pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;
pub type Handler = dptree::Handler<'static, HandlerResult, DpHandlerDescription>;

/// Observers of handled updates (the shell waits for the bot to finish answering).
pub type Handled = tokio::sync::broadcast::Sender<i64>;

/// The end of every branch: the inbox row is done (not handed out again), then observers
/// hear of it.
pub async fn finished(inbox: &Inbox, handled: &Handled, update_id: i64) {
    inbox.finish(update_id).await;
    let _ = handled.send(update_id);
}

/// Runs a handler's work so that a panic in it (a bug) becomes an error like any other:
/// the learner hears of the trouble and the update is done, instead of the chat's worker
/// dying with the update in flight and every later update of that chat.
async fn guarded(
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    use futures::FutureExt as _;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("the handler panicked")),
    }
}

pub fn schema() -> Handler {
    dptree::entry()
        .branch(Update::filter_callback_query().endpoint(on_button))
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_edited_message().endpoint(on_edited_message))
}

/// An edit of a message already answered: the answer stands, so say how to correct it
/// (in private chats only; edits elsewhere are not the learner's business with the bot).
async fn on_edited_message(
    app: Arc<App>,
    messenger: Arc<TelegramMessenger>,
    handled: Handled,
    inbox: Arc<Inbox>,
    update: Update,
    msg: Message,
) -> HandlerResult {
    use crate::app::Messenger as _;
    let private = matches!(msg.chat.kind, ChatKind::Private(_));
    let from_person = msg.from.as_ref().is_some_and(|u| !u.is_bot);
    let result = if private && from_person {
        let note = crate::journey::reply::Reply::text(tr!(app.texts, "edited-message-note"));
        messenger.send(msg.chat.id.0, &note).await.map(|_| ())
    } else {
        Ok(())
    };
    finished(&inbox, &handled, update.id.0 as i64).await;
    result.map_err(Into::into)
}

fn display_name(user: &User) -> String {
    match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    }
}

fn new_mail_token() -> String {
    hex::encode(rand::thread_rng().gen::<[u8; 8]>())
}

async fn learner_for(app: &App, user: &User, chat_id: i64) -> anyhow::Result<i64> {
    let mut conn = app.store.pool().acquire().await?;
    let learner = learners::ensure_telegram(
        &mut conn,
        user.id.0 as i64,
        chat_id,
        user.username.as_deref(),
        &display_name(user),
        &new_mail_token(),
        app.now().timestamp(),
    )
    .await?;
    Ok(learner.id)
}

/// `/start payload`, `/help@bot` … → a journey input; menu labels count as commands.
pub fn text_input(app: &App, text: &str) -> Input {
    let t = &app.texts;
    if let Some(rest) = text.strip_prefix('/') {
        let (command, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let command = command.split('@').next().unwrap_or("").to_lowercase();
        return match command.as_str() {
            "start" => Input::Start {
                payload: Some(args.trim().to_owned()).filter(|p| !p.is_empty()),
            },
            "help" => Input::Command(Cmd::Help),
            "status" => Input::Command(Cmd::Status),
            "cancel" => Input::Command(Cmd::Cancel),
            "catalog" => Input::Command(Cmd::Catalog),
            "mydata" => Input::Command(Cmd::MyData),
            "forget" => Input::Command(Cmd::Forget),
            "schedule" => Input::Command(Cmd::Schedule),
            "materials" => Input::Command(Cmd::Materials),
            "test" => Input::Command(Cmd::Test),
            _ => Input::Text(text.to_owned()),
        };
    }
    if text == tr!(t, "menu-catalog") {
        Input::Command(Cmd::Catalog)
    } else if text == tr!(t, "menu-status") {
        Input::Command(Cmd::Status)
    } else if text == tr!(t, "menu-help") {
        Input::Command(Cmd::Help)
    } else if text == tr!(t, "menu-schedule") {
        Input::Command(Cmd::Schedule)
    } else if text == tr!(t, "menu-test") {
        Input::Command(Cmd::Test)
    } else {
        Input::Text(text.to_owned())
    }
}

fn message_input(app: &App, msg: &Message) -> Input {
    let MessageKind::Common(common) = &msg.kind else {
        return Input::Unsupported;
    };
    match &common.media_kind {
        MediaKind::Text(text) => text_input(app, &text.text),
        MediaKind::Document(doc) => Input::File(IncomingFile {
            file_id: doc.document.file.id.0.clone(),
            name: doc.document.file_name.clone(),
            mime: doc.document.mime_type.as_ref().map(|m| m.to_string()),
            size: Some(u64::from(doc.document.file.size)),
            photo: false,
        }),
        MediaKind::Photo(photo) => match photo.photo.iter().max_by_key(|p| p.width * p.height) {
            Some(best) => Input::File(IncomingFile {
                file_id: best.file.id.0.clone(),
                name: None,
                mime: Some("image/jpeg".into()),
                size: Some(u64::from(best.file.size)),
                photo: true,
            }),
            None => Input::Unsupported,
        },
        _ => Input::Unsupported,
    }
}

async fn on_message(
    app: Arc<App>,
    messenger: Arc<TelegramMessenger>,
    handled: Handled,
    inbox: Arc<Inbox>,
    update: Update,
    msg: Message,
) -> HandlerResult {
    let result = guarded(route_message(&app, &messenger, &msg, update.id.0 as i64)).await;
    if result.is_err() && matches!(msg.chat.kind, ChatKind::Private(_)) {
        // The database is away (or similar): the learner should know to try again.
        use crate::app::Messenger as _;
        let sorry = crate::journey::reply::Reply::text(tr!(app.texts, "technical-trouble"));
        let _ = messenger.send(msg.chat.id.0, &sorry).await;
    }
    finished(&inbox, &handled, update.id.0 as i64).await;
    result.map_err(Into::into)
}

async fn route_message(
    app: &App,
    messenger: &TelegramMessenger,
    msg: &Message,
    update_id: i64,
) -> anyhow::Result<()> {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    if user.is_bot {
        return Ok(());
    }
    let chat_id = msg.chat.id.0;
    if chat_id == app.staff.chat_id && app.staff.chat_id != 0 {
        return staff_message(app, messenger, user, msg, true, update_id)
            .await
            .map(|_| ());
    }
    if !matches!(msg.chat.kind, ChatKind::Private(_)) {
        // The bot is not a group participant; it answers learners in private only.
        return Ok(());
    }
    if app.staff.role(user.id.0 as i64).is_some() {
        super::staff_setup::ensure_private_commands(app, messenger.bot(), user.id.0 as i64).await;
        if staff_message(app, messenger, user, msg, false, update_id).await? {
            return Ok(());
        }
    }
    let input = message_input(app, msg);
    let username = user.username.as_deref();
    crate::app::telegram_link::from_start(app, &input, user.id.0 as i64, chat_id, username).await?;
    let learner_id = learner_for(app, user, chat_id).await?;
    let origin = Origin {
        chat_id: Some(chat_id),
        message_id: None,
        callback_id: None,
        tg_user_id: Some(user.id.0 as i64),
        interactive: true,
        update_id: Some(update_id),
    };
    engine::handle(app, messenger, learner_id, &origin, input).await
}

/// The forum topic a message belongs to (replies in ordinary groups form no topic).
fn topic_of(msg: &Message) -> Option<i32> {
    msg.thread_id
        .filter(|_| msg.is_topic_message)
        .map(|t| t.0 .0)
}

/// A message for the staff side: in the staff chat (commands, replies to the bot's
/// questions), or a staff member's command in private. False: not the staff side's.
async fn staff_message(
    app: &App,
    messenger: &TelegramMessenger,
    user: &User,
    msg: &Message,
    in_staff_chat: bool,
    update_id: i64,
) -> anyhow::Result<bool> {
    let Some(text) = msg.text() else {
        return Ok(in_staff_chat);
    };
    let reply_to_bot = msg
        .reply_to_message()
        .filter(|r| r.from.as_ref().is_some_and(|u| u.is_bot))
        .map(|r| r.id.0);
    let staff_msg = staff_commands::StaffMessage {
        user_id: user.id.0 as i64,
        chat_id: msg.chat.id.0,
        thread_id: topic_of(msg),
        text,
        reply_to_bot,
        in_staff_chat,
        update_id: Some(update_id),
    };
    staff_commands::on_message(app, messenger, &staff_msg).await
}

async fn on_button(
    app: Arc<App>,
    messenger: Arc<TelegramMessenger>,
    handled: Handled,
    inbox: Arc<Inbox>,
    update: Update,
    query: CallbackQuery,
) -> HandlerResult {
    let result = guarded(route_button(&app, &messenger, &query, update.id.0 as i64)).await;
    if result.is_err() {
        use crate::app::Messenger as _;
        let sorry = tr!(app.texts, "technical-trouble-short");
        let _ = messenger.answer_button(&query.id.0, Some(&sorry)).await;
    }
    finished(&inbox, &handled, update.id.0 as i64).await;
    result.map_err(Into::into)
}

async fn route_button(
    app: &App,
    messenger: &TelegramMessenger,
    query: &CallbackQuery,
    update_id: i64,
) -> anyhow::Result<()> {
    use crate::app::Messenger as _;
    let action = query.data.as_deref().and_then(Action::parse);
    let message = query.message.as_ref();
    let chat_id = message.map(|m| m.chat().id.0);
    let message_id = message.map(|m| m.id().0);
    if let Some(action) = action.clone().filter(Action::is_staff) {
        let (Some(chat_id), Some(message_id)) = (chat_id, message_id) else {
            return Ok(());
        };
        let press = staff::Press {
            user_id: query.from.id.0 as i64,
            user_name: &display_name(&query.from),
            chat_id,
            thread_id: message.and_then(|m| m.regular_message()).and_then(topic_of),
            message_id,
            callback_id: &query.id.0,
            update_id: Some(update_id),
        };
        return staff::button(app, messenger, &press, action).await;
    }
    let private = chat_id.is_some_and(|c| c == query.from.id.0 as i64);
    if !private {
        messenger.answer_button(&query.id.0, None).await.ok();
        return Ok(());
    }
    let learner_id = learner_for(app, &query.from, query.from.id.0 as i64).await?;
    let origin = Origin {
        chat_id,
        message_id,
        callback_id: Some(query.id.0.clone()),
        tg_user_id: Some(query.from.id.0 as i64),
        interactive: true,
        update_id: Some(update_id),
    };
    let input = action.map_or(Input::BadButton, Input::Button);
    engine::handle(app, messenger, learner_id, &origin, input).await
}
