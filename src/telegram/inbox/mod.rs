//! The durable inbox: every update Telegram delivers is saved before its offset is confirmed
//! (polling) or before Telegram hears 200 (webhook), so a crash never loses what a user sent;
//! an update is marked handled once all its consequences are done (replies delivered).
//!
//! Two places keep it, behind one type:
//!
//! - [`journal`]: a file in `SESSIONS_DIR/inbox/` (the embedded default), for one process;
//! - the database (`DATABASE_URL`, [`PgInbox`]): rows every replica reads, the poller's
//!   offset among them, so whichever replica polls (or serves the webhook) saves there and the
//!   replica that runs the chat hands the update to its worker.
//!
//! Either way an update is handed out at least once and its chat's worker recognises one it
//! has already had an effect for, so a redelivery changes nothing.

pub mod journal;

use std::sync::Arc;

use teloxide::types::{ChatId, Update};

pub use self::journal::{JOURNAL, Journal, JournalError};
use crate::store::{
    StoreError,
    postgres::{PgInbox, inbox::Saved},
};

/// The inbox could not save.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The journal file.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The database.
    #[error("inbox: {0}")]
    Database(#[from] StoreError),
}

/// The inbox, shared by whatever saves updates (the poller, the webhook) and the chat workers
/// (which mark them handled).
#[derive(Debug, Clone)]
pub enum Inbox {
    /// A journal file in `SESSIONS_DIR`.
    Journal(Journal),
    /// Rows in the database.
    Database(Arc<Table>),
}

/// The inbox in the database.
#[derive(Debug)]
pub struct Table {
    rows: PgInbox,
    /// Whether the database had never had an update saved when this process started.
    new: bool,
}

impl Inbox {
    /// Opens the journal in `dir` and returns the updates still to be handled, oldest first.
    pub fn open(dir: &std::path::Path) -> Result<(Inbox, Vec<Update>), InboxError> {
        let (journal, pending) = Journal::open(dir)?;
        Ok((Inbox::Journal(journal), pending))
    }

    /// The inbox in the database. What is still to be handled there is handed out by the
    /// replica that runs each chat, not at start-up.
    pub async fn database(rows: PgInbox) -> Result<Inbox, InboxError> {
        let new = rows.seen().await?.is_none();
        if let Err(error) = rows.purge_handled(chrono::Utc::now()).await {
            tracing::warn!(%error, "could not let go of the inbox's old handled updates");
        }
        Ok(Inbox::Database(Arc::new(Table { rows, new })))
    }

    /// The offset for the next getUpdates: everything up to the highest saved update is
    /// confirmed, nothing beyond it.
    pub async fn offset(&self) -> Result<i32, InboxError> {
        let seen = match self {
            Inbox::Journal(journal) => return Ok(journal.offset()),
            Inbox::Database(table) => table.rows.seen().await?,
        };
        Ok(seen.map_or(0, |seen| {
            i32::try_from(seen).unwrap_or(i32::MAX).saturating_add(1)
        }))
    }

    /// Saves new updates durably and returns those not seen before, in order.
    ///
    /// The journal hands the updates out even when it cannot write them (users get their
    /// replies; durability is lost until storage recovers). The database hands out nothing it
    /// could not save: the offset stays where it was, so Telegram delivers them again.
    pub async fn save(&self, updates: Vec<Update>) -> (Vec<Update>, Option<InboxError>) {
        match self {
            Inbox::Journal(journal) => {
                let (fresh, error) = journal.save(updates).await;
                (fresh, error.map(InboxError::from))
            }
            Inbox::Database(table) => {
                let rows: Vec<Saved> = updates
                    .iter()
                    .filter_map(|update| {
                        let doc = serde_json::to_string(update)
                            .inspect_err(|error| {
                                tracing::error!(%error, "an update could not be encoded for the inbox")
                            })
                            .ok()?;
                        Some(Saved {
                            id: i64::from(update.id.0),
                            chat: update.chat().map(|c| c.id.0),
                            doc,
                        })
                    })
                    .collect();
                match table.rows.save(&rows).await {
                    Ok(fresh) => (
                        updates
                            .into_iter()
                            .filter(|u| fresh.contains(&i64::from(u.id.0)))
                            .collect(),
                        None,
                    ),
                    Err(error) => (Vec::new(), Some(error.into())),
                }
            }
        }
    }

    /// Marks update `id` handled: all its consequences are done. Nothing here waits for the
    /// disk or the database; a mark that is lost only hands the update out once more.
    pub fn handled(&self, id: u32) {
        match self {
            Inbox::Journal(journal) => journal.handled(id),
            Inbox::Database(table) => {
                let rows = table.rows.clone();
                tokio::spawn(async move {
                    if let Err(error) = rows.handled(i64::from(id)).await {
                        tracing::warn!(%error, "could not mark an update handled");
                    }
                });
            }
        }
    }

    /// Drops every saved update of `chat`: the user erased their data, and the inbox keeps
    /// none of their messages.
    pub async fn forget(&self, chat: ChatId) {
        match self {
            Inbox::Journal(journal) => journal.forget(chat).await,
            Inbox::Database(table) => {
                if let Err(error) = table.rows.forget(chat.0).await {
                    tracing::warn!(%error, "could not drop an erased user's updates from the inbox");
                }
            }
        }
    }

    /// The saved, unhandled updates of `chat`, oldest first.
    pub async fn unhandled_in(&self, chat: ChatId) -> Vec<Update> {
        match self {
            Inbox::Journal(journal) => journal.unhandled_in(chat),
            Inbox::Database(table) => match table.rows.unhandled(Some(chat.0)).await {
                Ok(rows) => decode(&table.rows, rows).await,
                Err(error) => {
                    tracing::warn!(%error, "could not read a chat's unhandled updates");
                    Vec::new()
                }
            },
        }
    }

    /// Whether this start is the first: no update was ever saved here (a first start, or an
    /// upgrade from a version without an inbox).
    pub fn is_new(&self) -> bool {
        match self {
            Inbox::Journal(journal) => journal.is_new(),
            Inbox::Database(table) => table.new,
        }
    }

    /// The rows, when the inbox is in the database.
    pub fn table(&self) -> Option<&PgInbox> {
        match self {
            Inbox::Journal(_) => None,
            Inbox::Database(table) => Some(&table.rows),
        }
    }
}

/// The updates of `rows`; one that no longer decodes (saved by another version) is marked
/// handled, with an error in the log, rather than handed out for ever.
async fn decode(table: &PgInbox, rows: Vec<Saved>) -> Vec<Update> {
    let mut updates = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<Update>(&row.doc) {
            Ok(update) => updates.push(update),
            Err(error) => {
                tracing::error!(update = row.id, %error, "a saved update cannot be read: it is set aside");
                if let Err(error) = table.handled(row.id).await {
                    tracing::warn!(%error, "could not set an unreadable update aside");
                }
            }
        }
    }
    updates
}
