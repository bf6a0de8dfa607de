//! The loaders of what the bot keeps on disk, which a crash may have cut or a person edited:
//! each input is written as the file in a fresh `SESSIONS_DIR` and loaded through the store.

use std::{path::Path, sync::Arc};

use ai_interviewer::{
    metrics::{Metrics, ledger::Ledger},
    model::{SystemClock, UserId},
    store::{InterviewStore, Loaded, SessionStore, decode_session},
    telegram::{
        inbox::{JOURNAL, Journal},
        profile::Profile,
        record::ChatRecord,
        sent::{
            SentLog,
            files::{CURRENT, PREVIOUS},
        },
    },
};

use crate::runtime;

const USER: UserId = UserId(7);

/// A fresh store with `bytes` written at `relative` under its root.
fn store_with(relative: &str, bytes: &[u8]) -> (tempfile::TempDir, SessionStore) {
    let dir = crate::scratch();
    let store = SessionStore::open(dir.path()).expect("the store opens");
    std::fs::write(dir.path().join(relative), bytes).expect("the file is written");
    (dir, store)
}

/// The contents of every file in the store's `quarantine/`.
fn quarantined(root: &Path) -> Vec<Vec<u8>> {
    std::fs::read_dir(root.join("quarantine"))
        .expect("the quarantine folder")
        .map(|entry| std::fs::read(entry.expect("an entry").path()).expect("a readable file"))
        .collect()
}

/// Loaded or quarantined, never half: either the file is still where it was and nothing is in
/// quarantine, or it is gone from there and its bytes, unchanged, are the one file in
/// quarantine.
fn loaded_or_quarantined(root: &Path, relative: &str, bytes: &[u8], loaded: bool) {
    let kept = std::fs::read(root.join(relative)).ok();
    let moved = quarantined(root);
    if loaded {
        assert_eq!(kept.as_deref(), Some(bytes), "a loaded file was changed");
        assert!(moved.is_empty(), "a loaded file was also quarantined");
    } else {
        assert!(kept.is_none(), "a refused file was left in place");
        assert_eq!(
            moved,
            [bytes.to_vec()],
            "the quarantined file is not the one refused"
        );
    }
}

/// The session file: loaded (then it saves and loads back equal) or quarantined.
pub fn session_file(data: &[u8]) {
    let decoded = decode_session(data);
    let relative = format!("{USER}.json");
    let (dir, store) = store_with(&relative, data);
    runtime().block_on(async {
        let loaded = store.load(USER).await.expect("loading reads the file");
        match loaded {
            Loaded::Session(session) => {
                assert!(decoded.is_ok());
                loaded_or_quarantined(dir.path(), &relative, data, true);
                store.save(&session).await.expect("a loaded session saves");
                match store.load(USER).await.expect("it loads again") {
                    Loaded::Session(again) => assert_eq!(again, session),
                    other => panic!("a saved session loads as {other:?}"),
                }
            }
            Loaded::Quarantined { .. } => {
                // Either it does not decode, or it holds another user's session.
                assert!(decoded.as_ref().map_or(true, |s| s.user != USER));
                loaded_or_quarantined(dir.path(), &relative, data, false);
            }
            Loaded::Nothing => panic!("a file that is there loaded as nothing"),
        }
    });
}

/// Which per-user record a keyed loader reads.
fn keyed(folder: &str, data: &[u8], load: impl AsyncFnOnce(&dyn InterviewStore) -> bool) {
    let relative = format!("{folder}/{USER}.json");
    let (dir, store) = store_with(&relative, data);
    let found = runtime().block_on(load(&store));
    let kept = dir.path().join(&relative).exists();
    // A record that reads as absent was either empty of meaning or quarantined; one that
    // reads as present was loaded from the file, which stays.
    if found {
        assert!(kept, "a record was loaded but its file is gone");
    }
    loaded_or_quarantined(dir.path(), &relative, data, kept);
}

/// The Telegram chat record (the current form and the legacy dialogue state).
pub fn chat_record(data: &[u8]) {
    keyed("chats", data, async |store| {
        let record = ChatRecord::load(store, USER)
            .await
            .expect("loading reads the file");
        !record.is_empty()
    });
}

/// The user's profile (the language they chose).
pub fn profile(data: &[u8]) {
    keyed("profiles", data, async |store| {
        Profile::load(store, USER).await.is_some()
    });
}

/// `metrics.json`: the counters open from it, or it is quarantined and counting starts over.
pub fn metrics_file(data: &[u8]) {
    let decoded = Ledger::decode(data).is_ok();
    let (dir, _store) = store_with("metrics.json", data);
    Metrics::open(dir.path(), Arc::new(SystemClock)).expect("the counters open");
    loaded_or_quarantined(dir.path(), "metrics.json", data, decoded);
}

/// The inbox journal: it opens on any content, and reopening what it rewrote gives the same
/// updates to handle.
pub fn inbox_journal(data: &[u8]) {
    let dir = crate::scratch();
    std::fs::write(dir.path().join(JOURNAL), data).expect("the journal is written");
    let ids = |dir: &Path| {
        let (inbox, pending) = Journal::open(dir).expect("the inbox opens on any journal");
        let offset = inbox.offset();
        (pending.iter().map(|u| u.id.0).collect::<Vec<_>>(), offset)
    };
    let first = ids(dir.path());
    let second = ids(dir.path());
    assert_eq!(first, second, "reopening the inbox changed what it holds");
}

/// The lines of a log file, in order of their text (the log writes a map, in no set order).
fn sorted_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines
}

/// The sent log: it opens on any content (either generation), and what it rewrites at opening
/// reads back whole and opens again to the same entries.
pub fn sent_log(data: &[u8]) {
    let dir = crate::scratch();
    // A crash may cut either generation.
    let name = match data.first() {
        Some(b) if b % 2 == 1 => PREVIOUS,
        _ => CURRENT,
    };
    std::fs::write(dir.path().join(name), data).expect("the log is written");
    drop(SentLog::open(dir.path()).expect("the log opens on any content"));
    let kept = std::fs::read(dir.path().join(PREVIOUS)).expect("the kept generation");
    for line in sorted_lines(&kept) {
        serde_json::from_slice::<serde_json::Value>(line).expect("a line the log wrote reads");
    }
    let current = std::fs::read(dir.path().join(CURRENT)).expect("the new generation");
    assert!(current.is_empty(), "the new generation starts empty");
    drop(SentLog::open(dir.path()).expect("the log opens what it wrote"));
    let again = std::fs::read(dir.path().join(PREVIOUS)).expect("the kept generation");
    assert_eq!(
        sorted_lines(&again),
        sorted_lines(&kept),
        "reopening the log changed what it keeps"
    );
}
