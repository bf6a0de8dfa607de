//! Who may use the bot, and how fast: the allow list, the per-user rate limit, and the
//! bookkeeping that keeps refusals and notices to one per episode. Nothing here is written to
//! disk: a refused user leaves no trace.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Mutex,
    time::Duration,
};

use tokio::time::Instant;

use crate::{interview::UserId, settings::TelegramSettings};

/// How long a refused user waits before being told again.
const REFUSAL_REPEAT: Duration = Duration::from_secs(3600);

/// Above this many tracked users, idle ones are forgotten.
const TRACKED_USERS: usize = 10_000;

/// What the rate limiter decided about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the limit.
    Allowed,
    /// Over the limit; tell the user (first refusal of this episode) how long to wait.
    LimitedTell(Duration),
    /// Over the limit; already told.
    LimitedQuiet,
}

/// Access control and rate limiting, shared by all handlers.
#[derive(Debug)]
pub struct Access {
    allowed: HashSet<u64>,
    admins: HashSet<u64>,
    limit: usize,
    window: Duration,
    /// Recent message times per user, oldest first, at most `limit` of them.
    recent: Mutex<HashMap<UserId, VecDeque<Instant>>>,
    /// Users told they are over the limit, until the window lets them in again.
    told_limited: Mutex<HashMap<UserId, Instant>>,
    /// Refused users and when they were last told.
    told_refused: Mutex<HashMap<UserId, Instant>>,
    /// Group chats already told to use a private chat.
    told_groups: Mutex<HashSet<i64>>,
}

impl Access {
    /// The policy from the settings.
    pub fn new(settings: &TelegramSettings) -> Self {
        Access {
            allowed: settings.allowed_user_ids.iter().copied().collect(),
            admins: settings.admin_user_ids.iter().copied().collect(),
            limit: settings.rate_limit_messages as usize,
            window: settings.rate_limit_window,
            recent: Mutex::default(),
            told_limited: Mutex::default(),
            told_refused: Mutex::default(),
            told_groups: Mutex::default(),
        }
    }

    /// Whether `user` may use the bot: everyone when the allow list is empty; admins always.
    pub fn is_allowed(&self, user: UserId) -> bool {
        self.allowed.is_empty() || self.allowed.contains(&user.0) || self.admins.contains(&user.0)
    }

    /// Whether `user` is an operator.
    pub fn is_admin(&self, user: UserId) -> bool {
        self.admins.contains(&user.0)
    }

    /// Whether a refused user should be told (once an hour at most).
    pub fn tell_refused(&self, user: UserId) -> bool {
        once_per(&self.told_refused, user, REFUSAL_REPEAT)
    }

    /// Whether a group chat still needs its one explanation.
    pub fn tell_group(&self, chat: i64) -> bool {
        self.told_groups.lock().expect("lock").insert(chat)
    }

    /// Counts a message from `user` against the sliding window.
    pub fn admit(&self, user: UserId) -> Admission {
        let now = Instant::now();
        let mut recent = self.recent.lock().expect("lock");
        if recent.len() > TRACKED_USERS {
            let window = self.window;
            recent.retain(|_, times| times.back().is_some_and(|t| now - *t < window));
        }
        let times = recent.entry(user).or_default();
        while times.front().is_some_and(|t| now - *t >= self.window) {
            times.pop_front();
        }
        if times.len() < self.limit {
            times.push_back(now);
            self.told_limited.lock().expect("lock").remove(&user);
            return Admission::Allowed;
        }
        let wait = self.window - (now - *times.front().expect("the window is full"));
        let mut told = self.told_limited.lock().expect("lock");
        match told.get(&user) {
            Some(until) if *until > now => Admission::LimitedQuiet,
            _ => {
                told.insert(user, now + wait);
                Admission::LimitedTell(wait)
            }
        }
    }
}

fn once_per(map: &Mutex<HashMap<UserId, Instant>>, user: UserId, every: Duration) -> bool {
    let now = Instant::now();
    let mut map = map.lock().expect("lock");
    if map.len() > TRACKED_USERS {
        map.retain(|_, at| now - *at < every);
    }
    match map.get(&user) {
        Some(at) if now - *at < every => false,
        _ => {
            map.insert(user, now);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(allowed: &[u64], admins: &[u64], limit: u32, window: u64) -> Access {
        let mut settings = crate::settings::Settings::from_lookup(|_| None)
            .unwrap()
            .telegram;
        settings.allowed_user_ids = allowed.to_vec();
        settings.admin_user_ids = admins.to_vec();
        settings.rate_limit_messages = limit;
        settings.rate_limit_window = Duration::from_secs(window);
        Access::new(&settings)
    }

    #[test]
    fn an_empty_allow_list_admits_everyone_and_admins_are_always_admitted() {
        assert!(access(&[], &[], 30, 300).is_allowed(UserId(5)));
        let a = access(&[1, 2], &[9], 30, 300);
        assert!(a.is_allowed(UserId(1)) && a.is_allowed(UserId(9)));
        assert!(!a.is_allowed(UserId(3)));
        assert!(a.is_admin(UserId(9)) && !a.is_admin(UserId(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_is_a_sliding_window_and_the_user_is_told_once_with_the_wait() {
        let a = access(&[], &[], 3, 300);
        let user = UserId(1);
        for _ in 0..3 {
            assert_eq!(a.admit(user), Admission::Allowed);
            tokio::time::advance(Duration::from_secs(10)).await;
        }
        assert_eq!(
            a.admit(user),
            Admission::LimitedTell(Duration::from_secs(270))
        );
        assert_eq!(a.admit(user), Admission::LimitedQuiet);
        assert_eq!(
            a.admit(UserId(2)),
            Admission::Allowed,
            "other users are unaffected"
        );
        tokio::time::advance(Duration::from_secs(270)).await;
        assert_eq!(
            a.admit(user),
            Admission::Allowed,
            "the oldest message left the window"
        );
        assert_eq!(
            a.admit(user),
            Admission::LimitedTell(Duration::from_secs(10))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_user_is_told_once_an_hour() {
        let a = access(&[1], &[], 3, 300);
        assert!(a.tell_refused(UserId(2)));
        assert!(!a.tell_refused(UserId(2)));
        tokio::time::advance(REFUSAL_REPEAT).await;
        assert!(a.tell_refused(UserId(2)));
    }

    #[test]
    fn a_group_is_told_once() {
        let a = access(&[], &[], 3, 300);
        assert!(a.tell_group(-5));
        assert!(!a.tell_group(-5));
    }
}
