//! Keeps outgoing messages within Telegram's flood limits: about 30 messages a second overall,
//! one a second in a private chat (a short burst passes), 20 a minute in a group.
//!
//! Telegram counts a message when it handles it, which is some time after we send it. A
//! limiter that counts send times can be fooled by that delay (two requests sent 34 ms apart
//! may arrive 30 ms apart), so this one counts a message from the moment its answer came
//! back — never earlier than Telegram handled it — and counts messages still in flight as
//! if they had just been handled. Then no window Telegram looks at can hold more messages
//! than allowed, whatever the network does; the price is the round trip, which is small next
//! to a second.
//!
//! A 429 answer blocks every chat for its `retry_after` ([`RateLimiter::pause_for`]).
//!
//! Messages wait in one of two [`Lane`]s, so that a learner in a conversation does not wait
//! behind a thousand reminders: bulk messages (the scheduler's, the outbox's) may fill only
//! [`Limits::bulk`] of the overall window, which leaves the rest to conversation at all
//! times; conversation may fill the whole window, and while a conversation message waits for
//! the overall window, bulk ones let it go first. Per-chat limits are the same for both.
//!
//! The limits hold per process: several instances behind one bot share Telegram's quota and
//! should be given a share each ([`Limits::scaled`]).
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// At most `count` messages in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: usize,
    pub period: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub overall: Window,
    /// Private chats: 3 in 3 s gives a burst of three, then one a second.
    pub private_chat: Window,
    /// Groups and supergroups (negative chat ids), the staff chat among them.
    pub group_chat: Window,
    /// Of `overall.count`, how many the bulk lane may use in one overall window.
    pub bulk: usize,
}

/// The part of the overall window bulk messages may use by default: 24 of 30 a second,
/// 6 kept for answers.
pub const DEFAULT_BULK_SHARE_PERCENT: u8 = 80;

/// `percent` of `overall`, at least one message and at most all of them.
fn bulk_share(overall: usize, percent: u8) -> usize {
    (overall * usize::from(percent) / 100).clamp(1, overall.max(1))
}

/// Which queue a message waits in; chosen once, where a messenger is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lane {
    /// Answers to what someone just did in Telegram (a learner's message, a staff member's
    /// action) and notices about it: the whole overall window, and first when both wait.
    #[default]
    Conversation,
    /// What nobody is waiting for right now: reminders, materials, attestation notices,
    /// queued messages and their retries (the scheduler and the outbox worker).
    Bulk,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            overall: Window {
                count: 30,
                period: Duration::from_secs(1),
            },
            private_chat: Window {
                count: 3,
                period: Duration::from_secs(3),
            },
            group_chat: Window {
                count: 20,
                period: Duration::from_secs(60),
            },
            bulk: bulk_share(30, DEFAULT_BULK_SHARE_PERCENT),
        }
    }
}

impl Limits {
    /// The limits from `[telegram]` (messages a second overall, a minute per group).
    pub fn from_settings(settings: &crate::config::TelegramSettings) -> Self {
        let mut limits = Self::default();
        limits.overall.count = settings.messages_per_second.max(1);
        limits.group_chat.count = settings.group_messages_per_minute.max(1);
        limits.private_chat.count = 3 * settings.private_chat_messages_per_second.max(1);
        limits.bulk = bulk_share(limits.overall.count, settings.bulk_share_percent);
        limits
    }

    /// The overall share of one of `instances` processes sending for the same bot.
    pub fn scaled(instances: usize) -> Self {
        let mut limits = Self::default();
        limits.overall.count = (limits.overall.count / instances.max(1)).max(1);
        limits.bulk = bulk_share(limits.overall.count, DEFAULT_BULK_SHARE_PERCENT);
        limits
    }

    /// The bulk lane's window: its share of the overall one.
    fn bulk_window(&self) -> Window {
        Window {
            count: self.bulk.clamp(1, self.overall.count.max(1)),
            period: self.overall.period,
        }
    }
}

