//! The turn engine: takes an expert's answer, asks Claude (or the offline bank) for the next
//! question, applies the stage rules, and hands the reply back.
//!
//! The engine never loads or saves a session behind its owner's back. One task owns each
//! user's session (the chat's worker, the console: see [`SessionOwner`]); it loads it once and
//! is the only one to save it. Operations that need no model take the session (`&mut Session`)
//! and say what happened. Work that waits for Claude is split in three, so that nothing saves
//! a copy taken before the wait: a job built from the session as it is ([`TurnJob`],
//! [`SummariesJob`], [`ReportJob`]), the call, which holds a copy and no session, and an
//! `apply_*` step that brings the result into the session as it has become meanwhile (a
//! delivery report, a language change may have come in), after which the owner saves once.
//!
//! When a stage ends, its summary is written (`summaries`); when the interview ends, its
//! report, then checked by the expert (`ending`).
//!
//! The engine knows nothing of Telegram: the bot and the console drive it alike.

mod ending;
mod owner;
mod studies;
mod summaries;

pub use ending::{REPORT_GIVE_UP, ReportDone, ReportJob};
pub use owner::SessionOwner;
pub use studies::StudyOverview;
pub use summaries::{SummariesDone, SummariesJob};

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
    offline,
    outcome::{Finished, Outcome, Rejection, Reply},
    stage::Transition,
    turn::{InterviewModel, Turn, TurnReply, WriteRequest},
};
use crate::{
    i18n::{Catalog, Lang},
    llm::{Fallback, LlmError, Model, Partial, Price, Written, wire::Usage},
    metrics::{CallOutcome, FallbackReason, Metrics},
    model::Work,
    store::{Folder, InterviewStore, Loaded, Storage, StoreError, StudyRecords},
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

/// The interview engine, shared by every front end and task. A clone shares the store, the
/// model, the counters and the synthesis lock: the desk keeps one to run its studies' actions.
#[derive(Clone)]
pub struct Engine {
    /// Where sessions and the per-user records live.
    store: Arc<dyn InterviewStore>,
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
    /// The studies.
    studies: Arc<dyn StudyRecords>,
    /// Held by the study synthesis in progress: runs take turns.
    synthesis_lock: Arc<tokio::sync::Mutex<()>>,
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
    /// An engine over its parts, keeping its state in `storage`.
    pub fn new(
        storage: &Storage,
        claude: Option<Arc<dyn Model>>,
        prompts: super::Prompts,
        catalog: Arc<Catalog>,
        bank: QuestionBank,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Self {
        let metrics = Metrics::unpersisted(clock.clone());
        Engine {
            studies: storage.studies().clone(),
            synthesis_lock: Arc::default(),
            store: storage.interviews().clone(),
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

    /// The interviews and the per-user records.
    pub fn store(&self) -> &dyn InterviewStore {
        self.store.as_ref()
    }

    /// The same store, shared: for a follower that outlives a call (the desk's index).
    pub fn shared_store(&self) -> &Arc<dyn InterviewStore> {
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

    /// Loads the user's interview in progress, reporting a quarantined file. The one task that
    /// owns the user's session (their chat's worker, the console) calls it once and keeps what
    /// it found: see [`SessionOwner`].
    pub async fn load(&self, user: UserId) -> Result<Loaded, EngineError> {
        Ok(self.store.load(user).await?)
    }

    /// A new interview, in memory: its first question is asked by [`Engine::opening_turn`],
    /// and its owner saves it once that is applied.
    pub fn open(&self, user: UserId, language: Lang, style: Style) -> Session {
        let session = Session::new(rand::random(), user, language, style, self.clock.now());
        tracing::info!(%user, %language, %style, session = session.id, "interview begins");
        session
    }

    /// Checks an answer and records it in `session` (the caller saves it before asking for
    /// the next question), or says why it was not taken. An input already in the transcript
    /// (a Telegram update redelivered after a crash) is [`Outcome::Duplicate`].
    pub fn take_answer(
        &self,
        session: Option<&mut Session>,
        answer: Answer<'_>,
    ) -> Result<(), Outcome> {
        let text = self.checked(answer.text).map_err(Outcome::Rejected)?;
        let session = match session {
            Some(session) if session.finished_at.is_none() => session,
            _ => return Err(Outcome::NoInterview),
        };
        if answer.input.is_some_and(|id| session.has_input(id)) {
            return Err(Outcome::Duplicate);
        }
        let now = self.clock.now();
        let idle_for = session.idle_for(now);
        if session.pending().is_none() && idle_for > self.config.session_timeout {
            return Err(Outcome::Idle {
                session: session.id,
                stage: session.stage,
                idle_for,
                language: session.language,
            });
        }
        match answer.voice {
            Some(clip) => session.push_voice_answer(text, clip, now),
            None => session.push_answer(text, now),
        }
        if answer.input.is_some() {
            session.last_input = answer.input.max(session.last_input);
        }
        tracing::debug!(user = %session.user, answer = text, "answer taken");
        Ok(())
    }

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

    /// The first question of a new interview ([`Engine::open`]).
    pub fn opening_turn(&self, session: &Session) -> TurnJob {
        self.metrics.interview_started();
        self.turn_job(session, Some(Directive::Opening))
    }

    /// The turn that answers the expert's saved but unanswered message, if there is one (the
    /// answer just taken, one held for the rate limit, or one left by a restart).
    pub fn next_turn(&self, session: Option<&Session>) -> Option<TurnJob> {
        let session = session.filter(|s| s.pending().is_some() && s.finished_at.is_none())?;
        Some(self.turn_job(session, None))
    }

    /// Ends the interview early (/complete): it moves to wrap_up and the closing question is
    /// asked ([`Early::Turn`]); asked again during wrap_up, it finishes at once. Either way
    /// `session` has changed and its owner saves it.
    pub fn finish_early(&self, session: Option<&mut Session>) -> Early {
        let Some(session) = session.filter(|s| s.finished_at.is_none()) else {
            return Early::Finished(Outcome::NoInterview);
        };
        if session.stage == Stage::WrapUp {
            return Early::Finished(self.finish(session, None));
        }
        session.touch(self.clock.now());
        session.stage = Stage::WrapUp;
        session.wrap_up_requested = true;
        tracing::info!(user = %session.user, "the expert asked to finish early");
        Early::Turn(self.turn_job(session, Some(Directive::FinishEarly)))
    }

    /// What a turn asks, built from `session` as it is now. The model is asked with
    /// [`Engine::ask`], on this copy, while the owner keeps the session and takes news (a
    /// delivery report) into it; [`Engine::apply_turn`] then applies the answer to the
    /// session as it has become.
    fn turn_job(&self, session: &Session, directive: Option<Directive>) -> TurnJob {
        let request = self.claude.as_ref().map(|_| {
            let mut window = session.clone();
            context::fold(&mut window, &self.config.limits);
            let mut system = self.prompts.system_prompt(session.style, session.language);
            if let Some(plan) = &session.plan {
                system.push_str(&super::study::plan_section(plan));
            }
            let note = context::note(&window, self.clock.now(), directive);
            context::request(&window, system, note)
        });
        TurnJob {
            session: session.id,
            user: session.user,
            stage: session.stage,
            directive,
            request,
            partial: None,
        }
    }

    /// Asks the model for the turn `job` describes. `interrupt` resolving while the model is
    /// thinking abandons the call ([`Outcome::Superseded`] once applied; the answer stays
    /// saved, and the newer input joins it into one turn). Model failures are not errors: the
    /// offline bank asks instead, when the result is applied.
    pub async fn ask(&self, job: TurnJob, interrupt: impl Future<Output = ()>) -> TurnDone {
        let TurnJob {
            session,
            user,
            stage,
            directive,
            request,
            partial,
        } = job;
        let answer = match (&self.claude, request) {
            (Some(claude), Some(request)) => {
                let started = Instant::now();
                tokio::select! {
                    result = claude.turn(&request, partial.as_ref()) => match result {
                        Ok(reply) => {
                            tracing::info!(%user, %stage,
                                elapsed_ms = started.elapsed().as_millis() as u64,
                                repaired = reply.repaired, "turn received");
                            self.metrics.claude_call(&self.config.model, CallOutcome::Success,
                                started.elapsed(), reply.usage);
                            TurnAnswer::Model(Box::new(reply))
                        }
                        Err(error) => {
                            let reason = error.fallback();
                            tracing::warn!(%user, %stage, %error, fallback = %reason,
                                "no turn from Claude; asking from the offline bank");
                            self.metrics.claude_call(&self.config.model, CallOutcome::Failure,
                                started.elapsed(), error.usage());
                            if let Ok(reason) = FallbackReason::try_from(reason) {
                                self.metrics.turn_fell_back(reason);
                            }
                            // Unusable replies were billed all the same.
                            TurnAnswer::Offline { reason, billed: error.usage() }
                        }
                    },
                    () = interrupt => {
                        tracing::info!(%user, "turn superseded by newer input");
                        TurnAnswer::Superseded
                    }
                }
            }
            _ => TurnAnswer::Offline {
                reason: Fallback::NoModel,
                billed: Default::default(),
            },
        };
        TurnDone {
            session,
            directive,
            answer,
        }
    }

    /// Applies a turn's answer to the session as it is now: records the question (the model's,
    /// or the offline bank's), the stage rules and the cost, and ends the interview when the
    /// turn ends it. The owner saves `session` afterwards (unless the turn was superseded).
    pub fn apply_turn(&self, session: Option<&mut Session>, done: TurnDone) -> Outcome {
        let TurnDone {
            session: id,
            directive,
            answer,
        } = done;
        let Some(session) = session.filter(|s| s.id == id && s.finished_at.is_none()) else {
            // The interview was set aside while the model was thinking.
            return Outcome::NoInterview;
        };
        let online = match answer {
            TurnAnswer::Superseded => return Outcome::Superseded,
            TurnAnswer::Model(reply) => Ok(*reply),
            TurnAnswer::Offline { reason, billed } => {
                session.usage.add_tokens(Work::Turns, billed);
                Err(reason)
            }
        };
        context::fold(session, &self.config.limits);
        let stage_before = session.stage;
        let now = self.clock.now();
        // The offline bank asks nothing when it ends the interview; the model always replies.
        let (ends, asked) = match online {
            Ok(reply) => (self.apply_model_turn(session, reply, now), true),
            Err(reason) => {
                let ends = self.apply_offline(session, reason, now);
                (ends, !ends)
            }
        };
        let reply = session
            .transcript
            .last()
            .filter(|_| asked)
            .map(|last| Reply {
                text: last.text.clone(),
                stage: session.stage,
                // Finishing early moves to wrap_up before the turn: that is a change too.
                stage_changed: session.stage != stage_before
                    || directive == Some(Directive::FinishEarly),
                offline: last.offline,
                fallback: last.fallback,
            });
        match reply {
            Some(reply) if !ends => Outcome::Reply(reply),
            closing => self.finish(session, closing),
        }
    }

    /// Resumes an idle interview: the break does not count as interview time. Returns the
    /// question the expert was last asked. The owner saves `session`.
    pub fn resume(&self, session: &mut Session) -> Option<Reply> {
        session.last_activity = self.clock.now();
        session.last_question().map(|q| Reply {
            text: q.text.clone(),
            stage: session.stage,
            stage_changed: false,
            offline: q.offline,
            fallback: q.fallback,
        })
    }

    /// Records that the interviewer message at `index` of interview `id` reached the expert.
    /// Returns whether `session` changed (and is to be saved): not when the message was
    /// marked already, or the interview has moved on.
    pub fn mark_delivered(&self, session: &mut Session, id: u32, index: usize) -> bool {
        if session.id != id {
            return false;
        }
        match session.transcript.get_mut(index) {
            Some(entry) if entry.role == super::Role::Interviewer && !entry.delivered => {
                entry.delivered = true;
                true
            }
            _ => false,
        }
    }

    /// Switches the language of the interview. Returns whether `session` changed.
    pub fn set_language(&self, session: &mut Session, language: Lang) -> bool {
        let changed = session.language != language;
        session.language = language;
        changed
    }

    /// Moves an ended interview whose report is settled (confirmed, or revised after the
    /// expert's correction) from the active files to `completed/`, beside its report. The front
    /// end calls it once everything is delivered, and forgets its copy when it returns true.
    pub async fn retire_finished(&self, session: &Session) -> Result<bool, EngineError> {
        if session.ending() != Ending::Done {
            return Ok(false);
        }
        self.store.retire(session, Folder::Completed, &[]).await?;
        tracing::info!(user = %session.user, session = session.id, "completed interview archived");
        Ok(true)
    }

    /// Moves the user's interview out of the active files (/reset, or before a new one): an
    /// interview in progress to `archive/`, an ended one to `completed/` beside its report
    /// (made without Claude if it was still due). Nothing is deleted.
    pub async fn set_aside(&self, mut old: Session) -> Result<(), EngineError> {
        if old.finished_at.is_none() {
            self.store.retire(&old, Folder::Archive, &[]).await?;
            tracing::info!(user = %old.user, session = old.id, "interview archived");
            return Ok(());
        }
        if old.ending() == Ending::ReportDue {
            self.publish(&mut old).await?;
        }
        self.store.retire(&old, Folder::Completed, &[]).await?;
        tracing::info!(user = %old.user, session = old.id, "ended interview archived");
        Ok(())
    }

    /// Users whose last message was saved but never answered (read only: each user's chat
    /// worker, woken, answers it from the session it loads).
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

    /// Erases every file of the user. Returns how many were removed.
    pub async fn delete(&self, user: UserId) -> Result<usize, EngineError> {
        let removed = self.store.delete_user(user).await?;
        tracing::info!(%user, removed, "user data erased");
        Ok(removed)
    }

    /// Applies a model turn. Returns whether the interview ends with it.
    fn apply_model_turn(
        &self,
        session: &mut Session,
        reply: TurnReply,
        now: DateTime<Utc>,
    ) -> bool {
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
        session.push_question(response, now);
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

    /// Asks what the offline interviewer asks next: a follow-up to the answer just given (one
    /// probe for a real example, or a read-back of steps or an incident), else the next unasked
    /// bank question in the wording that fits what the expert has told, moving to the next
    /// stage when the current one's questions are used up; and records why the model did not
    /// write it. Returns whether the interview ends (wrap_up used up).
    fn apply_offline(&self, session: &mut Session, reason: Fallback, now: DateTime<Utc>) -> bool {
        if let Some(follow_up) = offline::plan::follow_up(session, &self.bank) {
            session.usage.record_offline(reason);
            session.push_fallback_question(follow_up, reason, now);
            return false;
        }
        let lang = session.language;
        loop {
            let stage = session.stage;
            // A study's added questions come after the stage's own, counted on with them.
            let own = self.bank.len(lang, stage);
            let total = own + super::study::added_count(session.plan.as_ref(), stage);
            let asked = session.record(stage).bank_asked;
            if asked < total {
                let record = session.record_mut(stage);
                if asked > 0 {
                    record.completeness = record.completeness.max((asked * 100 / total) as u8);
                }
                record.bank_asked += 1;
                if asked >= own {
                    let added =
                        super::study::added_question(session.plan.as_ref(), stage, asked - own)
                            .map(str::to_owned);
                    if let Some(question) = added {
                        session.usage.record_offline(reason);
                        session.push_fallback_question(question, reason, now);
                        return false;
                    }
                    continue;
                }
                if offline::plan::skipped(session, asked) {
                    continue;
                }
                // The bank said how many it holds; should it hold fewer, the stage is used up.
                let Some(question) = offline::plan::question(session, &self.bank, asked) else {
                    session.record_mut(stage).bank_asked = total;
                    continue;
                };
                session.usage.record_offline(reason);
                session.push_fallback_question(question, reason, now);
                return false;
            }
            session.record_mut(stage).completeness = 100;
            match stage.next() {
                Some(next) => {
                    session.touch(now);
                    session.stage = next;
                }
                None => return true,
            }
        }
    }

    /// Asks Claude for a structured piece of writing (`work`: a stage summary, the report) for
    /// the interview `session` (a copy); its tokens are counted whatever the outcome: into
    /// `billed`, which is added to the session when the writing is applied, into the
    /// operator's metrics, and, once the interview has ended, into its completed cost.
    async fn write_counted(
        &self,
        claude: &Arc<dyn Model>,
        session: &Session,
        work: Work,
        billed: &mut Vec<(Work, Usage)>,
        request: &WriteRequest<'_>,
    ) -> Result<Written, LlmError> {
        let started = Instant::now();
        let result = claude.write(request).await;
        let (usage, outcome) = match &result {
            Ok(written) => (written.usage, CallOutcome::Success),
            Err(error) => (error.usage(), CallOutcome::Failure),
        };
        billed.push((work, usage));
        self.metrics
            .claude_call(&self.config.model, outcome, started.elapsed(), usage);
        if session.finished_at.is_some() {
            self.metrics
                .completed_interview_spent(&self.config.model, usage);
        }
        result
    }

    /// Ends the interview: marks the session ended (its owner saves it). The report is written
    /// next ([`Engine::report_job`]), so the closing words reach the expert without waiting
    /// for it; the session file stays until the report is settled and delivered and the front
    /// end calls [`Engine::retire_finished`], so a crash in between loses nothing.
    fn finish(&self, session: &mut Session, closing: Option<Reply>) -> Outcome {
        let now = self.clock.now();
        session.touch(now);
        session.finished_at = Some(now);
        session.record_mut(Stage::WrapUp).completeness = 100;
        let usage = session.usage;
        self.metrics
            .interview_completed(&self.config.model, usage.tokens());
        tracing::info!(user = %session.user, session = session.id, answers = session.answers(),
            minutes = session.active_time().as_secs() / 60, online_turns = usage.online_turns,
            offline_turns = usage.offline_turns, "interview completed");
        Outcome::Finished(Box::new(Finished {
            session: session.id,
            closing,
            language: session.language,
        }))
    }
}

/// An answer to take: the expert's text, the input it came with (a Telegram update id, so
/// the same input is never taken twice), and the voice note it was spoken in.
#[derive(Debug, Clone)]
pub struct Answer<'a> {
    /// What the expert wrote (or said).
    pub text: &'a str,
    /// The input's id, if the front end numbers its input.
    pub input: Option<u64>,
    /// The voice note the text was transcribed from.
    pub voice: Option<VoiceClip>,
}

impl<'a> Answer<'a> {
    /// Typed text with no input id (the console).
    pub fn typed(text: &'a str) -> Self {
        Answer {
            text,
            input: None,
            voice: None,
        }
    }

    /// Text that came as input `id`.
    pub fn input(text: &'a str, id: u64) -> Self {
        Answer {
            text,
            input: Some(id),
            voice: None,
        }
    }

    /// The same answer, spoken in the voice note `clip`.
    pub fn spoken(self, clip: VoiceClip) -> Self {
        Answer {
            voice: Some(clip),
            ..self
        }
    }
}

/// A turn to ask the model for: what [`Engine::ask`] needs, built from the session when the
/// turn starts. It holds no session, so the session's owner keeps it and takes news into it
/// while the model thinks.
#[derive(Debug)]
pub struct TurnJob {
    session: u32,
    user: UserId,
    stage: Stage,
    directive: Option<Directive>,
    /// The request; `None` without a model (the offline bank asks).
    request: Option<super::turn::TurnRequest>,
    /// Where the reply shows while it is written, if someone watches.
    partial: Option<Partial>,
}

impl TurnJob {
    /// Whether the model is asked (without one, the offline bank answers at once).
    pub fn asks_model(&self) -> bool {
        self.request.is_some()
    }

    /// The turn's reply streamed into `partial` while the model writes it: its JSON so far,
    /// from which [`super::turn::response_so_far`] reads the question. A turn the offline bank
    /// answers writes nothing there.
    pub fn shown_in(self, partial: Partial) -> TurnJob {
        TurnJob {
            partial: Some(partial),
            ..self
        }
    }
}

/// What [`Engine::ask`] got, for [`Engine::apply_turn`].
#[derive(Debug)]
pub struct TurnDone {
    session: u32,
    directive: Option<Directive>,
    answer: TurnAnswer,
}

#[derive(Debug)]
enum TurnAnswer {
    /// The model's turn.
    Model(Box<TurnReply>),
    /// No usable turn: the offline bank asks; what the failed calls were billed.
    Offline { reason: Fallback, billed: Usage },
    /// Newer input arrived: the answer waits for it.
    Superseded,
}

/// What /complete comes to.
#[derive(Debug)]
pub enum Early {
    /// The interview moved to wrap_up; the closing question is asked by this turn.
    Turn(TurnJob),
    /// Nothing to ask: the interview ended (it was in wrap_up already), or there is none.
    Finished(Outcome),
}
