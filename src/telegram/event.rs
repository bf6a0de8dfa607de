//! What a chat's worker is told: what its user did, and what became of the messages it sent.

use super::{
    callback::Callback,
    command::Command,
    outbox::{Delivery, Key},
};
use crate::voice::{AudioMeta, Submission};

/// One event for a chat's worker.
#[derive(Debug, Clone)]
pub enum Event {
    /// Something the user did, from one update.
    Incoming(Incoming),
    /// A message reached Telegram, or did not.
    Delivered {
        /// Which message.
        key: Key,
        /// What became of it.
        delivery: Delivery,
    },
    /// Nothing new: start if not running, and pick up any work left undelivered.
    Wake,
    /// News from the transcription of a voice note the worker is running.
    Voice(VoiceProgress),
    /// Finish the work in hand and stop (shutdown).
    Stop,
}

/// Something the user did.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The update it came in.
    pub update: u32,
    /// Who did it.
    pub person: Person,
    /// What they did.
    pub input: Input,
}

/// The sender of an update, as far as the flow needs them.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// Their first name, for the welcome.
    pub first_name: String,
    /// Their last name, if they gave one.
    pub last_name: Option<String>,
    /// Their @username (without the @), if they have one.
    pub username: Option<String>,
    /// Their client's language (`en`, `ru-RU`...), if it says.
    pub language_code: Option<String>,
}

impl Person {
    /// How the operators see them on the desk, once they agreed to it.
    pub fn expert(&self) -> crate::model::Expert {
        let name = match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        };
        crate::model::Expert {
            name: name.trim().to_owned(),
            username: self.username.clone(),
        }
    }
}

/// What the user did.
#[derive(Debug, Clone)]
pub enum Input {
    /// A known command.
    Command(Command),
    /// `/start <code>`: the bot was started from a deep link (a study's invite), with the
    /// link's payload.
    Invite(String),
    /// A `/word` the bot does not know.
    UnknownCommand,
    /// Text: an answer during an interview.
    Text(String),
    /// A button press.
    Press(Press),
    /// A voice note, an audio file, a round video note or an audio document.
    Voice(VoiceInput),
    /// Anything else (photos, stickers, locations...).
    Unsupported,
}

/// A button press.
#[derive(Debug, Clone)]
pub struct Press {
    /// The callback query to answer.
    pub query: String,
    /// The message that holds the button, if Telegram still has it.
    pub message: Option<i32>,
    /// The button's data, if it decodes.
    pub callback: Option<Callback>,
    /// The callback query has been answered.
    pub answered: bool,
}

/// A recording to transcribe, as Telegram described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceInput {
    /// The `file_id` to download it with.
    pub file_id: String,
    /// What Telegram says about it (kind, declared duration and size, type, name).
    pub meta: AudioMeta,
}

/// What a voice note's transcription reports while it runs.
#[derive(Debug, Clone)]
pub struct VoiceProgress {
    /// The update that brought the note.
    pub update: u32,
    /// What happened.
    pub step: VoiceStep,
}

/// A step of a transcription in progress.
#[derive(Debug, Clone)]
pub enum VoiceStep {
    /// Every transcription slot is busy: the note waits its turn.
    Queued,
    /// The speech recognition service accepted the job: what a restart needs to finish it.
    Submitted(Submission),
}
