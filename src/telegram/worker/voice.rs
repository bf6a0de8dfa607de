//! Voice notes during an interview.
//!
//! A recording is checked against Telegram's metadata first (voice on, a key, the declared
//! size and duration), then saved in the chat's record with its update before anything is
//! downloaded. Download and transcription run as the worker's work in progress, so presses
//! are answered meanwhile; a chat action shows, and a note that waits for a free slot says
//! so once. The AssemblyAI job, once accepted, is saved too, so that a restart polls it rather
//! than uploading again; a note saved and not finished is picked up by `recover()`.
//!
//! A transcript becomes the answer through the engine, with the "🎤 …" echo and its
//! confidence indicator, and joins an answer still waiting exactly as a quick text does. A
//! doubtful one is shown with two buttons first: use it, or send again (or type).

use teloxide::types::ChatAction;

use super::delivery::Flush;
use super::{ChatWorker, Done, Op, Step};
use crate::{
    i18n::Msg,
    interview::{Answer, Outcome, VoiceClip},
    metrics::{AnswerKind, TranscriptionFailure},
    telegram::{
        event::{Event, Input, VoiceInput, VoiceProgress, VoiceStep},
        files::{DownloadError, Files},
        keyboards,
        outbox::Body,
        record::VoiceJob,
        state::{ChatState, DoubtfulTranscript},
        typing::Typing,
    },
    voice::{Submission, Transcriber, Transcript, VoiceError, VoiceEvents, VoiceNote},
};

/// Why a voice note did not become a transcript.
#[derive(Debug, thiserror::Error)]
pub(super) enum VoiceFailure {
    /// The file could not be fetched from Telegram.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The pipeline refused it or failed.
    #[error(transparent)]
    Voice(#[from] VoiceError),
}

impl VoiceFailure {
    /// How the operator's metrics count it.
    fn kind(&self) -> TranscriptionFailure {
        match self {
            VoiceFailure::Download(DownloadError::TooBig { .. }) => TranscriptionFailure::Rejected,
            VoiceFailure::Download(_) => TranscriptionFailure::Download,
            VoiceFailure::Voice(error) => error.into(),
        }
    }

    /// The reply the user gets.
    fn reply(&self) -> Msg {
        match self {
            VoiceFailure::Download(DownloadError::TooBig { limit, .. }) => Msg::VoiceTooBig {
                limit_mb: limit / (1024 * 1024),
            },
            VoiceFailure::Download(_) => Msg::VoiceDownloadFailed,
            VoiceFailure::Voice(error) => error.reply(),
        }
    }
}

impl ChatWorker {
    /// A recording from the user, by the chat's state: during an interview it is checked,
    /// saved, and its transcription started.
    pub(super) async fn voice(&mut self, voice: VoiceInput, update: u32) -> Step {
        match self.record.dialogue.clone() {
            ChatState::Interviewing | ChatState::Idle => {}
            ChatState::ConfirmingVoice { prompt, .. } => self.set_aside(prompt),
            ChatState::ChoosingLanguage { .. }
            | ChatState::ChoosingStyle { .. }
            | ChatState::Briefing { .. }
            | ChatState::ResumeOrRestart { .. }
            | ChatState::ReviewingReport {
                correcting: false, ..
            } => {
                return self.notice(Msg::ChooseWithButtons, update).await;
            }
            ChatState::ReviewingReport {
                correcting: true, ..
            } => return self.notice(Msg::ReportCorrectTyped, update).await,
        }
        let language = match self.owner.running() {
            Some(session) => session.language,
            None => {
                self.record.dialogue = ChatState::Idle;
                return self.notice(Msg::SendStart, update).await;
            }
        };
        // The chat state was lost (a deleted file), but the interview is there.
        self.record.dialogue = ChatState::Interviewing;
        if let Err(error) = self.deps.voice.check_before_download(&voice.meta) {
            tracing::info!(user = %self.user, %error, "voice note refused before download");
            self.deps
                .metrics
                .transcription_failed(TranscriptionFailure::from(&error));
            self.notice(error.reply(), update).await?;
            return self.answer_waiting().await;
        }
        let job = VoiceJob {
            update,
            file_id: voice.file_id,
            meta: voice.meta,
            lang: language,
            submission: None,
            told_queued: false,
        };
        tracing::info!(user = %self.user, update, kind = ?job.meta.kind, "voice note accepted");
        self.record.voice = Some(job.clone());
        self.record.see(update);
        self.save().await?;
        crate::faults::crash_point("voice-accepted");
        self.flush(Flush::Outbox).await?;
        self.start_voice(job);
        Ok(())
    }

