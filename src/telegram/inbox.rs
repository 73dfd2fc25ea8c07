//! The update listener of both modes, over a durable inbox (table `telegram_inbox`).
//!
//! Telegram forgets an update once it is confirmed: by the offset of the next getUpdates
//! (polling) or by the webhook's 200. Each update is stored here first and confirmed only
//! then, so a process killed after the confirmation still has it: rows not done whose lease
//! ran out are handed to the dispatcher again (on start and every [`REPLAY_EVERY`]). Learner
//! steps and staff actions claim their update with their change, so a second handling of an
//! update already applied changes nothing.
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use futures::StreamExt;
use teloxide::prelude::*;
use teloxide::stop::{mk_stop_token, StopFlag, StopToken};
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use teloxide::RequestError;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Messenger};
use crate::journey::reply::Reply;
use crate::store::{self, inbox};
use crate::tr;

/// How long an instance holds an update it took before another may take it over. The
/// holder renews it while the update waits or is handled, so only a dead holder loses it.
pub const LEASE_SECONDS: i64 = 60;
/// How often leases are renewed and expired rows looked for.
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How soon a done mark that failed (the database busy for a moment) is tried again.
const MARK_AGAIN_EVERY: Duration = Duration::from_secs(1);
const REPLAY_EVERY: Duration = Duration::from_secs(30);
/// Updates handed to the dispatcher and not yet taken by it (back-pressure on polling).
const QUEUE: usize = 1024;
/// Header in which Telegram repeats the webhook's secret.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub struct Inbox {
    app: Arc<App>,
    messenger: Arc<dyn Messenger>,
    /// Updates whose sender was told that storing them is slow or failing, by notice (each
    /// notice once per update, however often Telegram hands the update out again).
    told: Mutex<HashSet<(i64, &'static str)>>,
    queue: mpsc::Sender<Update>,
    /// Taken here and not yet done: never handed to the dispatcher twice, leases renewed.
    in_flight: Mutex<HashSet<i64>>,
    /// Handled, but the done mark did not reach the database: marked again later (held in
    /// flight meanwhile, so an input the learner was asked to repeat is not applied late).
    unmarked: Mutex<HashSet<i64>>,
    accepting: AtomicBool,
}

