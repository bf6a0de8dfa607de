//! Durable JSON files under `SESSIONS_DIR`.
//!
//! ```text
//! SESSIONS_DIR/
//!   <user>.json                 the user's interview in progress
//!   completed/<user>-<time>.json, .md   finished interviews and their reports
//!   archive/<user>-<time>.json  interviews set aside by /reset or by starting over
//!   quarantine/<user>-<time>.json   files that could not be read
//!   chats/<user>.json           the Telegram dialogue state
//!   profiles/<user>.json        the user's preferences (language)
//!   studies/<id>.json, …        studies and their syntheses ([`studies`])
//! ```
//!
//! File names are built from numeric user ids only, never from anything a user typed; the time
//! in a retired file's name is when it was retired, and [`retention`] purges by it.
//! Every write is atomic ([`atomic::write`]); a file that cannot be read is moved to
//! `quarantine/` with a warning and never stops the process.
//!
//! The store also announces what it changed ([`SessionStore::changes`]): whoever keeps a view
//! of the files (the operator's desk keeps an index of every interview) follows the
//! announcements instead of reading every file again.

pub mod atomic;
pub mod backend;
pub mod config;
pub mod links;
pub mod owner;
pub mod postgres;
pub mod retention;
pub mod studies;

use std::{
    io,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};

use crate::model::{SCHEMA_VERSION, Session, UserId};

pub use backend::{Filed, InterviewStore, Scanned, StudyRecords, load_record, save_record};
pub use config::{Storage, StorageConfig};
pub use links::SignInLinks;
pub use postgres::{Imported, PgStore};
pub use studies::{Invite, StudyStore, StudyStoreError};

/// The UTC time in the name of a retired or quarantined file: `<user>-<stamp>.<ext>`.
pub const STAMP_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";

/// A storage failure: the path and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory could not be read, written or moved.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// A value could not be encoded.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        source: serde_json::Error,
    },
    /// A blocking storage task did not finish.
    #[error("storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The database refused a statement or could not be reached.
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No database connection could be had from the pool.
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database cannot be used as configured, or holds what this version cannot work
    /// with (a newer schema, an id out of range).
    #[error("database: {0}")]
    Setup(String),
    /// A chat's worker wrote after its replica lost the chat to another: nothing was written.
    #[error("chat {chat} is run by another replica now: nothing written")]
    Fenced {
        /// The chat.
        chat: i64,
    },
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, the network): worth
    /// waiting for, unlike a refusal (a wrong password, a missing database, a newer schema).
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::Database(error) => unreachable_database(error),
            StoreError::Pool(deadpool_postgres::PoolError::Backend(error)) => {
                unreachable_database(error)
            }
            StoreError::Pool(_) => true,
            _ => false,
        }
    }
}

