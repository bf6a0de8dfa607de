//! Several replicas on one database: each chat runs on the one replica that claimed it, and
//! every replica learns of each saved update and offers it to the chat's owner.
//!
//! ```text
//! poller (the one leader) or any replica's webhook ─► inbox rows ─ NOTIFY chat ─┐
//!                                                                               ▼
//!     every replica's follower: claim the chat (or see it is someone else's) ─► its dispatcher
//! ```
//!
//! [`Claims`] holds the chats this replica runs. The follower takes a chat before handing its
//! updates to the dispatcher, and the router takes it again when a worker starts (a worker
//! that cannot have it ends at once: the chat is another replica's, which hands the same
//! updates to its own worker); a worker that ends lets go of it. A replica that dies leaves
//! claims nobody honours: the follower's sweep finds chats with unhandled updates and no live
//! owner, and whoever takes such a chat first finishes what was pending.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use teloxide::types::{ChatId, Update};
use tokio::sync::{mpsc, watch};

use super::inbox::Inbox;
use crate::store::postgres::{Claim, Replica, Role, fence::Fence};

/// How often a replica looks for chats whose updates nobody runs (a replica died, or a
/// notification was missed): the longest a chat waits after its replica's `kill -9`.
pub const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// The chats this replica runs.
#[derive(Debug)]
pub struct Claims {
    replica: Arc<Replica>,
    held: Mutex<HashMap<ChatId, Held>>,
    /// Takings go one at a time, so this replica never races itself for a chat (which would
    /// raise the epoch under a worker already writing with the first one).
    taking: tokio::sync::Mutex<()>,
}

/// A chat held: its claim (its epoch is what the chat's worker writes under), and the newest
/// update already handed to the dispatcher.
#[derive(Debug, Clone, Copy)]
struct Held {
    claim: Claim,
    dispatched: Option<u32>,
}

impl Claims {
    /// The claims of `replica`, none yet.
    pub fn new(replica: Arc<Replica>) -> Arc<Claims> {
        Arc::new(Claims {
            replica,
            held: Mutex::default(),
            taking: tokio::sync::Mutex::new(()),
        })
    }

    /// The replica.
    pub fn replica(&self) -> &Arc<Replica> {
        &self.replica
    }

    /// Takes `chat` unless it is already this replica's; returns whether this replica runs it.
    /// A database that cannot be reached counts as no: the chat waits for the next look.
    pub async fn take(&self, chat: ChatId) -> bool {
        if self.lock().contains_key(&chat) {
            return true;
        }
        let _one_at_a_time = self.taking.lock().await;
        if self.lock().contains_key(&chat) {
            return true;
        }
        match self.replica.claim(chat.0).await {
            Ok(Some(claim)) => {
                self.lock().insert(
                    chat,
                    Held {
                        claim,
                        dispatched: None,
                    },
                );
                true
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(%error, "could not claim a chat: it waits for the next look");
                false
            }
        }
    }

    /// Lets go of `chat`: its worker ended.
    pub fn release(&self, chat: ChatId) {
        let Some(held) = self.lock().remove(&chat) else {
            return;
        };
        let replica = self.replica.clone();
        tokio::spawn(async move {
            if let Err(error) = replica.release(held.claim).await {
                // Harmless: the claim dies with this replica, or is taken again by it.
                tracing::debug!(%error, "could not release a chat's claim");
            }
        });
    }

    /// The fence a worker of `chat` writes under, while the chat is held.
    pub fn fence(&self, chat: ChatId) -> Option<Fence> {
        self.lock().get(&chat).map(|held| Fence {
            chat: chat.0,
            replica: self.replica.id(),
            epoch: held.claim.epoch,
        })
    }

    /// The chats held now.
    pub fn chats(&self) -> Vec<ChatId> {
        self.lock().keys().copied().collect()
    }

    /// Of `updates` (a held chat's unhandled ones, oldest first), those not handed to the
    /// dispatcher yet; they count as handed from now on.
    fn undispatched(&self, chat: ChatId, updates: Vec<Update>) -> Vec<Update> {
        let mut held = self.lock();
        let Some(entry) = held.get_mut(&chat) else {
            return Vec::new();
        };
        let fresh: Vec<Update> = updates
            .into_iter()
            .filter(|u| entry.dispatched.is_none_or(|d| u.id.0 > d))
            .collect();
        if let Some(last) = fresh.last() {
            entry.dispatched = Some(last.id.0);
        }
        fresh
    }

