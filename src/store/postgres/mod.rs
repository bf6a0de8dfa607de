//! The interviews in PostgreSQL (`DATABASE_URL`): the same [`InterviewStore`] as the files,
//! for operators who run a database and back it up, and for several replicas on one state.
//!
//! Each table keeps a whole document as JSONB plus the columns that are queried
//! (`migrations/0001_interviews.sql`); the application reads and writes documents whole, as
//! it does files, so the schema grows only when a query needs a column. Documents are read
//! back as text and decoded by the same [`decode_session`] as a file, so an unknown schema
//! version or a malformed document is quarantined the same way.
//!
//! The connection string is libpq's, as a URL (`postgresql://user@host/db`, with
//! `?host=/run/postgresql` for a unix socket) or as `key=value` pairs. Connections are plain:
//! the database is expected on the same host or a private network (a unix socket, or a
//! sidecar); TLS would come through rustls when a deployment needs it.

mod feed;
pub mod fence;
mod import;
pub mod inbox;
mod links;
mod migrate;
pub mod replicas;
mod studies;

use std::sync::Arc;

pub use import::{Count, Imported};
pub use inbox::{PgCounters, PgInbox, PgSentLog};
pub use replicas::{Claim, Replica, Role};

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use migrate::{MIGRATIONS, Migration};

use super::{
    Change, Folder, Loaded, StoreError,
    backend::{Filed, Scanned},
    decode_session,
    retention::{DatedBy, Purged},
};
use crate::{
    model::{Session, StudyId, UserId},
    store::InterviewStore,
};

/// Connections the store keeps at most: a chat's worker holds one only for a statement or a
/// transaction, so a few serve thousands of chats.
const POOL_SIZE: usize = 16;

/// How many announcements a slow follower may fall behind (as the file store).
const CHANGES_CAPACITY: usize = 1024;

/// The interviews of every user, in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// How to reach the database, for the connections a store holds of its own.
    config: tokio_postgres::Config,
    changes: tokio::sync::broadcast::Sender<Change>,
    /// This store's mark on the changes it notifies, so that its listener drops them.
    origin: u64,
    /// The task listening for other stores' changes, ended with the last clone.
    _listener: Arc<Listener>,
}

/// Ends the listening task when dropped.
struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date (the
    /// [`MIGRATIONS`] not yet applied); fails if the database cannot be reached or holds a newer
    /// schema than this version knows.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Setup(format!("DATABASE_URL: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Setup(e.to_string()))?;
        let mut client = pool.get().await?;
        migrate::run(&mut client).await?;
        drop(client);
        let (changes, _) = tokio::sync::broadcast::channel(CHANGES_CAPACITY);
        let origin = rand::random();
        let listener = tokio::spawn(feed::listen(config.clone(), origin, changes.clone()));
        Ok(PgStore {
            pool,
            config,
            changes,
            origin,
            _listener: Arc::new(Listener(listener)),
        })
    }

    /// The Telegram front end's inbox in this database.
    pub fn inbox(&self) -> PgInbox {
        PgInbox {
            pool: self.pool.clone(),
        }
    }

    /// The log of messages Telegram accepted, in this database.
    pub fn sent_log(&self) -> PgSentLog {
        PgSentLog {
            pool: self.pool.clone(),
        }
    }

    /// Every notification on `channel` from now on, as its payload; an empty payload each time
    /// listening (re)starts, since notifications sent meanwhile were missed. Listening ends
    /// when the receiver is dropped.
    pub fn notifications(
        &self,
        channel: &'static str,
    ) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (out, notifications) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(feed::relay(self.config.clone(), channel, out));
        notifications
    }

    /// The operators' counters in this database, this process's row under a number drawn now.
    pub fn counters(&self) -> PgCounters {
        PgCounters {
            pool: self.pool.clone(),
            origin: rand::random::<i64>(),
        }
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let client = self.pool.get().await?;
        migrate::version(&client).await
    }

    /// Announces `change` in this process; the other stores hear of it through the
    /// notification its write sent ([`PgStore::notice`]).
    fn announce(&self, change: Change) {
        let _ = self.changes.send(change);
    }

    /// The channel and payload of the notification announcing `change` to the other stores.
    fn notice(&self, change: Change) -> [String; 2] {
        [feed::CHANNEL.to_owned(), feed::payload(self.origin, change)]
    }

    /// Moves the interview in progress of `user` to quarantine, with why.
    async fn quarantine_interview(
        &self,
        user: UserId,
        reason: String,
    ) -> Result<Loaded, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let [channel, payload] = self.notice(Change::Retired(user));
        // One statement: the document is in one table or the other, never both or neither.
        tx.execute(
            "WITH moved AS (DELETE FROM interviews WHERE user_id = $1 \
                 RETURNING doc::text AS body), \
                 kept AS (INSERT INTO quarantine (user_id, origin, reason, body) \
                 SELECT $1, 'interviews', $2, body FROM moved RETURNING user_id) \
                 SELECT pg_notify($3, $4) FROM kept",
            &[&key(user)?, &reason, &channel, &payload],
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(%user, %reason, "session quarantined");
        self.announce(Change::Retired(user));
        Ok(Loaded::Quarantined { reason })
    }
}

