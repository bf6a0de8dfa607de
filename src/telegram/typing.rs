//! What the chat shows while the interviewer works on a reply: "typing…", renewed since
//! Telegram shows a chat action for at most five seconds, or the question itself as it is
//! written ([`super::drafts`]).

use std::time::Duration;

use teloxide::types::{ChatAction, ChatId};
use tokio::{sync::watch, time::Instant};

use super::{
    drafts::{self, DRAFT_EVERY, Drafted},
    sender::Sender,
};
use crate::interview::response_so_far;

/// How often the indicator is renewed.
pub const TYPING_EVERY: Duration = Duration::from_secs(4);

/// Shows that a reply is on its way until dropped.
#[derive(Debug)]
pub struct Typing(tokio::task::JoinHandle<()>);

impl Typing {
    /// Starts showing `action` in `chat`.
    pub fn start(sender: &Sender, chat: ChatId, action: ChatAction) -> Typing {
        let sender = sender.clone();
        Typing(tokio::spawn(async move {
            loop {
                sender.chat_action(chat, action);
                tokio::time::sleep(TYPING_EVERY).await;
            }
        }))
    }

    /// Starts showing, in `chat`, the question whose JSON `partial` holds while it is
    /// written, as draft `id` ("typing…" until its first words, and if drafts are refused).
    pub fn drafting(
        sender: &Sender,
        chat: ChatId,
        id: i32,
        partial: watch::Receiver<String>,
    ) -> Typing {
        Typing(tokio::spawn(show(sender.clone(), chat, id, partial)))
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Shows, in `chat`, the question whose JSON `partial` holds, as draft `id` (see
/// [`super::drafts`]); runs until its task is dropped.
async fn show(sender: Sender, chat: ChatId, id: i32, mut partial: watch::Receiver<String>) {
    // What Telegram shows now: `None` until the first draft.
    let mut shown: Option<String> = None;
    let mut typing_due = Instant::now();
    let mut next_draft = Instant::now();
    loop {
        let wanted = response_so_far(&partial.borrow_and_update()).map(|t| drafts::clip(&t));
        // Nothing to show before the first words; afterwards an empty question (a repair
        // started over) is shown as the placeholder.
        let wanted = match (wanted, &shown) {
            (Some(text), _) if !text.is_empty() => Some(text),
            (_, Some(previous)) if !previous.is_empty() => Some(String::new()),
            _ => None,
        };
        match wanted.filter(|text| shown.as_ref() != Some(text)) {
            Some(text) if Instant::now() >= next_draft => {
                match sender.draft(chat, id, text.clone()).await {
                    Drafted::Shown => {
                        shown = Some(text);
                        crate::faults::crash_point("draft-shown");
                    }
                    Drafted::Skipped => {}
                    Drafted::Refused => {
                        tracing::debug!(chat = chat.0, "drafts refused: typing instead");
                        return type_on(&sender, chat).await;
                    }
                }
                next_draft = Instant::now() + DRAFT_EVERY;
                continue;
            }
            Some(_) => tokio::time::sleep_until(next_draft).await,
            None => {
                if shown.is_none() && Instant::now() >= typing_due {
                    sender.chat_action(chat, ChatAction::Typing);
                    typing_due = Instant::now() + TYPING_EVERY;
                }
                tokio::select! {
                    changed = partial.changed() => if changed.is_err() {
                        // The turn is over; the worker drops this task with it.
                        return std::future::pending().await;
                    },
                    () = tokio::time::sleep_until(typing_due), if shown.is_none() => {}
                }
            }
        }
    }
}

/// "typing…" until dropped.
async fn type_on(sender: &Sender, chat: ChatId) {
    loop {
        sender.chat_action(chat, ChatAction::Typing);
        tokio::time::sleep(TYPING_EVERY).await;
    }
}
