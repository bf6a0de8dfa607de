//! The "typing…" indicator while the interviewer thinks: Telegram shows a chat action for at
//! most five seconds, so it is renewed until the work is done.

use std::time::Duration;

use teloxide::types::{ChatAction, ChatId};

use super::sender::Sender;

/// How often the indicator is renewed.
pub const TYPING_EVERY: Duration = Duration::from_secs(4);

/// Shows a chat action until dropped.
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
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}
