//! The log of messages Telegram accepted, written the moment it answers: a crash between that
//! answer and the chat's worker recording it (in the session or the chat record) no longer
//! sends the message a second time, after a restart or on another replica.
//!
//! Two places keep it, behind one type: files in `SESSIONS_DIR/inbox/` ([`files`], the
//! embedded default), or the database ([`PgSentLog`]). Look-ups are answered from memory: the
//! files are read whole at start-up; from the database a chat's entries are read when a
//! worker starts for it ([`SentLog::warm`]), since only the replica running a chat sends to it.

pub mod files;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use teloxide::types::ChatId;

pub use self::files::SentFiles;
use super::outbox::Key;
use crate::store::{StoreError, postgres::PgSentLog};

/// How long the database keeps an entry: a worker records a delivery within milliseconds, so
/// only the moments before a crash matter, and a day covers a long outage.
const KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Entries kept in memory from the database before they are let go of (only a worker's start
/// reads them, right after [`SentLog::warm`]).
const CACHED: usize = 50_000;

/// The log, shared by the sender (which writes) and the workers (which read).
#[derive(Debug, Clone)]
pub enum SentLog {
    /// Files in `SESSIONS_DIR/inbox/`.
    Files(SentFiles),
    /// Rows in the database, with the chats this process runs in memory.
    Database(Arc<Table>),
}

/// The log in the database.
#[derive(Debug)]
pub struct Table {
    rows: PgSentLog,
    cache: Mutex<HashMap<(ChatId, Key), Option<i32>>>,
}

impl SentLog {
    /// Opens the log's files in `dir`.
    pub fn open(dir: &std::path::Path) -> std::io::Result<SentLog> {
        SentFiles::open(dir).map(SentLog::Files)
    }

    /// The log in the database; entries older than a day are let go of.
    pub async fn database(rows: PgSentLog) -> Result<SentLog, StoreError> {
        rows.purge(chrono::Utc::now() - KEPT_FOR).await?;
        Ok(SentLog::Database(Arc::new(Table {
            rows,
            cache: Mutex::default(),
        })))
    }

    /// Records that Telegram accepted `key` of `chat` (as `message`), returning once it is
    /// written: only then may the delivery count as done.
    pub async fn record(&self, chat: ChatId, key: Key, message: Option<i32>) {
        match self {
            SentLog::Files(files) => files.record(chat, key, message).await,
            SentLog::Database(table) => {
                if key == Key::Unsaved {
                    return;
                }
                table.cache(|cache| {
                    cache.insert((chat, key), message);
                });
                let Ok(name) = serde_json::to_string(&key) else {
                    return;
                };
                if let Err(error) = table.rows.record(chat.0, &name, message).await {
                    tracing::warn!(%error, "could not log a delivered message");
                }
            }
        }
    }

    /// Whether Telegram accepted `key` of `chat`, and as which message.
    pub fn lookup(&self, chat: ChatId, key: Key) -> Option<Option<i32>> {
        match self {
            SentLog::Files(files) => files.lookup(chat, key),
            SentLog::Database(table) => table.cache(|cache| cache.get(&(chat, key)).copied()),
        }
    }

    /// Reads what the database logged for `chat` (by whichever replica ran it before), before
    /// the chat's worker looks anything up.
    pub async fn warm(&self, chat: ChatId) -> Result<(), StoreError> {
        let SentLog::Database(table) = self else {
            return Ok(());
        };
        let entries = table
            .rows
            .of_chat(chat.0, chrono::Utc::now() - KEPT_FOR)
            .await?;
        table.cache(|cache| {
            for (name, message) in entries {
                if let Ok(key) = serde_json::from_str::<Key>(&name) {
                    cache.insert((chat, key), message);
                }
            }
        });
        Ok(())
    }
}

impl Table {
    /// Works on the cache. Only memory work happens under the lock and each change is one map
    /// operation, so a lock poisoned by a panic still holds a whole map and is taken over.
    fn cache<T>(&self, work: impl FnOnce(&mut HashMap<(ChatId, Key), Option<i32>>) -> T) -> T {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHED {
            cache.clear();
        }
        work(&mut cache)
    }
}
