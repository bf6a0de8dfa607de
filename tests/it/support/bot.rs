//! `spawn_bot`: the real dispatcher in-process, against a fake Telegram and a fake Anthropic
//! on 127.0.0.1, over a temporary sessions directory.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use ai_interviewer::{
    app,
    interview::ManualClock,
    login::Issuer,
    metrics::Metrics,
    voice::assemblyai::{PollPolicy, RetryPolicy},
};

use super::{
    EngineOptions, FakeAnthropic, engine_settings, epoch, eventually, overrides,
    telegram::{CallbackAnswer, FakeTelegram, SentMessage, TestUser},
};

/// How long a test waits for the bot to answer.
pub const WAIT: Duration = Duration::from_secs(15);

/// A running bot and its fakes.
pub struct TestBot {
    /// The fake Bot API.
    pub telegram: FakeTelegram,
    /// The fake Messages API.
    pub anthropic: FakeAnthropic,
    /// The sessions directory.
    pub dir: tempfile::TempDir,
    /// The engine's clock.
    pub clock: Arc<ManualClock>,
    /// The running bot's metrics (the engine's handle; a restart starts a new one).
    pub metrics: Metrics,
    /// The operator's desk, when `DESK_ADDR` is among the options' variables: where it
    /// listens and what issues its sign-in links (a restart starts a new one).
    pub desk: Option<(SocketAddr, Issuer)>,
    /// Bot messages already returned by [`TestBot::next`], per chat.
    seen: Mutex<HashMap<i64, usize>>,
    task: tokio::task::JoinHandle<()>,
    /// Stops the running bot (for [`TestBot::restart`]).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// How it was started, to start it again.
    options: BotOptions,
    /// The database of `DATABASE_URL`, when the bot keeps its state there.
    database: Option<ai_interviewer::store::PgStore>,
}

impl Drop for TestBot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How to start the bot.
#[derive(Default, Clone)]
pub struct BotOptions {
    /// Extra environment variables (ALLOWED_USER_IDS, RATE_LIMIT_MESSAGES, CLAUDE_MODEL...),
    /// given to the bot and to its engine.
    pub vars: Vec<(&'static str, String)>,
    /// The engine's options.
    pub engine: EngineOptions,
    /// How long a quiet chat's worker stays (the product's default when `None`).
    pub worker_idle: Option<Duration>,
    /// No `ANTHROPIC_API_KEY`: the offline bank asks every question.
    pub without_claude: bool,
}

/// AssemblyAI retried and polled within milliseconds (the fake answers at once).
pub fn quick_assemblyai() -> (RetryPolicy, PollPolicy) {
    (
        super::assemblyai::quick_retries(3),
        super::assemblyai::quick_poll(),
    )
}

/// How often a bot began to take updates: its polls, or its checks of the webhook (made just
/// before it serves it; an update delivered a moment too early is delivered again).
fn listening(telegram: &FakeTelegram) -> usize {
    telegram.calls("getUpdates").len() + telegram.calls("getWebhookInfo").len()
}

/// Starts the bot and waits until it polls for updates (or serves its webhook).
pub async fn spawn_bot(options: BotOptions) -> TestBot {
    // `TEST_LOG=debug cargo test ...` shows the bot's log lines.
    if let Ok(level) = std::env::var("TEST_LOG") {
        ai_interviewer::telemetry::init(
            &level,
            ai_interviewer::telemetry::LogFormat::Text,
            Vec::new(),
        );
    }
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(epoch()));
    let database = match options
        .vars
        .iter()
        .find(|(name, _)| *name == "DATABASE_URL")
    {
        Some((_, url)) => Some(ai_interviewer::store::PgStore::connect(url).await.unwrap()),
        None => None,
    };
    let replicas = alive(database.as_ref()).await;
    let (task, stop, metrics, desk) = launch(&telegram, &anthropic, &dir, &clock, &options).await;
    // A bot polls (or serves its webhook); with a database, one that joined the replicas
    // already running on it serves its chats without polling.
    eventually("the bot polls, or joins the replicas", async || {
        listening(&telegram) > 0 || alive(database.as_ref()).await > replicas
    })
    .await;
    TestBot {
        database,
        telegram,
        anthropic,
        dir,
        clock,
        metrics,
        desk,
        seen: Mutex::default(),
        task,
        stop: Some(stop),
        options,
    }
}