/// Begins a write's transaction, fenced when the task is a chat's worker on a replica
/// ([`fence`]).
async fn begin(
    client: &mut deadpool_postgres::Object,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    let tx = client.transaction().await?;
    fence::check(&tx).await?;
    Ok(tx)
}

/// A user id as the database keeps it. Telegram's ids fit in 52 bits; one that does not fit a
/// BIGINT is refused rather than wrapped onto another user's rows.
fn key(user: UserId) -> Result<i64, StoreError> {
    i64::try_from(user.0).map_err(|_| StoreError::Setup(format!("user id {user} is out of range")))
}

fn user_of(id: i64) -> Result<UserId, StoreError> {
    u64::try_from(id)
        .map(UserId)
        .map_err(|_| StoreError::Setup(format!("negative user id {id} in the database")))
}

/// The time a retired interview is keyed by, to the millisecond, as the file names have it:
/// two retirements within one millisecond are one in either store.
fn filed_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at)
}

/// The folder of a retired interview, as the `retired` table names it.
fn retired_folder(folder: Folder) -> Result<&'static str, StoreError> {
    match folder {
        Folder::Completed | Folder::Archive => Ok(folder.name()),
        other => Err(StoreError::Setup(format!(
            "{} holds no retired interviews",
            other.name()
        ))),
    }
}

/// The folder a `retired` or `attachments` row names.
fn folder_named(name: &str) -> Result<Folder, StoreError> {
    match name {
        "completed" => Ok(Folder::Completed),
        "archive" => Ok(Folder::Archive),
        other => Err(StoreError::Setup(format!(
            "a retired interview in an unknown folder {other:?}"
        ))),
    }
}

/// The kind of a per-user record, as the `records` table names it.
fn record_kind(folder: Folder) -> Result<&'static str, StoreError> {
    match folder {
        Folder::Chats | Folder::Profiles => Ok(folder.name()),
        other => Err(StoreError::Setup(format!(
            "{} holds no per-user records",
            other.name()
        ))),
    }
}

fn encode_session(session: &Session) -> Result<String, StoreError> {
    serde_json::to_string(session).map_err(|source| StoreError::Encode {
        what: "session",
        source,
    })
}

/// A session read back from the database, if it decodes and belongs to `user`.
fn readable(text: &str, user: UserId) -> Option<Session> {
    decode_session(text.as_bytes())
        .ok()
        .filter(|s| s.user == user)
}

#[async_trait]
impl InterviewStore for PgStore {
    async fn load(&self, user: UserId) -> Result<Loaded, StoreError> {
        let row = {
            let client = self.pool.get().await?;
            client
                .query_opt(
                    "SELECT doc::text FROM interviews WHERE user_id = $1",
                    &[&key(user)?],
                )
                .await?
        };
        let Some(row) = row else {
            return Ok(Loaded::Nothing);
        };
        let text: String = row.try_get(0)?;
        match decode_session(text.as_bytes()) {
            Ok(session) if session.user == user => Ok(Loaded::Session(Box::new(session))),
            Ok(session) => {
                self.quarantine_interview(user, format!("holds user {}", session.user))
                    .await
            }
            Err(reason) => self.quarantine_interview(user, reason).await,
        }
    }

