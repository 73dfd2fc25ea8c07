//! Starting the bot: command menu, the update inbox (long polling or webhook), the
//! dispatcher and the outbox worker.
use std::sync::Arc;

use teloxide::dispatching::{Dispatcher, ShutdownToken};
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use tokio_util::sync::CancellationToken;

use super::bot::TelegramMessenger;
use super::handlers::{schema, Handled};
use super::inbox::{Inbox, InboxListener};
use super::limiter::{Lane, RateLimiter};
use crate::app::{outbox, App, Messenger};
use crate::tr;

pub struct Running {
    pub shutdown: ShutdownToken,
    pub workers: CancellationToken,
    pub handled: Handled,
    /// The handlers' messenger: answers to updates, in the conversation lane.
    pub messenger: Arc<TelegramMessenger>,
    /// The same bot and rate limiter in the bulk lane, for whatever sends without anyone
    /// waiting: the outbox worker, the scheduler (see [`Lane`]).
    pub bulk_messenger: Arc<TelegramMessenger>,
    pub dispatcher: tokio::task::JoinHandle<()>,
    pub inbox: Arc<Inbox>,
    /// Stops taking updates: the poller (which then confirms its offset), the webhook route,
    /// the inbox's replays.
    pub intake: CancellationToken,
    pub intake_tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The outbox and staff-alert workers: awaited on stop, so a delivery in progress ends
    /// with its row marked rather than cut off by the exit.
    pub worker_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops taking updates, lets handlers finish, stops the workers.
    pub async fn stop(mut self) {
        self.inbox.close();
        self.intake.cancel();
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
        for task in self.intake_tasks.drain(..) {
            let _ = task.await;
        }
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

/// Starts the dispatcher with long polling, and the outbox worker. Updates left not done by
/// a previous process are handed out first.
pub async fn start(app: Arc<App>, bot: Bot) -> anyhow::Result<Running> {
    let Started {
        mut running,
        allowed_updates,
    } = start_dispatching(app, bot.clone()).await?;
    let (inbox, stop) = (running.inbox.clone(), running.intake.clone());
    running.intake_tasks.push(tokio::spawn(async move {
        // Only one poller can run (Telegram answers a second getUpdates with 409): whatever
        // is not done was left by a process that is gone.
        if let Err(e) = inbox.replay(true).await {
            tracing::warn!(error = %e, "stored updates not replayed");
        }
        super::inbox::poll(inbox, bot, allowed_updates, stop).await
    }));
    Ok(running)
}

/// Starts the dispatcher for webhook mode: setWebhook (with the secret), and the route
/// that stores each update before answering Telegram, to merge into the HTTP server.
pub async fn start_webhook(
    app: Arc<App>,
    bot: Bot,
    url: reqwest::Url,
    secret: String,
) -> anyhow::Result<(Running, axum::Router)> {
    bot.set_webhook(url)
        .secret_token(secret.clone())
        .drop_pending_updates(false)
        .await
        .map_err(|e| anyhow::anyhow!("telegram.webhook_url: setWebhook failed: {e}"))?;
    let Started { mut running, .. } = start_dispatching(app, bot).await?;
    let router = super::inbox::webhook_router(running.inbox.clone(), secret);
    let inbox = running.inbox.clone();
    running.intake_tasks.push(tokio::spawn(async move {
        // Another instance may be alive and holding its updates: only expired leases.
        if let Err(e) = inbox.replay(false).await {
            tracing::warn!(error = %e, "stored updates not replayed");
        }
    }));
    Ok((running, router))
}

type AllowedUpdates = std::pin::Pin<
    Box<dyn std::future::Future<Output = Option<Vec<teloxide::types::AllowedUpdate>>> + Send>,
>;

struct Started {
    running: Running,
    /// Resolves once the dispatcher listens, with the update kinds its handlers take.
    allowed_updates: AllowedUpdates,
}

async fn start_dispatching(app: Arc<App>, bot: Bot) -> anyhow::Result<Started> {
    set_commands(&app, &bot).await?;
    if let Err(e) = super::staff_setup::prepare_topics(&app, &bot).await {
        tracing::warn!(error = %e, "staff forum topics");
    }
    let messenger = Arc::new(
        TelegramMessenger::new(bot.clone(), &app.texts)
            .with_limiter(Arc::new(RateLimiter::new(app.flood_limits))),
    );
    let (handled, _) = tokio::sync::broadcast::channel(1024);
    let (inbox, listener) = Inbox::new(app.clone(), messenger.clone());
    let allowed_updates = Box::pin(listener.allowed_updates());
    let dispatcher = Dispatcher::builder(bot, schema())
        .dependencies(dptree::deps![
            app.clone(),
            messenger.clone(),
            handled.clone(),
            inbox.clone()
        ])
        .default_handler({
            // Updates no branch takes (polls, reactions, …) are ignored, but observed too.
            let handled = handled.clone();
            let inbox = inbox.clone();
            move |update: Arc<Update>| {
                let (handled, inbox) = (handled.clone(), inbox.clone());
                async move { super::handlers::finished(&inbox, &handled, update.id.0 as i64).await }
            }
        })
        // The message only: teloxide's own handler prints the error's Debug form, which
        // holds a whole backtrace when RUST_BACKTRACE is set.
        .error_handler(std::sync::Arc::new(
            |e: Box<dyn std::error::Error + Send + Sync>| async move {
                tracing::error!(error = %e, "update handling failed");
            },
        ))
        .build();
    let shutdown = dispatcher.shutdown_token();
    let workers = CancellationToken::new();
    // Queued messages (late replies among them) go in the bulk lane: the dispatcher's answers
    // pass them under the shared limiter.
    let bulk_messenger = Arc::new(messenger.in_lane(Lane::Bulk));
    let outbox_messenger: Arc<dyn Messenger> = bulk_messenger.clone();
    let worker_tasks = vec![
        tokio::spawn(outbox::run(app.clone(), outbox_messenger, workers.clone())),
        tokio::spawn(crate::app::staff_alerts::run(app.clone(), workers.clone())),
    ];
    let dispatcher = tokio::spawn(run_dispatcher(dispatcher, listener));
    let intake = CancellationToken::new();
    let intake_tasks = vec![tokio::spawn(inbox.clone().maintain(intake.clone()))];
    Ok(Started {
        running: Running {
            shutdown,
            workers,
            handled,
            messenger,
            bulk_messenger,
            dispatcher,
            inbox,
            intake,
            intake_tasks,
            worker_tasks,
        },
        allowed_updates,
    })
}

async fn run_dispatcher(
    mut dispatcher: Dispatcher<
        Bot,
        Box<dyn std::error::Error + Send + Sync>,
        teloxide::dispatching::DefaultKey,
    >,
    listener: InboxListener,
) {
    dispatcher
        .dispatch_with_listener(
            listener,
            teloxide::error_handlers::LoggingErrorHandler::with_custom_text("update listener"),
        )
        .await;
}