    /// Runs the download and transcription of `job` as the worker's work in progress.
    pub(super) fn start_voice(&mut self, job: VoiceJob) {
        let transcriber = self.deps.voice.clone();
        let files = self.deps.files.clone();
        let progress = Progress {
            own: self.own.clone(),
            update: job.update,
        };
        let future = async move {
            let result = transcribe(&transcriber, &files, &job, &progress).await;
            Done::Voice {
                update: job.update,
                result,
            }
        };
        self.op = Some(Op::new(
            future,
            None,
            Typing::start(&self.deps.sender, self.chat, ChatAction::Typing),
        ));
    }

    /// News from a transcription in progress: the job accepted (saved, for a restart), or
    /// the note waiting for a slot (the user is told, once).
    pub(super) async fn voice_progress(&mut self, progress: VoiceProgress) -> Step {
        let Some(job) = self
            .record
            .voice
            .as_mut()
            .filter(|job| job.update == progress.update)
        else {
            return Ok(());
        };
        match progress.step {
            VoiceStep::Submitted(submission) => {
                job.submission = Some(submission);
                self.save().await?;
                crate::faults::crash_point("voice-submitted");
                Ok(())
            }
            VoiceStep::Queued if job.told_queued => Ok(()),
            VoiceStep::Queued => {
                job.told_queued = true;
                let text = self.text_of(&Msg::VoiceQueued);
                self.record.push(Body::text(text));
                self.save().await?;
                self.flush(Flush::Outbox).await
            }
        }
    }

    /// A transcription ended. A transcript is echoed and becomes the answer (a doubtful one
    /// waits for the user's word first); a failure gets its reply. Either way the note is done.
    pub(super) async fn voice_done(
        &mut self,
        update: u32,
        result: Result<Transcript, VoiceFailure>,
    ) -> Step {
        if self.record.voice.as_ref().map(|job| job.update) != Some(update) {
            return Ok(());
        }
        let transcript = match result {
            Ok(transcript) => transcript,
            Err(failure) => return self.voice_failed(failure).await,
        };
        self.deps.metrics.transcribed(transcript.duration);
        self.deps.metrics.answer(AnswerKind::Voice);
        let threshold = self.deps.voice.quality_threshold();
        let echo = self.text_of(&transcript.echo(threshold));
        let clip = VoiceClip {
            duration_ms: u64::try_from(transcript.duration.as_millis()).unwrap_or(u64::MAX),
            confidence: transcript.confidence,
            model: transcript.model.clone(),
        };
        if self.deps.voice.needs_confirmation(&transcript) {
            tracing::info!(user = %self.user, update, confidence = transcript.confidence,
                "doubtful transcript: asking the user");
            let question = self.text_of(&Msg::VoiceLowConfidence {
                percent: transcript.percent(),
            });
            let keyboard = keyboards::voice_confirm(self.deps.engine.catalog(), self.lang, update);
            self.record.voice = None;
            self.record.dialogue = ChatState::ConfirmingVoice {
                prompt: None,
                transcript: DoubtfulTranscript {
                    update,
                    text: transcript.text,
                    clip,
                },
            };
            self.record.push(Body::text(echo));
            self.record.push_prompt(Body::ask(question, keyboard));
            self.save().await?;
            return self.flush(Flush::Outbox).await;
        }
        // Saved into the session under the note's update before the note is forgotten, so a
        // crash in between takes it once, not twice.
        let answer = Answer::input(&transcript.text, u64::from(update)).spoken(clip);
        let outcome = self.owner.hold(&self.deps.engine, answer).await?;
        self.record.voice = None;
        self.record.push(Body::text(echo));
        self.save().await?;
        self.flush(Flush::Outbox).await?;
        self.voice_taken(outcome, transcript.text, update).await
    }

    /// A transcript was saved as the answer (or refused): what arrived meanwhile joins it,
    /// then one turn answers it all.
    async fn voice_taken(&mut self, outcome: Outcome, text: String, update: u32) -> Step {
        match outcome {
            Outcome::Held => self.join_deferred_texts().await,
            Outcome::Duplicate => self.recover().await,
            other => self.outcome(Ok(other), Some(text), Some(update)).await,
        }
    }

