//! `uchbot serve`: the bot, the HTTP endpoints and the background workers, until SIGTERM.
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use teloxide::Bot;
use tokio_util::sync::CancellationToken;

use crate::app::letters::MailTransport;
use crate::app::payments::Provider;
use crate::app::{App, Messenger};
use crate::config::{Settings, UpdateMode};
use crate::email::smtp::{Mailer, SmtpParams};
use crate::payments::{YooKassa, YooKassaParams};

/// Where Telegram's updates arrive in webhook mode.
pub const WEBHOOK_PATH: &str = "/webhooks/telegram";

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub fn payment_provider(settings: &Settings) -> anyhow::Result<Provider> {
    let p = &settings.payments;
    if p.shop_id.is_empty() {
        return Ok(Provider::BankTransfer);
    }
    let client = YooKassa::new(YooKassaParams {
        api_url: p.api_url.clone(),
        shop_id: p.shop_id.clone(),
        secret_key: p.secret_key.clone().expect("validated with shop_id"),
        return_url: p.return_url.clone(),
        timeout: Duration::from_secs(p.timeout_seconds.max(1)),
    })
    .map_err(|e| anyhow::anyhow!("config: payments: {e}"))?;
    Ok(Provider::YooKassa {
        client: Box::new(client),
        vat_code: p.vat_code,
    })
}

pub fn mail_transport(settings: &Settings) -> anyhow::Result<Option<Arc<dyn MailTransport>>> {
    let s = &settings.smtp;
    if s.url.is_empty() {
        return Ok(None);
    }
    let from = if s.from.is_empty() {
        format!("{} <{}>", settings.school.name, settings.school.email)
    } else {
        s.from.clone()
    };
    let mailer = Mailer::new(&SmtpParams {
        url: s.url.clone(),
        username: s.username.clone(),
        password: s.password.clone(),
        from,
        timeout: Duration::from_secs(30),
        ca_file: None,
    })
    .map_err(|e| anyhow::anyhow!("config: smtp.url: {e}"))?;
    Ok(Some(Arc::new(mailer)))
}

pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    init_tracing();
    let stop_requested = shutdown_signal();
    let token = settings.require_token()?.expose_secret().to_owned();
    let bot = Bot::new(token).set_api_url(settings.telegram.api_url.clone());
    // Deep links in letters (unknown senders, learners without Telegram) need the username.
    if settings.telegram.bot_username.is_empty() {
        if let Some(username) = crate::telegram::bot::username_from_get_me(&bot).await {
            tracing::info!(%username, "bot username from getMe");
            settings.telegram.bot_username = username;
        }
    }
    settings.require_encryption_key()?;
    let store = crate::cli::open_store(&settings).await?;
    let mail = mail_transport(&settings)?;
    if mail.is_none() {
        tracing::warn!("smtp.url is empty: letters wait in the outbox until it is set");
    }
    let app = Arc::new(App::new(
        &settings,
        store,
        payment_provider(&settings)?,
        mail,
    )?);
    app.catalog().await?;
    // Bound before setWebhook: Telegram's first calls wait in the backlog, not refused.
    let listener = tokio::net::TcpListener::bind(settings.http.bind)
        .await
        .map_err(|e| anyhow::anyhow!("http.bind {}: {e}", settings.http.bind))?;
    let (running, telegram_webhook) = match settings.telegram.mode {
        UpdateMode::Polling => (
            crate::telegram::runner::start(app.clone(), bot).await?,
            None,
        ),
        UpdateMode::Webhook => {
            let url = settings.telegram.webhook_url.clone().expect("validated");
            let secret = settings
                .telegram
                .webhook_secret
                .as_ref()
                .expect("validated")
                .expose_secret()
                .to_owned();
            // Updates arrive on our HTTP server at /webhooks/telegram (a reverse proxy maps the
            // public URL there); Telegram repeats the secret in a header we check. Each update
            // is stored before the 200, so one taken just before a crash is not lost.
            let (running, router) =
                crate::telegram::runner::start_webhook(app.clone(), bot, url, secret).await?;
            (running, Some(router))
        }
    };
    let messenger: Arc<dyn Messenger> = running.messenger.clone();
    // Reminders and other scheduled messages: the bulk lane, behind learners' answers.
    let bulk_messenger: Arc<dyn Messenger> = running.bulk_messenger.clone();

    let stop = CancellationToken::new();
    tracing::info!(bind = %settings.http.bind, "HTTP endpoints up");
    let mut router = crate::http::router(crate::http::HttpState {
        app: app.clone(),
        messenger: messenger.clone(),
    });
    if let Some(webhook) = telegram_webhook {
        router = router.merge(webhook);
    }
    let http_stop = stop.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { http_stop.cancelled().await })
            .await
    });
    crate::scheduler::plan_on_start(&app).await?;
    let scheduler = tokio::spawn(crate::scheduler::run(
        app.clone(),
        bulk_messenger,
        stop.clone(),
    ));
    let mail_in = match crate::app::mail_in::from_settings(&settings) {
        Some((poller, intake)) => Some(crate::app::mail_in::spawn(
            app.clone(),
            messenger.clone(),
            poller,
            intake,
            stop.clone(),
        )),
        None => {
            tracing::info!("imap.host is empty: the school's mailbox is not read");
            None
        }
    };
    let recheck = tokio::spawn(recheck_loop(
        app.clone(),
        messenger.clone(),
        Duration::from_secs(settings.payments.recheck_seconds.max(1)),
        stop.clone(),
    ));

    stop_requested.await;
    tracing::info!("stopping: finishing updates in progress");
    // Orchestrators kill after 10 s: everything below shares one budget under that. Updates
    // stop first (the offset of the last one taken is confirmed to the Bot API), handlers
    // and deliveries in progress finish, the workers stop between jobs.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_BUDGET;
    stop.cancel();
    let finished = tokio::time::timeout_at(deadline, async {
        let mail_in = async {
            if let Some(mail_in) = mail_in {
                let _ = mail_in.await;
            }
        };
        let _ = tokio::join!(running.stop(), http, recheck, scheduler, mail_in);
    })
    .await;
    if finished.is_err() {
        tracing::warn!("stopping: work still in progress was cut off at the deadline");
    }
    // A database that went away must not hold the exit past the budget either.
    let _ = tokio::time::timeout(Duration::from_millis(500), app.store.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// How long `serve` takes at most to stop after SIGTERM (it exits within 10 s).
pub const SHUTDOWN_BUDGET: Duration = Duration::from_secs(8);

/// Reads pending payments back every `every` until `stop` (a payment made while the
/// provider or its notifications were away is found this way).
pub async fn recheck_loop(
    app: Arc<App>,
    messenger: Arc<dyn Messenger>,
    every: Duration,
    stop: CancellationToken,
) {
    if !matches!(app.payments, Provider::YooKassa { .. }) {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = crate::http::recheck_pending_payments(&app, messenger.as_ref()).await {
            tracing::warn!(error = %e, "pending payments re-check failed");
        }
    }
}

/// SIGTERM or Ctrl-C. The handlers are installed when this is called, not when awaited: a
/// SIGTERM during start-up (the HTTP endpoints already answer) stops `serve` cleanly
/// instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
