//! Who may use the bot, and the bookkeeping that keeps refusals and group notices to one per
//! episode. Nothing here is written to disk: a refused user leaves no trace. The memory it
//! keeps is bounded: the least recently seen entries are forgotten first.

use std::{collections::HashSet, num::NonZeroUsize, sync::Mutex, time::Duration};

use lru::LruCache;
use tokio::time::Instant;

use super::Config;
use crate::model::UserId;

/// How long a refused user waits before being told again.
const REFUSAL_REPEAT: Duration = Duration::from_secs(3600);

/// The most refused users and groups remembered.
const REMEMBERED: usize = 10_000;

/// The allow list and its notices, shared by the handler tree.
#[derive(Debug)]
pub struct Access {
    allowed: HashSet<u64>,
    admins: HashSet<u64>,
    /// Refused users and when they were last told.
    told_refused: Mutex<LruCache<UserId, Instant>>,
    /// Group chats already told to use a private chat.
    told_groups: Mutex<LruCache<i64, ()>>,
}

impl Access {
    /// The policy from the settings.
    pub fn new(settings: &Config) -> Self {
        let capacity = NonZeroUsize::new(REMEMBERED).expect("positive");
        Access {
            allowed: settings.allowed_user_ids.iter().copied().collect(),
            admins: settings.admin_user_ids.iter().copied().collect(),
            told_refused: Mutex::new(LruCache::new(capacity)),
            told_groups: Mutex::new(LruCache::new(capacity)),
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
        let now = Instant::now();
        let mut told = self.told_refused.lock().unwrap_or_else(|e| e.into_inner());
        match told.get(&user) {
            Some(at) if now - *at < REFUSAL_REPEAT => false,
            _ => {
                told.put(user, now);
                true
            }
        }
    }

    /// Whether a group chat still needs its one explanation.
    pub fn tell_group(&self, chat: i64) -> bool {
        self.told_groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(chat, ())
            .is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(allowed: &[u64], admins: &[u64]) -> Access {
        Access::new(&Config {
            bot_token: None,
            api_url: "https://api.telegram.org".parse().unwrap(),
            rate_limit_messages: 30,
            rate_limit_window: Duration::from_secs(300),
            allowed_user_ids: allowed.to_vec(),
            admin_user_ids: admins.to_vec(),
            shutdown_grace: Duration::from_secs(10),
            consent: Default::default(),
            drafts: true,
            webhook: None,
        })
    }

    #[test]
    fn an_empty_allow_list_admits_everyone_and_admins_are_always_admitted() {
        assert!(access(&[], &[]).is_allowed(UserId(5)));
        let a = access(&[1, 2], &[9]);
        assert!(a.is_allowed(UserId(1)) && a.is_allowed(UserId(9)));
        assert!(!a.is_allowed(UserId(3)));
        assert!(a.is_admin(UserId(9)) && !a.is_admin(UserId(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_user_is_told_once_an_hour() {
        let a = access(&[1], &[]);
        assert!(a.tell_refused(UserId(2)));
        assert!(!a.tell_refused(UserId(2)));
        tokio::time::advance(REFUSAL_REPEAT).await;
        assert!(a.tell_refused(UserId(2)));
    }

    #[test]
    fn a_group_is_told_once_and_memory_stays_bounded() {
        let a = access(&[], &[]);
        assert!(a.tell_group(-5));
        assert!(!a.tell_group(-5));
        for chat in 0..(REMEMBERED as i64 * 2) {
            a.tell_group(-1000 - chat);
        }
        assert_eq!(a.told_groups.lock().unwrap().len(), REMEMBERED);
    }
}