    /// The map. Only memory work happens under the lock, one map operation at a time, so a
    /// poisoned lock holds a whole map and is taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChatId, Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the follower hears of.
pub struct Heard {
    /// Updates this replica saved itself (polled, or received on the webhook).
    pub saved: mpsc::UnboundedReceiver<Update>,
    /// The inbox's notifications: a chat id, or empty after listening (re)started.
    pub notified: mpsc::UnboundedReceiver<String>,
}

/// Hands each chat's saved updates to this replica's dispatcher (`out`) when this replica
/// runs the chat or can take it; until `stop` turns true.
pub async fn follow(
    inbox: Inbox,
    claims: Arc<Claims>,
    heard: Heard,
    out: mpsc::UnboundedSender<Update>,
    mut stop: watch::Receiver<bool>,
) {
    let Heard {
        mut saved,
        mut notified,
    } = heard;
    let follower = Follower { inbox, claims, out };
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            Some(update) = saved.recv() => Next::Saved(Box::new(update)),
            Some(payload) = notified.recv() => Next::Notified(payload),
            _ = sweep.tick() => Next::Sweep,
        };
        match next {
            Next::Saved(update) => match update.chat() {
                Some(chat) => follower.offer(chat.id).await,
                // Nobody runs what belongs to no chat: the replica that saved it handles it.
                None => {
                    let _ = follower.out.send(*update);
                }
            },
            Next::Notified(payload) => match payload.parse::<i64>() {
                Ok(chat) => follower.offer(ChatId(chat)).await,
                // Listening (re)started: anything may have been missed.
                Err(_) => {
                    for chat in follower.claims.chats() {
                        follower.offer(chat).await;
                    }
                    follower.sweep().await;
                }
            },
            Next::Sweep => follower.sweep().await,
        }
    }
}

/// What the follower turns to next.
enum Next {
    Saved(Box<Update>),
    Notified(String),
    Sweep,
}

struct Follower {
    inbox: Inbox,
    claims: Arc<Claims>,
    out: mpsc::UnboundedSender<Update>,
}

impl Follower {
    /// Hands `chat`'s new updates to the dispatcher if this replica runs the chat or takes it.
    async fn offer(&self, chat: ChatId) {
        if !self.claims.take(chat).await {
            return;
        }
        let updates = self.inbox.unhandled_in(chat).await;
        for update in self.claims.undispatched(chat, updates) {
            let _ = self.out.send(update);
        }
    }

    /// Offers every chat with unhandled updates that no live replica runs.
    async fn sweep(&self) {
        let Some(table) = self.inbox.table() else {
            return;
        };
        match table.orphaned().await {
            Ok(chats) => {
                for chat in chats {
                    self.offer(ChatId(chat)).await;
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for chats nobody runs"),
        }
    }
}

/// How often a replica that does not poll tries to become the poller: the longest polling
/// pauses after the poller's `kill -9` (plus Telegram's hold on the dead poller's request).
pub const LEAD_RETRY: Duration = Duration::from_secs(1);

/// Polls Telegram once this replica leads (one replica of the deployment does at a time),
/// until `stop` turns true or the replica's connection is lost (then another leads).
pub async fn poll_when_leading(
    replica: Arc<Replica>,
    bot: teloxide::Bot,
    inbox: Inbox,
    out: mpsc::UnboundedSender<Update>,
    mut stop: watch::Receiver<bool>,
    metrics: crate::metrics::Metrics,
) {
    loop {
        match replica.lead(Role::Poller).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not ask to poll"),
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(LEAD_RETRY) => {}
        }
    }
    tracing::info!(replica = replica.id(), "this replica polls Telegram");
    // Polling ends with the stop, or as soon as the lock that makes this replica the poller
    // may be gone: another replica polls then, and two pollers would only conflict.
    let (ending, ended) = watch::channel(false);
    let mut lost = replica.lost();
    tokio::spawn(async move {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => {}
            _ = lost.wait_for(|lost| *lost) => {}
        }
        let _ = ending.send(true);
    });
    super::poller::poll(bot, inbox, out, ended, metrics).await;
}
