//! The staff side's setup in Telegram: command menus scoped to the staff chat and to staff
//! members' private chats (learners keep the default menu and never see staff commands),
//! and a forum topic per kind of alert when the staff chat is a forum.
use std::collections::HashSet;
use std::sync::Mutex;

use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};

use crate::app::alerts::AlertKind;
use crate::app::staff_commands::COMMANDS;
use crate::app::App;
use crate::store;
use crate::tr;

/// The staff commands with their descriptions.
pub fn staff_commands(app: &App) -> Vec<BotCommand> {
    let t = &app.texts;
    COMMANDS
        .iter()
        .map(|c| {
            let description = match *c {
                "find" => tr!(t, "command-staff-find"),
                "group" => tr!(t, "command-staff-group"),
                "pending" => tr!(t, "command-staff-pending"),
                "stats" => tr!(t, "command-staff-stats"),
                "track" => tr!(t, "command-staff-track"),
                "paid" => tr!(t, "command-staff-paid"),
                "broadcast" => tr!(t, "command-staff-broadcast"),
                "audit" => tr!(t, "command-staff-audit"),
                _ => tr!(t, "command-staff-help"),
            };
            BotCommand::new(*c, description)
        })
        .collect()
}

/// Menus for the staff chat and for every staff member's private chat. A staff member who
/// never opened a chat with the bot gets theirs on their first message.
pub async fn set_staff_commands(app: &App, bot: &Bot) {
    let chat = app.staff.chat_id;
    if chat != 0 {
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(chat)),
        };
        if let Err(e) = bot.set_my_commands(staff_commands(app)).scope(scope).await {
            tracing::warn!(error = %e, "staff chat command menu not set");
        }
    }
    for user in app.staff.managers.iter().chain(&app.staff.admins) {
        ensure_private_commands(app, bot, *user).await;
    }
}

/// Sets a staff member's private menu (learner commands and staff ones) once per process.
pub async fn ensure_private_commands(app: &App, bot: &Bot, user_id: i64) {
    static DONE: Mutex<Option<HashSet<(String, i64)>>> = Mutex::new(None);
    let key = (bot.api_url().to_string(), user_id);
    let seen = |insert: bool| {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        let set = done.get_or_insert_with(HashSet::new);
        if insert {
            set.insert(key.clone())
        } else {
            !set.contains(&key)
        }
    };
    if !seen(false) {
        return;
    }
    let mut commands = super::runner::learner_commands(app);
    commands.extend(staff_commands(app));
    let scope = BotCommandScope::Chat {
        chat_id: Recipient::Id(ChatId(user_id)),
    };
    match bot.set_my_commands(commands).scope(scope).await {
        Ok(_) => {
            seen(true);
        }
        // Telegram knows no private chat before the user writes to the bot.
        Err(e) => tracing::info!(user = user_id, error = %e, "staff menu will be set later"),
    }
}

/// Creates the missing forum topics of the staff chat (when it is a forum) and remembers
/// them; configured topics are used as they are.
pub async fn prepare_topics(app: &App, bot: &Bot) -> anyhow::Result<()> {
    let chat = app.staff.chat_id;
    if chat == 0 {
        return Ok(());
    }
    let mut conn = app.store.pool().acquire().await?;
    let known: Vec<String> = store::staff::topics(&mut conn, chat)
        .await?
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    for kind in AlertKind::ALL {
        if app.staff.topics.contains_key(kind.code()) || known.iter().any(|k| k == kind.code()) {
            continue;
        }
        match bot
            .create_forum_topic(ChatId(chat), kind.title(&app.texts))
            .await
        {
            Ok(topic) => {
                let thread = i64::from(topic.thread_id.0 .0);
                store::staff::save_topic(
                    &mut conn,
                    chat,
                    kind.code(),
                    thread,
                    app.now().timestamp(),
                )
                .await?;
                tracing::info!(kind = kind.code(), thread, "staff forum topic created");
            }
            Err(e) if e.to_string().contains("not a forum") => {
                tracing::info!("the staff chat is not a forum: alerts go to the chat");
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "staff forum topics not created; alerts go to the chat");
                return Ok(());
            }
        }
    }
    Ok(())
}
