//! The turn engine: takes an expert's answer, saves it, asks Claude (or the offline bank) for
//! the next question, applies the stage rules, saves again, and hands the reply back.
//!
//! When a stage ends, its summary is written by [`Engine::summarize_stages`] (`summaries`);
//! when the interview ends, its report by [`Engine::write_report`], then checked by the
//! expert ([`Engine::confirm_report`], [`Engine::correct_report`]) (`ending`).
//!
//! The engine knows nothing of Telegram: the bot and the console drive it alike.

mod ending;
mod summaries;

pub use ending::REPORT_GIVE_UP;

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::{
    Ending, QuestionBank, Session, Stage, Style, UserId, VoiceClip,
    clock::Clock,
    context::{self, ContextLimits, Directive},
    outcome::{Begun, Finished, Outcome, Rejection, Reply},
    stage::Transition,
    turn::{InterviewModel, Turn, TurnReply, WriteRequest},
};
use crate::{
    i18n::{Catalog, Lang},
    llm::{Fallback, LlmError, Model, Price, Written},
    metrics::{CallOutcome, FallbackReason, Metrics},
    store::{Folder, Loaded, SessionStore, StoreError},
};

/// Answers longer than this many characters are refused with the limit stated.
pub const MAX_ANSWER_CHARS: usize = 12_000;

/// Whether `text` holds nothing a reader would see: whitespace and invisible characters
/// (zero-width spaces and joiners, word joiners, byte-order marks, variation selectors).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
                | '\u{FE00}'..='\u{FE0F}' | '\u{180E}' | '\u{034F}' | '\u{00AD}')
    })
}

/// How long wrap_up may run past its budget before the engine ends the interview itself.
const WRAP_UP_HARD_LIMIT: u32 = 2;

/// What the engine can fail at: only storage. Model failures never surface; the offline
/// bank answers instead.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A session could not be saved or moved.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The engine's tunables.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Bounds on what is sent to the model.
    pub limits: ContextLimits,
    /// Idle time after which the user chooses to resume or start over.
    pub session_timeout: Duration,
    /// The longest answer accepted, in characters.
    pub max_answer_chars: usize,
    /// The model's price, for the cost logged when an interview ends.
    pub price: Option<Price>,
    /// The model id, as the operator's metrics label it.
    pub model: String,
}

impl EngineConfig {
    /// The configuration from the settings' values.
    pub fn new(max_history: usize, session_timeout: Duration) -> Self {
        EngineConfig {
            limits: ContextLimits::new(max_history),
            session_timeout,
            max_answer_chars: MAX_ANSWER_CHARS,
            price: None,
            model: String::new(),
        }
    }
}