/// The accounting of one window: messages in flight, and when finished ones came back.
#[derive(Debug, Default)]
struct Ledger {
    in_flight: usize,
    finished: VecDeque<Instant>,
}

/// When a new message may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    Now,
    At(Instant),
    /// Full of messages still in flight: when one comes back.
    AfterAnswer,
}

impl Ledger {
    fn forget_before(&mut self, now: Instant, period: Duration) {
        while self
            .finished
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= period)
        {
            self.finished.pop_front();
        }
    }

    fn room(&mut self, window: Window, now: Instant) -> Room {
        self.forget_before(now, window.period);
        let used = self.in_flight + self.finished.len();
        if used < window.count {
            return Room::Now;
        }
        // The (used - count)-th finished message leaving the window makes room for one.
        match self.finished.get(used - window.count) {
            Some(t) => Room::At(*t + window.period),
            None => Room::AfterAnswer,
        }
    }

    fn finish(&mut self, at: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let pos = self.finished.partition_point(|t| *t <= at);
        self.finished.insert(pos, at);
    }

    fn idle(&mut self, now: Instant, period: Duration) -> bool {
        self.forget_before(now, period);
        self.in_flight == 0 && self.finished.is_empty()
    }
}

fn later(a: Room, b: Room) -> Room {
    match (a, b) {
        (Room::AfterAnswer, _) | (_, Room::AfterAnswer) => Room::AfterAnswer,
        (Room::At(x), Room::At(y)) => Room::At(x.max(y)),
        (Room::At(x), Room::Now) | (Room::Now, Room::At(x)) => Room::At(x),
        (Room::Now, Room::Now) => Room::Now,
    }
}

#[derive(Debug, Default)]
struct State {
    overall: Ledger,
    /// The bulk lane's messages (also counted in `overall`).
    bulk: Ledger,
    chats: HashMap<i64, Ledger>,
    paused_until: Option<Instant>,
    /// Conversation messages whose chat has room and which wait for the overall window
    /// alone: while there are any, bulk messages take no place (conversation goes first).
    conversation_first: usize,
}

/// Shared by every sender of one bot.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    state: Mutex<State>,
    answered: Notify,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