/// How many replicas are alive on `database` (none without one): those holding their
/// liveness lock.
async fn alive(database: Option<&ai_interviewer::store::PgStore>) -> usize {
    match database {
        Some(database) => database.replicas_alive().await.unwrap(),
        None => 0,
    }
}

/// Assembles the bot over `dir` against the fakes with the function `main` uses, and runs it;
/// returns its task, what stops it, its metrics and its desk.
async fn launch(
    telegram: &FakeTelegram,
    anthropic: &FakeAnthropic,
    dir: &tempfile::TempDir,
    clock: &Arc<ManualClock>,
    options: &BotOptions,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
    Metrics,
    Option<(SocketAddr, Issuer)>,
) {
    let mut engine_options = options.engine.clone();
    engine_options.vars.extend([
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
    ]);
    engine_options.vars.extend(options.vars.iter().cloned());
    let claude = Some(anthropic).filter(|_| !options.without_claude);
    let settings = engine_settings(dir.path(), claude, &engine_options);
    let mut overrides = overrides(&engine_options, clock.clone());
    if let Some(idle) = options.worker_idle {
        overrides.worker_idle = idle;
    }
    let bot = app::bot(settings, overrides)
        .await
        .expect("the bot assembles");
    let metrics = bot.metrics().clone();
    let desk = bot.desk_addr().zip(bot.desk_links().cloned());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        bot.run(async {
            let _ = stopped.await;
        })
        .await
        .expect("the bot starts");
    });
    (task, stop, metrics, desk)
}

