//! Button presses. The data decodes into a [`Callback`], which is then checked against the
//! chat's state: a button is live only on the message the state waits on, and buttons tied to
//! an interview only for that interview. Anything else (an old button, another interview's
//! button, forged or unknown data) is answered with a short notice and changes nothing.
//! Every press is answered at once, so the client never shows a spinner.

use super::{ChatWorker, Step};
use crate::{
    i18n::Msg,
    telegram::{
        callback::Callback,
        event::{Person, Press},
        outbox::{Body, Key},
        state::ChatState,
    },
};

/// How long a /delete confirmation stays valid, in minutes.
pub const DELETE_CONFIRM_MINUTES: u32 = 10;

/// Minutes since the Unix epoch: the stamp on a /delete confirmation.
pub fn unix_minutes() -> u32 {
    u32::try_from(chrono::Utc::now().timestamp() / 60).unwrap_or(u32::MAX)
}

/// Whether a /delete confirmation issued at `issued` (unix minutes) is still valid.
fn fresh(issued: u32) -> bool {
    let now = unix_minutes();
    issued <= now.saturating_add(1) && now.saturating_sub(issued) <= DELETE_CONFIRM_MINUTES
}

impl ChatWorker {
    /// Whether a press would act now, judged from the state alone (for presses that arrive
    /// while the engine works: answered at once, acted on afterwards).
    pub(super) fn is_live(&self, press: &Press) -> bool {
        let Some(callback) = press.callback else {
            return false;
        };
        let on_prompt = press.message.is_some() && press.message == self.record.dialogue.prompt();
        match (callback, &self.record.dialogue) {
            (Callback::Language(_), ChatState::ChoosingLanguage { .. })
            | (Callback::Style(_), ChatState::ChoosingStyle { .. })
            | (Callback::Begin, ChatState::Briefing { .. }) => on_prompt,
            (
                Callback::Resume(id) | Callback::StartOver(id),
                ChatState::ResumeOrRestart { session, .. },
            )
            | (
                Callback::ReportConfirm(id) | Callback::ReportCorrect(id),
                ChatState::ReviewingReport { session, .. },
            ) => on_prompt && id == *session,
            (
                Callback::VoiceUse(update) | Callback::VoiceRetry(update),
                ChatState::ConfirmingVoice { transcript, .. },
            ) => on_prompt && update == transcript.update,
            (Callback::ResetConfirm(_) | Callback::DeleteConfirm(_) | Callback::Cancel, _) => {
                press.message.is_some()
            }
            _ => false,
        }
    }

    /// Answers the press's callback query (once).
    pub(super) fn answer_press(&self, press: &mut Press) {
        self.answer_query(press, None);
    }

    /// Answers the press's callback query (once), saying its button is no longer active.
    pub(super) fn answer_stale_press(&self, press: &mut Press) {
        self.answer_query(press, Some(self.text_of(&Msg::StaleButton)));
    }

    fn answer_query(&self, press: &mut Press, notice: Option<String>) {
        if press.answered {
            return;
        }
        press.answered = true;
        self.deps
            .sender
            .answer_callback(press.query.clone(), notice);
    }

    /// Handles a button press.
    pub(super) async fn press(&mut self, mut press: Press, person: &Person, update: u32) -> Step {
        let message = press.message;
        let state = self.record.dialogue.clone();
        let live = |prompt: &Option<i32>| message.is_some() && message == *prompt;
        let (Some(callback), Some(message)) = (press.callback, message) else {
            return self.stale(&mut press).await;
        };
        match (callback, state) {
            (
                Callback::Language(lang),
                ChatState::ChoosingLanguage {
                    prompt,
                    during_interview,
                },
            ) if live(&prompt) => {
                self.answer_press(&mut press);
                self.language_chosen(lang, message, during_interview, update)
                    .await
            }
            (Callback::Style(style), ChatState::ChoosingStyle { prompt }) if live(&prompt) => {
                self.answer_press(&mut press);
                self.style_chosen(style, message, update).await
            }
            (
                Callback::Begin,
                ChatState::Briefing {
                    style,
                    prompt,
                    study,
                },
            ) if live(&prompt) => {
                self.answer_press(&mut press);
                self.begin(style, study, message, person, update).await
            }
            (
                Callback::Resume(id),
                ChatState::ResumeOrRestart {
                    prompt,
                    session,
                    held,
                },
            ) if live(&prompt) && id == session => {
                self.answer_press(&mut press);
                self.resume(message, held, update).await
            }
            (
                Callback::StartOver(id),
                ChatState::ResumeOrRestart {
                    prompt, session, ..
                },
            ) if live(&prompt) && id == session => {
                self.answer_press(&mut press);
                self.start_over(message, update).await
            }
            (Callback::VoiceUse(note), ChatState::ConfirmingVoice { prompt, transcript })
                if live(&prompt) && note == transcript.update =>
            {
                self.answer_press(&mut press);
                self.use_transcript(transcript, message, update).await
            }
            (Callback::VoiceRetry(note), ChatState::ConfirmingVoice { prompt, transcript })
                if live(&prompt) && note == transcript.update =>
            {
                self.answer_press(&mut press);
                self.retry_voice(message, update).await
            }
            (
                Callback::ReportConfirm(id),
                ChatState::ReviewingReport {
                    prompt, session, ..
                },
            ) if live(&prompt) && id == session => {
                self.answer_press(&mut press);
                self.confirm_report(message, update).await
            }
            (
                Callback::ReportCorrect(id),
                ChatState::ReviewingReport {
                    prompt, session, ..
                },
            ) if live(&prompt) && id == session => {
                self.answer_press(&mut press);
                self.ask_correction(update).await
            }
            (Callback::ResetConfirm(id), _) if self.current_session() == Some(id) => {
                self.answer_press(&mut press);
                self.start_over(message, update).await
            }
            (Callback::DeleteConfirm(issued), _) if fresh(issued) => {
                self.answer_press(&mut press);
                self.erase(message).await
            }
            (Callback::Cancel, _) => {
                self.answer_press(&mut press);
                let text = self.text_of(&Msg::Cancelled);
                self.edit(message, text, None, update).await
            }
            (callback, state) => {
                tracing::info!(user = %self.user, ?callback, state = state.name(), "stale button");
                self.stale(&mut press).await
            }
        }
    }

    async fn stale(&mut self, press: &mut Press) -> Step {
        self.answer_stale_press(press);
        Ok(())
    }

    /// The id of the interview in progress, if any.
    fn current_session(&self) -> Option<u32> {
        self.owner.running().map(|s| s.id)
    }

    /// A confirmed /delete: every file of the user is erased, and nothing is written back
    /// (the confirmation is sent without being saved).
    async fn erase(&mut self, message: i32) -> Step {
        let removed = self.deps.engine.delete(self.user).await?;
        self.owner.forget();
        self.deps.inbox.forget(self.chat).await;
        tracing::info!(user = %self.user, removed, "erased on request");
        self.record = Default::default();
        self.language_chosen = false;
        let text = self.text_of(&Msg::DeleteDone);
        self.deps.sender.send(
            self.chat,
            Key::Unsaved,
            Body::Edit {
                message,
                text,
                keyboard: None,
            },
        );
        Ok(())
    }
}