impl Inbox {
    pub fn new(app: Arc<App>, messenger: Arc<dyn Messenger>) -> (Arc<Inbox>, InboxListener) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let (token, flag) = mk_stop_token();
        let (hint, _) = tokio::sync::watch::channel(None);
        let inbox = Arc::new(Inbox {
            app,
            messenger,
            told: Mutex::new(HashSet::new()),
            queue,
            in_flight: Mutex::new(HashSet::new()),
            unmarked: Mutex::new(HashSet::new()),
            accepting: AtomicBool::new(true),
        });
        (
            inbox,
            InboxListener {
                rx,
                token,
                flag,
                hint,
            },
        )
    }

    fn lease(&self) -> (i64, i64) {
        let now = self.app.now().timestamp();
        (now, now + LEASE_SECONDS)
    }

    /// Stores an update that just arrived and hands it to the dispatcher when this instance
    /// took it. Once this returns Ok the update may be confirmed to Telegram. A database that
    /// is slow (a lock held elsewhere) or away keeps the update unconfirmed, so Telegram
    /// hands it out again; the learner hears once that the answer will come by itself.
    pub async fn offer(&self, update_id: i64, body: &str) -> store::Result<()> {
        let stored = self.store(update_id, body);
        tokio::pin!(stored);
        let stored = tokio::select! {
            stored = &mut stored => stored,
            _ = tokio::time::sleep(crate::app::engine::PATIENCE) => {
                let notice = tr!(self.app.texts, "still-working");
                self.tell_once(update_id, body, "still-working", notice)
                    .await;
                stored.await
            }
        };
        match stored {
            Ok(taken) => {
                self.told.lock().unwrap().retain(|(id, _)| *id != update_id);
                if taken {
                    self.dispatch(update_id, body).await;
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(update_id, error = %e, "update not stored");
                let notice = tr!(self.app.texts, "technical-trouble-queued");
                self.tell_once(update_id, body, "technical-trouble-queued", notice)
                    .await;
                Err(e)
            }
        }
    }

    /// Stores the update; true when this instance took it.
    async fn store(&self, update_id: i64, body: &str) -> store::Result<bool> {
        let (now, until) = self.lease();
        // The chat, for a replay to know whether the learner has written since.
        let chat_id = serde_json::from_str::<Update>(body)
            .ok()
            .and_then(|u| u.chat().map(|c| c.id.0));
        let mut conn = self.app.store.pool().acquire().await?;
        let stored = inbox::store(&mut conn, update_id, chat_id, body, now, until).await?;
        Ok(stored == inbox::Stored::Taken)
    }

    /// Tells the learner who sent the update (private chats only), once per update.
    async fn tell_once(&self, update_id: i64, body: &str, kind: &'static str, text: String) {
        let Ok(update) = serde_json::from_str::<Update>(body) else {
            return;
        };
        let Some(chat) = update.chat().filter(|c| c.is_private()) else {
            return;
        };
        if !self.told.lock().unwrap().insert((update_id, kind)) {
            return;
        }
        let notice = Reply::text(text);
        if let Err(e) = self.messenger.send(chat.id.0, &notice).await {
            tracing::warn!(update_id, error = %e, "notice about the stored update not sent");
        }
    }

    async fn dispatch(&self, update_id: i64, body: &str) {
        if !self.in_flight.lock().unwrap().insert(update_id) {
            return;
        }
        match serde_json::from_str::<Update>(body) {
            // teloxide drops an update of a kind it cannot read without calling a handler,
            // so the row would stay in flight: it is done here.
            Ok(update) if matches!(update.kind, teloxide::types::UpdateKind::Error(_)) => {
                tracing::warn!(update_id, "update of a kind teloxide cannot read; skipped");
                self.finish(update_id).await;
            }
            // A closed queue means the dispatcher stopped: the row stays for the next start.
            Ok(update) => {
                let _ = self.queue.send(update).await;
            }
            Err(e) => {
                // The body is personal data: only the id and the parser's complaint are logged.
                tracing::warn!(update_id, error = %e, "stored update unreadable; skipped");
                self.finish(update_id).await;
            }
        }
    }

    /// The update was handled (whatever came of it): it is not handed out again.
    pub async fn finish(&self, update_id: i64) {
        let now = self.app.now().timestamp();
        let result = async {
            let mut conn = self.app.store.pool().acquire().await?;
            inbox::mark_done(&mut conn, update_id, now).await
        }
        .await;
        match result {
            Ok(()) => {
                self.in_flight.lock().unwrap().remove(&update_id);
            }
            Err(e) => {
                tracing::warn!(update_id, error = %e, "could not mark the update done");
                self.unmarked.lock().unwrap().insert(update_id);
            }
        }
    }

    async fn mark_unmarked(&self) -> store::Result<()> {
        let ids: Vec<i64> = self.unmarked.lock().unwrap().iter().copied().collect();
        if ids.is_empty() {
            return Ok(());
        }
        let now = self.app.now().timestamp();
        let mut conn = self.app.store.pool().acquire().await?;
        for id in ids {
            inbox::mark_done(&mut conn, id, now).await?;
            self.unmarked.lock().unwrap().remove(&id);
            self.in_flight.lock().unwrap().remove(&id);
        }
        Ok(())
    }

    /// Hands the dispatcher the rows not done whose lease ran out; `all`: every row not done
    /// (a poller starting: only one poller can run, Telegram refuses a second getUpdates, so
    /// whoever held them is gone).
    pub async fn replay(&self, all: bool) -> store::Result<usize> {
        let (now, until) = self.lease();
        let seen = if all { i64::MAX } else { now };
        let mut conn = self.app.store.pool().acquire().await?;
        let mut replayed = 0;
        loop {
            let ids = inbox::expired(&mut conn, seen, 200).await?;
            let mut progress = false;
            for &id in &ids {
                if self.in_flight.lock().unwrap().contains(&id) {
                    continue;
                }
                if !inbox::take(&mut conn, id, seen, until).await? {
                    continue;
                }
                progress = true;
                if let Some(body) = inbox::body(&mut conn, id).await? {
                    replayed += 1;
                    self.dispatch(id, &body).await;
                }
            }
            if ids.len() < 200 || !progress {
                break;
            }
        }
        if replayed > 0 {
            tracing::info!(
                updates = replayed,
                "stored updates handed to the dispatcher again"
            );
        }
        Ok(replayed)
    }

    async fn renew(&self) -> store::Result<()> {
        let ids: Vec<i64> = self.in_flight.lock().unwrap().iter().copied().collect();
        if ids.is_empty() {
            return Ok(());
        }
        let (_, until) = self.lease();
        let mut conn = self.app.store.pool().acquire().await?;
        for id in ids {
            inbox::renew(&mut conn, id, until).await?;
        }
        Ok(())
    }

    /// Renews this instance's leases and replays expired rows until `stop`.
    pub async fn maintain(self: Arc<Self>, stop: CancellationToken) {
        let mut renew = tokio::time::interval(RENEW_EVERY);
        let mut replay = tokio::time::interval(REPLAY_EVERY);
        let mut mark_again = tokio::time::interval(MARK_AGAIN_EVERY);
        renew.tick().await;
        replay.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = mark_again.tick() => {
                    if let Err(e) = self.mark_unmarked().await {
                        tracing::warn!(error = %e, "handled updates still not marked done");
                    }
                }
                _ = renew.tick() => {
                    if let Err(e) = self.renew().await {
                        tracing::warn!(error = %e, "inbox leases not renewed");
                    }
                }
                _ = replay.tick() => {
                    if let Err(e) = self.replay(false).await {
                        tracing::warn!(error = %e, "inbox replay failed");
                    }
                }
            }
        }
    }

    /// New updates are refused from now on (webhook: 503, Telegram tries again later).
    pub fn close(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }
}