    async fn save(&self, session: &Session) -> Result<(), StoreError> {
        let doc = encode_session(session)?;
        let study = session.study.as_ref().map(StudyId::as_str);
        let [channel, payload] = self.notice(Change::Saved(session.user));
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        tx.execute(
            "WITH saved AS (INSERT INTO interviews (user_id, session_id, study, started_at, doc) \
                 VALUES ($1, $2, $3, $4, $5::text::jsonb) \
                 ON CONFLICT (user_id) DO UPDATE SET session_id = EXCLUDED.session_id, \
                 study = EXCLUDED.study, started_at = EXCLUDED.started_at, \
                 saved_at = now(), doc = EXCLUDED.doc RETURNING user_id) \
                 SELECT pg_notify($6, $7) FROM saved",
            &[
                &key(session.user)?,
                &i64::from(session.id),
                &study,
                &session.started_at,
                &doc,
                &channel,
                &payload,
            ],
        )
        .await?;
        tx.commit().await?;
        self.announce(Change::Saved(session.user));
        tracing::debug!(user = %session.user, "session saved");
        Ok(())
    }

    async fn retire(
        &self,
        session: &Session,
        folder: Folder,
        attachments: &[(&str, &str)],
    ) -> Result<Filed, StoreError> {
        let filed = Filed::of(session, folder);
        let name = retired_folder(folder)?;
        let at = filed_at(filed.at);
        let user = key(session.user)?;
        let doc = encode_session(session)?;
        let study = session.study.as_ref().map(StudyId::as_str);
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        for (ext, body) in attachments {
            tx.execute(
                "INSERT INTO attachments (folder, user_id, filed_at, ext, body) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (folder, user_id, filed_at, ext) DO UPDATE SET body = EXCLUDED.body",
                &[&name, &user, &at, ext, body],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO retired (folder, user_id, filed_at, session_id, study, started_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb) \
             ON CONFLICT (folder, user_id, filed_at) DO UPDATE SET \
             session_id = EXCLUDED.session_id, study = EXCLUDED.study, \
             started_at = EXCLUDED.started_at, doc = EXCLUDED.doc",
            &[
                &name,
                &user,
                &at,
                &i64::from(session.id),
                &study,
                &session.started_at,
                &doc,
            ],
        )
        .await?;
        tx.execute("DELETE FROM interviews WHERE user_id = $1", &[&user])
            .await?;
        let [channel, payload] = self.notice(Change::Retired(session.user));
        tx.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .await?;
        tx.commit().await?;
        self.announce(Change::Retired(session.user));
        Ok(filed)
    }

    async fn attach(&self, filed: Filed, ext: &str, text: &str) -> Result<(), StoreError> {
        let name = retired_folder(filed.folder)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        tx.execute(
            "INSERT INTO attachments (folder, user_id, filed_at, ext, body) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (folder, user_id, filed_at, ext) DO UPDATE SET body = EXCLUDED.body",
            &[&name, &key(filed.user)?, &filed_at(filed.at), &ext, &text],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn scan(&self, user: Option<UserId>) -> Result<Vec<Scanned>, StoreError> {
        let user = user.map(key).transpose()?;
        let client = self.pool.get().await?;
        let mut found = Vec::new();
        for row in client
            .query(
                "SELECT user_id, doc::text FROM interviews \
                 WHERE $1::bigint IS NULL OR user_id = $1",
                &[&user],
            )
            .await?
        {
            let (owner, text): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            match decode_session(text.as_bytes()) {
                Ok(session) if key(session.user)? == owner => {
                    found.push(Scanned {
                        filed: None,
                        session,
                    });
                }
                _ => {}
            }
        }
        for row in client
            .query(
                "SELECT folder, user_id, filed_at, doc::text FROM retired \
                 WHERE $1::bigint IS NULL OR user_id = $1",
                &[&user],
            )
            .await?
        {
            let folder: String = row.try_get(0)?;
            let owner: i64 = row.try_get(1)?;
            let at: DateTime<Utc> = row.try_get(2)?;
            let text: String = row.try_get(3)?;
            let folder = folder_named(&folder)?;
            match decode_session(text.as_bytes()) {
                Ok(session) if key(session.user)? == owner => {
                    let filed = Filed {
                        folder,
                        user: session.user,
                        at,
                    };
                    found.push(Scanned {
                        filed: Some(filed),
                        session,
                    });
                }
                _ => {}
            }
        }
        Ok(found)
    }

    fn name_of(&self, filed: Filed, ext: &str) -> std::path::PathBuf {
        let stamp = filed.at.format(super::STAMP_FORMAT);
        std::path::Path::new(filed.folder.name()).join(format!("{}-{stamp}.{ext}", filed.user))
    }

    async fn purge_older(
        &self,
        max_age: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<Purged>, StoreError> {
        let Ok(age) = TimeDelta::from_std(max_age) else {
            return Ok(Vec::new());
        };
        let cutoff = now - age;
        let mut client = self.pool.get().await?;
        // One transaction: an interview and its report go together or not at all.
        let tx = client.transaction().await?;
        let interviews = tx
            .query(
                "DELETE FROM retired WHERE filed_at < $1 RETURNING folder, user_id, filed_at",
                &[&cutoff],
            )
            .await?;
        let beside = tx
            .query(
                "DELETE FROM attachments WHERE filed_at < $1 \
                 RETURNING folder, user_id, filed_at, ext",
                &[&cutoff],
            )
            .await?;
        let quarantined = tx
            .query(
                "DELETE FROM quarantine WHERE at < $1 RETURNING user_id, at",
                &[&cutoff],
            )
            .await?;
        tx.commit().await?;
        let gone = |folder: Folder,
                    user: i64,
                    at: DateTime<Utc>,
                    ext: &str|
         -> Result<Purged, StoreError> {
            let user = user_of(user)?;
            Ok(Purged {
                path: self.name_of(Filed { folder, user, at }, ext),
                folder,
                age: (now - at).to_std().unwrap_or_default(),
                dated_by: DatedBy::Name,
            })
        };
        let mut purged = Vec::new();
        for row in &interviews {
            let folder = folder_named(row.get(0))?;
            purged.push(gone(folder, row.get(1), row.get(2), "json")?);
        }
        for row in &beside {
            let folder = folder_named(row.get(0))?;
            let ext: String = row.get(3);
            purged.push(gone(folder, row.get(1), row.get(2), &ext)?);
        }
        for row in &quarantined {
            purged.push(gone(Folder::Quarantine, row.get(0), row.get(1), "json")?);
        }
        Ok(purged)
    }

    async fn attachment(&self, filed: Filed, ext: &str) -> Result<Option<String>, StoreError> {
        let name = retired_folder(filed.folder)?;
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT body FROM attachments \
                 WHERE folder = $1 AND user_id = $2 AND filed_at = $3 AND ext = $4",
                &[&name, &key(filed.user)?, &filed_at(filed.at), &ext],
            )
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    async fn latest(&self, folder: Folder, user: UserId) -> Result<Option<Session>, StoreError> {
        let client = self.pool.get().await?;
        let row = match folder {
            Folder::Completed | Folder::Archive => {
                client
                    .query_opt(
                        "SELECT doc::text FROM retired WHERE folder = $1 AND user_id = $2 \
                         ORDER BY filed_at DESC LIMIT 1",
                        &[&folder.name(), &key(user)?],
                    )
                    .await?
            }
            Folder::Quarantine => {
                client
                    .query_opt(
                        "SELECT body FROM quarantine WHERE user_id = $1 \
                         ORDER BY at DESC, id DESC LIMIT 1",
                        &[&key(user)?],
                    )
                    .await?
            }
            // Per-user records are not interviews (the files have none named by a time).
            Folder::Chats | Folder::Profiles => None,
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let text: String = row.try_get(0)?;
        Ok(readable(&text, user))
    }

    async fn active_users(&self) -> Result<Vec<UserId>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT user_id FROM interviews ORDER BY user_id", &[])
            .await?;
        rows.iter().map(|row| user_of(row.try_get(0)?)).collect()
    }

    async fn study_sessions(&self, study: &StudyId) -> Result<Vec<Session>, StoreError> {
        let client = self.pool.get().await?;
        // Completed first: an interview filed between the two reads of the file store is
        // taken as completed, and one statement here sees both tables at one moment anyway.
        let rows = client
            .query(
                "SELECT doc::text FROM retired WHERE folder = 'completed' AND study = $1 \
                 UNION ALL SELECT doc::text FROM interviews WHERE study = $1",
                &[&study.as_str()],
            )
            .await?;
        let mut found: Vec<Session> = Vec::new();
        for row in rows {
            let text: String = row.try_get(0)?;
            let Ok(session) = decode_session(text.as_bytes()) else {
                continue;
            };
            if session.study.as_ref() == Some(study)
                && !found
                    .iter()
                    .any(|s| s.user == session.user && s.id == session.id)
            {
                found.push(session);
            }
        }
        found.sort_by_key(|s| (s.started_at, s.user, s.id));
        Ok(found)
    }

    async fn load_value(
        &self,
        folder: Folder,
        user: UserId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let kind = record_kind(folder)?;
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT doc FROM records WHERE kind = $1 AND user_id = $2",
                &[&kind, &key(user)?],
            )
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    async fn save_value(
        &self,
        folder: Folder,
        user: UserId,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let kind = record_kind(folder)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        tx.execute(
            "INSERT INTO records (kind, user_id, doc) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, user_id) DO UPDATE SET saved_at = now(), doc = EXCLUDED.doc",
            &[&kind, &key(user)?, value],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn quarantine_value(
        &self,
        folder: Folder,
        user: UserId,
        reason: &str,
    ) -> Result<(), StoreError> {
        let kind = record_kind(folder)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let [channel, payload] = self.notice(Change::Retired(user));
        let moved = tx
            .execute(
                "WITH moved AS (DELETE FROM records WHERE kind = $1 AND user_id = $2 \
                 RETURNING doc::text AS body), \
                 kept AS (INSERT INTO quarantine (user_id, origin, reason, body) \
                 SELECT $2, $1, $3, body FROM moved RETURNING user_id) \
                 SELECT pg_notify($4, $5) FROM kept",
                &[&kind, &key(user)?, &reason, &channel, &payload],
            )
            .await?;
        tx.commit().await?;
        if moved > 0 {
            tracing::warn!(%user, kind, reason, "record quarantined");
            self.announce(Change::Retired(user));
        }
        Ok(())
    }

    async fn remove_value(&self, folder: Folder, user: UserId) -> Result<(), StoreError> {
        let kind = record_kind(folder)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        tx.execute(
            "DELETE FROM records WHERE kind = $1 AND user_id = $2",
            &[&kind, &key(user)?],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, user: UserId) -> Result<usize, StoreError> {
        let id = key(user)?;
        let removed = async {
            let mut client = self.pool.get().await?;
            let tx = begin(&mut client).await?;
            let mut removed = 0;
            for table in [
                "interviews",
                "retired",
                "attachments",
                "quarantine",
                "records",
            ] {
                removed += tx
                    .execute(&format!("DELETE FROM {table} WHERE user_id = $1"), &[&id])
                    .await?;
            }
            // The private chat's id is the user's: what the front end logged of it goes too
            // (not counted: the file store keeps those apart, and forgets them itself).
            for table in ["inbox", "sent"] {
                tx.execute(&format!("DELETE FROM {table} WHERE chat_id = $1"), &[&id])
                    .await?;
            }
            let [channel, payload] = self.notice(Change::Deleted(user));
            tx.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(removed)
        }
        .await;
        // Announced even when it failed, as the file store does: a follower reads again.
        self.announce(Change::Deleted(user));
        Ok(usize::try_from(removed?).unwrap_or(usize::MAX))
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}
