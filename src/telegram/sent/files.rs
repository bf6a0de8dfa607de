//! The log of messages Telegram accepted, as files (the embedded default), written the moment
//! it answers: a crash between that answer and the chat's worker recording it (in the session
//! or the chat record) no longer sends the message a second time after the restart.
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
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};
use teloxide::types::ChatId;
use tokio::sync::oneshot;

use crate::store::{atomic, owner::FileOwner};
use crate::telegram::outbox::Key;

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
///
/// Lookups are answered from memory; the files belong to a thread of their own
/// ([`FileOwner`]), which appends and rotates in the order the work was queued, so a slow
/// disk holds up only the delivery being logged, never the other chats.
#[derive(Debug, Clone)]
pub struct SentFiles {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    generations: Mutex<Generations>,
    writer: FileOwner<Work>,
}

/// The entries of both generations, in memory.
#[derive(Debug, Default)]
struct Generations {
    current: Entries,
    previous: Entries,
}

/// Work for the log's thread.
enum Work {
    /// Append a line; the reply comes once it is written (or failed, which is logged).
    Append {
        line: Vec<u8>,
        done: oneshot::Sender<()>,
    },
    /// The current generation becomes the previous one.
    Rotate,
}

/// The log's files, as its thread holds them.
struct LogFile {
    dir: PathBuf,
    /// The current generation, open for appending; `None` after a failure or a rotation.
    file: Option<File>,
}

impl LogFile {
    fn apply(&mut self, work: Work) {
        match work {
            Work::Append { line, done } => {
                if let Err(error) = self.append(&line) {
                    tracing::warn!(%error, "could not log a delivered message");
                }
                let _ = done.send(());
            }
            Work::Rotate => {
                self.file = None;
                if let Err(error) = std::fs::rename(self.dir.join(CURRENT), self.dir.join(PREVIOUS))
                {
                    tracing::warn!(%error, "could not rotate the log of delivered messages");
                }
            }
        }
    }

    /// Appends one line; a failed write leaves the file closed, to be opened again next time.
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let mut file = match self.file.take() {
            Some(file) => file,
            None => OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(CURRENT))?,
        };
        file.write_all(line)?;
        self.file = Some(file);
        Ok(())
    }
}

impl SentFiles {
    /// Opens the log in `dir`: what both generations hold becomes the previous generation,
    /// and a new current one starts. Lines a crash cut short or a hand edit spoiled are
    /// skipped. This runs once at start-up, before any chat is served.
    pub fn open(dir: &Path) -> io::Result<SentFiles> {
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
        let oldest = lines
            .iter()
            .map(|l| l.at)
            .max()
            .unwrap_or(0)
            .saturating_sub(KEPT_FOR);
        let previous: Entries = lines
            .into_iter()
            .filter(|line| line.at >= oldest)
            .map(|line| ((ChatId(line.chat), line.key), (line.message, line.at)))
            .collect();
        atomic::write(&dir.join(PREVIOUS), &encode(&previous))?;
        atomic::write(&dir.join(CURRENT), b"")?;
        let mut file = LogFile {
            dir: dir.to_path_buf(),
            file: None,
        };
        let writer = FileOwner::spawn("sent-log", move |work| file.apply(work))?;
        Ok(SentFiles {
            shared: Arc::new(Shared {
                generations: Mutex::new(Generations {
                    current: Entries::new(),
                    previous,
                }),
                writer,
            }),
        })
    }

    /// Records that Telegram accepted `key` of `chat` (as `message`), returning once the line
    /// is written: only then may the delivery count as done.
    pub async fn record(&self, chat: ChatId, key: Key, message: Option<i32>) {
        if key == Key::Unsaved {
            return;
        }
        let at = chrono::Utc::now().timestamp();
        let mut line = match serde_json::to_vec(&Line {
            chat: chat.0,
            key,
            message,
            at,
        }) {
            Ok(line) => line,
            Err(error) => {
                tracing::warn!(%error, "could not encode a delivered message for the log");
                return;
            }
        };
        line.push(b'\n');
        let (done, written) = oneshot::channel();
        {
            // The work is queued under the lock, so the files change in the order memory did.
            let mut generations = self.lock();
            generations.current.insert((chat, key), (message, at));
            if self
                .shared
                .writer
                .queue(Work::Append { line, done })
                .is_err()
            {
                tracing::warn!("could not log a delivered message: the log's writer has stopped");
                return;
            }
            if generations.current.len() >= GENERATION {
                generations.previous = std::mem::take(&mut generations.current);
                let _ = self.shared.writer.queue(Work::Rotate);
            }
        }
        let _ = written.await;
    }

