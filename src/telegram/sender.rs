//! Sending, fairly and within Telegram's limits.
//!
//! Messages (and edits and documents) go through one queue in the order they were decided,
//! across all chats, interview questions ahead of the rest: the expert is waiting for them,
//! while setup messages and notices can take a moment longer when the bot is busy. A chat gets
//! a short burst, then about one message a second; the bot as a whole a short burst, then one
//! message every thirtieth of a second (and never more than thirty in any second), so a
//! question that comes in waits for the next thirtieth, not for the next second. A
//! message whose chat must wait does not hold up the messages of other chats behind it, and a
//! chat's own messages always go out in order, one at a time.
//! Callback answers and chat actions are not messages: they are sent at once, beside the
//! queue. A 429's `retry_after` pauses the chat it was for, and nothing else.
//!
//! Drafts ([`super::drafts`]) come last: a chat's draft goes only when none of its messages
//! waits or is on its way (so a draft never arrives after the message it previews), only the
//! newest draft of a chat is kept, a message queued for the chat drops it, and drafts are sent
//! only while the bot has used less than half of its budget over the last second.
//! They count against that budget like messages, since Telegram's flood limits may.
//!
//! Each message's outcome is reported back to its chat's worker as a [`Delivery`].

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::Duration,
};

use teloxide::{
    ApiError, RequestError,
    prelude::*,
    types::{ChatAction, InputFile, LinkPreviewOptions, MessageId, ParseMode},
};
use tokio::{
    sync::{mpsc, oneshot},
    time::{Instant, sleep_until},
};

use super::{
    drafts::{Drafted, SendMessageDraft},
    html,
    keyboards::Keyboard,
    outbox::{Body, Delivery, Key},
    sent::SentLog,
};

/// Link previews off.
static NO_PREVIEW: LinkPreviewOptions = LinkPreviewOptions {
    is_disabled: true,
    url: None,
    prefer_small_media: false,
    prefer_large_media: false,
    show_above_text: false,
};

/// Messages a private chat may receive in a quick burst before the one-a-second pace applies
/// (a reply split into parts).
const CHAT_BURST: u32 = 3;

/// Messages a second for the whole bot.
const OVERALL_PER_SECOND: u32 = 30;

/// Messages the bot may send at once before its overall pace (one every 1/30 s) applies. Kept
/// small so that the budget is spread over each second: a question that comes in never finds a
/// whole second's sends spent a moment before it.
const OVERALL_BURST: u32 = 3;

/// The longest pause honoured for one 429, whatever `retry_after` says.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The longest wait between attempts while Telegram cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The outcome of one delivery, for the chat's worker.
#[derive(Debug, Clone)]
pub struct Report {
    /// The chat.
    pub chat: ChatId,
    /// Which message.
    pub key: Key,
    /// What became of it.
    pub delivery: Delivery,
}

/// Where reports go.
type Reporter = mpsc::UnboundedSender<Report>;

fn report(reporter: &Reporter, chat: ChatId, key: Key, delivery: Delivery) {
    let _ = reporter.send(Report {
        chat,
        key,
        delivery,
    });
}

/// A message to send.
#[derive(Debug)]
struct Job {
    chat: ChatId,
    key: Key,
    body: Body,
}

/// A draft to show, and who waits to hear what became of it.
#[derive(Debug)]
struct DraftJob {
    chat: ChatId,
    draft: SendMessageDraft,
    outcome: oneshot::Sender<Drafted>,
    /// When the chat's drafts began to wait: a newer draft keeps its older one's place, so
    /// the chats that have waited longest go first when the budget is short.
    waiting_since: Instant,
}

impl DraftJob {
    fn skip(self) {
        let _ = self.outcome.send(Drafted::Skipped);
    }
}

/// What the sending task is given.
#[derive(Debug)]
enum Queued {
    Message(Job),
    Draft(DraftJob),
}

