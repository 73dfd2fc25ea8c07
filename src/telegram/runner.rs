//! Starting the bot: command menu, dispatcher (long polling) and the outbox worker.
use std::sync::Arc;

use teloxide::dispatching::{Dispatcher, ShutdownToken};
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use teloxide::update_listeners::UpdateListener;
use tokio_util::sync::CancellationToken;

use super::bot::TelegramMessenger;
use super::handlers::{schema, Handled};
use super::limiter::RateLimiter;
use crate::app::{outbox, App, Messenger};
use crate::tr;

pub struct Running {
    pub shutdown: ShutdownToken,
    pub workers: CancellationToken,
    pub handled: Handled,
    pub messenger: Arc<TelegramMessenger>,
    pub dispatcher: tokio::task::JoinHandle<()>,
    /// The outbox and staff-alert workers: awaited on stop, so a delivery in progress ends
    /// with its row marked rather than cut off by the exit.
    pub worker_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops taking updates, lets handlers finish, stops the workers.
    pub async fn stop(mut self) {
        // teloxide's shutdown future can miss its wake-up when dispatching ends before it is
        // polled, so wait for the dispatcher task itself; a dispatcher that has not started
        // yet refuses the shutdown ("idle"), so ask again until it takes it.
        loop {
            if self.shutdown.shutdown().is_ok() || self.dispatcher.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = (&mut self.dispatcher).await;
        self.workers.cancel();
        for task in self.worker_tasks {
            let _ = task.await;
        }
    }
}

/// The learners' commands (the texts come from the .ftl file).
pub fn learner_commands(app: &App) -> Vec<BotCommand> {
    let t = &app.texts;
    vec![
        BotCommand::new("start", tr!(t, "command-start")),
        BotCommand::new("catalog", tr!(t, "command-catalog")),
        BotCommand::new("status", tr!(t, "command-status")),
        BotCommand::new("schedule", tr!(t, "command-schedule")),
        BotCommand::new("materials", tr!(t, "command-materials")),
        BotCommand::new("test", tr!(t, "command-test")),
        BotCommand::new("help", tr!(t, "command-help")),
        BotCommand::new("cancel", tr!(t, "command-cancel")),
        BotCommand::new("mydata", tr!(t, "command-mydata")),
        BotCommand::new("forget", tr!(t, "command-forget")),
    ]
}

/// Sets the command menus: the learners' one by default, the staff ones only in the staff
/// chat and staff members' private chats.
pub async fn set_commands(app: &App, bot: &Bot) -> anyhow::Result<()> {
    bot.set_my_commands(learner_commands(app)).await?;
    super::staff_setup::set_staff_commands(app, bot).await;
    Ok(())
}

/// Starts the dispatcher with long polling, and the outbox worker.
pub async fn start(app: Arc<App>, bot: Bot) -> anyhow::Result<Running> {
    let listener = teloxide::update_listeners::polling_default(bot.clone()).await;
    start_with_listener(app, bot, listener).await
}

pub async fn start_with_listener<L>(app: Arc<App>, bot: Bot, listener: L) -> anyhow::Result<Running>
where
    L: UpdateListener + Send + 'static,
    L::Err: std::fmt::Debug + Send,
{
    set_commands(&app, &bot).await?;
    if let Err(e) = super::staff_setup::prepare_topics(&app, &bot).await {
        tracing::warn!(error = %e, "staff forum topics");
    }
    let messenger = Arc::new(
        TelegramMessenger::new(bot.clone(), &app.texts)
            .with_limiter(Arc::new(RateLimiter::new(app.flood_limits))),
    );
    let (handled, _) = tokio::sync::broadcast::channel(1024);
    let mut dispatcher = Dispatcher::builder(bot, schema())
        .dependencies(dptree::deps![
            app.clone(),
            messenger.clone(),
            handled.clone()
        ])
        .default_handler({
            // Updates no branch takes (polls, reactions, …) are ignored, but observed too.
            let handled = handled.clone();
            move |update: Arc<Update>| {
                let _ = handled.send(update.id.0 as i64);
                async {}
            }
        })
        .error_handler(
            teloxide::error_handlers::LoggingErrorHandler::with_custom_text(
                "update handling failed",
            ),
        )
        .build();
    let shutdown = dispatcher.shutdown_token();
    let workers = CancellationToken::new();
    let dyn_messenger: Arc<dyn Messenger> = messenger.clone();
    let worker_tasks = vec![
        tokio::spawn(outbox::run(app.clone(), dyn_messenger, workers.clone())),
        tokio::spawn(crate::app::staff_alerts::run(app.clone(), workers.clone())),
    ];
    let dispatcher = tokio::spawn(async move {
        dispatcher
            .dispatch_with_listener(
                listener,
                teloxide::error_handlers::LoggingErrorHandler::with_custom_text("update listener"),
            )
            .await;
    });
    Ok(Running {
        shutdown,
        workers,
        handled,
        messenger,
        dispatcher,
        worker_tasks,
    })
}
