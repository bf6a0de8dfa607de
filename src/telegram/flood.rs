//! Telegram's flood limits, applied to every message the bot sends: about one message a
//! second per private chat (short bursts allowed), twenty a minute per group, thirty a second
//! overall. A message waits exactly as long as the limits require and no longer, so under
//! normal load it goes out at once.

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU32, Ordering},
};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use teloxide::types::ChatId;

/// Messages a private chat may receive in a quick burst before the one-a-second pace applies
/// (a reply split into parts).
const CHAT_BURST: u32 = 3;

/// How often idle chats are forgotten, in messages sent.
const CLEANUP_EVERY: u32 = 1024;

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("limits are positive")
}

/// The flood limits, shared by every task that sends.
#[derive(Debug)]
pub struct FloodGate {
    overall: DefaultDirectRateLimiter,
    private_chats: DefaultKeyedRateLimiter<i64>,
    groups: DefaultKeyedRateLimiter<i64>,
    sent: AtomicU32,
}

impl Default for FloodGate {
    fn default() -> Self {
        FloodGate {
            overall: RateLimiter::direct(Quota::per_second(nonzero(30))),
            private_chats: RateLimiter::keyed(
                Quota::per_second(nonzero(1)).allow_burst(nonzero(CHAT_BURST)),
            ),
            groups: RateLimiter::keyed(Quota::per_minute(nonzero(20))),
            sent: AtomicU32::new(0),
        }
    }
}

impl FloodGate {
    /// Waits until a message to `chat` may be sent.
    pub async fn admit(&self, chat: ChatId) {
        if chat.is_user() {
            self.private_chats.until_key_ready(&chat.0).await;
        } else {
            self.groups.until_key_ready(&chat.0).await;
        }
        self.overall.until_ready().await;
        if self.sent.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.private_chats.retain_recent();
            self.groups.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn a_chat_gets_a_short_burst_then_one_message_a_second() {
        let gate = FloodGate::default();
        let started = Instant::now();
        for _ in 0..CHAT_BURST {
            gate.admit(ChatId(7)).await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "the burst goes out at once"
        );
        gate.admit(ChatId(7)).await;
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn other_chats_are_not_held_up_by_a_busy_one() {
        let gate = FloodGate::default();
        for _ in 0..CHAT_BURST {
            gate.admit(ChatId(7)).await;
        }
        let started = Instant::now();
        gate.admit(ChatId(8)).await;
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn thirty_messages_a_second_overall() {
        let gate = FloodGate::default();
        let started = Instant::now();
        for chat in 1..=31 {
            gate.admit(ChatId(chat)).await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(25),
            "the 31st message waits"
        );
        assert!(started.elapsed() < Duration::from_millis(200));
    }
}
