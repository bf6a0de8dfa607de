//! The schema's migrations: SQL files compiled into the binary, applied in order at start-up
//! and recorded in `schema_migrations`, one row per version.
//!
//! A migration is never edited once released: a change to the schema is a new file with the
//! next number. All pending migrations run in one transaction (PostgreSQL's DDL is
//! transactional), so a start-up that fails half-way leaves the schema as it was. Replicas
//! starting together serialise on an advisory lock held for that transaction: the first
//! migrates, the others then find nothing left to do. A database whose schema is newer than
//! the binary knows is refused: an older replica must not write documents the newer schema
//! no longer expects.

use deadpool_postgres::Client;

use crate::store::StoreError;

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number: the order, and the version the schema is at once it ran.
    pub version: i32,
    /// What it brings, for the operator reading `schema_migrations`.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "interviews",
        sql: include_str!("migrations/0001_interviews.sql"),
    },
    Migration {
        version: 2,
        name: "studies",
        sql: include_str!("migrations/0002_studies.sql"),
    },
    Migration {
        version: 3,
        name: "signin_links",
        sql: include_str!("migrations/0003_signin_links.sql"),
    },
    Migration {
        version: 4,
        name: "replicas",
        sql: include_str!("migrations/0004_replicas.sql"),
    },
    Migration {
        version: 5,
        name: "counters",
        sql: include_str!("migrations/0005_counters.sql"),
    },
];

/// The advisory lock key the migrating transaction holds ("ai-i mig" in ASCII): any constant
/// no other lock of this database uses.
const MIGRATION_LOCK: i64 = 0x6169_2d69_206d_6967;

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Brings the schema up to the latest migration; returns the version it is at.
pub(super) async fn run(client: &mut Client) -> Result<i32, StoreError> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(VERSION_TABLE).await?;
    let applied: i32 = tx
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    if applied > latest {
        return Err(StoreError::Setup(format!(
            "the schema is at version {applied}, newer than this version of the bot knows \
             ({latest}): run the newer version"
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > applied) {
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "database schema migrated"
        );
    }
    tx.commit().await?;
    Ok(latest)
}

/// The version the schema is at (0 before any migration).
pub(super) async fn version(client: &Client) -> Result<i32, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?;
    Ok(row.try_get(0)?)
}
