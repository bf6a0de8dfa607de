//! Several replicas on one database: who is alive, which replica runs each chat, and which
//! one polls Telegram.
//!
//! A replica joins by opening one connection of its own (never from the pool) and taking a
//! session-level advisory lock on its id there. That lock *is* its liveness: it goes the
//! moment the process dies (the kernel closes the socket, the server ends the session) or the
//! server drops the connection, with no lease to renew and no timeout to wait out.
//!
//! A chat is run by the replica named in its `claims` row. A replica may take the row when it
//! is free, when it names the replica itself, or when the replica it names holds no lock any
//! more; every taking raises the row's epoch, so a release by an earlier holder (or by an
//! earlier worker of the same replica) matches nothing. Two replicas racing for one chat
//! serialise on the row: the second sees the first alive and gets nothing.
//!
//! Leadership (the one poller) is another advisory lock, tried on the same connection: the
//! replica holding it polls until it dies, then the next one to try gets it.

use deadpool_postgres::Pool;
use tokio::sync::watch;
use tokio_postgres::NoTls;

use super::PgStore;
use crate::store::StoreError;

/// The first key of a replica's liveness lock ("AI-R"); the second is its id.
const REPLICA_SPACE: i32 = 0x4149_2d52;

/// The first key of the leaders' locks ("AI-L"); the second names the role.
const LEADER_SPACE: i32 = 0x4149_2d4c;

/// Whether the replica named by `c.replica` holds its liveness lock, as SQL over the claims
/// row `c` (advisory locks belong to a database, hence the database's own).
pub(super) const ALIVE: &str = "EXISTS (SELECT 1 FROM pg_locks l \
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     AND l.classid = 1095314770 AND l.objid = c.replica::oid)";

/// A role only one replica plays at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Calls getUpdates and saves what comes in the inbox.
    Poller,
}

impl Role {
    fn key(self) -> i32 {
        match self {
            Role::Poller => 1,
        }
    }
}

/// A chat taken by a replica: the epoch the taking gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The chat.
    pub chat: i64,
    /// Raised by every taking.
    pub epoch: i64,
}

/// This process as one replica of the deployment, alive while its connection lasts.
pub struct Replica {
    id: i32,
    held: tokio_postgres::Client,
    pool: Pool,
    lose: std::sync::Arc<watch::Sender<bool>>,
    lost: watch::Receiver<bool>,
    driver: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // Ending the connection ends the session, and with it the liveness lock.
        self.driver.abort();
    }
}

impl Replica {
    /// Joins the deployment as a new replica (`host` names it for the operator): registers
    /// it, and takes its liveness lock on a connection of its own.
    pub async fn join(store: &PgStore, host: &str) -> Result<Replica, StoreError> {
        let mut config = store.config.clone();
        // A host that vanishes without closing its sockets is noticed within a minute or so.
        config.keepalives(true);
        config.keepalives_idle(std::time::Duration::from_secs(20));
        config.keepalives_interval(std::time::Duration::from_secs(5));
        config.keepalives_retries(3);
        let (held, connection) = config.connect(NoTls).await?;
        let (lose, lost) = watch::channel(false);
        let lose = std::sync::Arc::new(lose);
        let losing = lose.clone();
        let driver = tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "the replica's own database connection failed");
            }
            let _ = losing.send(true);
        });
        let row = held
            .query_one(
                "INSERT INTO replicas (host) VALUES ($1) RETURNING id",
                &[&host],
            )
            .await?;
        let id: i32 = row.get(0);
        held.execute("SELECT pg_advisory_lock($1, $2)", &[&REPLICA_SPACE, &id])
            .await?;
        tracing::info!(replica = id, "joined the deployment");
        Ok(Replica {
            id,
            held,
            pool: store.pool.clone(),
            lose,
            lost,
            driver,
        })
    }

    /// Leaves the deployment now: the connection closes, and with it go this replica's
    /// liveness, its claims' validity and its leadership. (Dropping the last handle does the
    /// same; a stopping process leaves explicitly, whatever tasks still hold a handle.)
    pub fn leave(&self) {
        self.driver.abort();
        let _ = self.lose.send(true);
    }

    /// This replica's id.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Turns true when this replica's connection is gone: it is dead to the others, may have
    /// lost its chats, and must join again before it takes any.
    pub fn lost(&self) -> watch::Receiver<bool> {
        self.lost.clone()
    }

    /// Takes `chat` unless a live replica other than this one runs it.
    pub async fn claim(&self, chat: i64) -> Result<Option<Claim>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &format!(
                    "INSERT INTO claims AS c (chat_id, replica, epoch) VALUES ($1, $2, 1) \
                     ON CONFLICT (chat_id) DO UPDATE \
                     SET replica = EXCLUDED.replica, epoch = c.epoch + 1, claimed_at = now() \
                     WHERE c.replica = EXCLUDED.replica OR NOT {ALIVE} \
                     RETURNING epoch"
                ),
                &[&chat, &self.id],
            )
            .await?;
        Ok(row.map(|row| Claim {
            chat,
            epoch: row.get(0),
        }))
    }

    /// Whether `claim` is still this replica's: nobody took the chat since.
    pub async fn holds(&self, claim: Claim) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT 1 FROM claims WHERE chat_id = $1 AND replica = $2 AND epoch = $3",
                &[&claim.chat, &self.id, &claim.epoch],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Lets go of `claim`, unless the chat was taken again since (by anyone).
    pub async fn release(&self, claim: Claim) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM claims WHERE chat_id = $1 AND replica = $2 AND epoch = $3",
                &[&claim.chat, &self.id, &claim.epoch],
            )
            .await?;
        Ok(())
    }

    /// Tries to become the one replica playing `role`; once it does, it plays it until its
    /// connection ends.
    pub async fn lead(&self, role: Role) -> Result<bool, StoreError> {
        let row = self
            .held
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&LEADER_SPACE, &role.key()],
            )
            .await?;
        Ok(row.get(0))
    }

    /// How many replicas are alive now, this one included.
    pub async fn alive(&self) -> Result<usize, StoreError> {
        Ok(alive(&self.pool).await?.max(1))
    }
}

impl PgStore {
    /// How many replicas are alive on this database now (holding their liveness lock).
    pub async fn replicas_alive(&self) -> Result<usize, StoreError> {
        alive(&self.pool).await
    }
}

async fn alive(pool: &Pool) -> Result<usize, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            &format!("SELECT count(*) FROM (SELECT id AS replica FROM replicas) c WHERE {ALIVE}"),
            &[],
        )
        .await?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_liveness_query_names_the_replica_lock_space() {
        assert_eq!(super::REPLICA_SPACE, 1_095_314_770);
        assert!(super::ALIVE.contains(&super::REPLICA_SPACE.to_string()));
    }
}
