//! The chat worker: one task per active chat, the only place that changes the chat's state.
//!
//! It takes the chat's events in arrival order: what the user did (text, voice notes, buttons,
//! commands) and what became of the messages it sent. It runs the engine and the voice
//! pipeline, writes the dialogue state and the outbox, and hands messages to the [`Sender`].
//! While work runs (a turn, the first question, the wrap-up, a transcription), it keeps
//! listening: button presses are answered at once, text or a voice note interrupts a turn so
//! quick messages join into one answer, anything else waits its turn.
//!
//! Durability, step by step: an update's effect is saved with its id (the chat record's
//! `seen`, or the session's `last_input` for answers) before the next update is taken, and
//! a message is saved (in the record's outbox, or in the transcript) before it is sent. The
//! updates behind the chat's work are marked handled in the inbox only once everything they
//! caused has reached Telegram, so after a crash they come back, are recognised, and the work
//! left undone is picked up: an unanswered answer is answered, an undelivered reply is sent,
//! an ended interview's report is written or sent.

mod answers;
mod commands;
mod delivery;
mod ending;
pub mod limits;
mod presses;
mod setup;
mod voice;

use self::delivery::Flush;

use std::{
    collections::{HashSet, VecDeque},
    future::Future,
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use teloxide::types::{ChatAction, ChatId};
use tokio::{sync::mpsc, time::Instant};

use self::limits::TurnLimiter;
use super::{
    access::Access,
    command::Command,
    event::{Event, Incoming, Input},
    files::Files,
    inbox::Inbox,
    outbox::{Body, Key},
    profile::Profile,
    record::ChatRecord,
    sender::Sender,
    sent::SentLog,
    state::ChatState,
    typing::Typing,
};
use crate::{
    i18n::{Lang, Msg},
    interview::{
        Engine, EngineError, ReportDone, SessionOwner, Stage, SummariesDone, TurnDone, UserId,
    },
    llm::PriceTable,
    metrics::{ErrorKind, Metrics},
    store::StoreError,
    voice::{Transcriber, Transcript},
};

/// What every chat worker is built with.
#[derive(Debug)]
pub struct Deps {
    /// The interview engine.
    pub engine: Arc<Engine>,
    /// Where messages go.
    pub sender: Sender,
    /// The durable inbox, to mark updates handled.
    pub inbox: Inbox,
    /// The log of messages Telegram accepted.
    pub sent: SentLog,
    /// The allow list and operators.
    pub access: Arc<Access>,
    /// `DEFAULT_LANGUAGE`.
    pub default_language: Lang,
    /// Turns a user may start per window (`RATE_LIMIT_MESSAGES`).
    pub turns_per_window: u32,
    /// The rate limit's window (`RATE_LIMIT_WINDOW_SECONDS`).
    pub turn_window: Duration,
    /// How long a worker with nothing to do stays before it ends.
    pub idle_after: Duration,
    /// What the operator watches (the engine's handle).
    pub metrics: Metrics,
    /// What tokens cost, for `/metrics`.
    pub prices: PriceTable,
    /// `ADMIN_USER_IDS`: who may read `/metrics`.
    pub admins: Vec<u64>,
    /// The notice the expert accepts with 🚀 Begin.
    pub consent: super::consent::ConsentConfig,
    /// `DRAFTS`: questions shown while they are written, in private chats.
    pub drafts: bool,
    /// The voice pipeline, shared by every chat.
    pub voice: Arc<Transcriber>,
    /// Downloads what users send.
    pub files: Files,
    /// Issues the desk's sign-in links for `/desk`, when the desk is served.
    pub desk: Option<crate::login::Issuer>,
}

/// How a worker leaves: whoever started it removes it, but only if no event waits for it, so
/// no event is ever sent to a worker that is gone. The router is the product's.
pub trait Retire: Send + Sync {
    /// Removes `chat`'s worker if `events` is empty; returns whether it may end.
    fn retire(&self, chat: ChatId, events: &mpsc::UnboundedReceiver<Event>) -> bool;
}

/// Why handling an event failed: storage. The user is told to try again; the log gets this.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The engine failed (storage).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The chat record or the profile could not be saved.
    #[error("chat storage: {0}")]
    Store(#[from] StoreError),
}

impl WorkerError {
    /// Whether a write found the chat's claim taken by another replica.
    fn is_fenced(&self) -> bool {
        matches!(
            self,
            WorkerError::Store(StoreError::Fenced { .. })
                | WorkerError::Engine(EngineError::Store(StoreError::Fenced { .. }))
        )
    }
}

/// The result of a worker step.
type Step = Result<(), WorkerError>;

/// What the engine is doing for the chat.
struct Op {
    /// The work. (In a mutex only so the worker is `Sync` and its own methods may hold `&self`
    /// across an await; it is only ever reached through `&mut`, never locked.)
    future: std::sync::Mutex<Pin<Box<dyn Future<Output = Done> + Send>>>,
    /// Resolving it abandons a turn's model call (newer text arrived); `None` when the work
    /// cannot be interrupted.
    interrupt: Option<tokio::sync::oneshot::Sender<()>>,
    /// The typing indicator while it runs; `None` for work the expert is not waiting for
    /// (a stage summary), until they send something that has to wait for it.
    typing: Option<Typing>,
}

/// What the engine's work came to. Work that waited for Claude hands back its result, which
/// the worker applies to the session as it is now (news may have come in meanwhile: a
/// delivery report, a transcript) and saves once.
enum Done {
    /// A turn: the model's answer, and the text it answers (kept if the session turns out
    /// idle).
    Turn {
        done: TurnDone,
        text: Option<(String, Option<u32>)>,
        /// A command whose effect this turn is: recorded as seen once the turn is saved.
        command: Option<u32>,
    },
    /// The first question of a new interview.
    Begun {
        done: TurnDone,
        update: u32,
        /// An unreadable session file was set aside: the user is told.
        quarantined: bool,
    },
    /// A voice note's transcription (the update that brought it).
    Voice {
        update: u32,
        result: Result<Transcript, voice::VoiceFailure>,
    },
    /// Summaries of the stages that ended.
    Summaries { done: SummariesDone },
    /// The report, or its revision after the correction sent in `update`.
    Report {
        done: ReportDone,
        update: Option<u32>,
    },
}

/// One chat's worker.
pub struct ChatWorker {
    /// The (private) chat, which is also the user's id.
    chat: ChatId,
    /// The user.
    user: UserId,
    /// Shared parts.
    deps: Arc<Deps>,
    /// This chat's events.
    events: mpsc::UnboundedReceiver<Event>,
    /// This chat's queue, for the worker's own news (a transcription's progress); weak, so the
    /// queue still closes once the router lets it go.
    own: mpsc::WeakUnboundedSender<Event>,
    /// To leave when quiet.
    retire: Arc<dyn Retire>,
    /// The dialogue state and outbox, as saved.
    record: ChatRecord,
    /// The user's interview, loaded once: the worker is its only writer.
    owner: SessionOwner,
    /// The interview in memory is the one saved. Not so before the first load, or after a
    /// step failed half-way: it is loaded again before the next step.
    loaded: bool,
    /// The language to speak.
    lang: Lang,
    /// The user chose the language (else it follows their client's).
    language_chosen: bool,
    /// The engine's work in progress.
    op: Option<Op>,
    /// Events that arrived while the engine worked, to take afterwards.
    deferred: VecDeque<Incoming>,
    /// Presses on a message whose delivery report has not come back yet (the user can press
    /// as soon as Telegram shows it): taken once its id is known.
    parked: Vec<Incoming>,
    /// Updates whose consequences are not all delivered yet.
    waiting: Vec<u32>,
    /// Messages handed to the sender and not yet reported back.
    in_flight: HashSet<Key>,
    /// The per-user rate limit.
    turns: TurnLimiter,
    /// When a held answer may be taken.
    wake: Option<Instant>,
    /// The user was told their answer waits for the rate limit.
    told_limited: bool,
    /// The last command taken, when, and the state it left: a repeat of it while the chat is
    /// still in the same kind of state gets no second answer.
    last_command: Option<(Command, Instant, ChatState)>,
    /// Shutdown: stop once the work in hand is done.
    stopping: bool,
}

/// A repeated command within this time, with nothing changed since, gets no second answer.
const REPEAT_WINDOW: Duration = Duration::from_secs(10);

impl Op {
    /// Work in progress, interruptible by `interrupt` if given.
    fn new(
        future: impl Future<Output = Done> + Send + 'static,
        interrupt: Option<tokio::sync::oneshot::Sender<()>>,
        typing: Typing,
    ) -> Op {
        Op {
            future: std::sync::Mutex::new(Box::pin(future)),
            interrupt,
            typing: Some(typing),
        }
    }

    /// Work the expert is not waiting for: no typing indicator, not interrupted.
    fn background(future: impl Future<Output = Done> + Send + 'static) -> Op {
        Op {
            future: std::sync::Mutex::new(Box::pin(future)),
            interrupt: None,
            typing: None,
        }
    }
}

impl ChatWorker {
    /// A worker for `chat`, taking `events` (which `own` sends to) and leaving through `retire`.
    pub fn new(
        chat: ChatId,
        deps: Arc<Deps>,
        events: mpsc::UnboundedReceiver<Event>,
        own: mpsc::WeakUnboundedSender<Event>,
        retire: Arc<dyn Retire>,
    ) -> Self {
        let turns = TurnLimiter::new(deps.turns_per_window, deps.turn_window);
        let lang = deps.default_language;
        ChatWorker {
            chat,
            user: UserId(u64::try_from(chat.0).unwrap_or_default()),
            deps,
            events,
            own,
            retire,
            record: ChatRecord::default(),
            owner: SessionOwner::empty(UserId(u64::try_from(chat.0).unwrap_or_default())),
            loaded: false,
            lang,
            language_chosen: false,
            op: None,
            deferred: VecDeque::new(),
            parked: Vec::new(),
            waiting: Vec::new(),
            in_flight: HashSet::new(),
            turns,
            wake: None,
            told_limited: false,
            last_command: None,
            stopping: false,
        }
    }

    /// Runs until the chat has been quiet for a while, or shutdown.
    pub async fn run(mut self) {
        if let Err(error) = self.start().await {
            // The event that started the worker gets the user their reply (or their notice
            // that something failed); this is for the log.
            tracing::error!(user = %self.user, %error, "could not load the chat's record");
        }
        loop {
            let idle = self.deps.idle_after;
            let quiet = self.op.is_none()
                && self.wake.is_none()
                && self.in_flight.is_empty()
                && self.deferred.is_empty()
                && self.parked.is_empty();
            let busy = self.op.is_some();
            let next = {
                let ChatWorker {
                    events, op, wake, ..
                } = &mut self;
                tokio::select! {
                    event = events.recv() => match event {
                        Some(event) => Next::Event(event),
                        None => Next::Closed,
                    },
                    done = async {
                        match op.as_mut() {
                            Some(op) => {
                                let future = op.future.get_mut().unwrap_or_else(|e| e.into_inner());
                                future.await
                            }
                            None => std::future::pending().await,
                        }
                    } => Next::Done(done),
                    () = async {
                        match wake {
                            Some(at) if !busy => tokio::time::sleep_until(*at).await,
                            _ => std::future::pending().await,
                        }
                    } => Next::Wake,
                    () = tokio::time::sleep(idle), if quiet => Next::Quiet,
                }
            };
            // A step that fails leaves the chat as it was saved: its changes in memory go.
            let saved = self.record.clone();
            let result = match next {
                Next::Event(Event::Stop) => {
                    self.stopping = true;
                    Ok(())
                }
                Next::Event(event) => self.on_event(event).await,
                Next::Done(done) => {
                    self.op = None;
                    self.on_done(done).await
                }
                Next::Wake => {
                    self.wake = None;
                    self.on_wake().await
                }
                Next::Quiet | Next::Closed => {
                    if self.retire.retire(self.chat, &self.events) {
                        return;
                    }
                    Ok(())
                }
            };
            if let Err(error) = result {
                if error.is_fenced() {
                    return self.hand_over(&error);
                }
                self.record = saved;
                self.failed(error);
            }
            let saved = self.record.clone();
            if let Err(error) = self.take_deferred().await {
                if error.is_fenced() {
                    return self.hand_over(&error);
                }
                self.record = saved;
                self.failed(error);
            }
            self.settle().await;
            // On shutdown, a worker ends once its work in hand is done and what it sent has
            // been reported back (so nothing delivered is sent again after the restart).
            if self.stopping
                && self.op.is_none()
                && self.in_flight.is_empty()
                && self.retire.retire(self.chat, &self.events)
            {
                return;
            }
        }
    }

    /// Loads the chat's record, language and interview, then picks up any work left undone.
    async fn start(&mut self) -> Step {
        let store = self.deps.engine.store();
        self.record = ChatRecord::load(store, self.user).await?;
        if let Some(profile) = Profile::load(store, self.user).await {
            self.lang = profile.language;
            self.language_chosen = true;
        }
        self.load_session().await?;
        self.recover().await
    }

    /// Loads the interview from its file, unless the one in memory is the one saved.
    async fn load_session(&mut self) -> Step {
        if !self.loaded {
            self.owner = SessionOwner::load(&self.deps.engine, self.user).await?;
            self.loaded = true;
        }
        Ok(())
    }

    /// Saves the interview as it is in memory.
    pub(super) async fn save_session(&self) -> Step {
        Ok(self.owner.save(&self.deps.engine).await?)
    }

    async fn on_event(&mut self, event: Event) -> Step {
        self.load_session().await?;
        match event {
            Event::Incoming(incoming) => {
                if self.op.is_some() {
                    self.arrived_while_busy(incoming);
                    return Ok(());
                }
                self.take(incoming).await
            }
            Event::Delivered { key, delivery } => self.delivered(key, delivery).await,
            Event::Voice(progress) => self.voice_progress(progress).await,
            Event::Wake => self.recover().await,
            Event::Stop => Ok(()),
        }
    }

    /// An event arriving while the engine works: text or a voice note interrupts a turn and
    /// joins the answer; a press is answered now and acted on afterwards; anything else waits.
    fn arrived_while_busy(&mut self, mut incoming: Incoming) {
        match &mut incoming.input {
            Input::Text(_) | Input::Voice(_) => {
                let (chat, sender) = (self.chat, self.deps.sender.clone());
                if let Some(op) = self.op.as_mut() {
                    if let Some(interrupt) = op.interrupt.take() {
                        let _ = interrupt.send(());
                    }
                    // The expert now waits for background work to end: show it.
                    if op.typing.is_none() {
                        op.typing = Some(Typing::start(&sender, chat, ChatAction::Typing));
                    }
                }
            }
            Input::Press(press) => {
                let live = self.is_live(press);
                match live {
                    true => self.answer_press(press),
                    false => self.answer_stale_press(press),
                }
            }
            _ => {}
        }
        self.deferred.push_back(incoming);
    }

    /// Takes what the user did, with the chat idle.
    async fn take(&mut self, mut incoming: Incoming) -> Step {
        self.waiting.push(incoming.update);
        if self.record.blocked {
            // They are back: what waited for them goes first.
            self.record.blocked = false;
            self.save().await?;
            self.flush(Flush::Everything).await?;
        }
        if !self.language_chosen
            && let Some(lang) = incoming
                .person
                .language_code
                .as_deref()
                .and_then(Lang::from_code)
        {
            self.lang = lang;
        }
        if let Input::Press(press) = &mut incoming.input
            && press.message.is_some()
            && self.record.dialogue.prompt().is_none()
            && self.prompt_in_flight()
        {
            // Answered now, acted on once the prompt's delivery report names its message.
            self.answer_press(press);
            self.parked.push(incoming);
            return Ok(());
        }
        // An answer's effect is saved with its id in the session, everything else in the
        // chat record: either says the update was handled before a restart handed it back.
        let answered = self
            .owner
            .session()
            .is_some_and(|s| s.has_input(u64::from(incoming.update)));
        if self.record.has_seen(incoming.update) || answered {
            tracing::info!(user = %self.user, update = incoming.update, "update already handled");
            return self.recover().await;
        }
        tracing::debug!(user = %self.user, update = incoming.update, "update taken");
        match incoming.input {
            Input::Command(command) => self.command(command, &incoming).await,
            Input::Invite(code) => {
                self.invite(&code, &incoming.person.first_name, incoming.update)
                    .await
            }
            Input::UnknownCommand => self.notice(Msg::UnknownCommand, incoming.update).await,
            Input::Text(text) => self.text(text, incoming.update).await,
            Input::Press(press) => self.press(press, &incoming.person, incoming.update).await,
            Input::Voice(voice) => self.voice(voice, incoming.update).await,
            Input::Unsupported => self.notice(Msg::UnsupportedMessage, incoming.update).await,
        }
    }

    /// Whether a message that will hold the state's buttons is on its way to Telegram.
    fn prompt_in_flight(&self) -> bool {
        self.record
            .outbox
            .iter()
            .any(|o| o.prompt && self.in_flight.contains(&Key::Outbox(o.id)))
    }

    /// Presses that waited for a prompt's delivery go back in line once it is settled.
    fn unpark(&mut self) {
        if !self.parked.is_empty() && !self.prompt_in_flight() {
            for incoming in self.parked.drain(..).rev() {
                self.deferred.push_front(incoming);
            }
        }
    }

    /// Takes the events that waited for the engine, until one starts new work.
    async fn take_deferred(&mut self) -> Step {
        self.unpark();
        while self.op.is_none() {
            let Some(incoming) = self.deferred.pop_front() else {
                break;
            };
            self.take(incoming).await?;
        }
        Ok(())
    }

    /// The wake timer went off: a held answer may be taken, or the report retried.
    async fn on_wake(&mut self) -> Step {
        self.load_session().await?;
        match self.owner.session() {
            Some(session) if session.finished_at.is_some() => self.close().await,
            Some(session) if session.pending().is_some() => self.take_held().await,
            _ => Ok(()),
        }
    }

    /// Picks up work left undone: a voice note not yet transcribed, an ended interview's
    /// report, an unanswered answer, undelivered messages.
    async fn recover(&mut self) -> Step {
        if self.op.is_some() {
            return Ok(());
        }
        if let Some(job) = self.record.voice.clone() {
            self.flush(Flush::Everything).await?;
            self.start_voice(job);
            return Ok(());
        }
        if let Some(session) = self.owner.session() {
            if session.finished_at.is_some() {
                return self.close().await;
            }
            // A doubtful transcript waits for the user's word: what it would join waits too.
            let confirming = matches!(self.record.dialogue, ChatState::ConfirmingVoice { .. });
            if session.pending().is_some() && self.wake.is_none() && !confirming {
                if self.record.dialogue == ChatState::Idle {
                    self.record.dialogue = ChatState::Interviewing;
                    self.save().await?;
                }
                self.flush(Flush::Everything).await?;
                return self.answer_pending().await;
            }
        }
        self.flush(Flush::Everything).await
    }

    /// Queues a notice and remembers that `update` produced it.
    async fn notice(&mut self, msg: Msg, update: u32) -> Step {
        let text = self.text_of(&msg);
        self.say(Body::text(text), update).await
    }

    /// Queues `body` (saved first) for `update`.
    async fn say(&mut self, body: Body, update: u32) -> Step {
        self.record.push(body);
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// Ends the worker without a word: another replica runs the chat now (a write found the
    /// claim taken), and handles what this one had not finished. Nothing more is sent from here.
    fn hand_over(&mut self, error: &WorkerError) {
        tracing::warn!(user = %self.user, %error, "the chat went to another replica: this worker ends");
        self.events.close();
        while self.events.try_recv().is_ok() {}
        self.retire.retire(self.chat, &self.events);
    }

    /// Logs a failure and tells the user, in their language, to try again. The message is
    /// not saved (saving is what failed), and nothing the user sent is lost: the update stays
    /// unhandled and comes back after a restart.
    fn failed(&mut self, error: WorkerError) {
        tracing::error!(user = %self.user, %error, "could not handle an update");
        // What changed in memory may not be saved: the interview is read again before the
        // next step.
        self.loaded = false;
        self.deps.metrics.error(ErrorKind::Storage);
        let text = self.text_of(&Msg::InternalError);
        self.deps
            .sender
            .send(self.chat, Key::Unsaved, Body::text(text));
        self.waiting.clear();
    }

    /// The text of `msg` in the chat's language.
    fn text_of(&self, msg: &Msg) -> String {
        self.deps.engine.catalog().text(self.lang, msg)
    }

    /// "Stage 3/9 · The essence of the work".
    fn stage_title(&self, stage: Stage) -> String {
        self.text_of(&Msg::StageHeader {
            number: stage.number(),
            total: Stage::COUNT,
            stage: self.text_of(&Msg::stage(stage)),
        })
    }
}

/// What woke the worker.
enum Next {
    Event(Event),
    Done(Done),
    Wake,
    Quiet,
    Closed,
}
