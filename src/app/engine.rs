//! One learner input through the journey: read the snapshot, decide, commit the changes
//! with the dialogue (optimistically, by version), deliver the replies, run outside work and
//! feed its results back in.
use std::collections::VecDeque;
use std::time::Duration;

use super::messenger::{Messenger, SendError};
use super::outbox::{enqueue_telegram, QueuedTelegram};
use super::{commands, view, App};
use crate::journey::reply::Reply;
use crate::journey::{self, Ctx, Dialogue, Effect, Input, Outcome};
use crate::store::{conversations, learners, LearnerRecord};
use crate::tr;

/// Where an input came from, and so where its replies go.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The learner's Telegram chat, when they have one.
    pub chat_id: Option<i64>,
    /// The message whose button was pressed.
    pub message_id: Option<i32>,
    pub callback_id: Option<String>,
    pub tg_user_id: Option<i64>,
    /// The learner is talking to the bot now: replies go straight to the chat. Otherwise
    /// (payments, staff decisions, timers) they are queued in the outbox with the change.
    pub interactive: bool,
    /// The Telegram update that brought the input. Telegram delivers an update again when a
    /// poller died before confirming it or a webhook answer was lost (perhaps to another
    /// instance): it is claimed in the transaction of its change, so it is applied once.
    pub update_id: Option<i64>,
}

impl Origin {
    /// An input from the system (payment provider, staff, scheduler) about this learner.
    pub fn system(learner: &LearnerRecord) -> Self {
        Self {
            chat_id: learner.tg_chat_id,
            ..Self::default()
        }
    }
}

/// The conversation key: the Telegram chat, or a negative key for learners known by email
/// only (private chats have positive ids; the bot keeps no dialogue with groups).
pub fn conversation_key(learner: &LearnerRecord) -> i64 {
    learner.tg_chat_id.unwrap_or(-learner.id)
}

const MAX_ROUNDS: usize = 10;
const MAX_RETRIES: usize = 6;

pub async fn handle(
    app: &App,
    messenger: &dyn Messenger,
    learner_id: i64,
    origin: &Origin,
    input: Input,
) -> anyhow::Result<()> {
    let mut queue = VecDeque::from([input]);
    let mut answered = false;
    let mut told_slow = false;
    let mut rounds = 0;
    // Only the first round carries the update; the rounds after it are results of outside work.
    let mut claim = origin.update_id;
    while let Some(input) = queue.pop_front() {
        rounds += 1;
        if rounds > MAX_ROUNDS {
            tracing::error!(learner_id, "journey did not settle; stopping");
            break;
        }
        // A database busy elsewhere (a lock held, a failover) also keeps the learner waiting.
        let step = decide_and_commit(app, learner_id, origin, claim.take(), input);
        let step = tell_if_slow(app, messenger, origin, &mut told_slow, step).await?;
        let Some((learner, outcome)) = step else {
            if let Some(cb) = origin.callback_id.as_deref().filter(|_| !answered) {
                let text = tr!(app.texts, "button-outdated");
                let _ = messenger.answer_button(cb, Some(&text)).await;
                answered = true;
            }
            continue;
        };
        deliver(app, messenger, &learner, origin, &outcome, &mut answered).await;
        for command in outcome.commands().filter(|c| c.is_external()) {
            let work = commands::run_external(app, messenger, &learner, origin, command);
            match tell_if_slow(app, messenger, origin, &mut told_slow, work).await {
                Ok(Some(event)) => queue.push_back(Input::Event(event)),
                Ok(None) => {}
                Err(e) => tracing::error!(learner_id, error = %e, "command failed"),
            }
        }
    }
    if let Some(cb) = origin.callback_id.as_deref().filter(|_| !answered) {
        let _ = messenger.answer_button(cb, None).await;
    }
    Ok(())
}

/// How long a learner waits on outside work (payment link, letter, download) before the bot
/// says it is still on it.
pub const PATIENCE: Duration = Duration::from_secs(3);

