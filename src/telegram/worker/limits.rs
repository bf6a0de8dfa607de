//! The per-user rate limit. It counts turns (calls to the model), not messages: an answer
//! over the limit is kept and answered when the window allows, joined with anything sent
//! meanwhile.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

/// A sliding window of the turns a user started.
#[derive(Debug)]
pub struct TurnLimiter {
    /// The most turns per window.
    limit: usize,
    /// The window.
    window: Duration,
    /// Start times of the turns in the window, oldest first.
    recent: VecDeque<Instant>,
}

impl TurnLimiter {
    /// At most `limit` turns per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        TurnLimiter {
            limit: limit.max(1) as usize,
            window,
            recent: VecDeque::new(),
        }
    }

    /// Counts a turn starting now, or says how long until one may.
    pub fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            self.recent.pop_front();
        }
        if self.recent.len() < self.limit {
            self.recent.push_back(now);
            return Ok(());
        }
        let oldest = *self.recent.front().expect("the window is full");
        Err(self
            .window
            .saturating_sub(now.saturating_duration_since(oldest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn turns_over_the_limit_wait_for_the_oldest_to_leave_the_window() {
        let mut limiter = TurnLimiter::new(3, Duration::from_secs(300));
        for _ in 0..3 {
            assert_eq!(limiter.take(), Ok(()));
            tokio::time::advance(Duration::from_secs(10)).await;
        }
        assert_eq!(limiter.take(), Err(Duration::from_secs(270)));
        tokio::time::advance(Duration::from_secs(270)).await;
        assert_eq!(limiter.take(), Ok(()));
        assert_eq!(limiter.take(), Err(Duration::from_secs(10)));
    }
}