/// This process's part of the bot's budget: all of it alone; with several replicas on one
/// database, an equal share each (`replicas` of them alive), so the deployment as a whole
/// stays within Telegram's 30 a second. A chat runs on one replica at a time, so its own pace
/// holds as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    /// Messages a second.
    per_second: u32,
    /// The steady pace.
    interval: Duration,
    /// How far ahead of its schedule the bot may run (the burst).
    ahead: Duration,
    /// The sends in the last second above which drafts wait: half the budget, so real
    /// messages always find room.
    draft_headroom: usize,
}

impl Budget {
    fn of(replicas: u32) -> Budget {
        let per_second = (OVERALL_PER_SECOND / replicas.max(1)).max(1);
        let burst = OVERALL_BURST.min(per_second);
        Budget {
            per_second,
            interval: Duration::from_nanos(1_000_000_000 / u64::from(per_second)),
            ahead: Duration::from_nanos(
                u64::from(burst - 1) * 1_000_000_000 / u64::from(per_second),
            ),
            draft_headroom: (per_second as usize / 2).max(1),
        }
    }
}

/// The handle every part of the bot sends through. Cheap to clone.
#[derive(Clone)]
pub struct Sender {
    api: Bot,
    queue: mpsc::UnboundedSender<Queued>,
    /// Messages queued and not yet finished with.
    outstanding: tokio::sync::watch::Sender<usize>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Sender {
    /// Starts the sending task; every message Telegram accepts is logged in `sent` at once,
    /// and the outcome of every message comes back as a [`Report`]. `replicas` says how many
    /// processes share the bot's budget (one alone; with several replicas, those alive).
    pub fn start(
        api: Bot,
        sent: SentLog,
        replicas: tokio::sync::watch::Receiver<u32>,
    ) -> (Sender, mpsc::UnboundedReceiver<Report>) {
        let (reporter, reports) = mpsc::unbounded_channel();
        let (queue, jobs) = mpsc::unbounded_channel();
        let (outstanding, _) = tokio::sync::watch::channel(0);
        tokio::spawn(
            Dispatch::new(
                api.clone(),
                reporter,
                sent,
                jobs,
                outstanding.clone(),
                replicas,
            )
            .run(),
        );
        let sender = Sender {
            api,
            queue,
            outstanding,
        };
        (sender, reports)
    }

    /// Queues a message; its outcome is reported for `key`.
    pub fn send(&self, chat: ChatId, key: Key, body: Body) {
        self.outstanding.send_modify(|n| *n += 1);
        if self
            .queue
            .send(Queued::Message(Job { chat, key, body }))
            .is_err()
        {
            self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
            tracing::error!("the sending task has stopped");
        }
    }

    /// Shows `text` as draft `id` in `chat` when the queue allows (see the module's comment),
    /// and says what became of it.
    pub async fn draft(&self, chat: ChatId, id: i32, text: String) -> Drafted {
        let (outcome, drafted) = oneshot::channel();
        let draft = SendMessageDraft {
            chat_id: chat,
            draft_id: id,
            text,
        };
        let job = DraftJob {
            chat,
            draft,
            outcome,
            waiting_since: Instant::now(),
        };
        if self.queue.send(Queued::Draft(job)).is_err() {
            return Drafted::Skipped;
        }
        drafted.await.unwrap_or(Drafted::Skipped)
    }

    /// Waits until every queued message has been sent (or given up on).
    pub async fn idle(&self) {
        let mut watch = self.outstanding.subscribe();
        let _ = watch.wait_for(|n| *n == 0).await;
    }

    /// Answers a button press at once (with a short notice, if any).
    pub fn answer_callback(&self, query: String, text: Option<String>) {
        let api = self.api.clone();
        tokio::spawn(async move {
            let result = retrying(|| {
                let mut request = api.answer_callback_query(query.clone().into());
                if let Some(text) = &text {
                    request = request.text(text.clone());
                }
                request.send()
            })
            .await;
            if let Err(error) = result {
                tracing::debug!(error = %describe(&error), "callback answer failed");
            }
        });
    }

    /// Shows a chat action ("typing…") at once.
    pub fn chat_action(&self, chat: ChatId, action: ChatAction) {
        let api = self.api.clone();
        tokio::spawn(async move {
            if let Err(error) = api.send_chat_action(chat, action).send().await {
                tracing::debug!(error = %describe(&error), "chat action failed");
            }
        });
    }

    /// The Bot API client, for calls that are neither messages nor replies (start-up).
    pub fn api(&self) -> &Bot {
        &self.api
    }
}

/// A steady pace with a short burst, as a "theoretical arrival time": a message may go when
/// the schedule is no more than the burst allowance ahead of now, and each message moves the
/// schedule on by one interval.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// When the next message would be due at exactly the steady pace.
    due: Instant,
}