/// The interview engine, shared by every front end and task.
pub struct Engine {
    /// Where sessions live.
    store: SessionStore,
    /// The model; `None` runs every interview on the offline bank.
    claude: Option<Arc<dyn Model>>,
    /// The prompts.
    prompts: super::Prompts,
    /// User-visible text.
    catalog: Arc<Catalog>,
    /// The offline questions.
    bank: QuestionBank,
    /// The time.
    clock: Arc<dyn Clock>,
    /// Tunables.
    config: EngineConfig,
    /// What the operator watches.
    metrics: Metrics,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("online", &self.claude.is_some())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over its parts.
    pub fn new(
        store: SessionStore,
        claude: Option<Arc<dyn Model>>,
        prompts: super::Prompts,
        catalog: Arc<Catalog>,
        bank: QuestionBank,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Self {
        let metrics = Metrics::unpersisted(clock.clone());
        Engine {
            store,
            claude,
            prompts,
            catalog,
            bank,
            clock,
            config,
            metrics,
        }
    }

    /// The engine counting into `metrics` (the process's shared handle) instead of its own.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// What the engine counts: interviews, Claude calls and their tokens, offline turns.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the engine has a model to ask.
    pub fn is_online(&self) -> bool {
        self.claude.is_some()
    }

    /// The session store.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The catalog of user-visible text.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The time now, by the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Idle time after which the user chooses to resume or start over.
    pub fn session_timeout(&self) -> Duration {
        self.config.session_timeout
    }

    /// Loads the user's interview in progress (read-only), reporting a quarantined file.
    pub async fn load(&self, user: UserId) -> Result<Loaded, EngineError> {
        Ok(self.store.load(user).await?)
    }

    /// The user's interview in progress, if any (read-only).
    pub async fn session(&self, user: UserId) -> Result<Option<Session>, EngineError> {
        match self.store.load(user).await? {
            Loaded::Session(session) => Ok(Some(*session)),
            Loaded::Nothing | Loaded::Quarantined { .. } => Ok(None),
        }
    }

    /// Begins a new interview and returns its first question. An interview already in
    /// progress is archived, not deleted.
    pub async fn begin(
        &self,
        user: UserId,
        language: Lang,
        style: Style,
    ) -> Result<Begun, EngineError> {
        let quarantined = match self.store.load(user).await? {
            Loaded::Session(old) => {
                self.set_aside(*old).await?;
                false
            }
            Loaded::Quarantined { .. } => true,
            Loaded::Nothing => false,
        };
        let mut session = Session::new(rand::random(), user, language, style, self.clock.now());
        tracing::info!(%user, %language, %style, session = session.id, "interview begins");
        let outcome = self
            .take_turn(
                &mut session,
                Some(Directive::Opening),
                std::future::pending(),
            )
            .await?;
        let reply = match outcome {
            Outcome::Reply(reply) => reply,
            other => unreachable!("an opening turn always asks a question: {other:?}"),
        };
        self.metrics.interview_started();
        Ok(Begun { reply, quarantined })
    }

    /// Takes an answer: saves it, then asks for the next question. `interrupt` resolving
    /// while the model is thinking abandons the call (the answer stays saved) and returns
    /// [`Outcome::Superseded`]; the caller then sends the newer input, which joins the
    /// saved answer into one turn.
    ///
    /// The engine expects one caller per user at a time (the console, or the user's chat
    /// worker): it does not serialise calls for the same user itself.
    pub async fn answer(
        &self,
        user: UserId,
        text: &str,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        self.answer_input(user, text, None, interrupt).await
    }

    /// [`Engine::answer`] for an input with an id (such as a Telegram update id): an input
    /// already in the transcript is not taken twice ([`Outcome::Duplicate`]).
    pub async fn answer_input(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        match self.take_answer(user, text, input).await? {
            Ok(mut session) => self.take_turn(&mut session, None, interrupt).await,
            Err(outcome) => Ok(outcome),
        }
    }

    /// Saves an answer without asking for the next question ([`Outcome::Held`]): used when
    /// the user is over the rate limit. [`Engine::answer_pending`] answers it later, joined
    /// with anything held meanwhile.
    pub async fn hold(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
    ) -> Result<Outcome, EngineError> {
        Ok(match self.take_answer(user, text, input).await? {
            Ok(_) => Outcome::Held,
            Err(outcome) => outcome,
        })
    }

    /// [`Engine::hold`] for an answer spoken in a voice note: the transcript is saved as the
    /// answer (joining one still waiting, as quick messages do), and the entry keeps `clip`
    /// (the note's duration, the transcript's confidence and model). [`Engine::answer_pending`]
    /// then answers it.
    pub async fn hold_voice(
        &self,
        user: UserId,
        transcript: &str,
        clip: VoiceClip,
        input: Option<u64>,
    ) -> Result<Outcome, EngineError> {
        Ok(
            match self
                .take_answer_as(user, transcript, input, Some(clip))
                .await?
            {
                Ok(_) => Outcome::Held,
                Err(outcome) => outcome,
            },
        )
    }

    /// Checks an answer and saves it into the session, or says why it was not taken.
    async fn take_answer(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
    ) -> Result<Result<Session, Outcome>, EngineError> {
        self.take_answer_as(user, text, input, None).await
    }

    /// [`Engine::take_answer`], the answer spoken in the voice note `voice` if given.
    /// The expert's text, trimmed, if it can be taken: not blank, and within the length limit.
    fn checked<'a>(&self, text: &'a str) -> Result<&'a str, Rejection> {
        let text = text.trim();
        if is_blank(text) {
            return Err(Rejection::Empty);
        }
        let length = text.chars().count();
        if length > self.config.max_answer_chars {
            return Err(Rejection::TooLong {
                length,
                limit: self.config.max_answer_chars,
            });
        }
        Ok(text)
    }

    async fn take_answer_as(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
        voice: Option<VoiceClip>,
    ) -> Result<Result<Session, Outcome>, EngineError> {
        let text = match self.checked(text) {
            Ok(text) => text,
            Err(rejection) => return Ok(Err(Outcome::Rejected(rejection))),
        };
        let mut session = match self.store.load(user).await? {
            Loaded::Session(session) if session.finished_at.is_none() => *session,
            Loaded::Session(_) | Loaded::Nothing => return Ok(Err(Outcome::NoInterview)),
            Loaded::Quarantined { .. } => return Ok(Err(Outcome::Quarantined)),
        };
        if input.is_some_and(|id| session.has_input(id)) {
            return Ok(Err(Outcome::Duplicate));
        }
        let now = self.clock.now();
        let idle_for = session.idle_for(now);
        if session.pending().is_none() && idle_for > self.config.session_timeout {
            return Ok(Err(Outcome::Idle {
                session: session.id,
                stage: session.stage,
                idle_for,
                language: session.language,
            }));
        }
        match voice {
            Some(clip) => session.push_voice_answer(text, clip, now),
            None => session.push_answer(text, now),
        }
        if input.is_some() {
            session.last_input = input.max(session.last_input);
        }
        // Saved before the model is asked: a crash from here on loses nothing.
        self.store.save(&session).await?;
        tracing::debug!(%user, answer = text, "answer saved");
        Ok(Ok(session))
    }

    /// Answers the user's saved but unanswered message, if there is one (after a restart, or
    /// after a superseded turn). `interrupt` works as for [`Engine::answer`].
    pub async fn answer_pending(
        &self,
        user: UserId,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        let mut session = match self.store.load(user).await? {
            Loaded::Session(session)
                if session.pending().is_some() && session.finished_at.is_none() =>
            {
                *session
            }
            Loaded::Quarantined { .. } => return Ok(Outcome::Quarantined),
            _ => return Ok(Outcome::NoInterview),
        };
        tracing::info!(%user, "answering a saved message");
        self.take_turn(&mut session, None, interrupt).await
    }

    /// Users whose last message was saved but never answered.
    pub async fn pending_users(&self) -> Result<Vec<UserId>, EngineError> {
        let mut pending = Vec::new();
        for user in self.store.active_users().await? {
            if let Loaded::Session(session) = self.store.load(user).await?
                && session.pending().is_some()
            {
                pending.push(user);
            }
        }
        Ok(pending)
    }

    /// Resumes an idle interview: the break does not count as interview time. Returns the
    /// question the expert was last asked.
    pub async fn resume(&self, user: UserId) -> Result<Option<Reply>, EngineError> {
        let Loaded::Session(mut session) = self.store.load(user).await? else {
            return Ok(None);
        };
        session.last_activity = self.clock.now();
        self.store.save(&session).await?;
        Ok(session.last_question().map(|q| Reply {
            text: q.text.clone(),
            stage: session.stage,
            stage_changed: false,
            offline: q.offline,
            fallback: q.fallback,
        }))
    }

    /// Ends the interview early: it moves to wrap_up and the closing question is asked.
    /// Asked again during wrap_up, it finishes the interview at once.
    pub async fn complete(&self, user: UserId) -> Result<Outcome, EngineError> {
        let mut session = match self.store.load(user).await? {
            Loaded::Session(session) if session.finished_at.is_none() => *session,
            Loaded::Session(_) | Loaded::Nothing => return Ok(Outcome::NoInterview),
            Loaded::Quarantined { .. } => return Ok(Outcome::Quarantined),
        };
        if session.stage == Stage::WrapUp {
            return self.finish(session, None).await;
        }
        let now = self.clock.now();
        session.touch(now);
        session.stage = Stage::WrapUp;
        session.wrap_up_requested = true;
        tracing::info!(%user, "the expert asked to finish early");
        self.take_turn(
            &mut session,
            Some(Directive::FinishEarly),
            std::future::pending(),
        )
        .await
    }

    /// Records that the interviewer message at `index` of interview `session` reached the
    /// expert. Returns whether it was found (an interview reset meanwhile has moved on).
    pub async fn mark_delivered(
        &self,
        user: UserId,
        session: u32,
        index: usize,
    ) -> Result<bool, EngineError> {
        let Loaded::Session(mut current) = self.store.load(user).await? else {
            return Ok(false);
        };
        if current.id != session {
            return Ok(false);
        }
        match current.transcript.get_mut(index) {
            Some(entry) if entry.role == super::Role::Interviewer => {
                if !entry.delivered {
                    entry.delivered = true;
                    self.store.save(&current).await?;
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Moves an ended interview whose report is settled (confirmed, or revised after the
    /// expert's correction) from the active files to `completed/`, beside its report. The front
    /// end calls it once everything is delivered. Returns whether there was one.
    pub async fn retire_finished(&self, user: UserId) -> Result<bool, EngineError> {
        match self.store.load(user).await? {
            Loaded::Session(session) if session.ending() == Ending::Done => {
                self.store.retire(&session, Folder::Completed, &[]).await?;
                tracing::info!(%user, session = session.id, "completed interview archived");
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Moves the user's interview out of the active files before a new one: an interview in
    /// progress to `archive/`, an ended one to `completed/` beside its report (made without
    /// Claude if it was still due).
    async fn set_aside(&self, mut old: Session) -> Result<(), EngineError> {
        if old.finished_at.is_none() {
            self.store.retire(&old, Folder::Archive, &[]).await?;
            return Ok(());
        }
        if old.ending() == Ending::ReportDue {
            self.publish(&mut old).await?;
        }
        self.store.retire(&old, Folder::Completed, &[]).await?;
        tracing::info!(user = %old.user, session = old.id, "ended interview archived before a new one");
        Ok(())
    }

    /// Switches the language of the interview in progress. Returns whether there was one.
    pub async fn set_language(&self, user: UserId, language: Lang) -> Result<bool, EngineError> {
        let Loaded::Session(mut session) = self.store.load(user).await? else {
            return Ok(false);
        };
        if session.language != language {
            session.language = language;
            self.store.save(&session).await?;
        }
        Ok(true)
    }

    /// Archives the interview in progress (nothing is deleted; an ended one goes to
    /// `completed/`). Returns whether there was one.
    pub async fn reset(&self, user: UserId) -> Result<bool, EngineError> {
        match self.store.load(user).await? {
            Loaded::Session(session) => {
                let id = session.id;
                self.set_aside(*session).await?;
                tracing::info!(%user, session = id, "interview archived by reset");
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Erases every file of the user. Returns how many were removed.
    pub async fn delete(&self, user: UserId) -> Result<usize, EngineError> {
        let removed = self.store.delete_user(user).await?;
        tracing::info!(%user, removed, "user data erased");
        Ok(removed)
    }

    /// Asks for the next interviewer message, applies it and saves the session.
    async fn take_turn(
        &self,
        session: &mut Session,
        directive: Option<Directive>,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        context::fold(session, &self.config.limits);
        let stage_before = session.stage;
        let now = self.clock.now();
        let online = match &self.claude {
            Some(claude) => {
                let system = self.prompts.system_prompt(session.style, session.language);
                let note = context::note(session, now, directive);
                let request = context::request(session, system, note);
                let started = Instant::now();
                tokio::select! {
                    result = claude.turn(&request) => match result {
                        Ok(reply) => {
                            tracing::info!(user = %session.user, stage = %session.stage,
                                elapsed_ms = started.elapsed().as_millis() as u64,
                                repaired = reply.repaired, "turn received");
                            self.metrics.claude_call(&self.config.model, CallOutcome::Success,
                                started.elapsed(), reply.usage);
                            Ok(reply)
                        }
                        Err(error) => {
                            let reason = error.fallback();
                            tracing::warn!(user = %session.user, stage = %session.stage, %error,
                                fallback = %reason, "no turn from Claude; asking from the offline bank");
                            self.metrics.claude_call(&self.config.model, CallOutcome::Failure,
                                started.elapsed(), error.usage());
                            if let Ok(reason) = FallbackReason::try_from(reason) {
                                self.metrics.turn_fell_back(reason);
                            }
                            // Unusable replies were billed all the same.
                            session.usage.add_tokens(error.usage());
                            Err(reason)
                        }
                    },
                    () = interrupt => {
                        tracing::info!(user = %session.user, "turn superseded by newer input");
                        return Ok(Outcome::Superseded);
                    }
                }
            }
            None => Err(Fallback::NoModel),
        };
        let now = self.clock.now();
        // The offline bank asks nothing when it ends the interview; the model always replies.
        let (ends, asked) = match online {
            Ok(reply) => (self.apply_turn(session, reply, now), true),
            Err(reason) => {
                let ends = self.apply_offline(session, reason, now);
                (ends, !ends)
            }
        };
        let reply = asked.then(|| {
            let last = session
                .transcript
                .last()
                .expect("a question was just recorded");
            Reply {
                text: last.text.clone(),
                stage: session.stage,
                // Finishing early moves to wrap_up before the turn: that is a change too.
                stage_changed: session.stage != stage_before
                    || directive == Some(Directive::FinishEarly),
                offline: last.offline,
                fallback: last.fallback,
            }
        });
        if ends {
            return self.finish(session.clone(), reply).await;
        }
        self.store.save(session).await?;
        Ok(Outcome::Reply(reply.expect("a question was asked")))
    }

    /// Applies a model turn. Returns whether the interview ends with it.
    fn apply_turn(&self, session: &mut Session, reply: TurnReply, now: DateTime<Utc>) -> bool {
        let TurnReply { turn, usage, .. } = reply;
        let Turn {
            interview_stage,
            response,
            metadata,
            internal_tracking,
        } = turn;
        let before = session.stage;
        session.usage.record(usage);
        // The insights come from the answer just given, in the stage it was given in.
        let answered_in = session.pending().map_or(before, |e| e.stage);
        let record = session.record_mut(answered_in);
        record.insights.extend(
            internal_tracking
                .key_insights
                .into_iter()
                .filter(|i| !i.trim().is_empty()),
        );
        // A reading the model left out keeps the stage's earlier one.
        let read = |record: &mut super::StageRecord| {
            if let Some(completeness) = metadata.completeness {
                record.completeness = completeness;
            }
            if let Some(examples) = internal_tracking.examples_collected {
                record.examples = examples;
            }
        };
        match before.transition_to(interview_stage) {
            Transition::Stay => read(session.record_mut(before)),
            Transition::Advance(next) => {
                tracing::info!(user = %session.user, from = %before, to = %next, "stage advanced");
                // Moving on closes the stage: the turn's completeness is the new stage's.
                session.record_mut(before).completeness = 100;
                session.touch(now);
                session.stage = next;
                read(session.record_mut(next));
            }
            Transition::Refused { proposed } => {
                tracing::warn!(user = %session.user, current = %before, %proposed, "stage proposal refused");
            }
        }
        session.last_reading = Some(super::session::LastReading {
            question_depth: metadata.question_depth,
            engagement_level: metadata.engagement_level.as_str().to_owned(),
            estimated_time_remaining: metadata.estimated_time_remaining,
            follow_up_needed: internal_tracking.follow_up_needed,
            conversation_quality: internal_tracking.conversation_quality,
        });
        tracing::debug!(user = %session.user, response = %response, "interviewer reply");
        session.push_question(response, false, now);
        // Only a reply that completes wrap_up ends the interview: a reply that is still a
        // question must be answered first, whatever the model's other flags say.
        before == Stage::WrapUp
            && session.stage == Stage::WrapUp
            && (metadata.completeness.is_some_and(|c| c >= 100) || self.wrap_up_overrun(session))
    }

    fn wrap_up_overrun(&self, session: &Session) -> bool {
        let spent = Duration::from_secs(session.record(Stage::WrapUp).active_secs);
        spent > Stage::WrapUp.budget() * WRAP_UP_HARD_LIMIT
    }

    /// Asks the next unasked bank question, moving to the next stage when the current one's
    /// questions are used up, and records why the model did not write it. Returns whether the
    /// interview ends (wrap_up used up).
    fn apply_offline(&self, session: &mut Session, reason: Fallback, now: DateTime<Utc>) -> bool {
        let lang = session.language;
        loop {
            let stage = session.stage;
            let total = self.bank.len(lang, stage);
            let record = session.record_mut(stage);
            let asked = record.bank_asked;
            if asked < total {
                if asked > 0 {
                    record.completeness = record.completeness.max((asked * 100 / total) as u8);
                }
                record.bank_asked += 1;
                let question = self
                    .bank
                    .get(lang, stage, asked)
                    .expect("index below len")
                    .to_owned();
                session.usage.record_offline(reason);
                session.push_fallback_question(question, reason, now);
                return false;
            }
            record.completeness = 100;
            match stage.next() {
                Some(next) => {
                    session.touch(now);
                    session.stage = next;
                }
                None => return true,
            }
        }
    }

    /// Counts what one writing request (a stage summary, the report) cost: into the session's
    /// usage, the operator's metrics, and, once the interview has ended, its completed cost.
    /// Asks Claude for a structured piece of writing (a stage summary, the report); its tokens
    /// and time are counted whatever the outcome.
    async fn write_counted(
        &self,
        claude: &Arc<dyn Model>,
        session: &mut Session,
        request: &WriteRequest<'_>,
    ) -> Result<Written, LlmError> {
        let started = Instant::now();
        let result = claude.write(request).await;
        match &result {
            Ok(written) => self.spent(session, written.usage, CallOutcome::Success, started),
            Err(error) => self.spent(session, error.usage(), CallOutcome::Failure, started),
        }
        result
    }

    fn spent(
        &self,
        session: &mut Session,
        usage: crate::llm::wire::Usage,
        outcome: CallOutcome,
        started: Instant,
    ) {
        session.usage.add_tokens(usage);
        self.metrics
            .claude_call(&self.config.model, outcome, started.elapsed(), usage);
        if session.finished_at.is_some() {
            self.metrics
                .completed_interview_spent(&self.config.model, usage);
        }
    }

    /// Ends the interview: marks the session ended and saves it. The report is written next
    /// ([`Engine::write_report`]), so the closing words reach the expert without waiting for
    /// it; the session file stays until the report is settled and delivered and the front end
    /// calls [`Engine::retire_finished`], so a crash in between loses nothing.
    async fn finish(
        &self,
        mut session: Session,
        closing: Option<Reply>,
    ) -> Result<Outcome, EngineError> {
        let now = self.clock.now();
        session.touch(now);
        session.finished_at = Some(now);
        session.record_mut(Stage::WrapUp).completeness = 100;
        self.store.save(&session).await?;
        let usage = session.usage;
        self.metrics
            .interview_completed(&self.config.model, usage.tokens());
        tracing::info!(user = %session.user, session = session.id, answers = session.answers(),
            minutes = session.active_time().as_secs() / 60, online_turns = usage.online_turns,
            offline_turns = usage.offline_turns, "interview completed");
        Ok(Outcome::Finished(Box::new(Finished {
            session: session.id,
            closing,
            language: session.language,
        })))
    }
}
