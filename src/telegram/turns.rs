//! Turn workers: one background task per user with an interview turn under way.
//!
//! A text message never waits for Claude in the handler: it goes into the user's inbox, and
//! the user's worker (started if there is none) takes everything in the inbox as one answer.
//! Messages arriving while Claude is thinking interrupt the call: the answer already saved is
//! extended with them and asked again, so quick successive messages become one turn and get one
//! reply. Chats never wait on each other.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

use super::{
    delivery,
    send::Typing,
    services::{Services, Who},
};
use crate::interview::{Outcome, Rejection, UserId};

/// What a user has sent that no turn has taken yet.
#[derive(Debug)]
struct Inbox {
    /// Texts in arrival order.
    texts: Vec<String>,
    /// Woken when a text arrives while the worker is busy.
    newer: Arc<Notify>,
}

/// The inboxes of users whose worker is running.
#[derive(Debug, Default)]
pub struct Turns {
    inboxes: Mutex<HashMap<UserId, Inbox>>,
}

impl Turns {
    /// Puts `text` in the user's inbox. Returns whether a worker must be started.
    fn push(&self, user: UserId, text: String) -> bool {
        match self.inboxes.lock().expect("inbox lock").entry(user) {
            Entry::Occupied(mut inbox) => {
                let inbox = inbox.get_mut();
                inbox.texts.push(text);
                inbox.newer.notify_waiters();
                false
            }
            Entry::Vacant(slot) => {
                slot.insert(Inbox {
                    texts: vec![text],
                    newer: Arc::new(Notify::new()),
                });
                true
            }
        }
    }

    /// The signal that newer input arrived, while the worker runs.
    fn signal(&self, user: UserId) -> Option<Arc<Notify>> {
        self.inboxes
            .lock()
            .expect("inbox lock")
            .get(&user)
            .map(|i| i.newer.clone())
    }

    /// Takes the inbox's texts. With nothing to take and nothing left unanswered, the worker
    /// ends: its inbox is removed in the same step, so no text can slip in between.
    fn take(&self, user: UserId, unanswered: bool) -> Option<Vec<String>> {
        let mut inboxes = self.inboxes.lock().expect("inbox lock");
        let inbox = inboxes.get_mut(&user)?;
        if inbox.texts.is_empty() && !unanswered {
            inboxes.remove(&user);
            return None;
        }
        Some(std::mem::take(&mut inbox.texts))
    }

    /// Whether a worker is running for `user`.
    pub fn busy(&self, user: UserId) -> bool {
        self.inboxes.lock().expect("inbox lock").contains_key(&user)
    }
}

/// Hands `text` to the user's worker, starting one if needed.
pub fn submit(services: &Services, who: Who, text: String) {
    if services.turns.push(who.user, text) {
        tokio::spawn(work(services.clone(), who, false));
    }
}

/// Answers a message saved before a restart, through a worker like any other turn.
pub fn answer_saved(services: &Services, who: Who) {
    if services.turns.push(who.user, String::new()) {
        tokio::spawn(work(services.clone(), who, true));
    }
}

async fn work(services: Services, who: Who, mut unanswered: bool) {
    loop {
        let Some(newer) = services.turns.signal(who.user) else {
            return;
        };
        // Created before the texts are taken: anything that arrives after the take wakes it.
        let interrupt = newer.notified();
        let Some(texts) = services.turns.take(who.user, unanswered) else {
            return;
        };
        let text = texts
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        let typing = Typing::start(&services.bot, who.chat);
        let outcome = if !text.is_empty() {
            services.engine.answer(who.user, &text, interrupt).await
        } else if unanswered {
            services.engine.answer_pending(who.user, interrupt).await
        } else {
            Ok(Outcome::Rejected(Rejection::Empty))
        };
        drop(typing);
        unanswered = matches!(outcome, Ok(Outcome::Superseded));
        delivery::deliver(&services, who, outcome, texts).await;
    }
}
