//! The inbox as a file (the embedded default): every update Telegram delivers is appended to a
//! journal and fsync'd before its offset is confirmed, so a crash never loses what a user sent.
//!
//! ```text
//! SESSIONS_DIR/inbox/journal.jsonl
//!   {"seen":41}                  the highest update id saved before the last compaction
//!   {"update":{...}}             an update, as Telegram sent it
//!   {"handled":42}               its consequences are all done (replies delivered)
//! ```
//!
//! At start-up the updates without a `handled` line are handed out again, in order; an update
//! whose id is at or below the highest one saved is a redelivery and is dropped. Handled marks
//! are written without an fsync: losing one only means the update is handed out once more,
//! and the chat's worker recognises it and changes nothing. When everything is handled the
//! journal is rewritten to a single `seen` line.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};
use teloxide::types::{ChatId, Update};
use tokio::sync::oneshot;

use crate::store::{atomic, owner::FileOwner};

/// The journal's file name inside `SESSIONS_DIR/inbox/`.
pub const JOURNAL: &str = "journal.jsonl";

/// Compact once this many lines accumulate.
const COMPACT_LINES: usize = 512;

/// A journal failure: the path and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("inbox journal {path}: {source}")]
pub struct JournalError {
    /// The journal file.
    path: String,
    /// The I/O error.
    source: io::Error,
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Seen(u32),
    Update(Box<Update>),
    Handled(u32),
}

impl Line {
    /// The line as JSON, or `None` (logged) for an update that cannot be encoded.
    fn encode(&self) -> Option<String> {
        serde_json::to_string(self)
            .inspect_err(|error| tracing::error!(%error, "an inbox line could not be encoded"))
            .ok()
    }
}

/// The inbox, shared by the poller (which saves) and the chat workers (which mark handled).
///
/// What is known about the updates lives in memory behind a lock that is only ever held for
/// memory work; the journal file belongs to a thread of its own ([`FileOwner`]) that appends,
/// fsyncs and compacts in the order the work was queued. Work is queued while the lock is
/// held, so the file sees changes in the order memory did.
#[derive(Debug, Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    index: Mutex<Index>,
    writer: FileOwner<Work>,
    /// One save at a time: a batch is either in flight or in the index, never lost between.
    saving: tokio::sync::Mutex<()>,
}

/// What the journal holds, in memory.
#[derive(Debug)]
struct Index {
    /// The highest update id saved (or, when saving failed, taken in memory).
    seen: Option<u32>,
    /// Updates saved and not yet handled, by id.
    unhandled: BTreeMap<u32, Update>,
    /// The batch being fsync'd: not handed out yet, but a compaction queued meanwhile must
    /// keep it, or the rewrite would erase a batch that is about to be confirmed.
    in_flight: Vec<Update>,
    /// The highest id of the batch in flight, kept even if an erasure takes its update out.
    in_flight_seen: Option<u32>,
    /// Lines in the file once the queued work is done.
    lines: usize,
    /// There was no journal before this start.
    new: bool,
}

impl Index {
    /// Whether the file holds more than the highest id and the unhandled updates.
    fn wants_compaction(&self) -> bool {
        let needed = 1 + self.unhandled.len() + self.in_flight.len();
        self.lines > needed || self.lines == 0
    }

