//! The one interface of the interviews' storage, whatever holds them.
//!
//! Two stores implement [`InterviewStore`]: the JSON files under `SESSIONS_DIR`
//! ([`SessionStore`], the embedded default) and PostgreSQL ([`PgStore`](super::postgres::PgStore),
//! when `DATABASE_URL` is set). Both keep the same promises, and one conformance suite
//! (`tests/it/store_conformance.rs`) holds both to them:
//!
//! - a saved interview loads back as it was saved; one that cannot be read (an unknown schema
//!   version, a malformed document, another user's interview under this user's key) is moved
//!   to quarantine and reported once as [`Loaded::Quarantined`], after which the user has none;
//! - retiring moves the interview in progress into `completed` or `archive`, keyed by the
//!   user and a time, with attachments (the report) beside it, and retiring the same
//!   interview at the same time again replaces it;
//! - a per-user record (the chat's state, the profile) that cannot be decoded is quarantined
//!   and reads as absent;
//! - erasing a user removes everything of theirs and counts what it removed: each interview,
//!   attachment, quarantined item and record is one;
//! - every save, retirement and erasure is announced on [`InterviewStore::changes`].
//!
//! [`StudyRecords`] is the same for the studies ([`StudyStore`] and `PgStore`): a change to a
//! study is read, made and written as one step, so concurrent changes never lose each other.
//!
//! [`SignInLinks`](super::links::SignInLinks) keeps the desk's sign-in links.
//!
//! Nothing here names a path: where a retired interview went is a [`Filed`] (folder, user,
//! time), which the file store turns into its file names and PostgreSQL into a row's key.

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Change, Folder, Invite, Loaded, SessionStore, StoreError, StudyStore, StudyStoreError,
};
use crate::model::{NewStudy, Session, Stage, Study, StudyId, UserId};

/// Where a retired interview was filed: its folder, its user and the time in its key (when it
/// finished, or when it was set aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    /// `Completed` or `Archive`.
    pub folder: Folder,
    /// Whose interview.
    pub user: UserId,
    /// The time it is filed under.
    pub at: DateTime<Utc>,
}

impl Filed {
    /// Where `session` is filed when it is retired into `folder`: under the time it finished,
    /// or now if it never did.
    pub fn of(session: &Session, folder: Folder) -> Filed {
        Filed {
            folder,
            user: session.user,
            at: session.finished_at.unwrap_or_else(Utc::now),
        }
    }
}

/// An interview as [`InterviewStore::scan`] finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    /// Where it is filed; `None` for the interview in progress.
    pub filed: Option<Filed>,
    /// The interview.
    pub session: Session,
}

/// The interviews and the per-user records of every user, wherever they are kept.
///
/// Object-safe (the application holds an `Arc<dyn InterviewStore>`): the typed per-user
/// records go through JSON values here and through [`load_record`] / [`save_record`] for
/// callers.
#[async_trait]
pub trait InterviewStore: Send + Sync + Debug {
    /// The user's interview in progress, if any; an unreadable one is quarantined.
    async fn load(&self, user: UserId) -> Result<Loaded, StoreError>;

    /// Saves the user's interview in progress, replacing what was saved before; once this
    /// returns, the interview is durable.
    async fn save(&self, session: &Session) -> Result<(), StoreError>;

    /// Moves the interview in progress into `folder` (`Completed` or `Archive`) with
    /// `attachments` (extension, text) filed beside it.
    async fn retire(
        &self,
        session: &Session,
        folder: Folder,
        attachments: &[(&str, &str)],
    ) -> Result<Filed, StoreError>;

    /// Writes (or replaces) an attachment of an interview filed at `filed`.
    async fn attach(&self, filed: Filed, ext: &str, text: &str) -> Result<(), StoreError>;

    /// The attachment `ext` of the interview filed at `filed`, if there is one.
    async fn attachment(&self, filed: Filed, ext: &str) -> Result<Option<String>, StoreError>;

