//! The index: one summary row per interview the expert agreed to show, kept in memory so the
//! pages answer without reading the store.
//!
//! It is built from one [`InterviewStore::scan`] at start (in the background: ten thousand
//! interviews take a while) and then kept by following the store's announcements
//! ([`Change`]): each one reads the user's interviews again ([`InterviewStore::scan`] of that
//! user) and replaces their rows. On PostgreSQL the announcements of every replica's writes
//! arrive too (`LISTEN`/`NOTIFY`), so every replica's desk shows the whole deployment. A
//! follower that fell too far behind reads everything again, and so does every follower once
//! an hour ([`RESCAN_EVERY`]): the retention policy and an operator's hand remove files
//! without announcing it, and a replica misses what was announced while its listening
//! connection was down. A read that fails (the database restarting) is made good by a full
//! read a little later ([`RETRY_AFTER`]).
//! Interviews that cannot be read are left out here; the store quarantines them when their
//! owner loads them.

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError, RwLock, Weak},
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio::sync::{
    broadcast::{Receiver, error::RecvError},
    watch,
};

use crate::{
    model::{Ending, Lang, Review, Session, Stage, Style, Usage, UserId},
    store::{Change, Filed, Folder, InterviewStore, Scanned, StoreError},
};

/// How often the index reads every interview again, whatever was announced.
pub const RESCAN_EVERY: Duration = Duration::from_secs(3600);

/// How soon the index reads everything again after a read failed.
pub const RETRY_AFTER: Duration = Duration::from_secs(10);

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

/// Which of the store's places an interview lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// In progress (or ended, before it is filed).
    Active,
    /// Filed in `archive`: set aside.
    Archive,
    /// Filed in `completed`: finished, beside its report.
    Completed,
}

impl Place {
    /// The place of an interview filed at `filed` (`None`: in progress).
    pub fn of(filed: Option<Filed>) -> Place {
        match filed.map(|f| f.folder) {
            None => Place::Active,
            Some(Folder::Archive) => Place::Archive,
            // Retirement files only into `completed` or `archive`.
            Some(_) => Place::Completed,
        }
    }
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
    /// Where it lies.
    pub place: Place,
    /// Where it is filed in the store (`None` while in progress): how the interview's own
    /// page reads it.
    pub filed: Option<Filed>,
    /// Where its Markdown report is attached, once written.
    pub report: Option<Filed>,
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
    /// Sums up `session`, filed at `filed` (`None`: in progress); `None` without the
    /// expert's consent.
    pub fn of(session: &Session, filed: Option<Filed>) -> Option<Row> {
        session.consent.as_ref()?;
        let place = Place::of(filed);
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
        // The report is attached where the interview is (or will be) completed: under the
        // time it finished. A completed interview's own key says it best.
        let written = session.report.version > 0 || session.report_path.is_some();
        let report = match (place, filed) {
            (Place::Completed, Some(filed)) if written => Some(filed),
            (Place::Active, _) if written => session.finished_at.map(|at| Filed {
                folder: Folder::Completed,
                user: session.user,
                at,
            }),
            _ => None,
        };
        Some(Row {
            user: session.user,
            expert: session.expert.clone(),
            session: session.id,
            place,
            filed,
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
    rows: Arc<RwLock<BTreeMap<Key, Row>>>,
    /// Turns true once the first read is done.
    scanned: watch::Receiver<bool>,
}

impl Index {
    /// Reads every interview of `store` once, without following it.
    pub async fn read(store: &dyn InterviewStore) -> Result<Index, StoreError> {
        let (index, done) = Index::empty();
        index.rescan(store).await?;
        let _ = done.send(true);
        Ok(index)
    }

    fn empty() -> (Index, watch::Sender<bool>) {
        let (done, scanned) = watch::channel(false);
        let index = Index {
            rows: Arc::default(),
            scanned,
        };
        (index, done)
    }

    /// The index of `store`, kept up to date from the store's announcements until the store
    /// is dropped (the follower holds it weakly, so it does not keep the store alive). The
    /// first read runs in the background, so the bot starts at once; [`Index::scanned`]
    /// waits for it.
    pub fn follow(store: &Arc<dyn InterviewStore>) -> Index {
        // Subscribed before the first read, so nothing changed during it goes unseen.
        let changes = store.changes();
        let (index, done) = Index::empty();
        let keeper = index.clone();
        let store = Arc::downgrade(store);
        tokio::spawn(async move {
            let Some(strong) = store.upgrade() else {
                return;
            };
            let owed = match keeper.rescan(strong.as_ref()).await {
                Ok(()) => {
                    tracing::info!(interviews = keeper.len(), "the desk's index is built");
                    false
                }
                Err(error) => {
                    tracing::error!(%error, "the desk's index could not be built; reading again soon");
                    true
                }
            };
            drop(strong);
            // Pages wait for the first read; a failed one shows what there is, not nothing
            // forever.
            let _ = done.send(true);
            keeper.keep(store, changes, owed).await;
        });
        index
    }

    /// Waits until the first read is done (at once after it).
    pub async fn scanned(&self) {
        let mut scanned = self.scanned.clone();
        // An error means the reading task is gone: there is nothing more to wait for.
        let _ = scanned.wait_for(|done| *done).await;
    }

    /// Follows `changes` until the store is gone; `owed` says a full read is due because the
    /// last one failed.
    async fn keep(
        self,
        store: Weak<dyn InterviewStore>,
        mut changes: Receiver<Change>,
        mut owed: bool,
    ) {
        let mut hourly = tokio::time::interval(RESCAN_EVERY);
        hourly.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once, and the index was just read.
        hourly.tick().await;
        loop {
            // What to read: one user's interviews, or everything.
            let user = tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) => Some(change.user()),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "the desk's index fell behind; reading everything again");
                        None
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = hourly.tick() => None,
                _ = tokio::time::sleep(RETRY_AFTER), if owed => None,
            };
            let Some(store) = store.upgrade() else {
                return;
            };
            let read = match user {
                // A read that failed before is made good by the next full one.
                Some(user) if !owed => self.refresh(store.as_ref(), user).await,
                _ => self.rescan(store.as_ref()).await,
            };
            owed = match read {
                Ok(()) => false,
                Err(error) => {
                    tracing::warn!(%error, "the desk's index could not be updated; reading everything again soon");
                    true
                }
            };
        }
    }

