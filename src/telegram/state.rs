//! Where a chat is in the dialogue. The interview itself lives in the engine's session; the
//! dialogue only records where the chat is in the setup flow and which message holds the
//! buttons it waits on, so that a press on any other message is recognised as stale.

use serde::{Deserialize, Serialize};

use crate::{
    interview::{Style, VoiceClip},
    model::StudyId,
};

/// Where a chat is in the flow. Variants waiting on buttons carry the id of the message that
/// holds them (`None` while that message is still on its way to Telegram).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChatState {
    /// No interview and no setup under way.
    #[default]
    Idle,
    /// The language buttons are shown.
    ChoosingLanguage {
        /// The message with the buttons.
        prompt: Option<i32>,
        /// The choice switches the language of a running interview.
        during_interview: bool,
    },
    /// The personality buttons are shown.
    ChoosingStyle {
        /// The message with the buttons.
        prompt: Option<i32>,
    },
    /// The briefing and its Begin button are shown.
    Briefing {
        /// The personality chosen.
        style: Style,
        /// The message with the button.
        prompt: Option<i32>,
        /// The study the expert's invite link named; the interview begins in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        study: Option<StudyId>,
    },
    /// An interview is running: text is an answer.
    Interviewing,
    /// Resume or start over? (after /start during an interview, or a long break)
    ResumeOrRestart {
        /// The message with the buttons.
        prompt: Option<i32>,
        /// The interview the buttons are for.
        session: u32,
        /// Answers typed while the choice is pending; taken as answers on resume.
        held: Vec<String>,
    },
    /// The report of an ended interview is out: ✅ Confirm or ✏️ Correct?
    ReviewingReport {
        /// The message with the buttons (the report's one-screen summary).
        prompt: Option<i32>,
        /// The interview the report is of.
        session: u32,
        /// ✏️ Correct was pressed: the next text is the correction.
        #[serde(default)]
        correcting: bool,
    },
    /// A voice note's transcript fell below the quality threshold: it is shown, with the
    /// buttons to use it or to send again (or type). Text or another voice note sent instead
    /// replaces it.
    ConfirmingVoice {
        /// The message with the buttons.
        prompt: Option<i32>,
        /// The transcript waiting for the user's word.
        transcript: DoubtfulTranscript,
    },
}

/// A transcript the user is asked about before it becomes their answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoubtfulTranscript {
    /// The update that brought the voice note (the buttons name it).
    pub update: u32,
    /// What was heard.
    pub text: String,
    /// The note's duration, the confidence and the model, kept with the answer if it is used.
    pub clip: VoiceClip,
}

impl ChatState {
    /// The state's name, for the log (the state itself may hold what the user wrote).
    pub fn name(&self) -> &'static str {
        match self {
            ChatState::Idle => "idle",
            ChatState::ChoosingLanguage { .. } => "choosing_language",
            ChatState::ChoosingStyle { .. } => "choosing_style",
            ChatState::Briefing { .. } => "briefing",
            ChatState::Interviewing => "interviewing",
            ChatState::ResumeOrRestart { .. } => "resume_or_restart",
            ChatState::ConfirmingVoice { .. } => "confirming_voice",
            ChatState::ReviewingReport { .. } => "reviewing_report",
        }
    }

    /// The message whose buttons the state waits on, once it is known.
    pub fn prompt(&self) -> Option<i32> {
        match self {
            ChatState::ChoosingLanguage { prompt, .. }
            | ChatState::ChoosingStyle { prompt }
            | ChatState::Briefing { prompt, .. }
            | ChatState::ResumeOrRestart { prompt, .. }
            | ChatState::ConfirmingVoice { prompt, .. }
            | ChatState::ReviewingReport { prompt, .. } => *prompt,
            ChatState::Idle | ChatState::Interviewing => None,
        }
    }

    /// The same state, waiting on `message`.
    pub fn with_prompt(mut self, message: i32) -> ChatState {
        match &mut self {
            ChatState::ChoosingLanguage { prompt, .. }
            | ChatState::ChoosingStyle { prompt }
            | ChatState::Briefing { prompt, .. }
            | ChatState::ResumeOrRestart { prompt, .. }
            | ChatState::ConfirmingVoice { prompt, .. }
            | ChatState::ReviewingReport { prompt, .. } => *prompt = Some(message),
            ChatState::Idle | ChatState::Interviewing => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_saved_by_earlier_versions_still_load() {
        let old: ChatState =
            serde_json::from_str(r#"{"state":"choosing_style","prompt":12}"#).unwrap();
        assert_eq!(old, ChatState::ChoosingStyle { prompt: Some(12) });
        let old: ChatState = serde_json::from_str(
            r#"{"state":"resume_or_restart","prompt":4,"session":9,"held":["hi"]}"#,
        )
        .unwrap();
        assert_eq!(old.prompt(), Some(4));
    }

    #[test]
    fn a_prompt_is_attached_to_states_that_wait_on_buttons_only() {
        let state = ChatState::ChoosingLanguage {
            prompt: None,
            during_interview: false,
        };
        assert_eq!(state.with_prompt(5).prompt(), Some(5));
        assert_eq!(ChatState::Interviewing.with_prompt(5).prompt(), None);
        let review = ChatState::ReviewingReport {
            prompt: None,
            session: 3,
            correcting: false,
        };
        let json = serde_json::to_string(&review.clone().with_prompt(9)).unwrap();
        assert_eq!(
            json,
            r#"{"state":"reviewing_report","prompt":9,"session":3,"correcting":false}"#
        );
        assert_eq!(review.with_prompt(9).prompt(), Some(9));
    }
}
