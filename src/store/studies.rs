//! The studies' files, in a folder of their own:
//!
//! ```text
//! SESSIONS_DIR/studies/
//!   <id>.json                  a study: title, subject, invite code, added questions
//!   <id>.synthesis.json, .md   its latest synthesis, as data and as the document
//!   bot.txt                    the bot's username, recorded when the bot starts (for links)
//! ```
//!
//! File names are built from study ids only (12 hex digits), never from what an operator
//! typed. Every write is atomic, as the sessions' are. A change to a study is read, made and
//! written under one lock, so the desk and the bot's own hooks never lose each other's change
//! within a process; the command line runs in a process of its own, for moments.

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::{DateTime, Utc};

use super::{StoreError, atomic, encode, io_error};
use crate::model::{NewStudy, Stage, Study, StudyError, StudyId};

/// The folder's name inside `SESSIONS_DIR`.
pub const FOLDER: &str = "studies";

/// The file that keeps the bot's username.
const BOT_FILE: &str = "bot.txt";

/// Why a study could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum StudyStoreError {
    /// The files could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change was refused.
    #[error(transparent)]
    Study(#[from] StudyError),
    /// No study has this id.
    #[error("no study {0}")]
    Unknown(StudyId),
}

/// The studies under `SESSIONS_DIR/studies/`.
#[derive(Debug, Clone)]
pub struct StudyStore {
    dir: PathBuf,
    /// Held while a study is read, changed and written.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl StudyStore {
    /// The studies of the sessions directory `sessions_root`; the folder is made on the first
    /// write.
    pub fn new(sessions_root: &Path) -> StudyStore {
        StudyStore {
            dir: sessions_root.join(FOLDER),
            lock: Arc::default(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &StudyId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Where the latest synthesis of `id` is kept as data.
    pub fn synthesis_json_path(&self, id: &StudyId) -> PathBuf {
        self.dir.join(format!("{id}.synthesis.json"))
    }

    /// Where the latest synthesis of `id` is kept as the Markdown document.
    pub fn synthesis_markdown_path(&self, id: &StudyId) -> PathBuf {
        self.dir.join(format!("{id}.synthesis.md"))
    }

    async fn write(&self, path: PathBuf, bytes: Vec<u8>) -> Result<(), StoreError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
            atomic::write(&path, &bytes).map_err(io_error(&path))
        })
        .await?
    }

    /// Creates a study from `draft` at `now`: a fresh id and invite code, open.
    pub async fn create(
        &self,
        draft: NewStudy,
        now: DateTime<Utc>,
    ) -> Result<Study, StudyStoreError> {
        let study = Study::new(draft, now)?;
        let _held = self.lock.lock().await;
        self.write(self.path(&study.id), encode(&study, "study")?)
            .await?;
        tracing::info!(study = %study.id, "study created");
        Ok(study)
    }

