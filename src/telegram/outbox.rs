//! What the bot sends, as data: a message is decided, saved, and only then handed to the
//! [`Sender`](super::sender::Sender), so a crash between the decision and Telegram's answer
//! never loses it.
//!
//! Interview questions are saved in the session's transcript (each entry knows whether it was
//! delivered); every other message (setup prompts, notices, /status, documents) waits in the
//! chat's record ([`ChatRecord::outbox`](super::record::ChatRecord)) until Telegram accepts it.

use serde::{Deserialize, Serialize};

use super::keyboards::Keyboard;

/// A message saved in the chat's record until Telegram accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Its id (random: never reused).
    pub id: u64,
    /// What to send.
    pub body: Body,
    /// Once delivered, its message holds the buttons the chat's state waits on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prompt: bool,
}

/// The content of one outgoing message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Text, HTML-escaped, with an optional bold header; split past Telegram's limit, with the
    /// buttons on the last part.
    Text {
        /// A bold first line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// The text.
        text: String,
        /// Buttons under the (last part of the) message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyboard: Option<Keyboard>,
    },
    /// A new text and buttons for a message sent earlier; sent as a new message when the
    /// old one can no longer be edited.
    Edit {
        /// The message to change.
        message: i32,
        /// Its new text.
        text: String,
        /// Its new buttons (none removes them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyboard: Option<Keyboard>,
    },
    /// A text document, such as the knowledge report or the transcript export.
    Document {
        /// The file name the user sees.
        name: String,
        /// The file's content.
        content: String,
        /// A caption under the document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
}

impl Body {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Body {
        Body::Text {
            header: None,
            text: text.into(),
            keyboard: None,
        }
    }

    /// Plain text with buttons.
    pub fn ask(text: impl Into<String>, keyboard: Keyboard) -> Body {
        Body::Text {
            header: None,
            text: text.into(),
            keyboard: Some(keyboard),
        }
    }
}

/// Which saved message a delivery is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// An entry of the chat record's outbox.
    Outbox(u64),
    /// An interviewer message of the session's transcript.
    Transcript {
        /// The interview.
        session: u32,
        /// The entry's index in the transcript.
        index: usize,
    },
    /// A message that is not saved anywhere (a notice sent while storage is failing).
    Unsaved,
}

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Telegram accepted it; the id of the (last) message that holds it.
    Sent(Option<i32>),
    /// The user blocked the bot (or deleted their account): it waits until they write again.
    Blocked,
    /// Telegram refused it for good (the reason, for the log); it is dropped.
    Refused(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::{Catalog, Lang},
        telegram::keyboards,
    };

    #[test]
    fn outgoing_messages_survive_a_json_round_trip() {
        let catalog = Catalog::load().unwrap();
        let all = [
            Outgoing {
                id: 1,
                body: Body::ask("Which language?", keyboards::languages(&catalog, Lang::En)),
                prompt: true,
            },
            Outgoing {
                id: 2,
                body: Body::Edit {
                    message: 17,
                    text: "Done".into(),
                    keyboard: None,
                },
                prompt: false,
            },
            Outgoing {
                id: 3,
                body: Body::Document {
                    name: "knowledge-report.md".into(),
                    content: "# Report & <more>".into(),
                    caption: Some("Your report".into()),
                },
                prompt: false,
            },
        ];
        for outgoing in all {
            let json = serde_json::to_string(&outgoing).unwrap();
            let back: Outgoing = serde_json::from_str(&json).unwrap();
            assert_eq!(back, outgoing, "{json}");
        }
    }
}