/// Runs outside work; when it takes longer than [`PATIENCE`] in a conversation, tells the
/// learner once that the answer is coming.
async fn tell_if_slow<T>(
    app: &App,
    messenger: &dyn Messenger,
    origin: &Origin,
    told: &mut bool,
    work: impl std::future::Future<Output = T>,
) -> T {
    let chat = origin.chat_id.filter(|_| origin.interactive && !*told);
    let Some(chat) = chat else {
        return work.await;
    };
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        _ = tokio::time::sleep(PATIENCE) => {}
    }
    *told = true;
    let notice = Reply::text(tr!(app.texts, "still-working"));
    if let Err(e) = messenger.send(chat, &notice).await {
        tracing::warn!(error = %e, "still-working notice not delivered");
    }
    work.await
}

fn retryable(e: &crate::store::StoreError) -> bool {
    let text = e.to_string();
    text.contains("database is locked")
        || text.contains("busy")
        || text.contains("could not serialize")
}

/// Runs the state machine on a fresh snapshot and commits its state changes together with
/// the new dialogue. `None` when a guard found the work already done.
async fn decide_and_commit(
    app: &App,
    learner_id: i64,
    origin: &Origin,
    update_id: Option<i64>,
    input: Input,
) -> anyhow::Result<Option<(LearnerRecord, Outcome)>> {
    let started = std::time::Instant::now();
    for attempt in 0..MAX_RETRIES {
        match try_step(app, learner_id, origin, update_id, &input).await {
            Ok(StepResult::Done(done)) => return Ok(Some(*done)),
            Ok(StepResult::Rejected) => return Ok(None),
            Ok(StepResult::Conflict) => {}
            // A lock held past the busy timeout is not worth waiting out again: the learner
            // hears of the trouble now rather than after several more timeouts.
            Err(e) if retryable(&e) && started.elapsed() < app.store.busy_timeout() => {
                tracing::debug!(attempt, error = %e, "step will be retried")
            }
            Err(e) => return Err(e.into()),
        }
        tokio::time::sleep(Duration::from_millis(20 * (1 << attempt))).await;
    }
    anyhow::bail!("conversation of learner {learner_id} kept changing under us")
}

enum StepResult {
    Done(Box<(LearnerRecord, Outcome)>),
    Rejected,
    Conflict,
}

async fn try_step(
    app: &App,
    learner_id: i64,
    origin: &Origin,
    update_id: Option<i64>,
    input: &Input,
) -> crate::store::Result<StepResult> {
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = learners::by_id(&mut conn, learner_id).await? else {
        return Ok(StepResult::Rejected);
    };
    let key = conversation_key(&learner);
    let (dialogue, version) = match conversations::load(&mut conn, key).await? {
        Some((json, version)) => (
            serde_json::from_str::<Dialogue>(&json).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "unreadable dialogue state; starting over");
                Dialogue::Idle
            }),
            version,
        ),
        None => (Dialogue::Idle, 0),
    };
    let snapshot = view::load(&mut conn, &learner).await?;
    drop(conn);
    let catalog = app.catalog().await?;
    let now = app.now();
    let ctx = Ctx {
        texts: &app.texts,
        catalog: &catalog,
        school: &app.school,
        now,
        learner: &snapshot,
        message_id: origin.message_id,
        entropy: rand::random(),
    };
    let before = dialogue.clone();
    let outcome = journey::step(&ctx, dialogue, input.clone());
    let ts = now.timestamp();

    let mut tx = app.store.begin().await?;
    if let Some(update_id) = update_id {
        if !crate::store::claim_update_in(&mut tx, update_id, ts).await? {
            tracing::info!(update_id, "update delivered again; already applied");
            let written_since = match origin.chat_id {
                Some(chat) => crate::store::inbox::newer_in_chat(&mut tx, chat, update_id).await?,
                None => false,
            };
            tx.rollback().await?;
            if !origin.interactive {
                return Ok(StepResult::Rejected);
            }
            // Handed out again after a crash: the step stands, but its answer may have died
            // with the process, so the learner is shown where they are now — unless they
            // wrote since: that message's answer shows it, and a status now would show a
            // question they may already have answered.
            let mut outcome = journey::Outcome::stay(before);
            if !written_since {
                outcome = outcome.say(journey::status::status(&ctx));
            }
            return Ok(StepResult::Done(Box::new((learner, outcome))));
        }
    }
    let state = serde_json::to_string(&outcome.dialogue).expect("dialogue serializes");
    if !conversations::save(&mut tx, key, &state, version, ts).await? {
        tx.rollback().await?;
        return Ok(StepResult::Conflict);
    }
    for command in outcome.commands().filter(|c| !c.is_external()) {
        if !commands::apply(app, &mut tx, &learner, command, ts).await? {
            tx.rollback().await?;
            return Ok(StepResult::Rejected);
        }
    }
    if !origin.interactive {
        queue_replies(app, &mut tx, &learner, &outcome, ts).await?;
    }
    tx.commit().await?;
    Ok(StepResult::Done(Box::new((learner, outcome))))
}