impl Pace {
    /// When the next message may go, running at most `ahead` in front of the schedule.
    fn ready_at(self, ahead: Duration) -> Instant {
        self.due.checked_sub(ahead).unwrap_or(self.due)
    }

    /// The pace after a message sent `now`, one `interval` apart.
    fn after(pace: Option<Pace>, now: Instant, interval: Duration) -> Pace {
        Pace {
            due: pace.map_or(now, |p| p.due.max(now)) + interval,
        }
    }
}

/// A chat's steady pace: one message a second.
const CHAT_INTERVAL: Duration = Duration::from_secs(1);

/// How far ahead of its schedule a chat may run (the burst).
const CHAT_AHEAD: Duration = Duration::from_secs((CHAT_BURST - 1) as u64);

/// The sending task's state.
struct Dispatch {
    api: Bot,
    reporter: Reporter,
    sent: SentLog,
    jobs: mpsc::UnboundedReceiver<Queued>,
    /// Messages not yet sent, in the order they were queued.
    waiting: VecDeque<Job>,
    /// Each chat's newest draft not yet sent.
    drafts: HashMap<ChatId, DraftJob>,
    /// Chats with a message being sent right now.
    busy: HashSet<ChatId>,
    /// Chats paused by a 429, until when.
    paused: HashMap<ChatId, Instant>,
    /// Each recent chat's pace.
    paces: HashMap<ChatId, Pace>,
    /// The times of the last `OVERALL_PER_SECOND` sends, oldest first.
    recent: VecDeque<Instant>,
    /// The bot's pace over all chats.
    overall: Option<Pace>,
    /// Messages queued and not yet finished with (shared with [`Sender`]).
    outstanding: tokio::sync::watch::Sender<usize>,
    /// How many replicas share the budget.
    replicas: tokio::sync::watch::Receiver<u32>,
}

/// What a finished send tells the dispatcher.
struct Done {
    chat: ChatId,
    after: After,
}

/// How a send ended, for the dispatcher.
enum After {
    /// The message is finished with.
    Sent,
    /// Paused by Telegram until then; the job comes back to the front of the queue.
    Retry(Instant, Job),
    /// A draft went (or not); Telegram may have paused the chat until then.
    Drafted(Option<Instant>),
}

impl Dispatch {
    fn new(
        api: Bot,
        reporter: Reporter,
        sent: SentLog,
        jobs: mpsc::UnboundedReceiver<Queued>,
        outstanding: tokio::sync::watch::Sender<usize>,
        replicas: tokio::sync::watch::Receiver<u32>,
    ) -> Self {
        Dispatch {
            replicas,
            sent,
            outstanding,
            api,
            reporter,
            jobs,
            waiting: VecDeque::new(),
            drafts: HashMap::new(),
            busy: HashSet::new(),
            paused: HashMap::new(),
            paces: HashMap::new(),
            recent: VecDeque::new(),
            overall: None,
        }
    }

    /// This process's part of the budget now.
    fn budget(&self) -> Budget {
        Budget::of(*self.replicas.borrow())
    }