    /// The note could not be transcribed: the user is told why, and an answer that waited
    /// for it is answered without it.
    async fn voice_failed(&mut self, failure: VoiceFailure) -> Step {
        self.deps.metrics.transcription_failed(failure.kind());
        match &failure {
            VoiceFailure::Download(DownloadError::TooBig { .. }) => {
                tracing::info!(user = %self.user, error = %failure, "voice note refused");
            }
            VoiceFailure::Download(error) => {
                tracing::warn!(user = %self.user, %error, "voice note not downloaded");
            }
            // The pipeline logged it, at the level it deserves.
            VoiceFailure::Voice(_) => {}
        }
        self.record.voice = None;
        let text = self.text_of(&failure.reply());
        self.record.push(Body::text(text));
        self.save().await?;
        self.flush(Flush::Outbox).await?;
        self.answer_waiting().await
    }

    /// An answer that waited for a note that did not come through is answered without it,
    /// unless more input is on its way to join it.
    async fn answer_waiting(&mut self) -> Step {
        let more = self
            .deferred
            .iter()
            .any(|i| matches!(i.input, Input::Text(_) | Input::Voice(_)));
        if !more && self.owner.running().is_some_and(|s| s.pending().is_some()) {
            return self.answer_pending().await;
        }
        Ok(())
    }

    /// ✅ Use it: the doubtful transcript becomes the answer.
    pub(super) async fn use_transcript(
        &mut self,
        transcript: DoubtfulTranscript,
        message: i32,
        update: u32,
    ) -> Step {
        let answer = Answer::input(&transcript.text, u64::from(update)).spoken(transcript.clip);
        let outcome = self.owner.hold(&self.deps.engine, answer).await?;
        self.record.dialogue = ChatState::Interviewing;
        let text = self.text_of(&Msg::VoiceUsed);
        self.edit(message, text, None, update).await?;
        self.voice_taken(outcome, transcript.text, update).await
    }

    /// 🔁 Send again or type: the doubtful transcript is set aside.
    pub(super) async fn retry_voice(&mut self, message: i32, update: u32) -> Step {
        self.record.dialogue = ChatState::Interviewing;
        let text = self.text_of(&Msg::VoiceSetAside);
        self.edit(message, text, None, update).await
    }

    /// Text or a new note came instead of a press: the doubtful transcript is set aside and
    /// its buttons removed (saved with what comes next).
    pub(super) fn set_aside(&mut self, prompt: Option<i32>) {
        self.record.dialogue = ChatState::Interviewing;
        if let Some(message) = prompt {
            let text = self.text_of(&Msg::VoiceSetAside);
            self.record.push(Body::Edit {
                message,
                text,
                keyboard: None,
            });
        }
    }
}

/// Downloads and transcribes a saved note, or finishes the job it was submitted as.
async fn transcribe(
    transcriber: &Transcriber,
    files: &Files,
    job: &VoiceJob,
    progress: &Progress,
) -> Result<Transcript, VoiceFailure> {
    if let Some(submission) = &job.submission {
        tracing::info!(update = job.update, id = %submission.id, "finishing a submitted voice note");
        return Ok(transcriber.resume(submission, progress).await?);
    }
    let bytes = files
        .fetch(&job.file_id, transcriber.limits().max_file_size)
        .await?;
    let note = VoiceNote {
        bytes,
        meta: job.meta.clone(),
    };
    Ok(transcriber.transcribe(note, job.lang, progress).await?)
}

/// Hands a transcription's news to the chat's worker, as events on its own queue (the worker
/// is running: the transcription is its work in progress).
struct Progress {
    own: tokio::sync::mpsc::WeakUnboundedSender<Event>,
    update: u32,
}

impl Progress {
    fn tell(&self, step: VoiceStep) {
        if let Some(queue) = self.own.upgrade() {
            let _ = queue.send(Event::Voice(VoiceProgress {
                update: self.update,
                step,
            }));
        }
    }
}

impl VoiceEvents for Progress {
    fn queued(&self, _ahead: usize) {
        self.tell(VoiceStep::Queued);
    }

    fn submitted(&self, submission: &Submission) {
        self.tell(VoiceStep::Submitted(submission.clone()));
    }
}
