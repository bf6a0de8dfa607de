//! The one holder of a user's session: a chat's worker, the console. It loads the session
//! once, keeps it in memory, changes it only through the engine, and is the only code that
//! saves it, so no two copies of the same file race each other to the disk.
//!
//! Besides the session itself, it offers each engine operation whole (take the answer, save,
//! ask, apply, save), for a front end that waits for each one to end: the console, and the
//! tests and benchmarks of the engine. The chat worker, which keeps listening while Claude
//! thinks, runs the parts itself.

use std::future::Future;

use super::{Answer, Early, Engine, EngineError, TurnJob};
use crate::{
    i18n::Lang,
    interview::{Begun, Outcome, Reply, ReportOutcome, Session, Style, UserId},
    store::Loaded,
};

/// One user's interview in progress, as its owner holds it.
#[derive(Debug)]
pub struct SessionOwner {
    user: UserId,
    session: Option<Session>,
    /// The file could not be read when it was loaded and was set aside: the expert is told
    /// once, on their next answer or new interview.
    quarantined: bool,
}

impl SessionOwner {
    /// Loads `user`'s interview in progress, if any. A file that cannot be read is moved to
    /// `quarantine/` by the store and remembered as such.
    pub async fn load(engine: &Engine, user: UserId) -> Result<Self, EngineError> {
        let (session, quarantined) = match engine.load(user).await? {
            Loaded::Session(session) => (Some(*session), false),
            Loaded::Nothing => (None, false),
            Loaded::Quarantined { .. } => (None, true),
        };
        Ok(SessionOwner {
            user,
            session,
            quarantined,
        })
    }

    /// An owner holding nothing yet, until [`SessionOwner::load`] replaces it.
    pub fn empty(user: UserId) -> Self {
        SessionOwner {
            user,
            session: None,
            quarantined: false,
        }
    }

    /// Whose session this is.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The session (an interview running or ended), if there is one.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The session, to change through the engine; [`SessionOwner::save`] then saves it.
    pub fn session_mut(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// The interview in progress, if one is running (not ended).
    pub fn running(&self) -> Option<&Session> {
        self.session.as_ref().filter(|s| s.finished_at.is_none())
    }

    /// Whether the file was quarantined when loaded and nobody was told yet; telling is up to
    /// the caller, once.
    pub fn take_quarantined(&mut self) -> bool {
        std::mem::take(&mut self.quarantined)
    }

    /// Saves the session as it is now.
    pub async fn save(&self, engine: &Engine) -> Result<(), EngineError> {
        if let Some(session) = &self.session {
            engine.store().save(session).await?;
        }
        Ok(())
    }

    /// Takes `session` as the user's interview (a new one, not saved until its first
    /// question is applied). The one held before must have been set aside.
    pub fn install(&mut self, session: Session) {
        self.session = Some(session);
    }

    /// Forgets the session without touching the disk (every file of the user was erased).
    pub fn forget(&mut self) {
        self.session = None;
        self.quarantined = false;
    }

    /// Moves the interview out of the active files ([`Engine::set_aside`]). Returns whether
    /// there was one.
    pub async fn set_aside(&mut self, engine: &Engine) -> Result<bool, EngineError> {
        let Some(old) = self.session.take() else {
            return Ok(false);
        };
        engine.set_aside(old).await?;
        Ok(true)
    }

    /// Archives the ended interview once its report is settled ([`Engine::retire_finished`]).
    /// Returns whether it was archived.
    pub async fn retire_finished(&mut self, engine: &Engine) -> Result<bool, EngineError> {
        let Some(session) = &self.session else {
            return Ok(false);
        };
        let retired = engine.retire_finished(session).await?;
        if retired {
            self.session = None;
        }
        Ok(retired)
    }

    /// Takes an answer into the session and saves it (before the model is asked: a crash from
    /// then on loses nothing), or says why it was not taken.
    pub async fn take_answer(
        &mut self,
        engine: &Engine,
        answer: Answer<'_>,
    ) -> Result<Result<(), Outcome>, EngineError> {
        if self.session.is_none() && self.take_quarantined() {
            return Ok(Err(Outcome::Quarantined));
        }
        if let Err(outcome) = engine.take_answer(self.session.as_mut(), answer) {
            return Ok(Err(outcome));
        }
        self.save(engine).await?;
        Ok(Ok(()))
    }

    /// Asks for the turn `job` and applies it to the session as it is when the model answers,
    /// then saves it.
    pub async fn turn(
        &mut self,
        engine: &Engine,
        job: TurnJob,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        let done = engine.ask(job, interrupt).await;
        self.apply_turn(engine, done).await
    }

    /// Applies a turn's answer ([`Engine::apply_turn`]) and saves what changed.
    pub async fn apply_turn(
        &mut self,
        engine: &Engine,
        done: super::TurnDone,
    ) -> Result<Outcome, EngineError> {
        let outcome = engine.apply_turn(self.session.as_mut(), done);
        if !matches!(outcome, Outcome::Superseded | Outcome::NoInterview) {
            self.save(engine).await?;
        }
        Ok(outcome)
    }

    /// Begins a new interview and asks its first question. An interview already held is set
    /// aside first (archived, not deleted).
    pub async fn begin(
        &mut self,
        engine: &Engine,
        language: Lang,
        style: Style,
    ) -> Result<Begun, EngineError> {
        let quarantined = self.take_quarantined();
        self.set_aside(engine).await?;
        let session = engine.open(self.user, language, style);
        let job = engine.opening_turn(&session);
        self.install(session);
        let outcome = self.turn(engine, job, std::future::pending()).await?;
        Ok(Begun {
            outcome,
            quarantined,
        })
    }

    /// Takes an answer, then asks for the next question. `interrupt` works as for
    /// [`Engine::ask`].
    pub async fn answer(
        &mut self,
        engine: &Engine,
        answer: Answer<'_>,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        if let Err(outcome) = self.take_answer(engine, answer).await? {
            return Ok(outcome);
        }
        self.answer_pending(engine, interrupt).await
    }