/// No answer at all (a refused or broken connection), or the server saying it is going down
/// or not up yet (SQLSTATE classes 08, connection exceptions, and 57P, shutting down or
/// starting up).
fn unreachable_database(error: &tokio_postgres::Error) -> bool {
    match error.as_db_error() {
        None => true,
        Some(refusal) => {
            let code = refusal.code().code();
            code.starts_with("08") || code.starts_with("57P")
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A sub-folder of `SESSIONS_DIR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// Finished interviews and their reports.
    Completed,
    /// Interviews set aside by a reset or by starting over.
    Archive,
    /// Files that could not be read.
    Quarantine,
    /// Telegram dialogue state.
    Chats,
    /// Per-user preferences (the language).
    Profiles,
}

impl Folder {
    const ALL: [Folder; 5] = [
        Folder::Completed,
        Folder::Archive,
        Folder::Quarantine,
        Folder::Chats,
        Folder::Profiles,
    ];

    /// The folder's name inside `SESSIONS_DIR`.
    pub fn name(self) -> &'static str {
        match self {
            Folder::Completed => "completed",
            Folder::Archive => "archive",
            Folder::Quarantine => "quarantine",
            Folder::Chats => "chats",
            Folder::Profiles => "profiles",
        }
    }
}

/// What loading a user's session found.
#[derive(Debug)]
pub enum Loaded {
    /// No interview in progress.
    Nothing,
    /// The interview in progress.
    Session(Box<Session>),
    /// The file could not be read and was moved to `quarantine/`.
    Quarantined {
        /// Why it could not be read.
        reason: String,
    },
}

/// What a store call changed among a user's interview files, announced on
/// [`SessionStore::changes`]. It names the user only: a follower reads that user's files
/// again, so an announcement missed or merged changes nothing it will see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The interview in progress was saved.
    Saved(UserId),
    /// The interview in progress moved to `completed/`, `archive/` or `quarantine/`.
    Retired(UserId),
    /// Every file of the user was erased (`/delete`).
    Deleted(UserId),
}

impl Change {
    /// Whose files changed.
    pub fn user(self) -> UserId {
        match self {
            Change::Saved(user) | Change::Retired(user) | Change::Deleted(user) => user,
        }
    }
}

/// How many announcements a slow follower may fall behind before it is told it lagged (and
/// reads everything again).
const CHANGES_CAPACITY: usize = 1024;

/// The session files of every user.
#[derive(Debug, Clone)]
pub struct SessionStore {
    /// `SESSIONS_DIR`.
    root: PathBuf,
    /// Where changes are announced; every clone of the store announces on the same channel.
    changes: tokio::sync::broadcast::Sender<Change>,
}

impl SessionStore {
    /// Opens (creating if needed) the store at `root` and checks that it is writable.
    /// Leftover temporary files from a killed process are removed.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for folder in Folder::ALL {
            let dir = root.join(folder.name());
            std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        let probe = root.join(format!("{}probe", atomic::TEMP_PREFIX));
        atomic::write(&probe, b"ok").map_err(io_error(root))?;
        std::fs::remove_file(&probe).map_err(io_error(&probe))?;
        let (changes, _) = tokio::sync::broadcast::channel(CHANGES_CAPACITY);
        let store = SessionStore {
            root: root.to_path_buf(),
            changes,
        };
        store.remove_leftovers();
        Ok(store)
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A receiver of every change made through this store (or a clone of it) from now on.
    /// A receiver that falls more than a thousand changes behind gets `Lagged` and should
    /// read the files again.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Announces `change`; nobody listening is fine.
    fn announce(&self, change: Change) {
        let _ = self.changes.send(change);
    }

    fn remove_leftovers(&self) {
        let dirs = std::iter::once(self.root.clone())
            .chain(Folder::ALL.iter().map(|f| self.root.join(f.name())));
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(atomic::TEMP_PREFIX)
                {
                    tracing::info!(file = %entry.path().display(), "removing an interrupted write");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    fn active_path(&self, user: UserId) -> PathBuf {
        self.root.join(format!("{user}.json"))
    }

    fn stamped_path(&self, folder: Folder, user: UserId, at: DateTime<Utc>, ext: &str) -> PathBuf {
        let stamp = at.format(STAMP_FORMAT);
        self.root
            .join(folder.name())
            .join(format!("{user}-{stamp}.{ext}"))
    }

    /// The path of a file in `folder` named by the user id alone.
    fn keyed_path(&self, folder: Folder, user: UserId) -> PathBuf {
        self.root.join(folder.name()).join(format!("{user}.json"))
    }

    /// Loads the user's interview in progress. A file that is not JSON, is empty, or has an
    /// unknown version is moved to `quarantine/` and reported as such. The session's owner
    /// (its chat's worker) loads it once and keeps it, so nothing here is cached.
    pub async fn load(&self, user: UserId) -> Result<Loaded, StoreError> {
        let path = self.active_path(user);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::Nothing),
            Err(e) => return Err(io_error(&path)(e)),
        };
        match decode_session(&bytes) {
            Ok(session) if session.user == user => Ok(Loaded::Session(Box::new(session))),
            Ok(session) => {
                self.quarantine(&path, user, format!("holds user {}", session.user))
                    .await
            }
            Err(reason) => self.quarantine(&path, user, reason).await,
        }
    }

    async fn quarantine(
        &self,
        path: &Path,
        user: UserId,
        reason: String,
    ) -> Result<Loaded, StoreError> {
        // Two files of one user quarantined within the same millisecond must not overwrite
        // each other: the later one takes the next free millisecond (the name stays a time,
        // which retention reads).
        let mut at = Utc::now();
        let mut target = self.stamped_path(Folder::Quarantine, user, at, "json");
        while tokio::fs::try_exists(&target).await.unwrap_or(false) {
            at += chrono::Duration::milliseconds(1);
            target = self.stamped_path(Folder::Quarantine, user, at, "json");
        }
        tracing::warn!(file = %path.display(), to = %target.display(), %reason, "session file quarantined");
        let from = path.to_path_buf();
        let to = target.clone();
        tokio::task::spawn_blocking(move || atomic::rename(&from, &to))
            .await?
            .map_err(io_error(&target))?;
        self.announce(Change::Retired(user));
        Ok(Loaded::Quarantined { reason })
    }

    /// Saves the user's interview in progress, atomically.
    pub async fn save(&self, session: &Session) -> Result<(), StoreError> {
        let bytes = encode(session, "session")?;
        self.write(self.active_path(session.user), bytes).await?;
        self.announce(Change::Saved(session.user));
        // The soak counts these lines (`ai_interviewer::store=debug`): saves per answer.
        tracing::debug!(user = %session.user, "session saved");
        Ok(())
    }

    /// Moves the interview in progress into `folder` (archive or completed), with `extra`
    /// files beside it (such as the report), and returns the path of the moved session.
    pub async fn retire(
        &self,
        session: &Session,
        folder: Folder,
        extra: &[(&str, &str)],
    ) -> Result<PathBuf, StoreError> {
        let at = session.finished_at.unwrap_or_else(Utc::now);
        self.retire_at(session, folder, at, extra).await
    }

    /// [`SessionStore::retire`] under the time `at`.
    async fn retire_at(
        &self,
        session: &Session,
        folder: Folder,
        at: DateTime<Utc>,
        extra: &[(&str, &str)],
    ) -> Result<PathBuf, StoreError> {
        let target = self.stamped_path(folder, session.user, at, "json");
        for (ext, content) in extra {
            let path = self.stamped_path(folder, session.user, at, ext);
            self.write(path, content.as_bytes().to_vec()).await?;
        }
        self.write(target.clone(), encode(session, "session")?)
            .await?;
        let active = self.active_path(session.user);
        match tokio::fs::remove_file(&active).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&active)(e)),
        }
        self.announce(Change::Retired(session.user));
        Ok(target)
    }

    /// Writes a report at a path this store handed out ([`SessionStore::retired_path`]).
    pub async fn write_report(&self, path: &Path, text: &str) -> Result<(), StoreError> {
        self.write(path.to_path_buf(), text.as_bytes().to_vec())
            .await
    }

    /// The path a file with extension `ext` gets when `session` is retired into `folder`.
    pub fn retired_path(&self, session: &Session, folder: Folder, ext: &str) -> PathBuf {
        let at = session.finished_at.unwrap_or_else(Utc::now);
        self.stamped_path(folder, session.user, at, ext)
    }

    /// The latest session `user` has in `folder` (by the time in its name), if any. A file
    /// that cannot be read counts as none.
    pub async fn latest(
        &self,
        folder: Folder,
        user: UserId,
    ) -> Result<Option<Session>, StoreError> {
        let dir = self.root.join(folder.name());
        let prefix = format!("{user}-");
        let mut latest: Option<String> = None;
        let mut entries = tokio::fs::read_dir(&dir).await.map_err(io_error(&dir))?;
        while let Some(entry) = entries.next_entry().await.map_err(io_error(&dir))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            // The stamp is fixed-width, so names sort by time.
            if name.starts_with(&prefix)
                && name.ends_with(".json")
                && latest.as_ref().is_none_or(|l| name > *l)
            {
                latest = Some(name);
            }
        }
        let Some(name) = latest else {
            return Ok(None);
        };
        let path = dir.join(name);
        let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
        Ok(decode_session(&bytes).ok().filter(|s| s.user == user))
    }

    /// Users with an interview in progress.
    pub async fn active_users(&self) -> Result<Vec<UserId>, StoreError> {
        let mut users = Vec::new();
        let mut dir = tokio::fs::read_dir(&self.root)
            .await
            .map_err(io_error(&self.root))?;
        while let Some(entry) = dir.next_entry().await.map_err(io_error(&self.root))? {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_suffix(".json")
                .and_then(|s| s.parse::<u64>().ok())
            {
                users.push(UserId(id));
            }
        }
        users.sort();
        Ok(users)
    }

    /// Every interview of study `study`: in progress (`SESSIONS_DIR/<user>.json`) and
    /// completed (`completed/`); interviews set aside are not counted. An interview found in
    /// both places (filed between the two reads) is taken once, as completed. Files that cannot
    /// be read are left out here (loading them quarantines them).
    pub async fn study_sessions(
        &self,
        study: &crate::model::StudyId,
    ) -> Result<Vec<Session>, StoreError> {
        let root = self.root.clone();
        let needle = format!("\"study\":\"{study}\"");
        let study = study.clone();
        tokio::task::spawn_blocking(move || {
            let mut found: Vec<Session> = Vec::new();
            for dir in [root.join(Folder::Completed.name()), root] {
                let entries = std::fs::read_dir(&dir).map_err(io_error(&dir))?;
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with(atomic::TEMP_PREFIX) || !name.ends_with(".json") {
                        continue;
                    }
                    let Ok(bytes) = std::fs::read(entry.path()) else {
                        continue;
                    };
                    // Most files are of other studies or of none: skip them before decoding.
                    if !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        continue;
                    }
                    let Ok(session) = decode_session(&bytes) else {
                        continue;
                    };
                    if session.study.as_ref() == Some(&study)
                        && !found
                            .iter()
                            .any(|s| s.user == session.user && s.id == session.id)
                    {
                        found.push(session);
                    }
                }
            }
            found.sort_by_key(|s| (s.started_at, s.user, s.id));
            Ok(found)
        })
        .await?
    }

    /// Loads a small per-user JSON record (such as the chat state) from `folder`.
    /// An unreadable record is quarantined and reported as absent.
    pub async fn load_keyed<T: DeserializeOwned>(
        &self,
        folder: Folder,
        user: UserId,
    ) -> Result<Option<T>, StoreError> {
        let path = self.keyed_path(folder, user);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path)(e)),
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(e) => {
                self.quarantine(&path, user, e.to_string()).await?;
                Ok(None)
            }
        }
    }

    /// Saves a small per-user JSON record into `folder`, atomically.
    pub async fn save_keyed<T: Serialize>(
        &self,
        folder: Folder,
        user: UserId,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = encode(value, "record")?;
        self.write(self.keyed_path(folder, user), bytes).await
    }

    /// Removes a per-user record from `folder`, if there is one.
    pub async fn remove_keyed(&self, folder: Folder, user: UserId) -> Result<(), StoreError> {
        let path = self.keyed_path(folder, user);
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Erases every file of `user`: the interview in progress, archived, completed and
    /// quarantined ones, reports and chat state. Returns how many files were removed.
    pub async fn delete_user(&self, user: UserId) -> Result<usize, StoreError> {
        let root = self.root.clone();
        let removed = tokio::task::spawn_blocking(move || {
            let exact = format!("{user}.json");
            let prefix = format!("{user}-");
            let mut removed = 0;
            let dirs = std::iter::once(root.clone())
                .chain(Folder::ALL.iter().map(|f| root.join(f.name())));
            for dir in dirs {
                let entries = std::fs::read_dir(&dir).map_err(io_error(&dir))?;
                for entry in entries {
                    let entry = entry.map_err(io_error(&dir))?;
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name == exact || name.starts_with(&prefix) {
                        let path = entry.path();
                        std::fs::remove_file(&path).map_err(io_error(&path))?;
                        removed += 1;
                    }
                }
                atomic::sync_dir(&dir).map_err(io_error(&dir))?;
            }
            Ok::<_, StoreError>(removed)
        })
        .await?;
        // Announced even when it failed half-way: some files may be gone.
        self.announce(Change::Deleted(user));
        removed
    }

    /// Every file of `user`, anywhere in the store.
    pub fn files_of(&self, user: UserId) -> Vec<PathBuf> {
        let exact = format!("{user}.json");
        let prefix = format!("{user}-");
        std::iter::once(self.root.clone())
            .chain(Folder::ALL.iter().map(|f| self.root.join(f.name())))
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name == exact || name.starts_with(&prefix)
            })
            .map(|e| e.path())
            .collect()
    }

    async fn write(&self, path: PathBuf, bytes: Vec<u8>) -> Result<(), StoreError> {
        // The blocking write runs to completion even if the caller's future is dropped.
        tokio::task::spawn_blocking(move || atomic::write(&path, &bytes).map_err(io_error(&path)))
            .await?
    }
}

fn encode<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode { what, source })
}

/// Decodes a session file, checking its version first so an unknown version is reported as
/// such rather than as a field error.
pub fn decode_session(bytes: &[u8]) -> Result<Session, String> {
    #[derive(serde::Deserialize)]
    struct Version {
        version: u32,
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    let Version { version } =
        serde_json::from_slice(bytes).map_err(|e| format!("not a session file: {e}"))?;
    if version != SCHEMA_VERSION {
        return Err(format!("unknown schema version {version}"));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("malformed session: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, Style};

    fn session(user: u64) -> Session {
        let mut s = Session::new(1, UserId(user), Lang::En, Style::default(), Utc::now());
        s.push_question("Welcome?".into(), Utc::now());
        s
    }

    fn quarantined(store: &SessionStore) -> usize {
        std::fs::read_dir(store.root().join("quarantine"))
            .unwrap()
            .count()
    }

    #[tokio::test]
    async fn a_saved_session_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let saved = session(5);
        store.save(&saved).await.unwrap();
        let Loaded::Session(back) = store.load(UserId(5)).await.unwrap() else {
            panic!()
        };
        assert_eq!(*back, saved);
        assert!(matches!(
            store.load(UserId(6)).await.unwrap(),
            Loaded::Nothing
        ));
        assert_eq!(store.active_users().await.unwrap(), vec![UserId(5)]);
    }

    #[tokio::test]
    async fn a_file_changed_behind_the_stores_back_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut s = session(5);
        store.save(&s).await.unwrap();
        assert!(matches!(
            store.load(UserId(5)).await.unwrap(),
            Loaded::Session(_)
        ));
        s.push_answer("edited elsewhere", Utc::now());
        std::fs::write(dir.path().join("5.json"), serde_json::to_vec(&s).unwrap()).unwrap();
        let Loaded::Session(back) = store.load(UserId(5)).await.unwrap() else {
            panic!()
        };
        assert_eq!(back.pending().unwrap().text, "edited elsewhere");
        std::fs::write(dir.path().join("5.json"), b"garbage").unwrap();
        assert!(matches!(
            store.load(UserId(5)).await.unwrap(),
            Loaded::Quarantined { .. }
        ));
        std::fs::remove_file(
            dir.path()
                .join("quarantine")
                .read_dir()
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap();
        assert!(matches!(
            store.load(UserId(5)).await.unwrap(),
            Loaded::Nothing
        ));
    }

    #[tokio::test]
    async fn corrupt_empty_and_unknown_version_files_are_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let cases: [(u64, &[u8], &str); 4] = [
            (1, b"{not json", "not a session file"),
            (2, b"", "empty"),
            (3, br#"{"version": 99}"#, "unknown schema version 99"),
            (4, br#"{"version": 1, "id": "x"}"#, "malformed"),
        ];
        for (user, bytes, why) in cases {
            std::fs::write(dir.path().join(format!("{user}.json")), bytes).unwrap();
            match store.load(UserId(user)).await.unwrap() {
                Loaded::Quarantined { reason } => assert!(reason.contains(why), "{reason}"),
                other => panic!("user {user}: {other:?}"),
            }
            assert!(!dir.path().join(format!("{user}.json")).exists());
        }
        assert_eq!(quarantined(&store), 4);
    }

    #[tokio::test]
    async fn a_file_holding_another_users_session_is_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        store.save(&session(8)).await.unwrap();
        std::fs::rename(dir.path().join("8.json"), dir.path().join("9.json")).unwrap();
        assert!(matches!(
            store.load(UserId(9)).await.unwrap(),
            Loaded::Quarantined { .. }
        ));
    }

    #[tokio::test]
    async fn retiring_moves_the_session_and_deleting_erases_every_file_of_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut s = session(12);
        store.save(&s).await.unwrap();
        store.save(&session(123)).await.unwrap();
        s.finished_at = Some(Utc::now());
        let moved = store
            .retire(&s, Folder::Completed, &[("md", "# report")])
            .await
            .unwrap();
        assert!(moved.starts_with(dir.path().join("completed")));
        assert!(matches!(
            store.load(UserId(12)).await.unwrap(),
            Loaded::Nothing
        ));
        store
            .save_keyed(Folder::Chats, UserId(12), &"state")
            .await
            .unwrap();
        store.save(&session(12)).await.unwrap();
        assert_eq!(store.files_of(UserId(12)).len(), 4);

        assert_eq!(store.delete_user(UserId(12)).await.unwrap(), 4);
        assert!(store.files_of(UserId(12)).is_empty());
        // A user whose id merely starts with the same digits keeps their files.
        assert_eq!(store.files_of(UserId(123)).len(), 1);
    }

    #[tokio::test]
    async fn saving_retiring_and_deleting_are_announced_with_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let mut changes = store.clone().changes();
        let mut s = session(21);
        store.save(&s).await.unwrap();
        s.finished_at = Some(Utc::now());
        store.retire(&s, Folder::Completed, &[]).await.unwrap();
        store.delete_user(UserId(21)).await.unwrap();
        let mut seen = Vec::new();
        while let Ok(change) = changes.try_recv() {
            seen.push(change);
        }
        assert_eq!(
            seen,
            [
                Change::Saved(UserId(21)),
                Change::Retired(UserId(21)),
                Change::Deleted(UserId(21))
            ]
        );
        assert_eq!(seen[2].user(), UserId(21));
    }

    #[test]
    fn opening_an_unwritable_directory_fails_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"").unwrap();
        let err = SessionStore::open(&file).unwrap_err().to_string();
        assert!(err.contains("not-a-dir"), "{err}");
    }
}
