//! The index: one summary row per interview the expert agreed to show, kept in memory so the
//! pages answer without reading the files.
//!
//! It is built by one scan of `SESSIONS_DIR` at start (on a blocking thread: ten thousand files
//! take a while) and then kept by following the store's announcements ([`Change`]): a save
//! re-reads the user's interview in progress, a retirement re-reads all the user's files, a
//! deletion drops the user's rows. A follower that fell too far behind reads everything again,
//! and so does every follower once an hour ([`RESCAN_EVERY`]): the retention policy and an
//! operator's hand remove files without announcing it.
//! Files that cannot be read are left out here; the store quarantines them when they are loaded.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio::sync::{
    broadcast::{Receiver, error::RecvError},
    watch,
};

use crate::{
    model::{Ending, Lang, Review, Session, Stage, Style, Usage, UserId},
    store::{Change, Folder, InterviewStore, decode_session},
};

/// How often the index reads every file again, whatever was announced.
pub const RESCAN_EVERY: Duration = Duration::from_secs(3600);

/// Where an interview stands, as the desk shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// The expert is answering.
    InProgress,
    /// Nothing was said for longer than `SESSION_TIMEOUT_MINUTES`.
    Idle,
    /// The interview ended; the report (or its revision) is not written yet.
    ReportWriting,
    /// The report is written and waits for the expert to confirm or correct it.
    ReportWaiting,
    /// The expert confirmed the report.
    Confirmed,
    /// The expert corrected the report and the revision is written.
    Corrected,
    /// Set aside unfinished (/reset, or starting over).
    Abandoned,
}

impl State {
    /// Every state, in the order the filter lists them.
    pub const ALL: [State; 7] = [
        State::InProgress,
        State::Idle,
        State::ReportWriting,
        State::ReportWaiting,
        State::Confirmed,
        State::Corrected,
        State::Abandoned,
    ];

    /// The state's id in URLs, CSV, JSON and the pages' `data-state`.
    pub fn id(self) -> &'static str {
        match self {
            State::InProgress => "in_progress",
            State::Idle => "idle",
            State::ReportWriting => "report_writing",
            State::ReportWaiting => "report_waiting",
            State::Confirmed => "confirmed",
            State::Corrected => "corrected",
            State::Abandoned => "abandoned",
        }
    }

    /// The state named `id`.
    pub fn from_id(id: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.id() == id)
    }

    /// Whether the report is settled by the expert (what the export collects).
    pub fn is_settled(self) -> bool {
        matches!(self, State::Confirmed | State::Corrected)
    }
}

/// Which of the store's places a session file lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// `SESSIONS_DIR/<user>.json`: the interview in progress (or ended, before it is filed).
    Active,
    /// `archive/`: set aside.
    Archive,
    /// `completed/`: finished, beside its report.
    Completed,
}

/// One interview, summed up: ids, numbers, times and the expert's name as their messenger
/// gives it; nothing the expert said.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Whose interview.
    pub user: UserId,
    /// Their name and @username, as their messenger gave them when they agreed.
    pub expert: Option<crate::model::Expert>,
    /// The interview's id among the user's interviews.
    pub session: u32,
    /// Where its file lies.
    pub place: Place,
    /// The session file, for the interview's own page.
    pub file: PathBuf,
    /// The Markdown report, once written.
    pub report: Option<PathBuf>,
    /// The interview's language.
    pub language: Lang,
    /// The interviewer personality.
    pub style: Style,
    /// The current stage.
    pub stage: Stage,
    /// How complete the interview is over all stages, 0 to 100.
    pub completeness: u8,
    /// Typed answers.
    pub text_answers: u32,
    /// Answers with at least one voice note.
    pub voice_answers: u32,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// When the last message was recorded.
    pub last_activity: DateTime<Utc>,
    /// When it ended, if it has.
    pub finished_at: Option<DateTime<Utc>>,
    /// Interview time, breaks excluded.
    pub active: Duration,
    /// Tokens spent so far.
    pub tokens: Usage,
    /// Questions from the offline bank.
    pub offline_turns: u32,
    /// Failed report attempts since the last version.
    pub report_failures: u32,
    /// Report versions written.
    pub report_version: u32,
    /// The study the interview belongs to, if it joined one with an invite link.
    pub study: Option<crate::model::StudyId>,
    ending: Ending,
    review: Review,
}

