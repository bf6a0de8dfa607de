//! The end of an interview in the chat: the closing words and a notice go out at once, then
//! the report is written as the worker's work and arrives as a document with its one-screen
//! summary and ✅ Confirm / ✏️ Correct. "Correct" asks for the correction in text, which
//! produces the one revised report. Stage summaries are written in the background after the
//! reply that opens each stage.
//!
//! When Claude cannot write the report, the expert is told once that it will follow, and the
//! wake timer retries it when the engine says (its clock keeps the backoff). The updates behind
//! the ending stay unhandled meanwhile, so after a restart they come back, the worker starts,
//! and [`ChatWorker::close`] picks the report up where it was.

use teloxide::types::ChatAction;
use tokio::time::Instant;

use super::delivery::Flush;
use super::{ChatWorker, Done, Op, Step, WorkerError};
use crate::{
    i18n::Msg,
    interview::{Ending, EngineError, Finished, Rejection, ReportOutcome, ReportReady, report},
    telegram::{keyboards, outbox::Body, record::ReportSent, state::ChatState, typing::Typing},
};

/// The shortest wait of the wake timer before a retry.
const MIN_RETRY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl ChatWorker {
    /// Writes the summaries of the stages that just ended, without keeping the expert
    /// waiting: text they send meanwhile waits for it (with the typing indicator).
    pub(super) fn start_summaries(&mut self) {
        if self.op.is_some() {
            return;
        }
        let engine = self.deps.engine.clone();
        let Some(job) = engine.summaries_job(self.owner.session()) else {
            return;
        };
        self.op = Some(Op::background(async move {
            Done::Summaries {
                done: engine.write_summaries(job).await,
            }
        }));
    }

    /// The interview ended: the closing words are in the transcript; the notice and the
    /// report follow.
    pub(super) async fn finished(&mut self, finished: Finished) -> Step {
        self.lang = finished.language;
        match self.owner.session() {
            Some(session) if session.id == finished.session => self.close().await,
            _ => self.flush(Flush::Everything).await,
        }
    }

    /// Brings the chat in line with an ended interview, whenever it is found (at the end,
    /// after a restart, on a retry): queues what is not queued yet (the closing notice, the
    /// latest version of the report) and starts writing the report if it is due. The engine
    /// decides by its own clock whether Claude is asked now or later.
    pub(super) async fn close(&mut self) -> Step {
        // A copy: the chat's messages are built from it while the worker changes.
        let Some(session) = self
            .owner
            .session()
            .filter(|s| s.finished_at.is_some())
            .cloned()
        else {
            return self.flush(Flush::Everything).await;
        };
        self.lang = session.language;
        let mut changed = false;
        if self.record.closed != Some(session.id) {
            self.record.closed = Some(session.id);
            self.record.report = ReportSent::default();
            let notice = self.text_of(&Msg::InterviewComplete);
            self.record.push(Body::text(notice));
            self.record.dialogue = ChatState::Idle;
            changed = true;
            // An interview ended by an earlier version: its report was written at once.
            if let Some(path) = session
                .report_path
                .as_ref()
                .filter(|_| session.report.is_empty())
            {
                let report = tokio::fs::read_to_string(path).await.unwrap_or_default();
                if !report.trim().is_empty() {
                    self.push_report(report, Msg::ReportCaption);
                }
            }
        }
        if session.report.version > self.record.report.version
            && let Some(ready) = self.deps.engine.report_of(&session).await
        {
            self.queue_report(&ready);
            changed = true;
        }
        if changed {
            self.save().await?;
        }
        self.flush(Flush::Everything).await?;
        if matches!(session.ending(), Ending::ReportDue | Ending::RevisionDue) && self.op.is_none()
        {
            self.wake = None;
            return Box::pin(self.start_report(None)).await;
        }
        Ok(())
    }

    /// Queues the report's Markdown document, under `caption`.
    pub(super) fn push_report(&mut self, markdown: String, caption: Msg) {
        let caption = self.text_of(&caption);
        self.record.push(Body::Document {
            name: "knowledge-report.md".into(),
            content: markdown,
            caption: Some(caption),
        });
    }

    /// Queues a version of the report: the document, then its one-screen summary (with the
    /// buttons, for the first version).
    fn queue_report(&mut self, ready: &ReportReady) {
        let caption = if ready.version >= 2 {
            Msg::ReportRevisedCaption
        } else {
            Msg::ReportCaption
        };
        self.push_report(ready.markdown.clone(), caption);
        if ready.review {
            let keyboard = keyboards::review(self.deps.engine.catalog(), self.lang, ready.session);
            self.record
                .push_prompt(Body::ask(ready.screen.clone(), keyboard));
            self.record.dialogue = ChatState::ReviewingReport {
                prompt: None,
                session: ready.session,
                correcting: false,
            };
        } else {
            self.record.push(Body::text(ready.screen.clone()));
            self.record.dialogue = ChatState::Idle;
        }
        self.record.report.version = ready.version;
    }

    /// Starts writing the report, or the revision with the correction `text` of `update`
    /// (saved first). Claude writes on a copy; the worker keeps the session meanwhile.
    pub(super) async fn start_report(&mut self, correction: Option<(String, u32)>) -> Step {
        let engine = self.deps.engine.clone();
        let update = correction.as_ref().map(|(_, update)| *update);
        if let Some((text, update)) = &correction {
            let input = Some(u64::from(*update));
            match engine.take_correction(self.owner.session_mut(), text, input) {
                Err(outcome) => return self.report_done(Ok(outcome), Some(*update)).await,
                Ok(true) => self.save_session().await?,
                Ok(false) => {}
            }
        }
        let job = engine.report_job(self.owner.session());
        let future = async move {
            Done::Report {
                done: engine.write_report(job).await,
                update,
            }
        };
        self.op = Some(Op::new(
            future,
            None,
            Typing::start(&self.deps.sender, self.chat, ChatAction::UploadDocument),
        ));
        Ok(())
    }

    /// What writing the report came to.
    pub(super) async fn report_done(
        &mut self,
        outcome: Result<ReportOutcome, EngineError>,
        update: Option<u32>,
    ) -> Step {
        let outcome = outcome?;
        if let Some(update) = update {
            self.record.see(update);
        }
        match outcome {
            ReportOutcome::Pending { retry_in, revision } => {
                let awaited = if revision { 2 } else { 1 };
                if self.record.report.delay_told < awaited {
                    let msg = if revision {
                        Msg::ReportRevisionDelayed
                    } else {
                        Msg::ReportDelayed
                    };
                    let text = self.text_of(&msg);
                    self.record.push(Body::text(text));
                    self.record.report.delay_told = awaited;
                }
                self.wake = Some(Instant::now() + retry_in.max(MIN_RETRY_WAIT));
                self.save().await?;
                return self.flush(Flush::Outbox).await;
            }
            ReportOutcome::Rejected(rejection) => {
                let msg = match rejection {
                    Rejection::Empty => Msg::AnswerEmpty,
                    Rejection::TooLong { length, limit } => Msg::AnswerTooLong { length, limit },
                };
                let text = self.text_of(&msg);
                self.record.push(Body::text(text));
                self.save().await?;
                return self.flush(Flush::Outbox).await;
            }
            ReportOutcome::Ready(_) | ReportOutcome::Nothing => {}
        }
        if update.is_some() {
            self.save().await?;
        }
        self.close().await
    }

    /// ✅ Confirm on the report's message.
    pub(super) async fn confirm_report(&mut self, message: i32, update: u32) -> Step {
        if self.owner.confirm_report(&self.deps.engine).await? {
            let screen = self
                .owner
                .session()
                .map(|s| report::screen(s, self.deps.engine.catalog()))
                .unwrap_or_default();
            if !screen.is_empty() {
                // The buttons go; the summary stays.
                self.record.push(Body::Edit {
                    message,
                    text: screen,
                    keyboard: None,
                });
            }
            let text = self.text_of(&Msg::ReportConfirmed);
            self.record.push(Body::text(text));
        }
        self.record.dialogue = ChatState::Idle;
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// ✏️ Correct on the report's message: the next text is the correction.
    pub(super) async fn ask_correction(&mut self, update: u32) -> Step {
        if let ChatState::ReviewingReport { correcting, .. } = &mut self.record.dialogue {
            *correcting = true;
        }
        let text = self.text_of(&Msg::ReportCorrectAsk);
        self.say(Body::text(text), update).await
    }

    /// Archives the ended interview `closed` once its report is settled (the chat is quiet, so
    /// everything is delivered); forgets it if the user has moved on to another interview.
    pub(super) async fn archive_ended(&mut self, closed: u32) -> Result<(), WorkerError> {
        let forget = match self.owner.session() {
            Some(session) if session.id == closed => {
                session.ending() == Ending::Done
                    && self.owner.retire_finished(&self.deps.engine).await?
            }
            _ => true,
        };
        if forget {
            self.record.closed = None;
            self.record.report = ReportSent::default();
            if matches!(self.record.dialogue, ChatState::ReviewingReport { session, .. } if session == closed)
            {
                self.record.dialogue = ChatState::Idle;
            }
            self.save().await?;
        }
        Ok(())
    }
}
