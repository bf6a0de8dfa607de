//! The durable inbox: every update Telegram delivers is appended to a journal and fsync'd
//! before its offset is confirmed, so a crash never loses what a user sent.
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
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};
use teloxide::types::{ChatId, Update};

use crate::store::atomic;

/// The journal's file name inside `SESSIONS_DIR/inbox/`.
pub const JOURNAL: &str = "journal.jsonl";

/// Compact once this many lines accumulate.
const COMPACT_LINES: usize = 512;

/// A journal failure: the path and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("inbox journal {path}: {source}")]
pub struct InboxError {
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

/// The inbox, shared by the poller (which saves) and the chat workers (which mark handled).
#[derive(Debug, Clone)]
pub struct Inbox {
    inner: Arc<Mutex<Journal>>,
}

#[derive(Debug)]
struct Journal {
    path: PathBuf,
    /// Open for appending; `None` after a failure until the next successful reopen.
    file: Option<File>,
    /// The highest update id saved (or, when saving failed, taken in memory).
    seen: Option<u32>,
    /// Updates saved and not yet handled, by id.
    unhandled: BTreeMap<u32, Update>,
    /// Lines in the file.
    lines: usize,
    /// There was no journal before this start.
    new: bool,
}

impl Inbox {
    /// Opens (creating if needed) the journal in `dir` and returns the updates still to be
    /// handled, oldest first. A torn last line (a crash mid-append) is skipped.
    pub fn open(dir: &Path) -> Result<(Inbox, Vec<Update>), InboxError> {
        let path = dir.join(JOURNAL);
        let fail = |source| InboxError {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut seen = None;
        let mut unhandled = BTreeMap::new();
        let mut lines = 0;
        // A line cut short by a crash: the journal is rewritten before anything is appended,
        // so the next line does not join it.
        let mut torn = false;
        let new = !path.exists();
        match std::fs::read(&path) {
            Ok(bytes) => {
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    torn = true;
                }
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    lines += 1;
                    match serde_json::from_slice::<Line>(line) {
                        Ok(Line::Seen(id)) => seen = seen.max(Some(id)),
                        Ok(Line::Update(update)) => {
                            seen = seen.max(Some(update.id.0));
                            unhandled.insert(update.id.0, *update);
                        }
                        Ok(Line::Handled(id)) => {
                            unhandled.remove(&id);
                        }
                        Err(error) => {
                            torn = true;
                            tracing::warn!(%error, "skipping an unreadable inbox line (an interrupted write)")
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
        let mut journal = Journal {
            path: path.clone(),
            file: None,
            seen,
            unhandled,
            lines,
            new,
        };
        if torn {
            journal.lines = usize::MAX;
        }
        journal.compact().map_err(fail)?;
        let pending: Vec<Update> = journal.unhandled.values().cloned().collect();
        if !pending.is_empty() {
            tracing::info!(
                updates = pending.len(),
                "handling updates saved before the last stop"
            );
        }
        Ok((
            Inbox {
                inner: Arc::new(Mutex::new(journal)),
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
    pub async fn save(&self, updates: Vec<Update>) -> (Vec<Update>, Option<InboxError>) {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut journal = inner.lock().unwrap_or_else(|e| e.into_inner());
            journal.save(updates)
        })
        .await
        .unwrap_or_else(|error| {
            (
                Vec::new(),
                Some(InboxError {
                    path: JOURNAL.into(),
                    source: io::Error::other(error.to_string()),
                }),
            )
        })
    }

    /// Marks update `id` handled: all its consequences are done.
    pub fn handled(&self, id: u32) {
        let mut journal = self.lock();
        if journal.unhandled.remove(&id).is_some() {
            let line = serde_json::to_string(&Line::Handled(id)).expect("a number serialises");
            if let Err(error) = journal.append(&line, false) {
                tracing::warn!(%error, "could not mark an update handled");
            }
        }
    }

    /// Drops every saved update of `chat` and rewrites the journal without them: the user
    /// erased their data, and the inbox keeps none of their messages.
    pub fn forget(&self, chat: ChatId) {
        let mut journal = self.lock();
        journal
            .unhandled
            .retain(|_, u| u.chat().map(|c| c.id) != Some(chat));
        journal.lines = usize::MAX;
        if let Err(error) = journal.compact() {
            tracing::warn!(%error, "could not rewrite the inbox without an erased user's updates");
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Journal {
    fn save(&mut self, updates: Vec<Update>) -> (Vec<Update>, Option<InboxError>) {
        let fresh: Vec<Update> = updates
            .into_iter()
            .filter(|u| self.seen.is_none_or(|seen| u.id.0 > seen))
            .collect();
        if fresh.is_empty() {
            return (fresh, None);
        }
        let mut text = String::new();
        for update in &fresh {
            match serde_json::to_string(&Line::Update(Box::new(update.clone()))) {
                Ok(line) => {
                    text.push_str(&line);
                    text.push('\n');
                }
                Err(error) => {
                    tracing::error!(%error, update = update.id.0, "update not serialisable")
                }
            }
        }
        let result = self.append(text.trim_end(), true).and_then(|()| {
            if self.lines >= COMPACT_LINES {
                self.compact()
            } else {
                Ok(())
            }
        });
        for update in &fresh {
            self.seen = self.seen.max(Some(update.id.0));
            if result.is_ok() {
                self.unhandled.insert(update.id.0, update.clone());
            }
        }
        let error = result.err().map(|source| InboxError {
            path: self.path.display().to_string(),
            source,
        });
        (fresh, error)
    }

    /// Appends `text` (one or more lines); `sync` makes it durable before returning.
    fn append(&mut self, text: &str, sync: bool) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        let file = self.file.as_mut().expect("opened above");
        let result = file
            .write_all(format!("{text}\n").as_bytes())
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        match result {
            Ok(()) => {
                self.lines += text.lines().count();
                Ok(())
            }
            Err(error) => {
                self.file = None;
                Err(error)
            }
        }
    }

    /// Rewrites the journal with only what is still needed: the highest id seen and the
    /// unhandled updates.
    fn compact(&mut self) -> io::Result<()> {
        let needed = 1 + self.unhandled.len();
        if self.lines <= needed && self.lines > 0 && self.lines != usize::MAX {
            return Ok(());
        }
        let mut text = String::new();
        if let Some(seen) = self.seen {
            text.push_str(&serde_json::to_string(&Line::Seen(seen)).expect("serialises"));
            text.push('\n');
        }
        for update in self.unhandled.values() {
            if let Ok(line) = serde_json::to_string(&Line::Update(Box::new(update.clone()))) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        atomic::write(&self.path, text.as_bytes())?;
        self.file = None;
        self.lines = text.lines().count();
        Ok(())
    }
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
        let (inbox, pending) = Inbox::open(dir.path()).unwrap();
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

        let (inbox, pending) = Inbox::open(dir.path()).unwrap();
        let ids: Vec<u32> = pending.iter().map(|u| u.id.0).collect();
        assert_eq!(ids, vec![10, 12]);
        assert_eq!(inbox.offset(), 13);
    }

    #[tokio::test]
    async fn a_redelivered_update_is_dropped_even_after_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Inbox::open(dir.path()).unwrap();
        inbox.save(vec![update(5, 1, "a")]).await;
        inbox.handled(5);
        drop(inbox);
        // Reopening compacts the fully handled journal to its `seen` line.
        let (inbox, pending) = Inbox::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        let text = std::fs::read_to_string(dir.path().join(JOURNAL)).unwrap();
        assert_eq!(text.trim(), r#"{"seen":5}"#);
        let (fresh, _) = inbox.save(vec![update(5, 1, "a"), update(6, 1, "b")]).await;
        assert_eq!(fresh.iter().map(|u| u.id.0).collect::<Vec<_>>(), vec![6]);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Inbox::open(dir.path()).unwrap();
        inbox.save(vec![update(7, 1, "kept")]).await;
        drop(inbox);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(JOURNAL))
            .unwrap();
        file.write_all(br#"{"update":{"update_id":8,"mess"#)
            .unwrap();
        let (_, pending) = Inbox::open(dir.path()).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id.0, 7);
    }

    #[tokio::test]
    async fn a_last_line_without_its_newline_does_not_swallow_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(JOURNAL), br#"{"seen":3}"#).unwrap();
        let (inbox, _) = Inbox::open(dir.path()).unwrap();
        assert_eq!(inbox.offset(), 4);
        inbox.save(vec![update(4, 1, "kept")]).await;
        drop(inbox);
        let (_, pending) = Inbox::open(dir.path()).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id.0, 4);
    }

    #[tokio::test]
    async fn the_journal_stays_small_as_updates_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, _) = Inbox::open(dir.path()).unwrap();
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
            inbox: Inbox,
            handed: VecDeque<Update>,
            taken: VecDeque<u32>,
        }

        fn start(dir: &Path) -> Process {
            let (inbox, pending) = Inbox::open(dir).unwrap();
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