/// Holds a message's place in the windows while it is sent; dropping it marks the answer.
#[must_use = "the place is given back when the permit is dropped"]
pub struct Permit<'a> {
    limiter: &'a RateLimiter,
    chat_id: i64,
    lane: Lane,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        {
            let mut state = self.limiter.lock();
            state.overall.finish(now);
            if self.lane == Lane::Bulk {
                state.bulk.finish(now);
            }
            if let Some(chat) = state.chats.get_mut(&self.chat_id) {
                chat.finish(now);
            }
        }
        self.limiter.answered.notify_waiters();
    }
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
            answered: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn chat_window(&self, chat_id: i64) -> Window {
        if chat_id < 0 {
            self.limits.group_chat
        } else {
            self.limits.private_chat
        }
    }

    /// Takes a place for a message to `chat_id` if one is free now; otherwise says when.
    /// `first` is the conversation waiter's mark in [`State::conversation_first`], set and
    /// cleared here.
    fn try_take(&self, chat_id: i64, lane: Lane, now: Instant, first: &mut FirstInLine) -> Room {
        let window = self.chat_window(chat_id);
        let mut state = self.lock();
        if let Some(until) = state.paused_until.filter(|t| *t > now) {
            return Room::At(until);
        }
        if state.chats.len() > 4096 {
            let period = self.limits.group_chat.period;
            state.chats.retain(|_, l| !l.idle(now, period));
        }
        let overall = state.overall.room(self.limits.overall, now);
        let chat = state.chats.entry(chat_id).or_default().room(window, now);
        let room = match lane {
            Lane::Conversation => {
                // Only a wait for the overall window holds bulk back: a chat's own limit (a
                // group's 20 a minute) must not stop everyone else's reminders.
                first.set(&mut state, chat == Room::Now && overall != Room::Now);
                later(overall, chat)
            }
            Lane::Bulk => {
                let bulk = state.bulk.room(self.limits.bulk_window(), now);
                match later(later(overall, bulk), chat) {
                    // A conversation message is due the place: wait till it has taken it.
                    Room::Now if state.conversation_first > 0 => Room::AfterAnswer,
                    room => room,
                }
            }
        };
        if room == Room::Now {
            state.overall.in_flight += 1;
            if lane == Lane::Bulk {
                state.bulk.in_flight += 1;
            }
            state
                .chats
                .get_mut(&chat_id)
                .expect("entry made above")
                .in_flight += 1;
        }
        room
    }

    /// Waits for a place for one message to `chat_id` in `lane`. Hold the permit until the
    /// answer.
    pub async fn acquire(&self, chat_id: i64, lane: Lane) -> Permit<'_> {
        let mut first = FirstInLine {
            limiter: self,
            marked: false,
        };
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            let room = self.try_take(chat_id, lane, Instant::now(), &mut first);
            match room {
                Room::Now => {
                    drop(first);
                    return Permit {
                        limiter: self,
                        chat_id,
                        lane,
                    };
                }
                Room::At(at) => {
                    tracing::debug!(
                        chat_id,
                        wait_ms = at.saturating_duration_since(Instant::now()).as_millis() as u64,
                        "limiter: waiting"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = &mut answered => {}
                    }
                }
                Room::AfterAnswer => {
                    tracing::debug!(chat_id, "limiter: waiting for an answer");
                    answered.await
                }
            }
        }
    }

    /// Telegram answered 429: nothing goes out for `retry_after` (its flood control blocks
    /// the whole bot).
    pub fn pause_for(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |t| t.max(until)));
    }
}

/// A conversation waiter's mark in [`State::conversation_first`]; taken off when it gets
/// its place, waits for its chat instead, or gives up (the future dropped), and the bulk
/// waiters it held back are woken then.
struct FirstInLine<'a> {
    limiter: &'a RateLimiter,
    marked: bool,
}

impl FirstInLine<'_> {
    /// Called with the limiter's state locked.
    fn set(&mut self, state: &mut State, marked: bool) {
        match (self.marked, marked) {
            (false, true) => state.conversation_first += 1,
            (true, false) => state.conversation_first -= 1,
            _ => return,
        }
        self.marked = marked;
        if !marked {
            // Bulk waiters held back look again once the lock is released (notify_waiters
            // takes no lock of ours, so calling it here is safe).
            self.limiter.answered.notify_waiters();
        }
    }
}

