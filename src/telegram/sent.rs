//! The log of messages Telegram accepted, written the moment it answers: a crash between
//! that answer and the chat's worker recording it (in the session or the chat record) no
//! longer sends the message a second time after the restart.
//!
//! ```text
//! SESSIONS_DIR/inbox/sent.jsonl       {"chat":42,"key":{"outbox":7},"message":118}
//! SESSIONS_DIR/inbox/sent.old.jsonl   the previous generation
//! ```
//!
//! Lines are appended without an fsync (a killed process loses nothing it wrote; only a
//! power cut could), and the log is rotated in two generations: an entry lives at least one
//! generation, far longer than a worker takes to record it. At start-up the entries of the
//! hour before the last one logged, from both generations, become the previous one: a worker
//! records a delivery within milliseconds, so only the moments before a crash matter, however
//! long ago the crash was.

use std::{
    collections::HashMap,
    fs::{File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};
use teloxide::types::ChatId;

use super::outbox::Key;
use crate::store::atomic;

/// The current generation's file name.
pub const CURRENT: &str = "sent.jsonl";

/// The previous generation's file name.
pub const PREVIOUS: &str = "sent.old.jsonl";

/// Entries per generation before the log rotates.
const GENERATION: usize = 10_000;

/// How old an entry may be and still be loaded at start-up, in seconds.
const KEPT_FOR: i64 = 3600;

/// One line.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    chat: i64,
    key: Key,
    message: Option<i32>,
    /// When Telegram accepted it (unix seconds).
    at: i64,
}

/// The message id and the time of each delivery.
type Entries = HashMap<(ChatId, Key), (Option<i32>, i64)>;

/// The log, shared by the sender (which writes) and the workers (which read).
#[derive(Debug, Clone)]
pub struct SentLog {
    inner: Arc<Mutex<Log>>,
}

#[derive(Debug)]
struct Log {
    dir: PathBuf,
    file: Option<File>,
    current: Entries,
    previous: Entries,
}

impl SentLog {
    /// Opens the log in `dir`: what both generations hold becomes the previous generation,
    /// and a new current one starts.
    pub fn open(dir: &Path) -> io::Result<SentLog> {
        std::fs::create_dir_all(dir)?;
        let mut lines = Vec::new();
        for name in [PREVIOUS, CURRENT] {
            match std::fs::read(dir.join(name)) {
                Ok(bytes) => lines.extend(
                    bytes
                        .split(|b| *b == b'\n')
                        .filter_map(|line| serde_json::from_slice::<Line>(line).ok()),
                ),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        // Ages count back from the last message logged, not from now: after a long stop the
        // messages accepted just before it still matter.
        let oldest = lines.iter().map(|l| l.at).max().unwrap_or(0) - KEPT_FOR;
        let previous: Entries = lines
            .into_iter()
            .filter(|line| line.at >= oldest)
            .map(|line| ((ChatId(line.chat), line.key), (line.message, line.at)))
            .collect();
        atomic::write(&dir.join(PREVIOUS), &encode(&previous))?;
        atomic::write(&dir.join(CURRENT), b"")?;
        Ok(SentLog {
            inner: Arc::new(Mutex::new(Log {
                dir: dir.to_path_buf(),
                file: None,
                current: Entries::new(),
                previous,
            })),
        })
    }

    /// Records that Telegram accepted `key` of `chat` (as `message`).
    pub fn record(&self, chat: ChatId, key: Key, message: Option<i32>) {
        if key == Key::Unsaved {
            return;
        }
        let at = chrono::Utc::now().timestamp();
        let mut log = self.lock();
        if let Err(error) = log.append(chat, key, message, at) {
            tracing::warn!(%error, "could not log a delivered message");
        }
        log.current.insert((chat, key), (message, at));
        if log.current.len() >= GENERATION
            && let Err(error) = log.rotate()
        {
            tracing::warn!(%error, "could not rotate the log of delivered messages");
        }
    }

    /// Whether Telegram accepted `key` of `chat`, and as which message.
    pub fn lookup(&self, chat: ChatId, key: Key) -> Option<Option<i32>> {
        let log = self.lock();
        log.current
            .get(&(chat, key))
            .or_else(|| log.previous.get(&(chat, key)))
            .map(|(message, _)| *message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Log {
    fn append(&mut self, chat: ChatId, key: Key, message: Option<i32>, at: i64) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.join(CURRENT))?,
            );
        }
        let mut line = serde_json::to_vec(&Line {
            chat: chat.0,
            key,
            message,
            at,
        })
        .map_err(io::Error::other)?;
        line.push(b'\n');
        let result = self.file.as_mut().expect("opened above").write_all(&line);
        if result.is_err() {
            self.file = None;
        }
        result
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        std::fs::rename(self.dir.join(CURRENT), self.dir.join(PREVIOUS))?;
        self.previous = std::mem::take(&mut self.current);
        Ok(())
    }
}

fn encode(entries: &Entries) -> Vec<u8> {
    let mut out = Vec::new();
    for ((chat, key), (message, at)) in entries {
        if let Ok(line) = serde_json::to_vec(&Line {
            chat: chat.0,
            key: *key,
            message: *message,
            at: *at,
        }) {
            out.extend(line);
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_logged_as_sent_is_known_after_a_restart_for_two_generations() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentLog::open(dir.path()).unwrap();
        let key = Key::Transcript {
            session: 9,
            index: 4,
        };
        log.record(ChatId(42), key, Some(118));
        assert_eq!(log.lookup(ChatId(42), key), Some(Some(118)));
        assert_eq!(log.lookup(ChatId(43), key), None);
        drop(log);
        let log = SentLog::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(42), key), Some(Some(118)));
        drop(log);
        // Opened again without new entries: still known within the hour.
        let log = SentLog::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(42), key), Some(Some(118)));
    }

    fn line(outbox: u64, at: i64) -> String {
        format!("{{\"chat\":1,\"key\":{{\"outbox\":{outbox}}},\"message\":9,\"at\":{at}}}\n")
    }

    #[test]
    fn entries_older_than_an_hour_before_the_last_one_are_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let last = chrono::Utc::now().timestamp();
        let old = last - KEPT_FOR - 60;
        std::fs::write(dir.path().join(CURRENT), line(5, old) + &line(6, last)).unwrap();
        let log = SentLog::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(5)), None);
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(6)), Some(Some(9)));
    }

    #[test]
    fn a_message_logged_just_before_a_long_stop_is_known_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let two_days_ago = chrono::Utc::now().timestamp() - 2 * 24 * 3600;
        std::fs::write(dir.path().join(CURRENT), line(5, two_days_ago)).unwrap();
        let log = SentLog::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(5)), Some(Some(9)));
    }

    #[test]
    fn the_log_rotates_and_forgets_the_oldest_generation() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentLog::open(dir.path()).unwrap();
        let first = Key::Outbox(1);
        log.record(ChatId(1), first, None);
        for n in 0..(2 * GENERATION as u64) {
            log.record(ChatId(2), Key::Outbox(100 + n), Some(1));
        }
        assert_eq!(log.lookup(ChatId(1), first), None);
        assert!(
            log.lookup(ChatId(2), Key::Outbox(100 + 2 * GENERATION as u64 - 1))
                .is_some()
        );
        assert!(log.lock().current.len() < GENERATION);
    }
}
