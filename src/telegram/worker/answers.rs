//! Answers: text during an interview becomes a turn of the engine (or waits for the rate
//! limit), and the engine's outcome becomes messages. A reply that opens a new stage is
//! followed by the summaries of the stages that ended, written while the expert reads it.

use teloxide::types::ChatAction;
use tokio::time::Instant;

use super::delivery::Flush;
use super::{ChatWorker, Done, Op, Step};
use crate::{
    i18n::Msg,
    interview::{Answer, Early, Ending, Outcome, Rejection, TurnJob},
    metrics::{AnswerKind, ErrorKind},
    telegram::{event::Input, keyboards, outbox::Body, state::ChatState, typing::Typing},
};

impl ChatWorker {
    /// Text from the user, by the chat's state.
    pub(super) async fn text(&mut self, text: String, update: u32) -> Step {
        match self.record.dialogue.clone() {
            ChatState::Interviewing => self.answer(text, update).await,
            ChatState::Idle => match self.owner.session() {
                // The chat state was lost (a deleted file), but the interview is there.
                Some(session) if session.finished_at.is_none() => {
                    self.record.dialogue = ChatState::Interviewing;
                    self.save().await?;
                    self.answer(text, update).await
                }
                Some(session)
                    if matches!(session.ending(), Ending::ReportDue | Ending::RevisionDue) =>
                {
                    self.notice(Msg::ReportOnItsWay, update).await
                }
                _ => self.notice(Msg::SendStart, update).await,
            },
            ChatState::ReviewingReport {
                correcting: true, ..
            } => self.start_report(Some((text, update))).await,
            ChatState::ReviewingReport { .. } => self.notice(Msg::ChooseWithButtons, update).await,
            ChatState::ResumeOrRestart {
                prompt,
                session,
                mut held,
            } => {
                held.push(text);
                self.record.dialogue = ChatState::ResumeOrRestart {
                    prompt,
                    session,
                    held,
                };
                self.notice(Msg::ChooseWithButtons, update).await
            }
            ChatState::ConfirmingVoice { prompt, .. } => {
                // Typed instead of a press: the text is the answer, the transcript goes.
                self.set_aside(prompt);
                self.save().await?;
                self.flush(Flush::Outbox).await?;
                self.answer(text, update).await
            }
            ChatState::ChoosingLanguage { .. }
            | ChatState::ChoosingStyle { .. }
            | ChatState::Briefing { .. } => self.notice(Msg::ChooseWithButtons, update).await,
        }
    }

    /// An answer: a turn now, or kept for when the rate limit allows.
    async fn answer(&mut self, text: String, update: u32) -> Step {
        self.deps.metrics.answer(AnswerKind::Text);
        if self.wake.is_none() && self.turns.take().is_ok() {
            return self.start_turn(Some((text, update))).await;
        }
        let outcome = self
            .owner
            .hold(&self.deps.engine, Answer::input(&text, u64::from(update)))
            .await;
        match outcome {
            Ok(Outcome::Held) => self.answer_pending().await,
            other => self.outcome(other, Some(text), Some(update)).await,
        }
    }

    /// Answers the saved answer now, or when the rate limit allows (telling the user once).
    pub(super) async fn answer_pending(&mut self) -> Step {
        if self.op.is_some() {
            return Ok(());
        }
        if self.wake.is_none() {
            match self.turns.take() {
                Ok(()) => {
                    self.told_limited = false;
                    return self.start_turn(None).await;
                }
                Err(wait) => self.wake = Some(Instant::now() + wait),
            }
        }
        if !self.told_limited {
            self.told_limited = true;
            let wait = self.wake.map_or(0, |at| {
                at.saturating_duration_since(Instant::now()).as_secs()
            });
            let text = self.text_of(&Msg::RateLimited {
                seconds: wait.max(1),
            });
            tracing::info!(user = %self.user, wait, "rate limit reached: the answer waits");
            self.record.push(Body::text(text));
            self.save().await?;
            self.flush(Flush::Outbox).await?;
        }
        Ok(())
    }

    /// The rate limit's wait is over: the held answer is taken.
    pub(super) async fn take_held(&mut self) -> Step {
        self.answer_pending().await
    }