    /// The study `id`, if there is one. A file that cannot be read counts as none, with a
    /// warning.
    pub async fn get(&self, id: &StudyId) -> Result<Option<Study>, StoreError> {
        let path = self.path(id);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(decode(&path, &bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Every study, oldest first.
    pub async fn list(&self) -> Result<Vec<Study>, StoreError> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.dir)(e)),
        };
        let mut studies = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io_error(&self.dir))? {
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(StudyId::parse)
            else {
                continue;
            };
            studies.extend(self.get(&id).await?);
        }
        studies.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(studies)
    }

    /// The open study whose invite code is `code`, if there is one; and whether a closed
    /// study has it (a link that worked once).
    pub async fn by_invite(&self, code: &str) -> Result<Invite, StoreError> {
        for study in self.list().await? {
            if study.invite.as_str() == code {
                return Ok(if study.is_open() {
                    Invite::Open(Box::new(study))
                } else {
                    Invite::Closed
                });
            }
        }
        Ok(Invite::Unknown)
    }

    /// Reads study `id`, applies `change` and writes it back, all under the lock.
    async fn update<T>(
        &self,
        id: &StudyId,
        change: impl FnOnce(&mut Study) -> Result<T, StudyError>,
    ) -> Result<(Study, T), StudyStoreError> {
        let _held = self.lock.lock().await;
        let mut study = self
            .get(id)
            .await?
            .ok_or_else(|| StudyStoreError::Unknown(id.clone()))?;
        let value = change(&mut study)?;
        self.write(self.path(id), encode(&study, "study")?).await?;
        Ok((study, value))
    }

    /// Closes the invite link of study `id` at `now` (a closed study stays closed, from the
    /// first time).
    pub async fn close(&self, id: &StudyId, now: DateTime<Utc>) -> Result<Study, StudyStoreError> {
        let (study, ()) = self
            .update(id, |study| {
                study.closed_at.get_or_insert(now);
                Ok(())
            })
            .await?;
        tracing::info!(study = %id, "study closed");
        Ok(study)
    }

    /// Adds `questions` to `stage` of study `id` ([`Study::add_questions`]); returns how many
    /// were new.
    pub async fn add_questions(
        &self,
        id: &StudyId,
        stage: Stage,
        questions: &[String],
    ) -> Result<usize, StudyStoreError> {
        let (_, added) = self
            .update(id, |study| study.add_questions(stage, questions))
            .await?;
        tracing::info!(study = %id, %stage, added, "questions added to the study");
        Ok(added)
    }

    /// Keeps the latest synthesis of `id`: its data and its document.
    pub async fn save_synthesis(
        &self,
        id: &StudyId,
        json: Vec<u8>,
        markdown: &str,
    ) -> Result<(), StoreError> {
        self.write(self.synthesis_json_path(id), json).await?;
        self.write(
            self.synthesis_markdown_path(id),
            markdown.as_bytes().to_vec(),
        )
        .await
    }

    /// The latest synthesis of `id` as data, if one was written.
    pub async fn synthesis_json(&self, id: &StudyId) -> Result<Option<Vec<u8>>, StoreError> {
        read_optional(&self.synthesis_json_path(id)).await
    }

    /// The latest synthesis of `id` as the Markdown document, if one was written.
    pub async fn synthesis_markdown(&self, id: &StudyId) -> Result<Option<String>, StoreError> {
        let bytes = read_optional(&self.synthesis_markdown_path(id)).await?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Records the bot's username (from `getMe` at start), so that invite links can be made
    /// where the bot is not running (the command line, the desk).
    pub async fn remember_bot_username(&self, username: &str) -> Result<(), StoreError> {
        let username = username.trim_start_matches('@');
        if self.bot_username().await?.as_deref() == Some(username) {
            return Ok(());
        }
        self.write(self.dir.join(BOT_FILE), username.as_bytes().to_vec())
            .await
    }

    /// The bot's username as last recorded, if it was.
    pub async fn bot_username(&self) -> Result<Option<String>, StoreError> {
        let bytes = read_optional(&self.dir.join(BOT_FILE)).await?;
        Ok(bytes
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|u| !u.is_empty()))
    }
}

/// What an invite code leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Invite {
    /// An open study.
    Open(Box<Study>),
    /// A study whose link was closed.
    Closed,
    /// No study (a mistyped or forged code).
    Unknown,
}

async fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

fn decode(path: &Path, bytes: &[u8]) -> Option<Study> {
    serde_json::from_slice(bytes)
        .inspect_err(|e| {
            tracing::warn!(file = %path.display(), error = %e, "study file cannot be read: left out");
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, Style};

    fn draft(title: &str) -> NewStudy {
        NewStudy {
            title: title.into(),
            subject: "the subject".into(),
            language: Lang::Ru,
            style: Style::StageSpecific,
            consent: Some("Our own words.".into()),
            experts_sought: 3,
        }
    }

    #[tokio::test]
    async fn studies_are_created_listed_found_by_invite_changed_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let store = StudyStore::new(dir.path());
        assert!(store.list().await.unwrap().is_empty());
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let a = store.create(draft("A"), t0).await.unwrap();
        let b = store
            .create(draft("B"), t0 + chrono::Duration::seconds(1))
            .await
            .unwrap();
        let titles: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["A", "B"]);
        assert_eq!(store.get(&a.id).await.unwrap(), Some(a.clone()));
        assert_eq!(
            store.by_invite(b.invite.as_str()).await.unwrap(),
            Invite::Open(Box::new(b.clone()))
        );
        assert_eq!(
            store.by_invite("forged-code").await.unwrap(),
            Invite::Unknown
        );
        let added = store
            .add_questions(&a.id, Stage::Mastery, &["What do the best do?".into()])
            .await
            .unwrap();
        assert_eq!(added, 1);
        let closed = store.close(&a.id, t0).await.unwrap();
        assert!(!closed.is_open());
        assert_eq!(
            closed.plan().questions(Stage::Mastery),
            ["What do the best do?"]
        );
        assert_eq!(
            store.by_invite(a.invite.as_str()).await.unwrap(),
            Invite::Closed
        );
        let unknown = StudyId::random();
        assert!(matches!(
            store.close(&unknown, t0).await,
            Err(StudyStoreError::Unknown(id)) if id == unknown
        ));
        // Other files in the folder are not studies.
        store.remember_bot_username("@ivbot").await.unwrap();
        store
            .save_synthesis(&a.id, b"{}".to_vec(), "# doc")
            .await
            .unwrap();
        assert_eq!(store.list().await.unwrap().len(), 2);
        assert_eq!(
            store.bot_username().await.unwrap().as_deref(),
            Some("ivbot")
        );
        assert_eq!(
            store.synthesis_markdown(&a.id).await.unwrap().as_deref(),
            Some("# doc")
        );
    }
}
