//! Drafts: the next question shown while Claude writes it.
//!
//! Since Bot API 9.5 a bot may show a reply in a private chat while it is being written
//! (`sendMessageDraft`): the draft is a preview that lives about thirty seconds, any real
//! message from the bot dismisses it, and the reply itself is still sent as a message. That is
//! exactly the split the bot needs: the draft is decoration, shown from the model's stream as
//! it arrives, and the question is sent afterwards through the durable outbox like any other,
//! so delivery and crash safety do not depend on drafts at all. A draft that fails is simply
//! not shown.
//!
//! [`Typing::drafting`](super::typing::Typing::drafting) runs beside a turn: "typing…" until the question's first words arrive, then
//! drafts at most [`DRAFT_EVERY`] apart, each the question as far as it has been written. A
//! reply asked for again (a repair) starts over empty, and the draft goes back to Telegram's
//! "Thinking…" placeholder rather than keep words that will not be sent. When Telegram
//! refuses a draft (an old server, a chat that is not private), the chat goes back to
//! "typing…" for the rest of the turn. The sender sends drafts only when nothing real waits
//! for the chat and the bot is well inside Telegram's limits ([`super::sender`]).
//!
//! teloxide 0.17 speaks Bot API 9.1 and has no method for drafts; its requests take any
//! payload, so the one method is added here.

use std::time::Duration;

use serde::Serialize;
use teloxide::{
    prelude::*,
    requests::{JsonRequest, Payload},
    types::True,
};

/// The shortest time between two drafts of one chat: a few updates a second at most.
pub const DRAFT_EVERY: Duration = Duration::from_millis(350);

/// The most UTF-16 code units a draft's text may have (Telegram's message limit).
const MAX_DRAFT_UNITS: usize = 4096;

/// `sendMessageDraft`, as the Bot API defines it (the fields this bot uses).
#[derive(Debug, Clone, Serialize)]
pub struct SendMessageDraft {
    /// The private chat.
    pub chat_id: ChatId,
    /// Which draft: non-zero; updates of one draft are animated as one.
    pub draft_id: i32,
    /// The text so far, plain; empty shows a "Thinking…" placeholder.
    pub text: String,
}

impl Payload for SendMessageDraft {
    type Output = True;
    const NAME: &'static str = "sendMessageDraft";
}

impl SendMessageDraft {
    /// The request, ready to send with `api`.
    pub fn request(self, api: &Bot) -> JsonRequest<SendMessageDraft> {
        JsonRequest::new(api.clone(), self)
    }
}

/// What became of one draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drafted {
    /// Telegram shows it.
    Shown,
    /// Not sent (a newer draft or a real message came first, the bot was near its limits, or
    /// the call failed on the way): the next one may go.
    Skipped,
    /// Telegram refused drafts for this chat.
    Refused,
}

/// `text` cut to what a draft may hold, at a character boundary.
pub fn clip(text: &str) -> String {
    let mut units = 0;
    text.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= MAX_DRAFT_UNITS
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_is_clipped_to_telegrams_limit_in_utf16_units() {
        assert_eq!(clip("short"), "short");
        let long = "й".repeat(5000);
        assert_eq!(clip(&long).chars().count(), 4096);
        let emoji = "🙂".repeat(3000);
        assert_eq!(clip(&emoji).chars().count(), 2048, "two units each");
    }

    #[test]
    fn the_payload_is_the_methods_fields() {
        let payload = SendMessageDraft {
            chat_id: ChatId(7),
            draft_id: 3,
            text: "Hi".into(),
        };
        assert_eq!(
            serde_json::to_value(&payload).unwrap(),
            serde_json::json!({"chat_id": 7, "draft_id": 3, "text": "Hi"})
        );
        assert_eq!(SendMessageDraft::NAME, "sendMessageDraft");
    }
}