    /// Starts a turn: `text` (with its update) as a new answer, saved first, or the saved
    /// answer. The model is asked on a copy; the worker keeps the session meanwhile.
    async fn start_turn(&mut self, text: Option<(String, u32)>) -> Step {
        if let Some((answer, update)) = &text {
            let answer = Answer::input(answer, u64::from(*update));
            if let Err(outcome) = self.owner.take_answer(&self.deps.engine, answer).await? {
                let (text, update) = text.map(|(t, u)| (Some(t), Some(u))).unwrap_or_default();
                return Box::pin(self.outcome(Ok(outcome), text, update)).await;
            }
        }
        let Some(job) = self.deps.engine.next_turn(self.owner.session()) else {
            let update = text.as_ref().map(|(_, update)| *update);
            return Box::pin(self.outcome(Ok(Outcome::NoInterview), None, update)).await;
        };
        let (job, typing) = self.indicator(job);
        let (interrupt, interrupted) = tokio::sync::oneshot::channel::<()>();
        let engine = self.deps.engine.clone();
        let future = async move {
            let interrupted = async move {
                let _ = interrupted.await;
            };
            Done::Turn {
                done: engine.ask(job, interrupted).await,
                text: text.map(|(t, update)| (t, Some(update))),
                command: None,
            }
        };
        self.op = Some(Op::new(future, Some(interrupt), typing));
        Ok(())
    }

    /// What the chat shows while `job` is asked: the question as it is written where drafts
    /// may be shown (a private chat, a model to stream from, `DRAFTS` on), "typing…"
    /// otherwise. Each turn is its own draft, numbered by the transcript's length.
    pub(super) fn indicator(&self, job: TurnJob) -> (TurnJob, Typing) {
        let (sender, chat) = (&self.deps.sender, self.chat);
        if !(self.deps.drafts && chat.is_user() && job.asks_model()) {
            return (job, Typing::start(sender, chat, ChatAction::Typing));
        }
        let turn = self.owner.session().map_or(0, |s| s.transcript.len());
        let id = i32::try_from(turn + 1).unwrap_or(i32::MAX);
        let (partial, shown) = tokio::sync::watch::channel(String::new());
        (
            job.shown_in(partial),
            Typing::drafting(sender, chat, id, shown),
        )
    }

    /// Starts the wrap-up (/complete): not interrupted by text, which waits for it.
    pub(super) async fn start_complete(&mut self, update: u32) -> Step {
        let engine = self.deps.engine.clone();
        let job = match engine.finish_early(self.owner.session_mut()) {
            Early::Turn(job) => job,
            Early::Finished(outcome) => {
                if !matches!(outcome, Outcome::NoInterview) {
                    self.save_session().await?;
                }
                return self.turn_done(outcome, None, Some(update)).await;
            }
        };
        let (job, typing) = self.indicator(job);
        self.op = Some(Op::new(
            async move {
                Done::Turn {
                    done: engine.ask(job, std::future::pending()).await,
                    text: None,
                    command: Some(update),
                }
            },
            None,
            typing,
        ));
        Ok(())
    }

    /// What the engine's work came to: applied to the session as it is now, and saved.
    pub(super) async fn on_done(&mut self, done: Done) -> Step {
        self.load_session().await?;
        let engine = self.deps.engine.clone();
        match done {
            Done::Turn {
                done,
                text,
                command,
            } => {
                let outcome = self.owner.apply_turn(&engine, done).await?;
                let (text, update) = match text {
                    Some((text, update)) => (Some(text), update),
                    None => (None, None),
                };
                match command {
                    Some(update) => self.turn_done(outcome, text, Some(update)).await,
                    None => self.outcome(Ok(outcome), text, update).await,
                }
            }
            Done::Begun {
                done,
                update,
                quarantined,
            } => {
                let outcome = self.owner.apply_turn(&engine, done).await?;
                if !matches!(outcome, Outcome::Reply(_)) {
                    return self.outcome(Ok(outcome), None, Some(update)).await;
                }
                self.record.dialogue = ChatState::Interviewing;
                self.record.see(update);
                if quarantined {
                    let text = self.text_of(&Msg::SessionQuarantined);
                    self.record.push(Body::text(text));
                }
                self.save().await?;
                self.flush(Flush::Everything).await
            }
            Done::Voice { update, result } => self.voice_done(update, result).await,
            Done::Summaries { done } => {
                // Background work: nothing the expert sent depends on it, and what could not
                // be written is written before the report.
                let asked = !done.is_empty();
                engine.apply_summaries(self.owner.session_mut(), done);
                if asked && let Err(error) = self.save_session().await {
                    tracing::error!(user = %self.user, %error, "could not save a stage summary");
                }
                Ok(())
            }
            Done::Report { done, update } => {
                let outcome = self.owner.apply_report(&engine, done).await;
                self.report_done(outcome, update).await
            }
        }
    }