    /// Skips the question asked: `stand_in` (a short note saying so, in the interview's
    /// language) is taken as the expert's message and marked as a skip
    /// ([`Session::mark_skipped`]), then the next question is asked as after any answer.
    pub async fn skip(
        &mut self,
        engine: &Engine,
        stand_in: &str,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        if self.session.is_none() && self.take_quarantined() {
            return Ok(Outcome::Quarantined);
        }
        if let Err(outcome) = engine.take_answer(self.session.as_mut(), Answer::typed(stand_in)) {
            return Ok(outcome);
        }
        if let Some(session) = self.session.as_mut() {
            session.mark_skipped();
        }
        self.save(engine).await?;
        self.answer_pending(engine, interrupt).await
    }

    /// Takes an answer without asking for the next question ([`Outcome::Held`]): the user is
    /// over the rate limit, or more is coming to join it.
    pub async fn hold(
        &mut self,
        engine: &Engine,
        answer: Answer<'_>,
    ) -> Result<Outcome, EngineError> {
        Ok(match self.take_answer(engine, answer).await? {
            Ok(()) => Outcome::Held,
            Err(outcome) => outcome,
        })
    }

    /// Answers the saved but unanswered message, if there is one.
    pub async fn answer_pending(
        &mut self,
        engine: &Engine,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        match engine.next_turn(self.session.as_ref()) {
            Some(job) => self.turn(engine, job, interrupt).await,
            None if self.session.is_none() && self.take_quarantined() => Ok(Outcome::Quarantined),
            None => Ok(Outcome::NoInterview),
        }
    }

    /// /complete: ends the interview early ([`Engine::finish_early`]).
    pub async fn complete(&mut self, engine: &Engine) -> Result<Outcome, EngineError> {
        match engine.finish_early(self.session.as_mut()) {
            Early::Turn(job) => self.turn(engine, job, std::future::pending()).await,
            Early::Finished(Outcome::NoInterview) => Ok(Outcome::NoInterview),
            Early::Finished(outcome) => {
                self.save(engine).await?;
                Ok(outcome)
            }
        }
    }

    /// Resumes an idle interview ([`Engine::resume`]).
    pub async fn resume(&mut self, engine: &Engine) -> Result<Option<Reply>, EngineError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(None);
        };
        let reply = engine.resume(session);
        self.save(engine).await?;
        Ok(reply)
    }

    /// Switches the interview's language. Returns whether there is an interview.
    pub async fn set_language(
        &mut self,
        engine: &Engine,
        language: Lang,
    ) -> Result<bool, EngineError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(false);
        };
        if engine.set_language(session, language) {
            self.save(engine).await?;
        }
        Ok(true)
    }

    /// Records that a question reached the expert ([`Engine::mark_delivered`]).
    pub async fn mark_delivered(
        &mut self,
        engine: &Engine,
        id: u32,
        index: usize,
    ) -> Result<bool, EngineError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(false);
        };
        let changed = engine.mark_delivered(session, id, index);
        if changed {
            self.save(engine).await?;
        }
        Ok(changed)
    }

    /// Writes the summaries of the stages that ended without one. Returns how many were
    /// written.
    pub async fn summarize_stages(&mut self, engine: &Engine) -> Result<usize, EngineError> {
        let Some(job) = engine.summaries_job(self.session.as_ref()) else {
            return Ok(0);
        };
        let done = engine.write_summaries(job).await;
        let billed = !done.is_empty();
        let written = engine.apply_summaries(self.session.as_mut(), done);
        if billed {
            self.save(engine).await?;
        }
        Ok(written)
    }

    /// Writes what the ended interview waits for: the report, or its revision.
    pub async fn write_report(&mut self, engine: &Engine) -> Result<ReportOutcome, EngineError> {
        let job = engine.report_job(self.session.as_ref());
        let done = engine.write_report(job).await;
        self.apply_report(engine, done).await
    }

    /// Applies what writing the report came to ([`Engine::apply_report`]) and saves it.
    pub async fn apply_report(
        &mut self,
        engine: &Engine,
        done: super::ReportDone,
    ) -> Result<ReportOutcome, EngineError> {
        let outcome = engine.apply_report(self.session.as_mut(), done).await?;
        if !matches!(outcome, ReportOutcome::Nothing) {
            self.save(engine).await?;
        }
        Ok(outcome)
    }

    /// The expert confirmed the report. Returns whether one was waiting for it.
    pub async fn confirm_report(&mut self, engine: &Engine) -> Result<bool, EngineError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(false);
        };
        let confirmed = engine.confirm_report(session);
        if confirmed {
            self.save(engine).await?;
        }
        Ok(confirmed)
    }

    /// Takes the expert's correction ([`Engine::take_correction`]), saves it, and writes the
    /// one revised report.
    pub async fn correct_report(
        &mut self,
        engine: &Engine,
        text: &str,
        input: Option<u64>,
    ) -> Result<ReportOutcome, EngineError> {
        match engine.take_correction(self.session.as_mut(), text, input) {
            Err(outcome) => return Ok(outcome),
            Ok(true) => self.save(engine).await?,
            Ok(false) => {}
        }
        self.write_report(engine).await
    }
}