    /// When `chat` may send next (now or earlier means at once).
    fn chat_ready_at(&self, chat: ChatId, now: Instant) -> Instant {
        let paced = self.paces.get(&chat).map(|p| p.ready_at(CHAT_AHEAD));
        let paused = self.paused.get(&chat).copied();
        match (paced, paused) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(now),
        }
    }

    /// When the bot as a whole may send next: at its pace, and within the last second's budget.
    fn overall_ready_at(&self, now: Instant) -> Instant {
        let budget = self.budget();
        let paced = self.overall.map_or(now, |p| p.ready_at(budget.ahead));
        let window = budget.per_second as usize;
        let windowed = if self.recent.len() < window {
            now
        } else {
            // The send `per_second` back from the newest: a second after it, the window has room.
            self.recent[self.recent.len() - window] + Duration::from_secs(1)
        };
        paced.max(windowed)
    }

    fn record_send(&mut self, chat: ChatId, now: Instant) {
        let pace = Pace::after(self.paces.get(&chat).copied(), now, CHAT_INTERVAL);
        self.paces.insert(chat, pace);
        self.record_overall(now);
    }

    /// A send counted against the bot's budget (a message, or a draft).
    fn record_overall(&mut self, now: Instant) {
        let budget = self.budget();
        self.overall = Some(Pace::after(self.overall, now, budget.interval));
        self.recent.push_back(now);
        while self.recent.len() > budget.per_second as usize {
            self.recent.pop_front();
        }
    }

    /// Starts every job that may go now; returns when to look again.
    fn start_ready(&mut self, done: &mpsc::UnboundedSender<Done>) -> Option<Instant> {
        let now = Instant::now();
        self.paused.retain(|_, until| *until > now);
        if self.paces.len() > 4096 {
            self.paces.retain(|_, p| p.due > now);
        }
        let mut next: Option<Instant> = None;
        let mut starting = Vec::new();
        for i in candidates(&self.waiting, &self.busy) {
            let overall = self.overall_ready_at(now);
            if overall > now {
                // The bot's budget is spent for now: every candidate after this one waits too.
                next = Some(next.map_or(overall, |n| n.min(overall)));
                break;
            }
            let chat = self.waiting[i].chat;
            let ready = self.chat_ready_at(chat, now);
            if ready > now {
                next = Some(next.map_or(ready, |n| n.min(ready)));
                continue;
            }
            self.record_send(chat, now);
            starting.push(i);
        }
        // Highest index first, so the indices left to remove stay valid.
        starting.sort_unstable_by(|a, b| b.cmp(a));
        for i in starting {
            let job = self.waiting.remove(i).expect("index in range");
            let chat = job.chat;
            self.busy.insert(chat);
            let api = self.api.clone();
            let reporter = self.reporter.clone();
            let sent = self.sent.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let after = deliver(&api, &reporter, &sent, job).await;
                let _ = done.send(Done { chat, after });
            });
        }
        match self.start_drafts(now, done) {
            Some(at) => Some(next.map_or(at, |n| n.min(at))),
            None => next,
        }
    }

    /// Starts the drafts that may go now: their chat has nothing waiting or on its way, is
    /// not paused, and the bot is well inside its budget. A draft that may not go yet stays
    /// (a newer one replaces it). Returns when to look again for drafts held back by the
    /// budget or a pause; a busy chat's draft is looked at when its send finishes.
    fn start_drafts(
        &mut self,
        now: Instant,
        done: &mpsc::UnboundedSender<Done>,
    ) -> Option<Instant> {
        if self.drafts.is_empty() {
            return None;
        }
        let mut wake = self
            .drafts
            .keys()
            .filter_map(|chat| self.paused.get(chat))
            .min()
            .copied();
        let mut ready: Vec<ChatId> = self
            .drafts
            .keys()
            .filter(|chat| !self.busy.contains(chat) && !self.paused.contains_key(chat))
            .copied()
            .collect();
        ready.retain(|chat| !self.waiting.iter().any(|job| job.chat == *chat));
        ready.sort_by_key(|chat| self.drafts.get(chat).map(|d| d.waiting_since));
        for chat in ready {
            let second = Duration::from_secs(1);
            let recent: Vec<Instant> = self
                .recent
                .iter()
                .filter(|at| now.saturating_duration_since(**at) < second)
                .copied()
                .collect();
            if recent.len() >= self.budget().draft_headroom {
                let at = recent[0] + second;
                return Some(wake.map_or(at, |w| w.min(at)));
            }
            let overall = self.overall_ready_at(now);
            if overall > now {
                return Some(wake.map_or(overall, |w| w.min(overall)));
            }
            let Some(job) = self.drafts.remove(&chat) else {
                continue;
            };
            self.record_overall(now);
            self.busy.insert(chat);
            let api = self.api.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let (drafted, pause) = show_draft(&api, job.draft).await;
                let _ = job.outcome.send(drafted);
                let _ = done.send(Done {
                    chat,
                    after: After::Drafted(pause),
                });
            });
        }
        wake.take()
    }

    async fn run(mut self) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        let mut open = true;
        loop {
            let wake = self.start_ready(&done_tx);
            if !open && self.waiting.is_empty() && self.busy.is_empty() {
                for (_, draft) in self.drafts.drain() {
                    draft.skip();
                }
                return;
            }
            tokio::select! {
                job = self.jobs.recv(), if open => match job {
                    Some(Queued::Message(job)) => {
                        // The message dismisses any draft: one not yet shown never will be.
                        if let Some(draft) = self.drafts.remove(&job.chat) {
                            draft.skip();
                        }
                        self.waiting.push_back(job)
                    }
                    Some(Queued::Draft(mut draft)) => {
                        if let Some(older) = self.drafts.remove(&draft.chat) {
                            draft.waiting_since = older.waiting_since;
                            older.skip();
                        }
                        self.drafts.insert(draft.chat, draft);
                    }
                    None => open = false,
                },
                Some(done) = done_rx.recv() => {
                    self.busy.remove(&done.chat);
                    match done.after {
                        After::Retry(until, job) => {
                            self.paused.insert(done.chat, until);
                            self.waiting.push_front(job);
                        }
                        After::Sent => self.outstanding.send_modify(|n| *n = n.saturating_sub(1)),
                        After::Drafted(pause) => {
                            if let Some(until) = pause {
                                self.paused.insert(done.chat, until);
                            }
                        }
                    }
                }
                () = async {
                    match wake {
                        Some(at) => sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
        }
    }
}

/// Sends one draft, once: a draft that fails is not worth a retry, the next one replaces it.
/// Returns what became of it and, after a 429, until when the chat waits.
async fn show_draft(api: &Bot, draft: SendMessageDraft) -> (Drafted, Option<Instant>) {
    let chat = draft.chat_id;
    match draft.request(api).send().await {
        Ok(_) => (Drafted::Shown, None),
        Err(RequestError::RetryAfter(wait)) => {
            let wait = wait.duration().min(MAX_RETRY_AFTER);
            tracing::debug!(
                chat = chat.0,
                ?wait,
                "Telegram asked to slow down (a draft)"
            );
            (Drafted::Skipped, Some(Instant::now() + wait))
        }
        Err(RequestError::Api(error)) => {
            tracing::info!(chat = chat.0, %error, "Telegram refused a draft");
            (Drafted::Refused, None)
        }
        Err(error) => {
            tracing::debug!(chat = chat.0, error = %describe(&error), "a draft failed");
            (Drafted::Skipped, None)
        }
    }
}

/// Sends one job, retrying network failures; reports the outcome. A 429 hands the job back
/// with the time the chat may send again.
async fn deliver(api: &Bot, reporter: &Reporter, sent: &SentLog, job: Job) -> After {
    let mut backoff = Duration::from_millis(500);
    loop {
        match send_body(api, job.chat, &job.body).await {
            Ok(message) => {
                sent.record(job.chat, job.key, message).await;
                if matches!(job.key, Key::Transcript { .. }) {
                    crate::faults::crash_point("reply-accepted");
                }
                report(reporter, job.chat, job.key, Delivery::Sent(message));
                return After::Sent;
            }
            Err(RequestError::RetryAfter(wait)) => {
                let wait = wait.duration().min(MAX_RETRY_AFTER);
                tracing::warn!(chat = job.chat.0, ?wait, "Telegram asked to slow down");
                return After::Retry(Instant::now() + wait, job);
            }
            Err(RequestError::Api(
                ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::ChatNotFound
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup,
            )) => {
                tracing::info!(
                    chat = job.chat.0,
                    "the user blocked the bot: the message waits"
                );
                report(reporter, job.chat, job.key, Delivery::Blocked);
                return After::Sent;
            }
            Err(RequestError::Api(error)) => {
                tracing::error!(chat = job.chat.0, %error, "Telegram refused a message");
                report(
                    reporter,
                    job.chat,
                    job.key,
                    Delivery::Refused(error.to_string()),
                );
                return After::Sent;
            }
            Err(error) => {
                tracing::warn!(chat = job.chat.0, error = %describe(&error), ?backoff, "sending failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sends a body; returns the id of the (last) message holding it.
async fn send_body(api: &Bot, chat: ChatId, body: &Body) -> Result<Option<i32>, RequestError> {
    match body {
        Body::Text {
            header,
            text,
            keyboard,
        } => send_text(api, chat, header.as_deref(), text, keyboard.as_ref()).await,
        Body::Edit {
            message,
            text,
            keyboard,
        } => {
            let edit = |html: bool| {
                let content = if html {
                    html::escape(text)
                } else {
                    text.clone()
                };
                let mut request = api.edit_message_text(chat, MessageId(*message), content);
                if html {
                    request = request.parse_mode(ParseMode::Html);
                }
                if let Some(keyboard) = keyboard {
                    request = request.reply_markup(keyboard.markup());
                }
                request.send()
            };
            let result = match edit(true).await {
                Err(RequestError::Api(ApiError::CantParseEntities(_))) => edit(false).await,
                other => other,
            };
            match result {
                Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(Some(*message)),
                Err(RequestError::Api(
                    ApiError::MessageToEditNotFound
                    | ApiError::MessageIdInvalid
                    | ApiError::MessageCantBeEdited,
                )) => send_text(api, chat, None, text, keyboard.as_ref()).await,
                Err(error) => Err(error),
            }
        }
        Body::Document {
            name,
            content,
            caption,
        } => {
            let mut request = api.send_document(
                chat,
                InputFile::memory(content.clone().into_bytes()).file_name(name.clone()),
            );
            if let Some(caption) = caption {
                request = request.caption(caption.clone());
            }
            Ok(Some(request.send().await?.id.0))
        }
    }
}

async fn send_text(
    api: &Bot,
    chat: ChatId,
    header: Option<&str>,
    text: &str,
    keyboard: Option<&Keyboard>,
) -> Result<Option<i32>, RequestError> {
    let parts = html::parts(header, text);
    let mut last = None;
    for (i, part) in parts.iter().enumerate() {
        let markup = keyboard.filter(|_| i + 1 == parts.len());
        let message = |content: &str, html: bool| {
            // No link previews, ever: the bot sends nothing that needs one, and a preview
            // fetcher must not open a desk sign-in link (it would spend it).
            let mut request = api
                .send_message(chat, content)
                .link_preview_options(NO_PREVIEW.clone());
            if html {
                request = request.parse_mode(ParseMode::Html);
            }
            if let Some(keyboard) = markup {
                request = request.reply_markup(keyboard.markup());
            }
            request.send()
        };
        let sent = match message(&part.html, true).await {
            Err(RequestError::Api(ApiError::CantParseEntities(reason))) => {
                tracing::warn!(%reason, "Telegram rejected the markup; sending plain text");
                message(&part.plain, false).await?
            }
            other => other?,
        };
        last = Some(sent.id.0);
    }
    Ok(last)
}

/// Runs a call that is not a queued message (a callback answer, a start-up call), waiting
/// out a 429 up to three times (each wait capped).
pub async fn retrying<T, F, Fut>(mut call: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut attempts = 0;
    loop {
        match call().await {
            Err(RequestError::RetryAfter(wait)) if attempts < 3 => {
                tokio::time::sleep(wait.duration().min(MAX_RETRY_AFTER)).await;
                attempts += 1;
            }
            result => return result,
        }
    }
}

/// A Bot API error as text, without the request URL (which holds the token).
pub fn describe(error: &RequestError) -> String {
    match error {
        RequestError::Network(error) => {
            let error: &reqwest::Error = error;
            format!("network error: {}", strip_url(error))
        }
        other => other.to_string(),
    }
}

fn strip_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<Bot API URL>");
    }
    text
}

/// The jobs that may be considered now, as indices into `waiting`, in the order they should
/// go: only the oldest job of each chat that is not busy (so a chat's messages never overtake
/// each other), interview questions first (the expert is waiting for them), then the rest, each
/// in the order it was queued.
fn candidates(waiting: &VecDeque<Job>, busy: &HashSet<ChatId>) -> Vec<usize> {
    let mut seen = HashSet::new();
    let (mut questions, rest): (Vec<usize>, Vec<usize>) = (0..waiting.len())
        .filter(|&i| {
            let chat = waiting[i].chat;
            !busy.contains(&chat) && seen.insert(chat)
        })
        .partition(|&i| is_question(&waiting[i]));
    questions.extend(rest);
    questions
}

/// Whether a job is an interview question (a message of the session's transcript).
fn is_question(job: &Job) -> bool {
    matches!(job.key, Key::Transcript { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_retry_after_is_capped() {
        let wait = teloxide::types::Seconds::from_seconds(u32::MAX);
        assert_eq!(wait.duration().min(MAX_RETRY_AFTER), MAX_RETRY_AFTER);
    }

    fn job(chat: i64, key: Key) -> Job {
        Job {
            chat: ChatId(chat),
            key,
            body: Body::Text {
                header: None,
                text: "text".into(),
                keyboard: None,
            },
        }
    }

    fn question(chat: i64) -> Job {
        job(
            chat,
            Key::Transcript {
                session: 1,
                index: 0,
            },
        )
    }

    #[test]
    fn interview_questions_go_ahead_of_setup_messages_queued_before_them() {
        let waiting = VecDeque::from([job(1, Key::Outbox(1)), job(2, Key::Outbox(2)), question(3)]);
        assert_eq!(candidates(&waiting, &HashSet::new()), vec![2, 0, 1]);
    }

    #[test]
    fn a_chat_offers_only_its_oldest_message_so_its_messages_keep_their_order() {
        let waiting = VecDeque::from([job(1, Key::Outbox(1)), question(1), question(2)]);
        assert_eq!(candidates(&waiting, &HashSet::new()), vec![2, 0]);
    }

    #[test]
    fn the_bot_sends_a_short_burst_then_one_message_every_thirtieth_of_a_second() {
        let alone = Budget::of(1);
        assert_eq!(alone.per_second, 30);
        let now = Instant::now();
        let mut pace = None;
        for _ in 0..OVERALL_BURST {
            assert!(pace.is_none_or(|p: Pace| p.ready_at(alone.ahead) <= now));
            pace = Some(Pace::after(pace, now, alone.interval));
        }
        let next = pace.unwrap().ready_at(alone.ahead);
        assert_eq!(next, now + alone.interval, "the burst is spent");
        let pace = Pace::after(pace, next, alone.interval);
        assert_eq!(pace.ready_at(alone.ahead), next + alone.interval);
    }

    #[test]
    fn replicas_share_the_bot_s_thirty_messages_a_second_and_each_keeps_at_least_one() {
        for replicas in 1..=40 {
            let share = Budget::of(replicas);
            assert!(share.per_second * replicas <= 30 || share.per_second == 1);
            assert!(share.per_second >= 1);
            assert!(
                share.ahead < Duration::from_secs(1),
                "a burst within a second"
            );
            assert!(share.draft_headroom >= 1 && share.draft_headroom <= share.per_second as usize);
        }
        assert_eq!(Budget::of(3).per_second, 10);
        assert_eq!(Budget::of(3).interval, Duration::from_millis(100));
        assert_eq!(Budget::of(0), Budget::of(1), "never a share of nobody");
    }

    #[test]
    fn a_chat_gets_three_messages_at_once_then_one_a_second() {
        let now = Instant::now();
        let mut pace = None;
        for _ in 0..CHAT_BURST {
            pace = Some(Pace::after(pace, now, CHAT_INTERVAL));
        }
        assert_eq!(pace.unwrap().ready_at(CHAT_AHEAD), now + CHAT_INTERVAL);
    }

    #[test]
    fn a_chat_with_a_message_in_flight_offers_nothing() {
        let waiting = VecDeque::from([question(1), job(2, Key::Unsaved)]);
        let busy = HashSet::from([ChatId(1)]);
        assert_eq!(candidates(&waiting, &busy), vec![1]);
    }
}