    /// Reads the interviews of `user` again and replaces their rows: what an announced change
    /// of theirs (a save, a retirement, an erasure) takes.
    pub async fn refresh(
        &self,
        store: &dyn InterviewStore,
        user: UserId,
    ) -> Result<(), StoreError> {
        let fresh = rows_of(store, store.scan(Some(user)).await?).await;
        let mut rows = self.rows.write().unwrap_or_else(PoisonError::into_inner);
        rows.retain(|(u, _), _| *u != user);
        insert_all(&mut rows, fresh);
        Ok(())
    }

    /// Reads every interview again.
    pub async fn rescan(&self, store: &dyn InterviewStore) -> Result<(), StoreError> {
        let fresh = rows_of(store, store.scan(None).await?).await;
        let mut rows = BTreeMap::new();
        insert_all(&mut rows, fresh);
        *self.rows.write().unwrap_or_else(PoisonError::into_inner) = rows;
        Ok(())
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
/// `completed` and the removal of the interview in progress), the filed copy wins.
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

/// The rows of what a scan found: the interviews with consent, summed up. A completed
/// interview whose report the session does not mention (written by an early version) has one
/// if the store holds it: asked of the store for those few only.
async fn rows_of(store: &dyn InterviewStore, scanned: Vec<Scanned>) -> Vec<Row> {
    let mut rows = Vec::with_capacity(scanned.len());
    for Scanned { filed, session } in scanned {
        let Some(mut row) = Row::of(&session, filed) else {
            continue;
        };
        if let (Place::Completed, None, Some(filed)) = (row.place, row.report, filed)
            && matches!(store.attachment(filed, "md").await, Ok(Some(_)))
        {
            row.report = Some(filed);
        }
        rows.push(row);
    }
    rows
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
        s.push_question("q".into(), at(0));
        s.push_answer("a", at(1));
        s
    }

    /// Where `s` would be filed in `place` (`None` in progress).
    fn filed(s: &Session, place: Place) -> Option<Filed> {
        let folder = match place {
            Place::Active => return None,
            Place::Archive => Folder::Archive,
            Place::Completed => Folder::Completed,
        };
        Some(Filed {
            folder,
            user: s.user,
            at: at(9),
        })
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_interview_without_consent_has_no_row() {
        let mut s = consented(1, 1);
        assert!(Row::of(&s, None).is_some());
        s.consent = None;
        assert!(Row::of(&s, None).is_none());
    }

    #[test]
    fn each_state_follows_from_where_the_interview_and_its_report_stand() {
        let row = |s: &Session, place| Row::of(s, filed(s, place)).unwrap();
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
    fn the_report_is_found_where_the_interview_is_completed_once_one_is_written() {
        let mut s = consented(1, 1);
        assert_eq!(Row::of(&s, None).unwrap().report, None, "not ended");
        s.finished_at = Some(at(5));
        assert_eq!(Row::of(&s, None).unwrap().report, None, "not written yet");
        s.report.version = 1;
        let completed = Filed {
            folder: Folder::Completed,
            user: s.user,
            at: at(5),
        };
        assert_eq!(Row::of(&s, None).unwrap().report, Some(completed));
        let filed = filed(&s, Place::Completed);
        assert_eq!(Row::of(&s, filed).unwrap().report, filed, "its own key");
        let archived = self::filed(&s, Place::Archive);
        assert_eq!(Row::of(&s, archived).unwrap().report, None);
    }

    #[test]
    fn typed_and_spoken_answers_are_counted_apart() {
        let mut s = consented(1, 1);
        s.push_question("q2".into(), at(2));
        let clip = crate::model::VoiceClip {
            duration_ms: 1000,
            confidence: 0.9,
            model: None,
        };
        s.push_voice_answer("spoken", clip, at(3));
        let row = Row::of(&s, None).unwrap();
        assert_eq!((row.text_answers, row.voice_answers), (1, 1));
        assert_eq!(row.answers(), 2);
    }

    #[tokio::test]
    async fn the_index_reads_at_start_and_follows_saves_retirements_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut hidden = consented(3, 30);
        hidden.consent = None;
        store.save(&consented(1, 10)).await.unwrap();
        store.save(&hidden).await.unwrap();
        let index = Index::read(&store).await.unwrap();
        assert_eq!(index.len(), 1, "only the interview with consent");

        index.refresh(&store, UserId(3)).await.unwrap();
        assert!(index.of_user(UserId(3)).is_empty(), "still no consent");

        let mut second = consented(2, 20);
        store.save(&second).await.unwrap();
        index.refresh(&store, UserId(2)).await.unwrap();
        let row = index.get((UserId(2), 20)).unwrap();
        assert_eq!((row.place, row.filed), (Place::Active, None));

        second.finished_at = Some(at(9));
        second.report.version = 1;
        // The interface's retirement, which says where it filed the interview.
        let filed =
            InterviewStore::retire(&store, &second, Folder::Completed, &[("md", "# report")])
                .await
                .unwrap();
        index.refresh(&store, UserId(2)).await.unwrap();
        let rows = index.of_user(UserId(2));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].place, Place::Completed);
        assert_eq!((rows[0].filed, rows[0].report), (Some(filed), Some(filed)));

        // A new interview of the same user stands beside the filed one.
        store.save(&consented(2, 21)).await.unwrap();
        index.refresh(&store, UserId(2)).await.unwrap();
        assert_eq!(index.of_user(UserId(2)).len(), 2);

        store.delete_user(UserId(2)).await.unwrap();
        index.refresh(&store, UserId(2)).await.unwrap();
        assert!(index.of_user(UserId(2)).is_empty());
        assert_eq!(index.len(), 1);
    }