impl TestBot {
    /// Stops the bot as SIGTERM does (work in hand finishes, nothing more is taken) and starts
    /// it again over the same sessions directory, fakes and clock.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// Stops the bot as SIGTERM does: work in hand finishes, nothing more is taken.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("the bot stops cleanly");
    }

    /// Starts the stopped bot again over the same sessions directory, fakes and clock, and
    /// waits until it polls.
    pub async fn start(&mut self) {
        let polls = listening(&self.telegram);
        let (task, stop, metrics, desk) = launch(
            &self.telegram,
            &self.anthropic,
            &self.dir,
            &self.clock,
            &self.options,
        )
        .await;
        self.task = task;
        self.stop = Some(stop);
        self.metrics = metrics;
        self.desk = desk;
        self.telegram
            .wait_until(WAIT, "the bot polls again", |t| listening(t) > polls)
            .await;
    }

    /// The next bot message in the user's chat that no earlier `next` returned.
    pub async fn next(&self, user: &TestUser) -> SentMessage {
        let chat = user.chat_id();
        let seen = *self.seen.lock().unwrap().get(&chat).unwrap_or(&0);
        let messages = self.telegram.wait_for_count(chat, seen + 1, WAIT).await;
        self.seen.lock().unwrap().insert(chat, seen + 1);
        messages[seen].clone()
    }

    /// How many chat workers are running, as the operator's gauge shows it.
    pub fn workers(&self) -> u64 {
        self.metrics.snapshot().chat_workers
    }

    /// Marks every bot message so far as seen.
    pub fn skip_all(&self, user: &TestUser) {
        let count = self.telegram.sent(user.chat_id()).len();
        self.seen.lock().unwrap().insert(user.chat_id(), count);
    }

    /// How many bot messages are in the user's chat.
    pub fn count(&self, user: &TestUser) -> usize {
        self.telegram.sent(user.chat_id()).len()
    }

    /// Sends text and returns the bot's next message.
    pub async fn say(&self, user: &TestUser, text: &str) -> SentMessage {
        self.telegram.send_text(user, text);
        self.next(user).await
    }

    /// Presses the button with `data` on `message`.
    pub fn press(&self, user: &TestUser, message: &SentMessage, data: &str) -> String {
        assert!(
            message.callback_datas().iter().any(|d| d == data),
            "no button {data} on {:?}",
            message.plain()
        );
        self.telegram.press_button(user, message.message_id, data)
    }

    /// Waits for the bot's answer to the button press `query`.
    pub async fn callback_answer(&self, query: &str) -> CallbackAnswer {
        self.telegram
            .wait_until(WAIT, "the button press answered", |t| {
                t.callback_answers().iter().any(|a| a.query_id == query)
            })
            .await;
        self.telegram
            .callback_answers()
            .into_iter()
            .find(|a| a.query_id == query)
            .expect("answered")
    }

    /// Waits until the bot's message `message_id` in the user's chat satisfies `done` (after
    /// an edit), and returns it.
    pub async fn edited(
        &self,
        user: &TestUser,
        message_id: i32,
        what: &str,
        done: impl Fn(&SentMessage) -> bool,
    ) -> SentMessage {
        let chat = user.chat_id();
        let find = |t: &FakeTelegram| {
            t.sent(chat)
                .into_iter()
                .find(|m| m.message_id == message_id)
                .filter(|m| done(m))
        };
        self.telegram
            .wait_until(WAIT, what, |t| find(t).is_some())
            .await;
        find(&self.telegram).expect("found above")
    }

    /// Waits until `message` offers the button `data`.
    pub async fn offers(&self, user: &TestUser, message: &SentMessage, data: &str) -> SentMessage {
        self.edited(user, message.message_id, data, |m| {
            m.callback_datas().iter().any(|d| d == data)
        })
        .await
    }

    /// Goes through /start, the language, the personality and 🚀 Begin (one message, edited
    /// at each step); returns the first question.
    pub async fn start_interview(&self, user: &TestUser, lang: &str, style: usize) -> SentMessage {
        let welcome = self.say(user, "/start").await;
        self.press(user, &welcome, &format!("lang:{lang}"));
        let styles = self.offers(user, &welcome, &format!("style:{style}")).await;
        self.press(user, &styles, &format!("style:{style}"));
        let briefing = self.offers(user, &welcome, "begin").await;
        self.press(user, &briefing, "begin");
        self.next(user).await
    }

    /// Update ids the bot saved in its inbox and has not marked handled yet.
    pub fn unhandled(&self) -> std::collections::BTreeSet<u64> {
        let path = self.dir.path().join("inbox/journal.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut open = std::collections::BTreeSet::new();
        for line in text.lines() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let Some(id) = value["update"]["update_id"].as_u64() {
                open.insert(id);
            } else if let Some(id) = value["handled"].as_u64() {
                open.remove(&id);
            }
        }
        open
    }

    /// Waits until the bot has fetched every update and finished with each: everything they
    /// caused was delivered. The sentinel for "nothing more will happen".
    pub async fn settled(&self) {
        eventually(self.awaiting("the bot settles"), async || {
            self.telegram.pending_updates() == 0
                && self.unhandled().is_empty()
                && self.unhandled_in_database().await == 0
        })
        .await;
    }

    /// How many updates the database's inbox holds unhandled (none without a database).
    pub async fn unhandled_in_database(&self) -> u64 {
        match &self.database {
            Some(database) => database.inbox().backlog().await.unwrap(),
            None => 0,
        }
    }

    /// `what` a test waits for, told with the dump of the fake Telegram if the wait fails: the
    /// `what` of [`eventually`] for a wait on this bot.
    pub fn awaiting<'a>(&'a self, what: &'a str) -> impl std::fmt::Display + 'a {
        Awaiting {
            what,
            telegram: &self.telegram,
        }
    }

    /// The user's session file, if an interview is in progress.
    pub fn session(&self, user: &TestUser) -> Option<serde_json::Value> {
        let path = self.dir.path().join(format!("{}.json", user.id));
        std::fs::read(path)
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap())
    }
}

/// See [`TestBot::awaiting`]: the dump is taken only when a wait fails, when it shows the state
/// the bot was stuck in.
struct Awaiting<'a> {
    what: &'a str,
    telegram: &'a FakeTelegram,
}

impl std::fmt::Display for Awaiting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.what, self.telegram.dump(0))
    }
}