/// What the dispatcher listens to: the updates the inbox took.
pub struct InboxListener {
    rx: mpsc::Receiver<Update>,
    token: StopToken,
    flag: StopFlag,
    /// The update kinds the handlers take, told by the dispatcher as it starts listening.
    hint: tokio::sync::watch::Sender<Option<Vec<AllowedUpdate>>>,
}

impl InboxListener {
    /// Resolves with the kinds of updates to ask Telegram for, once dispatching started.
    pub fn allowed_updates(&self) -> impl std::future::Future<Output = Option<Vec<AllowedUpdate>>> {
        let mut rx = self.hint.subscribe();
        async move {
            let kinds = rx.wait_for(Option::is_some).await.ok()?;
            kinds.clone()
        }
    }
}

impl<'a> AsUpdateStream<'a> for InboxListener {
    type StreamErr = Infallible;
    type Stream = futures::stream::BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        // Stopping ends the stream at once; updates still queued stay in the inbox, not
        // done, and are handed out again on the next start.
        let rx = &mut self.rx;
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
            .map(Ok)
            .take_until(self.flag.clone())
            .boxed()
    }
}

impl UpdateListener for InboxListener {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.token.clone()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        let _ = self.hint.send(Some(hint.collect()));
    }
}

/// Long polling: a batch is stored before the getUpdates whose offset confirms it. On stop
/// the offset of the last stored update is confirmed (timeout 0) and the loop ends.
pub async fn poll(
    inbox: Arc<Inbox>,
    bot: Bot,
    allowed: impl std::future::Future<Output = Option<Vec<AllowedUpdate>>>,
    stop: CancellationToken,
) {
    let allowed = tokio::select! {
        _ = stop.cancelled() => return,
        kinds = allowed => kinds.unwrap_or_default(),
    };
    let mut offset: i32 = 0;
    let mut failures: u32 = 0;
    loop {
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(10)
            .allowed_updates(allowed.clone())
            .send();
        let result = tokio::select! {
            _ = stop.cancelled() => break,
            r = request => r,
        };
        let pause = match result {
            Ok(updates) => {
                failures = 0;
                let mut stored = Ok(());
                for update in updates {
                    let id = update.id.0 as i64;
                    let body = serde_json::to_string(&update).expect("an update serializes");
                    stored = inbox.offer(id, &body).await;
                    if stored.is_err() {
                        break;
                    }
                    offset = update.id.as_offset();
                }
                match stored {
                    Ok(()) => continue,
                    Err(e) => {
                        // Not confirmed: Telegram hands the rest of the batch out again.
                        tracing::warn!(error = %e, "updates could not be stored; retrying");
                        failures += 1;
                        backoff(failures)
                    }
                }
            }
            Err(RequestError::RetryAfter(seconds)) => seconds.duration(),
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "getUpdates failed");
                backoff(failures)
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    if offset != 0 {
        // The updates up to `offset` are stored: Telegram may forget them.
        let confirm = bot.get_updates().offset(offset).limit(1).timeout(0).send();
        match tokio::time::timeout(Duration::from_secs(2), confirm).await {
            Ok(Ok(_)) => tracing::info!("update offset confirmed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "update offset not confirmed"),
            Err(_) => tracing::warn!("update offset not confirmed in time"),
        }
    }
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(250u64 << failures.min(7)).min(Duration::from_secs(30))
}

/// Webhook mode: the route at [`crate::serve::WEBHOOK_PATH`]. The update is stored before
/// the 200; a database error answers 500 so that Telegram delivers it again.
pub fn webhook_router(inbox: Arc<Inbox>, secret: String) -> axum::Router {
    axum::Router::new()
        .route(
            crate::serve::WEBHOOK_PATH,
            axum::routing::post(webhook_update),
        )
        .with_state((inbox, Arc::new(secret)))
}

async fn webhook_update(
    State((inbox, secret)): State<(Arc<Inbox>, Arc<String>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same_secret(given, secret.as_bytes()) {
        tracing::warn!("webhook call with a wrong secret refused");
        return StatusCode::UNAUTHORIZED;
    }
    if !inbox.accepting.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(update_id) = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("update_id").and_then(|id| id.as_i64()))
    else {
        return StatusCode::BAD_REQUEST;
    };
    match inbox.offer(update_id, text).await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(update_id, error = %e, "webhook update not stored; Telegram will retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Compares in time independent of where the first difference is.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
