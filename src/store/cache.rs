//! A bounded cache of recently used sessions. An entry is trusted only while the file on disk
//! still has the size and modification time it had when the entry was made, so a file changed
//! by anything else is read again.

use std::{fs::Metadata, num::NonZeroUsize, sync::Mutex, time::SystemTime};

use lru::LruCache;

use crate::model::{Session, UserId};

/// How many sessions are kept in memory.
pub const CAPACITY: usize = 256;

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    /// The stamp of a file from its metadata.
    pub fn of(meta: &Metadata) -> Self {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// Sessions by user, least recently used evicted first.
#[derive(Debug)]
pub struct SessionCache(Mutex<LruCache<UserId, (Stamp, Session)>>);

impl SessionCache {
    /// A cache of at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        SessionCache(Mutex::new(LruCache::new(
            NonZeroUsize::new(capacity.max(1)).expect("non-zero"),
        )))
    }

    /// The cached session of `user`, if the file still has `stamp`.
    pub fn get(&self, user: UserId, stamp: Stamp) -> Option<Session> {
        let mut cache = self.0.lock().expect("cache lock");
        match cache.get(&user) {
            Some((cached, session)) if *cached == stamp => Some(session.clone()),
            Some(_) => {
                cache.pop(&user);
                None
            }
            None => None,
        }
    }

    /// Remembers `session` as the content of a file with `stamp`.
    pub fn put(&self, session: &Session, stamp: Stamp) {
        self.0
            .lock()
            .expect("cache lock")
            .put(session.user, (stamp, session.clone()));
    }

    /// Forgets `user`'s session.
    pub fn forget(&self, user: UserId) {
        self.0.lock().expect("cache lock").pop(&user);
    }
}
