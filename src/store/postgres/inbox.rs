//! The Telegram front end's inbox and sent log in PostgreSQL, as the store floor sees them:
//! documents keyed by numbers, nothing of Telegram's types (the front end encodes its updates
//! and message keys, and decodes them again).
//!
//! - [`PgInbox`]: updates saved before they are confirmed, marked handled once their
//!   consequences are done; the highest id ever saved is the poller's offset, whichever
//!   replica polls. A handled row keeps only its id for a day, so a redelivery is dropped.
//! - [`PgSentLog`]: the messages Telegram accepted, by chat and key.
//! - [`PgCounters`]: the operators' counters, a row per process.
//!
//! Saving an update notifies [`INBOX_CHANNEL`] with its chat, in the saving transaction: the
//! replica that runs the chat (or one that may take it) hears of it at once.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use crate::store::StoreError;

/// The channel a saved update is announced on; the payload is its chat id (or empty).
pub const INBOX_CHANNEL: &str = "ai_interviewer_inbox";

/// How long a handled update's id is kept to recognise a redelivery.
const HANDLED_KEPT: &str = "1 day";

/// An update as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Telegram's update id.
    pub id: i64,
    /// The chat it belongs to, if any.
    pub chat: Option<i64>,
    /// The update, as JSON text.
    pub doc: String,
}

/// The inbox table.
#[derive(Debug, Clone)]
pub struct PgInbox {
    pub(super) pool: Pool,
}

impl PgInbox {
    /// Saves `updates` in one transaction and returns the ids of those not saved before, in
    /// the order given: once this returns they are durable, and the offset is past them.
    pub async fn save(&self, updates: &[Saved]) -> Result<Vec<i64>, StoreError> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let insert = tx
            .prepare(
                "INSERT INTO inbox (update_id, chat_id, doc) VALUES ($1, $2, $3) \
                 ON CONFLICT (update_id) DO NOTHING",
            )
            .await?;
        let mut fresh = Vec::new();
        for update in updates {
            if tx
                .execute(&insert, &[&update.id, &update.chat, &update.doc])
                .await?
                == 1
            {
                fresh.push(update.id);
                let chat = update.chat.map(|c| c.to_string()).unwrap_or_default();
                tx.execute("SELECT pg_notify($1, $2)", &[&INBOX_CHANNEL, &chat])
                    .await?;
            }
        }
        let highest = updates.iter().map(|u| u.id).max();
        tx.execute(
            "INSERT INTO inbox_seen (one, seen) VALUES (true, $1) \
             ON CONFLICT (one) DO UPDATE SET seen = GREATEST(inbox_seen.seen, EXCLUDED.seen)",
            &[&highest],
        )
        .await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// The highest update id ever saved.
    pub async fn seen(&self) -> Result<Option<i64>, StoreError> {
        let client = self.pool.get().await?;
        let row = client.query_opt("SELECT seen FROM inbox_seen", &[]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Marks update `id` handled, forgetting its text; and lets go of ids handled long ago.
    pub async fn handled(&self, id: i64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE inbox SET handled_at = now(), doc = NULL \
                 WHERE update_id = $1 AND handled_at IS NULL",
                &[&id],
            )
            .await?;
        Ok(())
    }

    /// Deletes the ids of updates handled more than a day before `now`; returns how many.
    pub async fn purge_handled(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .execute(
                &format!(
                    "DELETE FROM inbox WHERE handled_at < $1::timestamptz - interval '{HANDLED_KEPT}'"
                ),
                &[&now],
            )
            .await?)
    }

    /// The unhandled updates of `chat` (every chat's, if `None`), oldest first.
    pub async fn unhandled(&self, chat: Option<i64>) -> Result<Vec<Saved>, StoreError> {
        let client = self.pool.get().await?;
        let rows = match chat {
            Some(chat) => {
                client
                    .query(
                        "SELECT update_id, chat_id, doc FROM inbox \
                         WHERE handled_at IS NULL AND chat_id = $1 ORDER BY update_id",
                        &[&chat],
                    )
                    .await?
            }
            None => {
                client
                    .query(
                        "SELECT update_id, chat_id, doc FROM inbox \
                         WHERE handled_at IS NULL ORDER BY update_id",
                        &[],
                    )
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| Saved {
                id: row.get(0),
                chat: row.get(1),
                doc: row.get::<_, Option<String>>(2).unwrap_or_default(),
            })
            .collect())
    }

    /// The chats with unhandled updates that no live replica runs, oldest update first: what
    /// a replica that died left, and what arrived for a chat nobody runs.
    pub async fn orphaned(&self) -> Result<Vec<i64>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT chat_id FROM inbox i \
                     WHERE handled_at IS NULL AND chat_id IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.chat_id = i.chat_id \
                                     AND {}) \
                     GROUP BY chat_id ORDER BY min(update_id)",
                    super::replicas::ALIVE
                ),
                &[],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Drops every update of `chat`, handled or not: the user erased their data.
    pub async fn forget(&self, chat: i64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute("DELETE FROM inbox WHERE chat_id = $1", &[&chat])
            .await?;
        Ok(())
    }

    /// How many saved updates are not handled yet.
    pub async fn backlog(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT count(*) FROM inbox WHERE handled_at IS NULL", &[])
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}

/// The sent table.
#[derive(Debug, Clone)]
pub struct PgSentLog {
    pub(super) pool: Pool,
}

impl PgSentLog {
    /// Records that Telegram accepted the message `key` of `chat` as `message`.
    pub async fn record(
        &self,
        chat: i64,
        key: &str,
        message: Option<i32>,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sent (chat_id, key, message_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (chat_id, key) DO UPDATE SET message_id = EXCLUDED.message_id, at = now()",
                &[&chat, &key, &message],
            )
            .await?;
        Ok(())
    }

    /// Every message of `chat` Telegram accepted since `since`: key and message id.
    pub async fn of_chat(
        &self,
        chat: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<i32>)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT key, message_id FROM sent WHERE chat_id = $1 AND at >= $2",
                &[&chat, &since],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Deletes what was logged before `before`; returns how many.
    pub async fn purge(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .execute("DELETE FROM sent WHERE at < $1", &[&before])
            .await?)
    }
}

/// The counters table: one ledger (as JSON text) per process that counted.
#[derive(Debug, Clone)]
pub struct PgCounters {
    pub(super) pool: Pool,
    /// This process's row.
    pub(super) origin: i64,
}

impl PgCounters {
    /// Writes this process's ledger.
    pub async fn save(&self, ledger: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO counters (origin, ledger) VALUES ($1, $2) \
                 ON CONFLICT (origin) DO UPDATE SET ledger = EXCLUDED.ledger, saved_at = now()",
                &[&self.origin, &ledger],
            )
            .await?;
        Ok(())
    }

    /// Every other process's ledger.
    pub async fn others(&self) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT ledger FROM counters WHERE origin <> $1",
                &[&self.origin],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
}