    /// A command's turn (/complete) is over: the command is recorded as seen, then the outcome
    /// goes out.
    async fn turn_done(
        &mut self,
        outcome: Outcome,
        text: Option<String>,
        command: Option<u32>,
    ) -> Step {
        if let Some(update) = command {
            self.record.see(update);
            self.save().await?;
        }
        self.outcome(Ok(outcome), text, command).await
    }

    /// Turns an engine outcome into messages. `text` and `update` are the answer the outcome
    /// is about, if it was a new one.
    pub(super) async fn outcome(
        &mut self,
        outcome: Result<Outcome, crate::interview::EngineError>,
        text: Option<String>,
        update: Option<u32>,
    ) -> Step {
        let say = |worker: &mut ChatWorker, msg: Msg| {
            let text = worker.text_of(&msg);
            worker.record.push(Body::text(text));
            if let Some(update) = update {
                worker.record.see(update);
            }
        };
        match outcome? {
            Outcome::Reply(reply) => {
                crate::faults::crash_point("reply-saved");
                self.flush(Flush::Everything).await?;
                if reply.stage_changed && !reply.offline {
                    self.start_summaries();
                }
                return Ok(());
            }
            Outcome::Finished(finished) => return self.finished(*finished).await,
            Outcome::Rejected(Rejection::Empty) => say(self, Msg::AnswerEmpty),
            Outcome::Rejected(Rejection::TooLong { length, limit }) => {
                say(self, Msg::AnswerTooLong { length, limit })
            }
            Outcome::Idle {
                session,
                stage,
                idle_for,
                ..
            } => {
                let stage = self.text_of(&Msg::stage(stage));
                let prompt = self.text_of(&Msg::IdlePrompt {
                    minutes: (idle_for.as_secs() / 60) as i64,
                    stage,
                });
                let keyboard =
                    keyboards::resume_or_restart(self.deps.engine.catalog(), self.lang, session);
                self.record.dialogue = ChatState::ResumeOrRestart {
                    prompt: None,
                    session,
                    held: text.into_iter().collect(),
                };
                self.record.push_prompt(Body::ask(prompt, keyboard));
                if let Some(update) = update {
                    self.record.see(update);
                }
            }
            Outcome::NoInterview => {
                self.record.dialogue = ChatState::Idle;
                say(self, Msg::SendStart);
            }
            Outcome::Quarantined => {
                self.deps.metrics.error(ErrorKind::Quarantine);
                self.record.dialogue = ChatState::Idle;
                let text = format!(
                    "{}\n\n{}",
                    self.text_of(&Msg::SessionQuarantined),
                    self.text_of(&Msg::SendStart)
                );
                self.record.push(Body::text(text));
            }
            Outcome::Superseded => return self.join_deferred_texts().await,
            Outcome::Held => return self.answer_pending().await,
            Outcome::Duplicate => return self.recover().await,
        }
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// Newer text arrived while the model was thinking: every text waiting is added to the
    /// saved answer, and one turn answers them all. A voice note joins once transcribed:
    /// texts after it wait for it, and the turn waits until it is in.
    pub(super) async fn join_deferred_texts(&mut self) -> Step {
        let mut rest = std::collections::VecDeque::new();
        let mut voice = false;
        while let Some(incoming) = self.deferred.pop_front() {
            voice |= matches!(incoming.input, Input::Voice(_));
            let Input::Text(text) = &incoming.input else {
                rest.push_back(incoming);
                continue;
            };
            if voice {
                rest.push_back(incoming);
                continue;
            }
            self.waiting.push(incoming.update);
            let answer = Answer::input(text, u64::from(incoming.update));
            let outcome = self.owner.hold(&self.deps.engine, answer).await;
            match outcome {
                Ok(Outcome::Held) => self.deps.metrics.answer(AnswerKind::Text),
                Ok(Outcome::Duplicate) => {}
                other => {
                    Box::pin(self.outcome(other, Some(text.clone()), Some(incoming.update))).await?
                }
            }
        }
        self.deferred = rest;
        if voice {
            // Taken next; its transcript joins the answer and starts the turn.
            return Ok(());
        }
        self.answer_pending().await
    }
}