    /// How the attachment `ext` of the interview filed at `filed` is named to people (the
    /// console says where a report is saved): its file, or its key in the database spelled
    /// as the file would be, relative to `SESSIONS_DIR`.
    fn name_of(&self, filed: Filed, ext: &str) -> std::path::PathBuf;

    /// The latest interview `user` has in `folder` (by the time it is filed under); one that
    /// cannot be read counts as none.
    async fn latest(&self, folder: Folder, user: UserId) -> Result<Option<Session>, StoreError>;

    /// Every interview in progress or retired (of `user` only, if given), each with where it
    /// is filed, in no particular order: what the desk's index is built from. Unreadable ones
    /// are left out and left alone (quarantine is for the owner's load).
    async fn scan(&self, user: Option<UserId>) -> Result<Vec<Scanned>, StoreError>;

    /// `SESSION_RETENTION_DAYS`: deletes what was filed more than `max_age` before `now`:
    /// retired interviews (completed and archived), what is filed beside them (the reports),
    /// and quarantined documents. Interviews in progress, chat records and profiles are never
    /// touched. Returns what went, each named as [`InterviewStore::name_of`] names it.
    async fn purge_older(
        &self,
        max_age: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<super::retention::Purged>, StoreError>;

    /// Users with an interview in progress, in ascending order.
    async fn active_users(&self) -> Result<Vec<UserId>, StoreError>;

    /// Every interview of `study` in progress or completed (set-aside ones are not counted),
    /// each once, by start time; unreadable ones are left out.
    async fn study_sessions(&self, study: &StudyId) -> Result<Vec<Session>, StoreError>;

    /// A per-user record of `folder` (`Chats` or `Profiles`) as JSON, if there is one.
    async fn load_value(
        &self,
        folder: Folder,
        user: UserId,
    ) -> Result<Option<serde_json::Value>, StoreError>;

    /// Saves a per-user record of `folder`, replacing what was saved before.
    async fn save_value(
        &self,
        folder: Folder,
        user: UserId,
        value: &serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Moves a per-user record of `folder` that could not be decoded to quarantine, with why.
    async fn quarantine_value(
        &self,
        folder: Folder,
        user: UserId,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// Removes a per-user record of `folder`, if there is one.
    async fn remove_value(&self, folder: Folder, user: UserId) -> Result<(), StoreError>;

    /// Erases everything of `user` and returns how many items were removed.
    async fn delete_user(&self, user: UserId) -> Result<usize, StoreError>;

    /// A receiver of every change made through this store from now on.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change>;
}

/// Loads the per-user record of `folder` as a `T`; one that does not decode is quarantined
/// (with the decoder's complaint) and reads as absent, in either store.
pub async fn load_record<T: DeserializeOwned>(
    store: &dyn InterviewStore,
    folder: Folder,
    user: UserId,
) -> Result<Option<T>, StoreError> {
    let Some(value) = store.load_value(folder, user).await? else {
        return Ok(None);
    };
    match serde_json::from_value(value) {
        Ok(record) => Ok(Some(record)),
        Err(e) => {
            store.quarantine_value(folder, user, &e.to_string()).await?;
            Ok(None)
        }
    }
}

/// Saves `record` as the per-user record of `folder`.
pub async fn save_record<T: Serialize>(
    store: &dyn InterviewStore,
    folder: Folder,
    user: UserId,
    record: &T,
) -> Result<(), StoreError> {
    let value = serde_json::to_value(record).map_err(|source| StoreError::Encode {
        what: "record",
        source,
    })?;
    store.save_value(folder, user, &value).await
}

/// The file store keeps its inherent methods (the application calls them today); this maps
/// the interface onto them and onto its file names.
#[async_trait]
impl InterviewStore for SessionStore {
    async fn load(&self, user: UserId) -> Result<Loaded, StoreError> {
        SessionStore::load(self, user).await
    }

    async fn save(&self, session: &Session) -> Result<(), StoreError> {
        SessionStore::save(self, session).await
    }

    async fn retire(
        &self,
        session: &Session,
        folder: Folder,
        attachments: &[(&str, &str)],
    ) -> Result<Filed, StoreError> {
        let filed = Filed::of(session, folder);
        self.retire_at(session, folder, filed.at, attachments)
            .await?;
        Ok(filed)
    }

    async fn attach(&self, filed: Filed, ext: &str, text: &str) -> Result<(), StoreError> {
        let path = self.stamped_path(filed.folder, filed.user, filed.at, ext);
        self.write_report(&path, text).await
    }

    async fn attachment(&self, filed: Filed, ext: &str) -> Result<Option<String>, StoreError> {
        let path = self.stamped_path(filed.folder, filed.user, filed.at, ext);
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(super::io_error(&path)(e)),
        }
    }

    fn name_of(&self, filed: Filed, ext: &str) -> std::path::PathBuf {
        self.stamped_path(filed.folder, filed.user, filed.at, ext)
    }

    async fn latest(&self, folder: Folder, user: UserId) -> Result<Option<Session>, StoreError> {
        SessionStore::latest(self, folder, user).await
    }

    async fn purge_older(
        &self,
        max_age: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<super::retention::Purged>, StoreError> {
        let root = self.root().to_path_buf();
        tokio::task::spawn_blocking(move || super::retention::purge(&root, max_age, now)).await?
    }

    async fn scan(&self, user: Option<UserId>) -> Result<Vec<Scanned>, StoreError> {
        let root = self.root().to_path_buf();
        Ok(tokio::task::spawn_blocking(move || scan_files(&root, user)).await?)
    }

    async fn active_users(&self) -> Result<Vec<UserId>, StoreError> {
        SessionStore::active_users(self).await
    }

    async fn study_sessions(&self, study: &StudyId) -> Result<Vec<Session>, StoreError> {
        SessionStore::study_sessions(self, study).await
    }

    async fn load_value(
        &self,
        folder: Folder,
        user: UserId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.load_keyed(folder, user).await
    }

    async fn save_value(
        &self,
        folder: Folder,
        user: UserId,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.save_keyed(folder, user, value).await
    }

    async fn quarantine_value(
        &self,
        folder: Folder,
        user: UserId,
        reason: &str,
    ) -> Result<(), StoreError> {
        let path = self.keyed_path(folder, user);
        if tokio::fs::try_exists(&path)
            .await
            .map_err(super::io_error(&path))?
        {
            self.quarantine(&path, user, reason.to_owned()).await?;
        }
        Ok(())
    }

    async fn remove_value(&self, folder: Folder, user: UserId) -> Result<(), StoreError> {
        self.remove_keyed(folder, user).await
    }

    async fn delete_user(&self, user: UserId) -> Result<usize, StoreError> {
        SessionStore::delete_user(self, user).await
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        SessionStore::changes(self)
    }
}

/// The interviews under `root` (of `user` only, if given): `<user>.json` in progress,
/// `completed/` and `archive/` `<user>-<time>.json` filed. Blocking.
fn scan_files(root: &std::path::Path, user: Option<UserId>) -> Vec<Scanned> {
    let places = [
        (root.to_path_buf(), None),
        (root.join(Folder::Completed.name()), Some(Folder::Completed)),
        (root.join(Folder::Archive.name()), Some(Folder::Archive)),
    ];
    let mut found = Vec::new();
    for (dir, folder) in places {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let (id, at) = match folder {
                None => (stem, None),
                Some(_) => match (stem.split_once('-'), super::retention::stamp_of(&name)) {
                    (Some((id, _)), Some(at)) => (id, Some(at)),
                    _ => continue,
                },
            };
            let Ok(owner) = id.parse().map(UserId) else {
                continue;
            };
            if user.is_some_and(|u| u != owner) {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let Ok(session) = super::decode_session(&bytes) else {
                continue;
            };
            if session.user != owner {
                continue;
            }
            let filed = folder.zip(at).map(|(folder, at)| Filed {
                folder,
                user: owner,
                at,
            });
            found.push(Scanned { filed, session });
        }
    }
    found
}

/// The studies, their latest syntheses and the bot's username, wherever they are kept.
#[async_trait]
pub trait StudyRecords: Send + Sync + Debug {
    /// Creates a study from `draft` at `now`: a fresh id and invite code, open.
    async fn create(&self, draft: NewStudy, now: DateTime<Utc>) -> Result<Study, StudyStoreError>;

    /// The study `id`, if there is one; one that cannot be read counts as none.
    async fn get(&self, id: &StudyId) -> Result<Option<Study>, StoreError>;

    /// Every study, oldest first (then by id).
    async fn list(&self) -> Result<Vec<Study>, StoreError>;

    /// What the invite code `code` leads to.
    async fn by_invite(&self, code: &str) -> Result<Invite, StoreError>;

    /// Closes the invite link of study `id` at `now` (a closed study stays closed from the
    /// first time).
    async fn close(&self, id: &StudyId, now: DateTime<Utc>) -> Result<Study, StudyStoreError>;

    /// Adds `questions` to `stage` of study `id`; returns how many were new.
    async fn add_questions(
        &self,
        id: &StudyId,
        stage: Stage,
        questions: &[String],
    ) -> Result<usize, StudyStoreError>;

    /// Keeps the latest synthesis of `id`: its data (byte for byte) and its document.
    async fn save_synthesis(
        &self,
        id: &StudyId,
        json: Vec<u8>,
        markdown: &str,
    ) -> Result<(), StoreError>;

    /// The latest synthesis of `id` as data, if one was kept.
    async fn synthesis_json(&self, id: &StudyId) -> Result<Option<Vec<u8>>, StoreError>;

    /// The latest synthesis of `id` as the Markdown document, if one was kept.
    async fn synthesis_markdown(&self, id: &StudyId) -> Result<Option<String>, StoreError>;

    /// Records the bot's username (without `@`), for invite links made where the bot is not
    /// running.
    async fn remember_bot_username(&self, username: &str) -> Result<(), StoreError>;

    /// The bot's username as last recorded, if it was.
    async fn bot_username(&self) -> Result<Option<String>, StoreError>;
}

#[async_trait]
impl StudyRecords for StudyStore {
    async fn create(&self, draft: NewStudy, now: DateTime<Utc>) -> Result<Study, StudyStoreError> {
        StudyStore::create(self, draft, now).await
    }

    async fn get(&self, id: &StudyId) -> Result<Option<Study>, StoreError> {
        StudyStore::get(self, id).await
    }

    async fn list(&self) -> Result<Vec<Study>, StoreError> {
        StudyStore::list(self).await
    }

    async fn by_invite(&self, code: &str) -> Result<Invite, StoreError> {
        StudyStore::by_invite(self, code).await
    }

    async fn close(&self, id: &StudyId, now: DateTime<Utc>) -> Result<Study, StudyStoreError> {
        StudyStore::close(self, id, now).await
    }

    async fn add_questions(
        &self,
        id: &StudyId,
        stage: Stage,
        questions: &[String],
    ) -> Result<usize, StudyStoreError> {
        StudyStore::add_questions(self, id, stage, questions).await
    }

    async fn save_synthesis(
        &self,
        id: &StudyId,
        json: Vec<u8>,
        markdown: &str,
    ) -> Result<(), StoreError> {
        StudyStore::save_synthesis(self, id, json, markdown).await
    }

    async fn synthesis_json(&self, id: &StudyId) -> Result<Option<Vec<u8>>, StoreError> {
        StudyStore::synthesis_json(self, id).await
    }

    async fn synthesis_markdown(&self, id: &StudyId) -> Result<Option<String>, StoreError> {
        StudyStore::synthesis_markdown(self, id).await
    }

    async fn remember_bot_username(&self, username: &str) -> Result<(), StoreError> {
        StudyStore::remember_bot_username(self, username).await
    }

    async fn bot_username(&self) -> Result<Option<String>, StoreError> {
        StudyStore::bot_username(self).await
    }
}
