//! Telegram's flood limits for bots, as the FAQ states them: about 30 messages per second
//! overall, about one message per second in a private chat (a short burst passes), and 20
//! messages per minute in a group. Pure: the caller passes the clock.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Messages per second the bot may send across all chats.
pub const GLOBAL_PER_SECOND: usize = 30;
/// Messages a private chat accepts at once before the one-per-second pace applies.
pub const PRIVATE_BURST: f64 = 3.0;
/// Sustained messages per second in one private chat.
pub const PRIVATE_PER_SECOND: f64 = 1.0;
/// Messages per minute in one group or supergroup.
pub const GROUP_PER_MINUTE: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatClass {
    Private,
    Group,
}

#[derive(Debug)]
enum ChatWindow {
    /// Token bucket: `tokens` left at `at`.
    Private { tokens: f64, at: Instant },
    /// Send times within the last minute.
    Group(VecDeque<Instant>),
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    global: VecDeque<Instant>,
    chats: HashMap<i64, ChatWindow>,
}

fn ceil_secs(d: Duration) -> u32 {
    let secs = d.as_secs_f64().ceil() as u32;
    secs.max(1)
}

impl RateLimiter {
    /// Counts one message to `chat_id` at `now`, or refuses it with the number of seconds to
    /// wait (`retry_after`, at least 1). A refused message is not counted.
    pub fn try_send(&mut self, chat_id: i64, class: ChatClass, now: Instant) -> Result<(), u32> {
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        while self
            .global
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            self.global.pop_front();
        }
        if self.global.len() >= GLOBAL_PER_SECOND {
            let oldest = self.global[0];
            return Err(ceil_secs(second.saturating_sub(now.duration_since(oldest))));
        }

        let window = self.chats.entry(chat_id).or_insert_with(|| match class {
            ChatClass::Private => ChatWindow::Private {
                tokens: PRIVATE_BURST,
                at: now,
            },
            ChatClass::Group => ChatWindow::Group(VecDeque::new()),
        });
        match window {
            ChatWindow::Private { tokens, at } => {
                let refilled = (*tokens
                    + now.duration_since(*at).as_secs_f64() * PRIVATE_PER_SECOND)
                    .min(PRIVATE_BURST);
                if refilled < 1.0 {
                    let wait = (1.0 - refilled) / PRIVATE_PER_SECOND;
                    return Err(ceil_secs(Duration::from_secs_f64(wait)));
                }
                *tokens = refilled - 1.0;
                *at = now;
            }
            ChatWindow::Group(sent) => {
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= minute)
                {
                    sent.pop_front();
                }
                if sent.len() >= GROUP_PER_MINUTE {
                    let oldest = sent[0];
                    return Err(ceil_secs(minute.saturating_sub(now.duration_since(oldest))));
                }
                sent.push_back(now);
            }
        }
        self.global.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_chat_allows_a_burst_then_one_per_second() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.try_send(1, ChatClass::Private, t0).unwrap();
        }
        assert_eq!(limiter.try_send(1, ChatClass::Private, t0), Err(1));
        // Another chat is not affected.
        limiter.try_send(2, ChatClass::Private, t0).unwrap();
        limiter
            .try_send(1, ChatClass::Private, t0 + Duration::from_millis(1000))
            .unwrap();
        assert!(limiter
            .try_send(1, ChatClass::Private, t0 + Duration::from_millis(1500))
            .is_err());
        // Refused attempts don't count: one second later one more passes.
        limiter
            .try_send(1, ChatClass::Private, t0 + Duration::from_millis(2000))
            .unwrap();
    }

    #[test]
    fn group_allows_twenty_per_minute() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..20 {
            limiter
                .try_send(-5, ChatClass::Group, t0 + Duration::from_secs(i))
                .unwrap();
        }
        let retry = limiter
            .try_send(-5, ChatClass::Group, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(retry, 40);
        limiter
            .try_send(-5, ChatClass::Group, t0 + Duration::from_secs(60))
            .unwrap();
    }

    #[test]
    fn global_limit_is_thirty_per_second() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        for chat in 0..30 {
            limiter.try_send(chat, ChatClass::Private, t0).unwrap();
        }
        assert_eq!(limiter.try_send(99, ChatClass::Private, t0), Err(1));
        limiter
            .try_send(99, ChatClass::Private, t0 + Duration::from_secs(1))
            .unwrap();
    }
}
