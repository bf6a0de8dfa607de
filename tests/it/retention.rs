//! SESSION_RETENTION_DAYS: old completed, archived and quarantined files go; interviews in
//! progress, dialogue state and profiles stay, however old.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use ai_interviewer::{
    interview::ManualClock,
    metrics::Metrics,
    store::{
        InterviewStore, STAMP_FORMAT, SessionStore,
        retention::{self, DatedBy},
    },
};
use chrono::{DateTime, Utc};

use crate::support::{epoch, eventually};

const DAY: Duration = Duration::from_secs(86_400);

/// A file named as the store names retired files, retired `age` before `now`.
fn retired(
    root: &Path,
    folder: &str,
    user: u64,
    ext: &str,
    now: DateTime<Utc>,
    age: Duration,
) -> PathBuf {
    let at = now - chrono::Duration::from_std(age).unwrap();
    let path = root
        .join(folder)
        .join(format!("{user}-{}.{ext}", at.format(STAMP_FORMAT)));
    std::fs::write(&path, b"{}").unwrap();
    path
}

/// A file whose name carries no time, last modified `age` before `now`.
fn modified(path: PathBuf, now: DateTime<Utc>, age: Duration) -> PathBuf {
    std::fs::write(&path, b"{}").unwrap();
    let at = SystemTime::from(now) - age;
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(at)
        .unwrap();
    path
}

#[test]
fn files_past_the_limit_are_purged_by_the_time_in_their_name_or_else_their_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    SessionStore::open(root).unwrap();
    let now = epoch();
    let limit = 30 * DAY;

    let old_report = retired(root, "completed", 1, "md", now, 31 * DAY);
    let old_session = retired(root, "completed", 1, "json", now, 31 * DAY);
    let fresh_report = retired(root, "completed", 2, "md", now, 29 * DAY);
    let old_archive = retired(root, "archive", 3, "json", now, 400 * DAY);
    let fresh_archive = retired(root, "archive", 3, "json", now, DAY);
    let old_quarantine = retired(root, "quarantine", 4, "json", now, 31 * DAY);
    // The name says recent even though the file was touched long ago (say, restored from a
    // backup that kept old times): the name wins.
    let renamed = modified(
        retired(root, "quarantine", 5, "json", now, DAY),
        now,
        90 * DAY,
    );
    let unnamed_old = modified(root.join("quarantine/stray.json"), now, 31 * DAY);
    let unnamed_fresh = modified(root.join("archive/notes.txt"), now, 2 * DAY);
    // Never purged, however old: interviews in progress, dialogue state, profiles, the metrics.
    let keep = [
        modified(root.join("9.json"), now, 999 * DAY),
        modified(root.join("chats/9.json"), now, 999 * DAY),
        modified(root.join("profiles/9.json"), now, 999 * DAY),
        modified(root.join("metrics.json"), now, 999 * DAY),
    ];

    let mut purged = retention::purge(root, limit, now).unwrap();
    purged.sort_by(|a, b| a.path.cmp(&b.path));
    let mut expected = vec![
        (old_report, DatedBy::Name),
        (old_session, DatedBy::Name),
        (old_archive, DatedBy::Name),
        (old_quarantine, DatedBy::Name),
        (unnamed_old, DatedBy::Modified),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        purged
            .iter()
            .map(|p| (p.path.clone(), p.dated_by))
            .collect::<Vec<_>>(),
        expected
    );
    assert!(purged.iter().all(|p| p.age > limit));
    for (path, _) in &expected {
        assert!(!path.exists(), "{}", path.display());
    }
    for path in [fresh_report, fresh_archive, renamed, unnamed_fresh]
        .iter()
        .chain(&keep)
    {
        assert!(path.exists(), "{} was purged", path.display());
    }
    assert!(retention::purge(root, limit, now).unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_policy_runs_at_start_and_then_periodically_and_counts_each_purge() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let store: Arc<dyn InterviewStore> = Arc::new(SessionStore::open(&root).unwrap());
    let clock = Arc::new(ManualClock::new(epoch()));
    let metrics = Metrics::unpersisted(clock.clone());
    retired(&root, "archive", 1, "json", epoch(), 8 * DAY);
    let soon_old = retired(&root, "archive", 2, "json", epoch(), 6 * DAY);

    let task = retention::spawn(vec![store], 7, metrics.clone(), retention::INTERVAL).unwrap();
    let purged = || metrics.snapshot().all_time.files_purged;
    eventually("the pass at start", async || purged() >= 1).await;
    assert!(soon_old.exists());
    clock.advance(2 * DAY);
    // The next pass is due one interval after the first: move tokio's paused clock there.
    tokio::time::advance(retention::INTERVAL).await;
    eventually("the periodic pass", async || purged() >= 2).await;
    assert!(!soon_old.exists());
    task.abort();
}

#[test]
fn zero_days_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(epoch()));
    let task = retention::spawn(
        vec![Arc::new(SessionStore::open(dir.path()).unwrap())],
        0,
        Metrics::unpersisted(clock),
        retention::INTERVAL,
    );
    assert!(task.is_none());
}