    /// The journal as compaction writes it: the highest id seen and the updates still needed.
    fn compacted(&self) -> String {
        let mut text = String::new();
        // The batch in flight is written before this rewrite (the thread keeps the order), so
        // its ids count as seen even where an erasure took its updates out.
        let seen = self.seen.max(self.in_flight_seen).map(Line::Seen);
        let updates = self
            .unhandled
            .values()
            .chain(&self.in_flight)
            .map(|update| Line::Update(Box::new(update.clone())));
        for line in seen.into_iter().chain(updates) {
            if let Some(line) = line.encode() {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    }
}

/// Work for the journal's thread.
enum Work {
    /// Append lines and fsync them; the reply says whether they are on disk.
    Durable {
        text: String,
        done: oneshot::Sender<io::Result<()>>,
    },
    /// Append a handled mark, without an fsync: losing one costs a redelivery, nothing more.
    Mark(String),
    /// Replace the whole journal; the reply says whether the new one is on disk.
    Rewrite {
        text: String,
        done: Option<oneshot::Sender<io::Result<()>>>,
    },
}

/// The journal file, as its thread holds it.
struct JournalFile {
    path: PathBuf,
    /// Open for appending; `None` after a failure or a rewrite, until the next append.
    file: Option<File>,
}

impl JournalFile {
    fn apply(&mut self, work: Work) {
        match work {
            Work::Durable { text, done } => {
                let result = self.append(&text).and_then(|file| file.sync_data());
                if result.is_err() {
                    self.file = None;
                }
                let _ = done.send(result);
            }
            Work::Mark(text) => {
                if let Err(error) = self.append(&text) {
                    tracing::warn!(%error, "could not mark an update handled");
                }
            }
            Work::Rewrite { text, done } => {
                let result = atomic::write(&self.path, text.as_bytes());
                // The old file, if the rewrite replaced it, is gone from the directory.
                self.file = None;
                match done {
                    Some(done) => {
                        let _ = done.send(result);
                    }
                    None => {
                        if let Err(error) = result {
                            tracing::warn!(%error, "could not compact the inbox journal");
                        }
                    }
                }
            }
        }
    }

    /// Appends `text` (one or more lines) and returns the file, to be synced if need be. A
    /// failed write leaves the file closed, to be opened again by the next append.
    fn append(&mut self, text: &str) -> io::Result<&mut File> {
        let mut file = match self.file.take() {
            Some(file) => file,
            None => OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?,
        };
        file.write_all(format!("{text}\n").as_bytes())?;
        Ok(self.file.insert(file))
    }
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` and returns the updates still to be
    /// handled, oldest first. A torn last line (a crash mid-append), or any line a hand edit
    /// left unreadable, is skipped with a warning. This runs once at start-up, before any chat
    /// is served, so its reading and compaction block nobody.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Update>), JournalError> {
        let path = dir.join(JOURNAL);
        let fail = |source| JournalError {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut index = Index {
            seen: None,
            unhandled: BTreeMap::new(),
            in_flight: Vec::new(),
            in_flight_seen: None,
            lines: 0,
            new: !path.exists(),
        };
        // A line cut short by a crash: the journal is rewritten before anything is appended,
        // so the next line does not join it.
        let mut torn = false;
        match std::fs::read(&path) {
            Ok(bytes) => {
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    torn = true;
                }
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    index.lines += 1;
                    match serde_json::from_slice::<Line>(line) {
                        Ok(Line::Seen(id)) => index.seen = index.seen.max(Some(id)),
                        Ok(Line::Update(update)) => {
                            index.seen = index.seen.max(Some(update.id.0));
                            index.unhandled.insert(update.id.0, *update);
                        }
                        Ok(Line::Handled(id)) => {
                            index.unhandled.remove(&id);
                        }
                        Err(error) => {
                            torn = true;
                            tracing::warn!(%error, "skipping an unreadable inbox line (an interrupted write or a hand edit)")
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
        if torn || index.wants_compaction() {
            let text = index.compacted();
            atomic::write(&path, text.as_bytes()).map_err(fail)?;
            index.lines = text.lines().count();
        }
        let mut file = JournalFile {
            path: path.clone(),
            file: None,
        };
        let writer =
            FileOwner::spawn("inbox-journal", move |work| file.apply(work)).map_err(fail)?;
        let pending: Vec<Update> = index.unhandled.values().cloned().collect();
        if !pending.is_empty() {
            tracing::info!(
                updates = pending.len(),
                "handling updates saved before the last stop"
            );
        }
        let shared = Shared {
            path,
            index: Mutex::new(index),
            writer,
            saving: tokio::sync::Mutex::new(()),
        };
        Ok((
            Journal {
                shared: Arc::new(shared),
            },
            pending,
        ))
    }

    /// The offset for the next getUpdates: everything up to the highest saved update is
    /// confirmed, nothing beyond it.
    pub fn offset(&self) -> i32 {
        self.lock().seen.map_or(0, |seen| {
            i32::try_from(seen).unwrap_or(i32::MAX).saturating_add(1)
        })
    }

    /// Saves new updates (fsync'd) and returns those not seen before, in order. If the
    /// journal cannot be written, the updates are still returned (so users get their
    /// replies) and the error is reported: durability is lost until storage recovers.
    ///
    /// The offset moves past the batch only once its fsync has answered, so it is never
    /// confirmed to Telegram before it is on disk.
    pub async fn save(&self, updates: Vec<Update>) -> (Vec<Update>, Option<JournalError>) {
        let _one_at_a_time = self.shared.saving.lock().await;
        let (fresh, written) = {
            let mut index = self.lock();
            let fresh: Vec<Update> = updates
                .into_iter()
                .filter(|u| index.seen.is_none_or(|seen| u.id.0 > seen))
                .collect();
            if fresh.is_empty() {
                return (fresh, None);
            }
            let lines: Vec<String> = fresh
                .iter()
                .filter_map(|update| Line::Update(Box::new(update.clone())).encode())
                .collect();
            index.lines += lines.len();
            index.in_flight.clone_from(&fresh);
            index.in_flight_seen = fresh.iter().map(|u| u.id.0).max();
            let (done, written) = oneshot::channel();
            let queued = self.shared.writer.queue(Work::Durable {
                text: lines.join("\n"),
                done,
            });
            (fresh, queued.is_ok().then_some(written))
        };
        let result = match written {
            Some(written) => written.await.unwrap_or_else(|_| Err(writer_gone())),
            None => Err(writer_gone()),
        };
        let mut index = self.lock();
        // What is still in flight: a chat erased meanwhile has left it. Its updates are
        // handed out all the same (the user sent them), but the journal keeps none of them.
        let kept = std::mem::take(&mut index.in_flight);
        index.in_flight_seen = None;
        if result.is_ok() {
            index
                .unhandled
                .extend(kept.into_iter().map(|update| (update.id.0, update)));
        }
        index.seen = index.seen.max(fresh.iter().map(|u| u.id.0).max());
        if index.lines >= COMPACT_LINES {
            self.compact(&mut index, None);
        }
        let error = result.err().map(|source| JournalError {
            path: self.shared.path.display().to_string(),
            source,
        });
        (fresh, error)
    }

    /// Marks update `id` handled: all its consequences are done. The mark is queued for the
    /// journal's thread; nothing here waits for the disk.
    pub fn handled(&self, id: u32) {
        let mut index = self.lock();
        if index.unhandled.remove(&id).is_some()
            && let Some(line) = Line::Handled(id).encode()
        {
            index.lines += 1;
            if self.shared.writer.queue(Work::Mark(line)).is_err() {
                tracing::warn!(error = %writer_gone(), "could not mark an update handled");
            }
        }
    }

    /// Drops every saved update of `chat` and rewrites the journal without them: the user
    /// erased their data, and the inbox keeps none of their messages. Returns once the
    /// rewritten journal is on disk (or the rewrite failed, which is logged).
    pub async fn forget(&self, chat: ChatId) {
        let (done, rewritten) = oneshot::channel();
        {
            let mut index = self.lock();
            let theirs = |u: &Update| u.chat().map(|c| c.id) == Some(chat);
            index.unhandled.retain(|_, u| !theirs(u));
            index.in_flight.retain(|u| !theirs(u));
            self.compact(&mut index, Some(done));
        }
        let result = rewritten.await.unwrap_or_else(|_| Err(writer_gone()));
        if let Err(error) = result {
            tracing::warn!(%error, "could not rewrite the inbox without an erased user's updates");
        }
    }

    /// Queues a rewrite of the journal with only what is still needed; `index` stays locked
    /// while it is queued, so no later change reaches the file before it.
    fn compact(&self, index: &mut Index, done: Option<oneshot::Sender<io::Result<()>>>) {
        let text = index.compacted();
        index.lines = text.lines().count();
        if let Err(Work::Rewrite {
            done: Some(done), ..
        }) = self.shared.writer.queue(Work::Rewrite { text, done })
        {
            let _ = done.send(Err(writer_gone()));
        }
    }

    /// The saved, unhandled updates of `chat`, oldest first (to restart a failed worker).
    pub fn unhandled_in(&self, chat: ChatId) -> Vec<Update> {
        self.lock()
            .unhandled
            .values()
            .filter(|u| u.chat().map(|c| c.id) == Some(chat))
            .cloned()
            .collect()
    }

    /// Whether this start created the journal (a first start, or an upgrade from a version
    /// without one).
    pub fn is_new(&self) -> bool {
        self.lock().new
    }

    /// How many saved updates are not handled yet.
    pub fn backlog(&self) -> usize {
        self.lock().unhandled.len()
    }

    /// The index. Only memory work happens under it, and a panic there leaves it whole (each
    /// change is a single map operation), so a poisoned lock is simply taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.shared
            .index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error when the journal's thread has stopped (it only stops when the inbox is dropped).
fn writer_gone() -> io::Error {
    io::Error::other("the inbox journal's writer has stopped")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn update(id: u32, chat: i64, text: &str) -> Update {
        // Parsed from text, as Telegram's answers are (teloxide's update parser does not
        // accept a `serde_json::Value` deserializer).
        serde_json::from_str(
            &json!({
                "update_id": id,
                "message": {
                    "message_id": id, "date": 1_800_000_000,
                    "chat": {"id": chat, "type": "private", "first_name": "Ann"},
                    "from": {"id": chat, "is_bot": false, "first_name": "Ann"},
                    "text": text
                }
            })
            .to_string(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn saved_updates_come_back_after_a_restart_until_handled() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, pending) = Journal::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        assert_eq!(inbox.offset(), 0);
        let (fresh, error) = inbox
            .save(vec![
                update(10, 1, "a"),
                update(11, 2, "b"),
                update(12, 1, "c"),
            ])
            .await;
        assert!(error.is_none());
        assert_eq!(fresh.len(), 3);
        assert!(fresh[0].chat().is_some(), "{:?}", fresh[0].kind);
        assert_eq!(inbox.offset(), 13);
        inbox.handled(11);
        assert_eq!(inbox.unhandled_in(ChatId(1)).len(), 2);
        drop(inbox);

        let (inbox, pending) = Journal::open(dir.path()).unwrap();
        let ids: Vec<u32> = pending.iter().map(|u| u.id.0).collect();
        assert_eq!(ids, vec![10, 12]);
        assert_eq!(inbox.offset(), 13);
    }

    #[tokio::test]
    async fn a_redelivered_update_is_dropped_even_after_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        inbox.save(vec![update(5, 1, "a")]).await;
        inbox.handled(5);
        drop(inbox);
        // Reopening compacts the fully handled journal to its `seen` line.
        let (inbox, pending) = Journal::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        let text = std::fs::read_to_string(dir.path().join(JOURNAL)).unwrap();
        assert_eq!(text.trim(), r#"{"seen":5}"#);
        let (fresh, _) = inbox.save(vec![update(5, 1, "a"), update(6, 1, "b")]).await;
        assert_eq!(fresh.iter().map(|u| u.id.0).collect::<Vec<_>>(), vec![6]);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        inbox.save(vec![update(7, 1, "kept")]).await;
        drop(inbox);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(JOURNAL))
            .unwrap();
        file.write_all(br#"{"update":{"update_id":8,"mess"#)
            .unwrap();
        let (_, pending) = Journal::open(dir.path()).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id.0, 7);
    }

    #[tokio::test]
    async fn a_last_line_without_its_newline_does_not_swallow_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(JOURNAL), br#"{"seen":3}"#).unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(inbox.offset(), 4);
        inbox.save(vec![update(4, 1, "kept")]).await;
        drop(inbox);
        let (_, pending) = Journal::open(dir.path()).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id.0, 4);
    }

    #[tokio::test]
    async fn the_journal_stays_small_as_updates_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        for id in 1..=2000 {
            inbox.save(vec![update(id, 1, "x")]).await;
            inbox.handled(id);
        }
        let lines = std::fs::read_to_string(dir.path().join(JOURNAL))
            .unwrap()
            .lines()
            .count();
        assert!(lines <= COMPACT_LINES + 2, "{lines} lines");
        assert_eq!(inbox.offset(), 2001);
    }

    #[tokio::test]
    async fn hand_edited_lines_are_skipped_and_the_rest_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        inbox.save(vec![update(20, 1, "first")]).await;
        drop(inbox);
        let path = dir.path().join(JOURNAL);
        let mut text = std::fs::read_to_string(&path).unwrap();
        // Lines an operator might leave behind: a wrong type, an unknown kind, plain text,
        // bytes that are not UTF-8, an id beyond what an offset can hold.
        text.push_str("{\"seen\":\"twenty\"}\n{\"archived\":3}\nnot json at all\n");
        let mut bytes = text.into_bytes();
        bytes.extend(b"\xff\xfe\n");
        std::fs::write(&path, bytes).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        let later = serde_json::to_string(&Line::Update(Box::new(update(21, 2, "second"))));
        writeln!(file, "{}", later.unwrap()).unwrap();
        drop(file);

        let (inbox, pending) = Journal::open(dir.path()).unwrap();
        let ids: Vec<u32> = pending.iter().map(|u| u.id.0).collect();
        assert_eq!(ids, vec![20, 21]);
        assert_eq!(inbox.offset(), 22);
        // The journal was rewritten without the unreadable lines.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        std::fs::write(&path, format!("{{\"seen\":{}}}\n", u32::MAX)).unwrap();
        drop(inbox);
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(inbox.offset(), i32::MAX);
    }

    #[tokio::test]
    async fn forgetting_a_chat_while_a_batch_is_being_saved_keeps_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        inbox.save(vec![update(1, 9, "erase me")]).await;
        let (fresh, error) = {
            let save = inbox.save(vec![update(2, 1, "kept"), update(3, 9, "erase me too")]);
            tokio::pin!(save);
            // The first poll queues the batch's fsync and waits for it; the rewrite is queued
            // behind it, while the batch is not in the index yet.
            let early = futures::poll!(&mut save);
            inbox.forget(ChatId(9)).await;
            match early {
                std::task::Poll::Ready(done) => done,
                std::task::Poll::Pending => save.await,
            }
        };
        assert!(error.is_none());
        assert_eq!(
            fresh.len(),
            2,
            "both are handed out: the erasure came after them"
        );
        drop(inbox);
        let (inbox, pending) = Journal::open(dir.path()).unwrap();
        let ids: Vec<u32> = pending.iter().map(|u| u.id.0).collect();
        assert_eq!(
            ids,
            vec![2],
            "the batch survived the rewrite, without the erased chat"
        );
        assert_eq!(inbox.offset(), 4);
        let text = std::fs::read_to_string(dir.path().join(JOURNAL)).unwrap();
        assert!(!text.contains("erase me"), "{text}");
    }

    #[test]
    fn a_panic_while_the_index_is_locked_leaves_the_inbox_working() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Journal::open(dir.path()).unwrap();
        let poisoner = inbox.clone();
        let panicked = std::thread::spawn(move || {
            let _held = poisoner.lock();
            panic!("a panic while the index is locked");
        })
        .join();
        assert!(panicked.is_err());
        assert!(inbox.shared.index.is_poisoned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (fresh, error) = runtime.block_on(inbox.save(vec![update(4, 1, "after")]));
        assert!(error.is_none());
        assert_eq!(fresh.len(), 1);
        assert_eq!(inbox.offset(), 5);
        inbox.handled(4);
        assert_eq!(inbox.backlog(), 0);
    }

    mod crashes {
        use std::collections::{BTreeMap, VecDeque};

        use proptest::prelude::*;

        use super::*;

        /// One step of the simulation.
        #[derive(Debug, Clone)]
        enum Step {
            /// getUpdates (up to this many), then save what came back.
            Poll(usize),
            /// getUpdates, then the process dies before saving.
            PollThenCrash(usize),
            /// The worker takes this many handed-out updates (effect and watermark saved
            /// together, as a chat record or a session is).
            Take(usize),
            /// This many taken updates are marked handled.
            Mark(usize),
            /// The process dies; `torn` leaves half a line at the end of the journal.
            Crash { torn: bool },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (1usize..6).prop_map(Step::Poll),
                (1usize..6).prop_map(Step::PollThenCrash),
                (1usize..6).prop_map(Step::Take),
                (1usize..6).prop_map(Step::Mark),
                any::<bool>().prop_map(|torn| Step::Crash { torn }),
            ]
        }

        /// What survives a crash of the worker's side: per chat, the messages in its history
        /// and the highest update taken.
        #[derive(Default)]
        struct Durable {
            history: BTreeMap<i64, Vec<u32>>,
            seen: BTreeMap<i64, u32>,
        }

        /// The process: the inbox and what it has handed out, lost on a crash.
        struct Process {
            inbox: Journal,
            handed: VecDeque<Update>,
            taken: VecDeque<u32>,
        }

        fn start(dir: &Path) -> Process {
            let (inbox, pending) = Journal::open(dir).unwrap();
            Process {
                inbox,
                handed: pending.into(),
                taken: VecDeque::new(),
            }
        }

        /// Telegram: every update above the confirmed offset is delivered again.
        fn get_updates(
            all: &[Update],
            offset: &mut i32,
            new_offset: i32,
            limit: usize,
        ) -> Vec<Update> {
            *offset = (*offset).max(new_offset);
            all.iter()
                .filter(|u| u.id.0 as i32 >= *offset)
                .take(limit)
                .cloned()
                .collect()
        }

        fn take(process: &mut Process, durable: &mut Durable, n: usize) {
            for _ in 0..n {
                let Some(update) = process.handed.pop_front() else {
                    return;
                };
                let chat = update.chat().unwrap().id.0;
                let id = update.id.0;
                let seen = durable.seen.entry(chat).or_default();
                if id > *seen {
                    durable.history.entry(chat).or_default().push(id);
                    *seen = id;
                }
                process.taken.push_back(id);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn any_interleaving_of_crashes_and_redeliveries_keeps_each_message_once(
                steps in proptest::collection::vec(step(), 1..40),
                chats in proptest::collection::vec(1i64..4, 12..30),
            ) {
                let all: Vec<Update> = chats
                    .iter()
                    .enumerate()
                    .map(|(i, chat)| update(i as u32 + 1, *chat, "text"))
                    .collect();
                let dir = tempfile::tempdir().unwrap();
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let mut confirmed = 0i32;
                let mut durable = Durable::default();
                let mut process = start(dir.path());
                let crash = |process: Process, torn: bool| {
                    drop(process);
                    if torn {
                        let mut file = OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(dir.path().join(JOURNAL))
                            .unwrap();
                        // Half an update line: a crash in the middle of an append.
                        file.write_all(br#"{"update":{"update_id":"#).unwrap();
                    }
                    start(dir.path())
                };
                for step in steps {
                    match step {
                        Step::Poll(limit) => {
                            let batch = get_updates(&all, &mut confirmed, process.inbox.offset(), limit);
                            let (fresh, error) = runtime.block_on(process.inbox.save(batch));
                            prop_assert!(error.is_none());
                            process.handed.extend(fresh);
                        }
                        Step::PollThenCrash(limit) => {
                            get_updates(&all, &mut confirmed, process.inbox.offset(), limit);
                            process = crash(process, false);
                        }
                        Step::Take(n) => take(&mut process, &mut durable, n),
                        Step::Mark(n) => {
                            for _ in 0..n {
                                if let Some(id) = process.taken.pop_front() {
                                    process.inbox.handled(id);
                                }
                            }
                        }
                        Step::Crash { torn } => process = crash(process, torn),
                    }
                }
                // Then the process runs without crashing until Telegram has nothing left.
                for _ in 0..all.len() * 2 + 2 {
                    let batch = get_updates(&all, &mut confirmed, process.inbox.offset(), 100);
                    let (fresh, _) = runtime.block_on(process.inbox.save(batch));
                    process.handed.extend(fresh);
                    take(&mut process, &mut durable, usize::MAX);
                    while let Some(id) = process.taken.pop_front() {
                        process.inbox.handled(id);
                    }
                }
                for chat in 1..4 {
                    let expected: Vec<u32> = all
                        .iter()
                        .filter(|u| u.chat().unwrap().id.0 == chat)
                        .map(|u| u.id.0)
                        .collect();
                    let got = durable.history.get(&chat).cloned().unwrap_or_default();
                    prop_assert_eq!(got, expected, "chat {}", chat);
                }
                prop_assert_eq!(process.inbox.backlog(), 0);
            }
        }
    }
}