impl Row {
    /// Sums up `session`, found in `place` at `file`; `None` without the expert's consent.
    pub fn of(session: &Session, place: Place, file: PathBuf) -> Option<Row> {
        session.consent.as_ref()?;
        let (mut text_answers, mut voice_answers) = (0, 0);
        for entry in &session.transcript {
            if entry.role != crate::model::Role::Expert {
                continue;
            }
            if entry.voice.is_empty() {
                text_answers += 1;
            } else {
                voice_answers += 1;
            }
        }
        let completeness = Stage::ALL
            .iter()
            .map(|s| u32::from(session.record(*s).completeness))
            .sum::<u32>()
            / Stage::ALL.len() as u32;
        let report = session.report_path.clone().or_else(|| {
            let md = file.with_extension("md");
            (place == Place::Completed && md.exists()).then_some(md)
        });
        Some(Row {
            user: session.user,
            expert: session.expert.clone(),
            session: session.id,
            place,
            file,
            report,
            language: session.language,
            style: session.style,
            stage: session.stage,
            completeness: completeness as u8,
            text_answers,
            voice_answers,
            started_at: session.started_at,
            last_activity: session.last_activity,
            finished_at: session.finished_at,
            active: session.active_time(),
            tokens: session.usage.tokens(),
            offline_turns: session.usage.offline_turns,
            report_failures: session.report.failures,
            report_version: session.report.version,
            study: session.study.clone(),
            ending: session.ending(),
            review: session.report.review,
        })
    }

    /// Where the interview stands at `now`, an interview in progress counting as idle after
    /// `idle_after` without a message.
    pub fn state(&self, now: DateTime<Utc>, idle_after: Duration) -> State {
        match self.ending {
            Ending::Running if self.place == Place::Archive => State::Abandoned,
            Ending::Running => {
                let quiet = (now - self.last_activity).to_std().unwrap_or_default();
                if quiet >= idle_after {
                    State::Idle
                } else {
                    State::InProgress
                }
            }
            Ending::ReportDue | Ending::RevisionDue => State::ReportWriting,
            Ending::Review => State::ReportWaiting,
            Ending::Done if self.review == Review::Corrected => State::Corrected,
            // Confirmed, or ended by a version that wrote the report at once and asked nothing.
            Ending::Done => State::Confirmed,
        }
    }

    /// Answers of either kind.
    pub fn answers(&self) -> u32 {
        self.text_answers + self.voice_answers
    }
}

/// A row's key: the user and the interview's id.
pub type Key = (UserId, u32);

/// The rows, shared by the pages (readers) and the follower (the one writer).
#[derive(Debug, Clone)]
pub struct Index {
    root: PathBuf,
    rows: Arc<RwLock<BTreeMap<Key, Row>>>,
    /// Turns true once the first scan is done.
    scanned: watch::Receiver<bool>,
}

impl Index {
    /// Reads every interview under `root` (blocking: call it off the async threads).
    pub fn scan(root: &Path) -> Index {
        let (index, done) = Index::empty(root);
        index.rescan();
        let _ = done.send(true);
        index
    }

    fn empty(root: &Path) -> (Index, watch::Sender<bool>) {
        let (done, scanned) = watch::channel(false);
        let index = Index {
            root: root.to_path_buf(),
            rows: Arc::default(),
            scanned,
        };
        (index, done)
    }

    /// The index of `store`, kept up to date from the store's announcements until the store
    /// is dropped. The first scan runs in the background, on a blocking thread, so the bot
    /// starts at once; [`Index::scanned`] waits for it.
    pub fn follow(store: &dyn InterviewStore, root: &Path) -> Index {
        // Subscribed before the scan, so nothing changed during the scan goes unseen.
        let changes = store.changes();
        let (index, done) = Index::empty(root);
        let keeper = index.clone();
        tokio::spawn(async move {
            let scanner = keeper.clone();
            if let Err(error) = tokio::task::spawn_blocking(move || scanner.rescan()).await {
                tracing::error!(%error, "the desk's index could not be built");
            }
            tracing::info!(interviews = keeper.len(), "the desk's index is built");
            let _ = done.send(true);
            keeper.keep(changes).await;
        });
        index
    }

    /// Waits until the first scan is done (at once after it).
    pub async fn scanned(&self) {
        let mut scanned = self.scanned.clone();
        // An error means the scanning task is gone: there is nothing more to wait for.
        let _ = scanned.wait_for(|done| *done).await;
    }

