//! Fencing: a chat's worker writes only while its replica still holds the chat's claim.
//!
//! A replica whose liveness connection dropped while its process lives is dead to the others,
//! which may take its chats; it stops at once, but a statement of one of its workers may
//! already be on its way. So a worker runs inside [`fenced`], and every write of the store
//! made from it runs in a transaction that first reads the chat's claim row `FOR SHARE`: if the
//! claim is no longer this replica's, at this epoch, nothing is written
//! ([`StoreError::Fenced`]); if it is, a replica taking the chat waits for the write to commit.
//!
//! The fence rides with the task (a task-local), so the interview engine, which knows nothing
//! of replicas, writes fenced without being told. Work outside a worker (the desk, the command
//! line, an import) writes without a fence.

use deadpool_postgres::Transaction;

use crate::store::StoreError;

tokio::task_local! {
    static FENCE: Fence;
}

/// The claim a worker writes under.
#[derive(Debug, Clone, Copy)]
pub struct Fence {
    /// The chat.
    pub chat: i64,
    /// The replica holding it.
    pub replica: i32,
    /// The claim's epoch.
    pub epoch: i64,
}

/// Runs `work` (a chat's worker) with every store write inside it fenced by `fence`.
pub async fn fenced<F: std::future::Future>(fence: Fence, work: F) -> F::Output {
    FENCE.scope(fence, work).await
}

/// Checks the current task's fence, if it has one, inside the write's transaction `tx`.
pub(super) async fn check(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let Ok(fence) = FENCE.try_with(|fence| *fence) else {
        return Ok(());
    };
    let held = tx
        .query_opt(
            "SELECT 1 FROM claims WHERE chat_id = $1 AND replica = $2 AND epoch = $3 FOR SHARE",
            &[&fence.chat, &fence.replica, &fence.epoch],
        )
        .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(StoreError::Fenced { chat: fence.chat }),
    }
}