    /// Whether Telegram accepted `key` of `chat`, and as which message.
    pub fn lookup(&self, chat: ChatId, key: Key) -> Option<Option<i32>> {
        let generations = self.lock();
        generations
            .current
            .get(&(chat, key))
            .or_else(|| generations.previous.get(&(chat, key)))
            .map(|(message, _)| *message)
    }

    /// The entries. Only memory work happens under the lock and each change is one map
    /// operation, so a lock poisoned by a panic still holds whole maps and is taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.shared
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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

    #[tokio::test]
    async fn a_message_logged_as_sent_is_known_after_a_restart_for_two_generations() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        let key = Key::Transcript {
            session: 9,
            index: 4,
        };
        log.record(ChatId(42), key, Some(118)).await;
        assert_eq!(log.lookup(ChatId(42), key), Some(Some(118)));
        assert_eq!(log.lookup(ChatId(43), key), None);
        drop(log);
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(42), key), Some(Some(118)));
        drop(log);
        // Opened again without new entries: still known within the hour.
        let log = SentFiles::open(dir.path()).unwrap();
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
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(5)), None);
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(6)), Some(Some(9)));
    }

    #[test]
    fn a_message_logged_just_before_a_long_stop_is_known_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let two_days_ago = chrono::Utc::now().timestamp() - 2 * 24 * 3600;
        std::fs::write(dir.path().join(CURRENT), line(5, two_days_ago)).unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(5)), Some(Some(9)));
    }

    #[tokio::test]
    async fn the_log_rotates_and_forgets_the_oldest_generation() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        let first = Key::Outbox(1);
        log.record(ChatId(1), first, None).await;
        for n in 0..(2 * GENERATION as u64) {
            log.record(ChatId(2), Key::Outbox(100 + n), Some(1)).await;
        }
        assert_eq!(log.lookup(ChatId(1), first), None);
        assert!(
            log.lookup(ChatId(2), Key::Outbox(100 + 2 * GENERATION as u64 - 1))
                .is_some()
        );
        assert!(log.lock().current.len() < GENERATION);
        drop(log);
        // On disk as in memory: the oldest generation is gone, the newest is kept.
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), first), None);
        assert_eq!(
            log.lookup(ChatId(2), Key::Outbox(100 + 2 * GENERATION as u64 - 1)),
            Some(Some(1))
        );
    }

    #[tokio::test]
    async fn hand_edited_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::Utc::now().timestamp();
        let mut bytes = line(5, now).into_bytes();
        bytes.extend(b"{\"chat\":\"one\"}\nnot json\n\xff\xfe\n");
        bytes.extend(line(6, now).into_bytes());
        // An absurd time must not overflow the age arithmetic.
        bytes.extend(line(7, i64::MIN).into_bytes());
        std::fs::write(dir.path().join(CURRENT), bytes).unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(5)), Some(Some(9)));
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(6)), Some(Some(9)));
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(7)), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CURRENT), line(8, i64::MIN)).unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        assert_eq!(log.lookup(ChatId(1), Key::Outbox(8)), Some(Some(9)));
    }

    #[tokio::test]
    async fn a_panic_while_the_entries_are_locked_leaves_the_log_working() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentFiles::open(dir.path()).unwrap();
        let poisoner = log.clone();
        let panicked = std::thread::spawn(move || {
            let _held = poisoner.lock();
            panic!("a panic while the entries are locked");
        })
        .join();
        assert!(panicked.is_err());
        assert!(log.shared.generations.is_poisoned());
        log.record(ChatId(3), Key::Outbox(1), Some(2)).await;
        assert_eq!(log.lookup(ChatId(3), Key::Outbox(1)), Some(Some(2)));
    }
}
