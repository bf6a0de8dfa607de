//! The router: one worker per active chat, started on the chat's first event and removed
//! when it has been quiet for a while, so memory follows the chats in use, not every user
//! ever seen.
//!
//! Events reach a worker only through [`Router::route`], under the router's lock; a worker
//! leaves only through [`Router::retire`], under the same lock and only if nothing is waiting
//! for it, so no event is ever sent to a worker that is gone. A worker that panics is
//! replaced, and its chat's saved but unhandled updates are handed out again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use teloxide::types::{ChatId, Update};
use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};

use super::{
    event::Event,
    replicas::Claims,
    worker::{ChatWorker, Deps, Retire},
};

/// Panics of one chat's worker within this window, beyond [`MAX_PANICS`], stop its restarts.
const PANIC_WINDOW: Duration = Duration::from_secs(600);

/// How many times a chat's worker may fail within [`PANIC_WINDOW`] before its pending updates
/// are set aside.
const MAX_PANICS: u32 = 3;

/// The chats' workers.
pub struct Router {
    /// What every worker is built with.
    deps: Arc<Deps>,
    /// The running workers' queues.
    workers: Mutex<HashMap<ChatId, mpsc::UnboundedSender<Event>>>,
    /// How many workers are running (for shutdown).
    running: watch::Sender<usize>,
    /// Where updates go to be handled again (the dispatcher's input).
    refeed: mpsc::UnboundedSender<Update>,
    /// Recent panics per chat.
    panics: Mutex<HashMap<ChatId, (u32, Instant)>>,
    /// Set once shutdown begins: new workers get the stop event at once.
    stopping: std::sync::atomic::AtomicBool,
    /// With several replicas, the chats this one runs: a worker starts only on a chat it
    /// holds, and lets go of it when it ends.
    claims: Option<Arc<Claims>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("running", &*self.running.borrow())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router building workers from `deps`; updates to handle again go to `refeed`. With
    /// `claims` (several replicas on one database), a chat's worker runs only while this
    /// replica holds the chat.
    pub fn new(
        deps: Arc<Deps>,
        refeed: mpsc::UnboundedSender<Update>,
        claims: Option<Arc<Claims>>,
    ) -> Arc<Router> {
        Arc::new(Router {
            deps,
            workers: Mutex::default(),
            running: watch::channel(0).0,
            refeed,
            panics: Mutex::default(),
            stopping: false.into(),
            claims,
        })
    }

    /// Hands `event` to `chat`'s worker, starting one if there is none.
    pub fn route(self: &Arc<Self>, chat: ChatId, event: Event) {
        let mut workers = self.lock();
        let event = match workers.get(&chat) {
            Some(queue) => match queue.send(event) {
                Ok(()) => return,
                Err(mpsc::error::SendError(event)) => event,
            },
            None => event,
        };
        let (queue, events) = mpsc::unbounded_channel();
        let _ = queue.send(event);
        if self.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = queue.send(Event::Stop);
        }
        let own = queue.downgrade();
        workers.insert(chat, queue);
        self.count(|n| n + 1);
        let worker = ChatWorker::new(chat, self.deps.clone(), events, own, self.clone());
        let claims = self.claims.clone();
        let router = self.clone();
        let task = tokio::spawn(async move {
            let Some(claims) = claims else {
                return worker.run().await;
            };
            // The chat may have become another replica's since its events were handed out:
            // then that replica handles them, and this worker ends unstarted.
            let fence = match claims.take(chat).await {
                true => claims.fence(chat),
                false => None,
            };
            let Some(fence) = fence else {
                router.abandon(chat);
                return;
            };
            if let Err(error) = router.deps.sent.warm(chat).await {
                tracing::warn!(%error, "could not read the chat's sent messages");
            }
            // Every write the worker makes checks that the chat is still this replica's.
            crate::store::postgres::fence::fenced(fence, worker.run()).await;
        });
        let router = self.clone();
        tokio::spawn(async move {
            if let Err(error) = task.await {
                router.failed(chat, error);
            }
        });
    }

    /// Removes `chat`'s worker if no event is waiting for it; returns whether it may end.
    pub fn retire(&self, chat: ChatId, events: &mpsc::UnboundedReceiver<Event>) -> bool {
        let mut workers = self.lock();
        if !events.is_empty() {
            return false;
        }
        if workers.remove(&chat).is_some() {
            self.count(|n| n.saturating_sub(1));
            if let Some(claims) = &self.claims {
                claims.release(chat);
            }
        }
        true
    }

    /// Removes `chat`'s worker, which never started: another replica runs the chat.
    fn abandon(&self, chat: ChatId) {
        let mut workers = self.lock();
        if workers.remove(&chat).is_some() {
            self.count(|n| n.saturating_sub(1));
        }
    }

    /// How many workers are running.
    pub fn running(&self) -> usize {
        *self.running.borrow()
    }

    /// Asks every worker to finish what it has in hand and stop, then waits for them.
    pub async fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        for queue in self.lock().values() {
            let _ = queue.send(Event::Stop);
        }
        let mut running = self.running.subscribe();
        let _ = running.wait_for(|n| *n == 0).await;
    }

    fn failed(self: &Arc<Self>, chat: ChatId, error: tokio::task::JoinError) {
        {
            let mut workers = self.lock();
            if workers.remove(&chat).is_some() {
                self.count(|n| n.saturating_sub(1));
            }
        }
        if !error.is_panic() {
            if let Some(claims) = &self.claims {
                claims.release(chat);
            }
            return;
        }
        let now = Instant::now();
        let panics = {
            let mut panics = self.panics.lock().unwrap_or_else(|e| e.into_inner());
            panics.retain(|_, (_, since)| now - *since < PANIC_WINDOW);
            let entry = panics.entry(chat).or_insert((0, now));
            entry.0 += 1;
            entry.0
        };
        let router = self.clone();
        tokio::spawn(async move {
            let pending = router.deps.inbox.unhandled_in(chat).await;
            if panics > MAX_PANICS {
                tracing::error!(
                    chat = chat.0,
                    updates = pending.len(),
                    "a chat's worker keeps failing: its pending updates are set aside"
                );
                for update in pending {
                    router.deps.inbox.handled(update.id.0);
                }
                if let Some(claims) = &router.claims {
                    claims.release(chat);
                }
                return;
            }
            tracing::error!(
                chat = chat.0,
                updates = pending.len(),
                "a chat's worker failed: restarting it with the chat's pending updates"
            );
            for update in pending {
                let _ = router.refeed.send(update);
            }
            // The new worker picks up what the failed one left undelivered.
            router.route(chat, Event::Wake);
        });
    }

    /// Changes the count of running workers, and the operator's gauge with it.
    fn count(&self, change: impl FnOnce(usize) -> usize) {
        self.running.send_modify(|n| *n = change(*n));
        let running = *self.running.borrow();
        self.deps.metrics.set_chat_workers(running as u64);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChatId, mpsc::UnboundedSender<Event>>> {
        self.workers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Retire for Router {
    fn retire(&self, chat: ChatId, events: &mpsc::UnboundedReceiver<Event>) -> bool {
        Router::retire(self, chat, events)
    }
}