/// Replies to a learner who is not in the conversation right now: queued with the change,
/// to their chat or, without one, as a letter.
async fn queue_replies(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    learner: &LearnerRecord,
    outcome: &Outcome,
    ts: i64,
) -> crate::store::Result<()> {
    let batch = uuid::Uuid::new_v4().simple().to_string();
    for (n, reply) in outcome.replies().enumerate() {
        let key = format!("reply:{}:{batch}:{n}", learner.id);
        super::outbox::notify(app, tx, learner, &key, reply, ts).await?;
    }
    Ok(())
}

/// Sends with a few quick retries on temporary failures (the outbox is for the rest).
async fn send_with_retry(
    messenger: &dyn Messenger,
    chat: i64,
    reply: &Reply,
) -> Result<i32, SendError> {
    let mut delay = Duration::from_millis(200);
    for _ in 0..3 {
        match messenger.send(chat, reply).await {
            Err(SendError::Temporary(e)) => {
                tracing::warn!(error = %e, "send failed, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    messenger.send(chat, reply).await
}

async fn deliver(
    app: &App,
    messenger: &dyn Messenger,
    learner: &LearnerRecord,
    origin: &Origin,
    outcome: &Outcome,
    answered: &mut bool,
) {
    if !origin.interactive {
        return;
    }
    let Some(chat) = origin.chat_id.or(learner.tg_chat_id) else {
        return;
    };
    // Once a reply had to be queued, the ones after it are queued too: their order stays.
    let mut queueing = false;
    for effect in &outcome.effects {
        let reply = match effect {
            Effect::Say(reply) | Effect::Edit(reply) => reply,
            Effect::Toast(text) => {
                if let Some(cb) = origin.callback_id.as_deref().filter(|_| !*answered) {
                    *answered = true;
                    if let Err(e) = messenger.answer_button(cb, Some(text)).await {
                        tracing::warn!(learner_id = learner.id, error = %e, "toast not shown");
                    }
                }
                continue;
            }
            Effect::Do(_) => continue,
        };
        let result = if queueing {
            Err(SendError::Temporary("an earlier reply is queued".into()))
        } else {
            match (effect, origin.message_id) {
                (Effect::Edit(_), Some(id)) => match messenger.edit(chat, id, reply).await {
                    Ok(()) => Ok(()),
                    // The message is too old or unchanged: say it anew.
                    Err(_) => send_with_retry(messenger, chat, reply).await.map(|_| ()),
                },
                _ => send_with_retry(messenger, chat, reply).await.map(|_| ()),
            }
        };
        match result {
            Ok(()) => {}
            // Telegram is away longer than the quick retries: the outbox keeps trying, with
            // backoff, and delivers once it is back.
            Err(SendError::Temporary(e)) => {
                queueing = true;
                tracing::warn!(learner_id = learner.id, error = %e, "reply queued for later");
                if let Err(e) = queue_late_reply(app, learner, chat, reply).await {
                    tracing::error!(learner_id = learner.id, error = %e, "reply lost");
                }
            }
            Err(e) => {
                tracing::error!(learner_id = learner.id, error = %e, "reply not delivered")
            }
        }
    }
}

async fn queue_late_reply(
    app: &App,
    learner: &LearnerRecord,
    chat: i64,
    reply: &Reply,
) -> crate::store::Result<()> {
    let key = format!(
        "late-reply:{}:{}",
        learner.id,
        uuid::Uuid::new_v4().simple()
    );
    let mut conn = app.store.pool().acquire().await?;
    let ts = app.now().timestamp();
    enqueue_telegram(&mut conn, &key, &QueuedTelegram::message(chat, reply), ts).await?;
    Ok(())
}