    async fn keep(self, mut changes: Receiver<Change>) {
        let mut hourly = tokio::time::interval(RESCAN_EVERY);
        hourly.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once, and the scan was just made.
        hourly.tick().await;
        loop {
            let index = self.clone();
            let work: Box<dyn FnOnce() + Send> = tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) => Box::new(move || index.apply(change)),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "the desk's index fell behind; reading every file again");
                        Box::new(move || index.rescan())
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = hourly.tick() => Box::new(move || index.rescan()),
            };
            if let Err(error) = tokio::task::spawn_blocking(work).await {
                tracing::error!(%error, "the desk's index could not be updated");
            }
        }
    }

    /// Takes one announced change into the index (blocking: it reads the user's files).
    pub fn apply(&self, change: Change) {
        let user = change.user();
        let fresh = match change {
            Change::Deleted(_) => Vec::new(),
            Change::Saved(_) => read_place(&self.root, Place::Active, Some(user)),
            Change::Retired(_) => [Place::Active, Place::Archive, Place::Completed]
                .into_iter()
                .flat_map(|place| read_place(&self.root, place, Some(user)))
                .collect(),
        };
        let mut rows = self.rows.write().unwrap_or_else(PoisonError::into_inner);
        rows.retain(|(u, _), row| {
            *u != user || (matches!(change, Change::Saved(_)) && row.place != Place::Active)
        });
        insert_all(&mut rows, fresh);
    }

    /// Reads every file again (blocking).
    pub fn rescan(&self) {
        let fresh: Vec<Row> = [Place::Active, Place::Archive, Place::Completed]
            .into_iter()
            .flat_map(|place| read_place(&self.root, place, None))
            .collect();
        let mut rows = BTreeMap::new();
        insert_all(&mut rows, fresh);
        *self.rows.write().unwrap_or_else(PoisonError::into_inner) = rows;
    }

    /// Runs `read` over the rows, in key order, under the read lock.
    pub fn with_rows<T>(&self, read: impl FnOnce(&BTreeMap<Key, Row>) -> T) -> T {
        read(&self.rows.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// One interview's row.
    pub fn get(&self, key: Key) -> Option<Row> {
        self.with_rows(|rows| rows.get(&key).cloned())
    }

    /// The rows of `user`.
    pub fn of_user(&self, user: UserId) -> Vec<Row> {
        self.with_rows(|rows| {
            rows.range((user, 0)..=(user, u32::MAX))
                .map(|(_, row)| row.clone())
                .collect()
        })
    }

    /// How many interviews are listed.
    pub fn len(&self) -> usize {
        self.with_rows(BTreeMap::len)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Puts rows in; when one interview lies in two places (for the moment between the copy into
/// `completed/` and the removal of the active file), the filed copy wins.
fn insert_all(rows: &mut BTreeMap<Key, Row>, fresh: Vec<Row>) {
    for row in fresh {
        let key = (row.user, row.session);
        match rows.get(&key) {
            Some(kept) if kept.place > row.place => {}
            Some(kept) if kept.place == row.place && kept.last_activity > row.last_activity => {}
            _ => {
                rows.insert(key, row);
            }
        }
    }
}

/// The session files in `place` (of `user` only, if given), summed up.
fn read_place(root: &Path, place: Place, user: Option<UserId>) -> Vec<Row> {
    let dir = match place {
        Place::Active => root.to_path_buf(),
        Place::Archive => root.join(Folder::Archive.name()),
        Place::Completed => root.join(Folder::Completed.name()),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let wanted = |name: &str| -> bool {
        let Some(stem) = name.strip_suffix(".json") else {
            return false;
        };
        // Active files are `<user>.json`; filed ones `<user>-<stamp>.json`.
        let id = match place {
            Place::Active => stem,
            _ => stem.split_once('-').map_or("", |(id, _)| id),
        };
        match (id.parse::<u64>(), user) {
            (Ok(id), Some(user)) => id == user.0,
            (Ok(_), None) => true,
            (Err(_), _) => false,
        }
    };
    entries
        .flatten()
        .filter(|e| wanted(&e.file_name().to_string_lossy()))
        .filter_map(|e| {
            let path = e.path();
            let bytes = std::fs::read(&path).ok()?;
            let session = decode_session(&bytes).ok()?;
            Row::of(&session, place, path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Consent, store::SessionStore};

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    fn consented(user: u64, id: u32) -> Session {
        let mut s = Session::new(id, UserId(user), Lang::En, Style::default(), at(0));
        s.consent = Some(Consent {
            version: "v1".into(),
            at: at(0),
        });
        s.push_question("q".into(), false, at(0));
        s.push_answer("a", at(1));
        s
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_interview_without_consent_has_no_row() {
        let mut s = consented(1, 1);
        assert!(Row::of(&s, Place::Active, "1.json".into()).is_some());
        s.consent = None;
        assert!(Row::of(&s, Place::Active, "1.json".into()).is_none());
    }

    #[test]
    fn each_state_follows_from_where_the_interview_and_its_report_stand() {
        let row = |s: &Session, place| Row::of(s, place, "x.json".into()).unwrap();
        let mut s = consented(1, 1);
        assert_eq!(row(&s, Place::Active).state(at(2), HOUR), State::InProgress);
        assert_eq!(row(&s, Place::Active).state(at(61), HOUR), State::Idle);
        assert_eq!(row(&s, Place::Archive).state(at(2), HOUR), State::Abandoned);
        s.finished_at = Some(at(5));
        s.report.version = 0;
        assert_eq!(
            row(&s, Place::Active).state(at(6), HOUR),
            State::ReportWriting
        );
        s.report.version = 1;
        assert_eq!(
            row(&s, Place::Active).state(at(6), HOUR),
            State::ReportWaiting
        );
        s.report.review = Review::Confirmed;
        assert_eq!(
            row(&s, Place::Completed).state(at(6), HOUR),
            State::Confirmed
        );
        s.report.review = Review::Corrected;
        assert_eq!(
            row(&s, Place::Completed).state(at(6), HOUR),
            State::Corrected
        );
        for state in State::ALL {
            assert_eq!(State::from_id(state.id()), Some(state));
        }
    }

    #[test]
    fn typed_and_spoken_answers_are_counted_apart() {
        let mut s = consented(1, 1);
        s.push_question("q2".into(), false, at(2));
        let clip = crate::model::VoiceClip {
            duration_ms: 1000,
            confidence: 0.9,
            model: None,
        };
        s.push_voice_answer("spoken", clip, at(3));
        let row = Row::of(&s, Place::Active, "x.json".into()).unwrap();
        assert_eq!((row.text_answers, row.voice_answers), (1, 1));
        assert_eq!(row.answers(), 2);
    }

    #[tokio::test]
    async fn the_index_scans_at_start_and_follows_saves_retirements_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut hidden = consented(3, 30);
        hidden.consent = None;
        store.save(&consented(1, 10)).await.unwrap();
        store.save(&hidden).await.unwrap();
        let index = Index::scan(dir.path());
        assert_eq!(index.len(), 1, "only the interview with consent");

        index.apply(Change::Saved(UserId(3)));
        assert!(index.of_user(UserId(3)).is_empty(), "still no consent");

        let mut second = consented(2, 20);
        store.save(&second).await.unwrap();
        index.apply(Change::Saved(UserId(2)));
        assert_eq!(index.get((UserId(2), 20)).unwrap().place, Place::Active);

        second.finished_at = Some(at(9));
        store.retire(&second, Folder::Completed, &[]).await.unwrap();
        index.apply(Change::Retired(UserId(2)));
        let filed = index.of_user(UserId(2));
        assert_eq!(filed.len(), 1);
        assert_eq!(filed[0].place, Place::Completed);

        // A new interview of the same user stands beside the filed one.
        store.save(&consented(2, 21)).await.unwrap();
        index.apply(Change::Saved(UserId(2)));
        assert_eq!(index.of_user(UserId(2)).len(), 2);

        store.delete_user(UserId(2)).await.unwrap();
        index.apply(Change::Deleted(UserId(2)));
        assert!(index.of_user(UserId(2)).is_empty());
        assert_eq!(index.len(), 1);
    }

    #[tokio::test]
    async fn a_followed_index_sees_a_save_made_after_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let index = Index::follow(&store, dir.path());
        index.scanned().await;
        let mut changes = store.changes();
        store.save(&consented(7, 70)).await.unwrap();
        changes.recv().await.unwrap();
        // The follower got the same announcement; its work is a file read on a blocking
        // thread, so the test waits for the row by polling, with a deadline.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while index.get((UserId(7), 70)).is_none() {
            assert!(std::time::Instant::now() < deadline, "the row never came");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