    #[tokio::test]
    async fn a_completed_interview_the_session_does_not_say_was_reported_shows_its_kept_report() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut early = consented(4, 40);
        early.finished_at = Some(at(9));
        let filed = InterviewStore::retire(&store, &early, Folder::Completed, &[("md", "# early")])
            .await
            .unwrap();
        let mut bare = consented(5, 50);
        bare.finished_at = Some(at(9));
        store.retire(&bare, Folder::Completed, &[]).await.unwrap();
        let index = Index::read(&store).await.unwrap();
        assert_eq!(index.get((UserId(4), 40)).unwrap().report, Some(filed));
        assert_eq!(index.get((UserId(5), 50)).unwrap().report, None);
    }

    /// Retention removes files without announcing it: the hourly full read drops them, and
    /// nothing sooner does. Virtual time, stepped a minute at a time up to a deadline.
    #[tokio::test(start_paused = true)]
    async fn what_goes_without_an_announcement_leaves_the_index_at_the_hourly_read() {
        let dir = tempfile::tempdir().unwrap();
        let files = SessionStore::open(dir.path()).unwrap();
        files.save(&consented(8, 80)).await.unwrap();
        let store: Arc<dyn InterviewStore> = Arc::new(files);
        let index = Index::follow(&store);
        index.scanned().await;
        assert!(index.get((UserId(8), 80)).is_some());
        let start = tokio::time::Instant::now();
        std::fs::remove_file(dir.path().join("8.json")).unwrap();
        while index.get((UserId(8), 80)).is_some() {
            assert!(
                start.elapsed() < 2 * RESCAN_EVERY,
                "the hourly read never came"
            );
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        assert!(
            start.elapsed() >= RESCAN_EVERY - Duration::from_secs(60),
            "dropped after {:?}, before the hourly read",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_followed_index_sees_a_save_made_after_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn InterviewStore> = Arc::new(SessionStore::open(dir.path()).unwrap());
        let index = Index::follow(&store);
        index.scanned().await;
        let mut changes = store.changes();
        store.save(&consented(7, 70)).await.unwrap();
        changes.recv().await.unwrap();
        // The follower got the same announcement; its work is a read of the store, so the
        // test waits for the row by polling, with a deadline.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while index.get((UserId(7), 70)).is_none() {
            assert!(std::time::Instant::now() < deadline, "the row never came");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