impl Drop for FirstInLine<'_> {
    fn drop(&mut self) {
        if self.marked {
            let mut state = self.limiter.lock();
            state.conversation_first -= 1;
            self.marked = false;
            drop(state);
            self.limiter.answered.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn window(count: usize, ms: u64) -> Window {
        Window {
            count,
            period: Duration::from_millis(ms),
        }
    }

    #[test]
    fn a_window_counts_messages_in_flight_and_answers_within_the_period() {
        let w = window(2, 1000);
        let mut ledger = Ledger::default();
        let t0 = Instant::now();
        assert_eq!(ledger.room(w, t0), Room::Now);
        ledger.in_flight = 2;
        assert_eq!(ledger.room(w, t0), Room::AfterAnswer);
        ledger.finish(t0 + Duration::from_millis(100));
        assert_eq!(
            ledger.room(w, t0 + Duration::from_millis(150)),
            Room::At(t0 + Duration::from_millis(1100))
        );
        ledger.finish(t0 + Duration::from_millis(120));
        assert_eq!(
            ledger.room(w, t0 + Duration::from_millis(1100)),
            Room::Now,
            "the first answer left the window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn overall_pace_is_the_window_and_a_chat_gets_a_burst_then_one_a_second() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        // 60 messages to 60 chats: 30 at once, the rest a second after the first answers.
        for chat in 0..60 {
            let _p = limiter.acquire(chat, Lane::Conversation).await;
        }
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert!(start.elapsed() < Duration::from_millis(1100));

        let limiter = RateLimiter::default();
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..6 {
            let _p = limiter.acquire(777, Lane::Conversation).await;
            sent.push(start.elapsed().as_millis() / 100);
        }
        assert_eq!(sent, vec![0, 0, 0, 30, 30, 30]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_gets_twenty_a_minute_and_a_429_pauses_everyone() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for _ in 0..21 {
            let _p = limiter.acquire(-100, Lane::Conversation).await;
        }
        assert_eq!(start.elapsed().as_secs(), 60);

        let limiter = RateLimiter::default();
        limiter.pause_for(Duration::from_secs(5));
        let start = Instant::now();
        let _p = limiter.acquire(1, Lane::Conversation).await;
        assert_eq!(start.elapsed().as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_senders_go_as_answers_come_back() {
        let limiter = Arc::new(RateLimiter::new(Limits {
            overall: window(2, 1000),
            ..Limits::default()
        }));
        let a = limiter.acquire(1, Lane::Conversation).await;
        let b = limiter.acquire(2, Lane::Conversation).await;
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let _p = limiter.acquire(3, Lane::Conversation).await;
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(a);
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(b);
        // Room comes one period after the first answer, not after the request.
        assert_eq!(waiting.await.unwrap().as_millis(), 1300);
    }

    /// Sends `count` messages in `lane`, one task per chat from `first_chat`, each holding
    /// its place for a 40 ms round trip; returns when each place was given.
    fn senders(
        limiter: &Arc<RateLimiter>,
        lane: Lane,
        first_chat: i64,
        count: usize,
    ) -> Vec<tokio::task::JoinHandle<Instant>> {
        (0..count as i64)
            .map(|i| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let _p = limiter.acquire(first_chat + i, lane).await;
                    let given = Instant::now();
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    given
                })
            })
            .collect()
    }

    async fn given(tasks: Vec<tokio::task::JoinHandle<Instant>>) -> Vec<Instant> {
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        times
    }

    /// The most places given within any `period` (as Telegram would count them).
    fn busiest_window(times: &[Instant], period: Duration) -> usize {
        (0..times.len())
            .map(|i| times[i..].partition_point(|t| *t < times[i] + period))
            .max()
            .unwrap_or(0)
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_bulk_share_comes_from_the_settings_and_leaves_conversation_its_part() {
        let mut settings = crate::config::TelegramSettings::default();
        assert_eq!(Limits::from_settings(&settings).bulk, 24);
        settings.bulk_share_percent = 100;
        assert_eq!(Limits::from_settings(&settings).bulk, 30);
        settings.bulk_share_percent = 1;
        assert_eq!(Limits::from_settings(&settings).bulk, 1, "never none");
        // Two instances: 15 a second each, 12 of them for bulk.
        assert_eq!(Limits::scaled(2).bulk, 12);
    }

    #[tokio::test(start_paused = true)]
    async fn bulk_alone_keeps_to_its_share_and_is_not_starved() {
        let limiter = Arc::new(RateLimiter::default());
        assert_eq!(limiter.limits.bulk, 24);
        let start = Instant::now();
        let times = given(senders(&limiter, Lane::Bulk, 1, 240)).await;
        assert_eq!(busiest_window(&times, SECOND), 24);
        // 24 a second (each window from an answer 40 ms after its place): ten windows.
        let took = times.last().unwrap().duration_since(start);
        assert!(took >= Duration::from_secs(9), "{took:?}");
        assert!(took < Duration::from_millis(9 * 1040 + 100), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn conversation_alone_uses_the_whole_window() {
        let limiter = Arc::new(RateLimiter::default());
        let start = Instant::now();
        let times = given(senders(&limiter, Lane::Conversation, 1, 90)).await;
        assert_eq!(busiest_window(&times, SECOND), 30);
        assert_eq!(times.iter().filter(|t| **t == start).count(), 30);
        assert!(times.last().unwrap().duration_since(start) < Duration::from_millis(2200));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_passes_a_thousand_reminders_and_the_window_holds() {
        let limiter = Arc::new(RateLimiter::default());
        let start = Instant::now();
        let bulk = senders(&limiter, Lane::Bulk, 1, 1000);
        // Every place bulk may have is taken and hundreds wait behind them.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let mut answers = Vec::new();
        for n in 0..40 {
            let asked = Instant::now();
            let _p = limiter.acquire(100_000 + n, Lane::Conversation).await;
            answers.push((Instant::now(), asked.elapsed()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Six a second are kept for conversation: ten a second get a place at once or
        // within a window, never behind the queue.
        assert!(
            answers.iter().all(|(_, waited)| *waited <= SECOND),
            "{answers:?}"
        );
        let at_once = answers.iter().filter(|(_, w)| w.is_zero()).count();
        assert!(at_once >= 20, "{at_once} of 40 at once");
        let bulk = given(bulk).await;
        assert_eq!(busiest_window(&bulk, SECOND), 24);
        let mut all: Vec<Instant> = bulk
            .iter()
            .copied()
            .chain(answers.iter().map(|a| a.0))
            .collect();
        all.sort();
        assert!(busiest_window(&all, SECOND) <= 30);
        assert!(answers.last().unwrap().0 < *bulk.last().unwrap());
        assert!(bulk.last().unwrap().duration_since(start) < Duration::from_secs(45));
    }

    #[tokio::test(start_paused = true)]
    async fn when_both_wait_conversation_goes_first_and_a_chat_limit_holds_no_one_back() {
        // Bulk may fill the whole window: only the order decides.
        let limiter = Arc::new(RateLimiter::new(Limits {
            overall: window(2, 1000),
            bulk: 2,
            ..Limits::default()
        }));
        let a = limiter.acquire(1, Lane::Bulk).await;
        let b = limiter.acquire(2, Lane::Bulk).await;
        let waiting_bulk = senders(&limiter, Lane::Bulk, 3, 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let conversation = senders(&limiter, Lane::Conversation, 10, 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(a);
        let answered_at = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(b);
        let conversation = given(conversation).await[0];
        let bulk = given(waiting_bulk).await[0];
        assert_eq!(conversation, answered_at + SECOND);
        assert_eq!(
            bulk,
            conversation + Duration::from_millis(100),
            "the bulk message waited longer but went second"
        );

        // A conversation message waiting for its own chat (a group's 20 a minute) does not
        // stop bulk messages to other chats.
        let limiter = Arc::new(RateLimiter::default());
        for _ in 0..20 {
            drop(limiter.acquire(-100, Lane::Conversation).await);
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let group = senders(&limiter, Lane::Conversation, -100, 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let start = Instant::now();
        let bulk = given(senders(&limiter, Lane::Bulk, 1, 24)).await;
        assert!(bulk.iter().all(|t| *t == start));
        group.into_iter().for_each(|t| t.abort());
    }

    #[tokio::test(start_paused = true)]
    async fn a_conversation_message_given_up_holds_bulk_back_no_longer() {
        let limiter = Arc::new(RateLimiter::new(Limits {
            overall: window(1, 1000),
            bulk: 1,
            ..Limits::default()
        }));
        let a = limiter.acquire(1, Lane::Bulk).await;
        drop(a);
        let conversation = senders(&limiter, Lane::Conversation, 2, 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let bulk = senders(&limiter, Lane::Bulk, 3, 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        conversation.into_iter().for_each(|t| t.abort());
        let start = Instant::now();
        let bulk = given(bulk).await[0];
        // Its place came when the first answer left the window, as if no one else had asked.
        assert_eq!(bulk.duration_since(start), Duration::from_millis(980));
    }
}
