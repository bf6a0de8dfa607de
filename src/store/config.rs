//! Where the state is kept, as the settings say: the component owns its configuration and
//! builds itself from it ([`StorageConfig::open`]), and the assembly hands the result out.
//!
//! `SESSIONS_DIR` is always there: without `DATABASE_URL` it holds everything (the embedded
//! default), and with it PostgreSQL holds the interviews, the per-user records, the studies
//! and the sign-in links while the files PostgreSQL does not cover yet (the inbox journal, the
//! sent log, the counters) stay in `SESSIONS_DIR`.

use std::{path::PathBuf, sync::Arc};

use secrecy::{ExposeSecret, SecretString};

use super::{InterviewStore, PgStore, SessionStore, StoreError, StudyRecords, StudyStore};

/// The storage's settings: `SESSIONS_DIR` and, when set, `DATABASE_URL` (a secret: it may
/// carry the password, and is never printed).
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// `SESSIONS_DIR`: the files.
    pub sessions_dir: PathBuf,
    /// `DATABASE_URL`: the PostgreSQL database, if the state lives there.
    pub database_url: Option<SecretString>,
}

/// The stores the application runs on, opened from a [`StorageConfig`].
#[derive(Debug, Clone)]
pub struct Storage {
    interviews: Arc<dyn InterviewStore>,
    studies: Arc<dyn StudyRecords>,
    database: Option<PgStore>,
    dir: PathBuf,
}

impl StorageConfig {
    /// Opens the stores: the files under `SESSIONS_DIR` (created if missing), and with
    /// `DATABASE_URL` the database, its schema brought up to date.
    pub async fn open(&self) -> Result<Storage, StoreError> {
        let files = SessionStore::open(&self.sessions_dir)?;
        match &self.database_url {
            Some(url) => {
                let database = PgStore::connect(url.expose_secret()).await?;
                Ok(Storage {
                    interviews: Arc::new(database.clone()),
                    studies: Arc::new(database.clone()),
                    database: Some(database),
                    dir: files.root().to_path_buf(),
                })
            }
            None => Ok(Storage {
                studies: Arc::new(StudyStore::new(files.root())),
                dir: files.root().to_path_buf(),
                interviews: Arc::new(files),
                database: None,
            }),
        }
    }
}

impl Storage {
    /// The stores over the files of `files` alone (the embedded default).
    pub fn files(files: SessionStore) -> Storage {
        Storage {
            studies: Arc::new(StudyStore::new(files.root())),
            dir: files.root().to_path_buf(),
            interviews: Arc::new(files),
            database: None,
        }
    }

    /// Every store that holds interviews, for `SESSION_RETENTION_DAYS`: the interviews' store
    /// and, with a database, the files of `SESSIONS_DIR` too (what `import-files` copied stays
    /// there, and ages out like the rest).
    pub fn retained(&self) -> Result<Vec<Arc<dyn InterviewStore>>, StoreError> {
        let mut stores = vec![self.interviews.clone()];
        if self.database.is_some() {
            stores.push(Arc::new(SessionStore::open(&self.dir)?));
        }
        Ok(stores)
    }

    /// The interviews and the per-user records.
    pub fn interviews(&self) -> &Arc<dyn InterviewStore> {
        &self.interviews
    }

    /// The studies.
    pub fn studies(&self) -> &Arc<dyn StudyRecords> {
        &self.studies
    }

    /// The database, when the state lives in one (what keeps the sign-in links there too).
    pub fn database(&self) -> Option<&PgStore> {
        self.database.as_ref()
    }

    /// `SESSIONS_DIR`: where the files PostgreSQL does not hold yet are kept (the inbox
    /// journal, the sent log, the counters), and everything without a database.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}
