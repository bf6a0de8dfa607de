//! The Telegram front end: a teloxide long-polling dispatcher in front of one worker per
//! chat, with a durable inbox and outbox so nothing a user sends, and no reply, is lost.
//!
//! ```text
//! getUpdates ─► inbox (saved, fsync) ─► dispatcher: schema() ─► router ─► chat worker ─► engine
//!                                                                             │
//!                     Telegram ◄─ sender (fair queue, limits) ◄─ outbox / transcript (saved)
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`poller`] | getUpdates, saving each batch before it is confirmed |
//! | [`inbox`] | the journal of updates not yet handled |
//! | [`schema`] | the handler tree: what arrived, routed to its chat |
//! | [`router`] | one worker per active chat, restarted if it fails, removed when quiet |
//! | [`worker`] | the chat worker: dialogue state machine, engine turns, limits |
//! | [`record`] | the chat's saved state and outbox |
//! | [`state`] | the dialogue state enum |
//! | [`outbox`] | outgoing messages as data |
//! | [`sender`] | fair sending within Telegram's limits; callback answers and chat actions at once |
//! | [`drafts`] | the next question shown while it is written (`sendMessageDraft`) |
//! | [`sent`] | the log of messages Telegram accepted, so none is sent twice after a crash |
//! | [`files`] | downloading what users send (voice notes), the token kept out of every error |
//! | [`event`], [`command`], [`callback`] | what a worker is told: typed inputs, commands, button data |
//! | [`keyboards`], [`html`], [`typing`] | buttons, escaping and splitting, "typing…" or drafts |
//! | [`access`], [`profile`] | the allow list; the remembered language |

pub mod access;
pub mod callback;
pub mod command;
mod config;
pub mod consent;
pub mod drafts;
pub mod event;
pub mod files;
pub mod html;
pub mod inbox;
pub mod keyboards;
pub mod outbox;
pub mod poller;
pub mod profile;
pub mod record;
pub mod replicas;
pub mod router;
pub mod schema;
pub mod sender;
pub mod sent;
pub mod state;
pub mod typing;
pub mod webhook;
pub mod worker;

use std::{future::Future, sync::Arc, time::Duration};

use secrecy::ExposeSecret;
use teloxide::{
    ApiError, RequestError,
    dispatching::Dispatcher,
    error_handlers::LoggingErrorHandler,
    prelude::*,
    types::{BotCommand, Me, Update},
};
use tokio::sync::mpsc;

pub use self::config::Config;
use self::{
    access::Access, command::Command, event::Event, files::Files, inbox::Inbox, outbox::Key,
    replicas::Claims, router::Router, schema::Notices, sender::Sender, sent::SentLog, worker::Deps,
};
use crate::{
    interview::Engine,
    llm::PriceTable,
    model::Lang,
    store::postgres::{Replica, inbox::INBOX_CHANNEL},
    voice::Transcriber,
};

/// Why the bot cannot start: one line naming what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(String);

/// The longest wait between attempts to reach Telegram at start-up.
const MAX_STARTUP_BACKOFF: Duration = Duration::from_secs(60);

/// How long a chat's worker stays with nothing to do before it ends.
pub const WORKER_IDLE: Duration = Duration::from_secs(600);

/// Tunables of a running bot that are not settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a chat's worker stays with nothing to do before it ends.
    pub worker_idle: Duration,
    /// The desk's sign-in links, which `/desk` hands to admins; `None` when the desk is off
    /// (then `/desk` is an unknown command to everyone).
    pub desk: Option<crate::login::Issuer>,
    /// Where the inbox and the log of sent messages are kept.
    pub logs: Logs,
}

/// Where the front end keeps its inbox and its log of sent messages.
#[derive(Debug, Clone)]
pub enum Logs {
    /// Files in `SESSIONS_DIR` (this directory): one process serves the bot.
    Files(std::path::PathBuf),
    /// The database, which every replica shares: this process joins them as one more, runs
    /// the chats it claims, and polls only while it leads.
    Database(Box<crate::store::PgStore>),
}

/// Runs the bot until `shutdown` resolves, then stops without losing anything: polling stops,
/// work in hand finishes within `SHUTDOWN_GRACE_SECONDS`, saved updates are confirmed to
/// Telegram.
///
/// Besides its own [`Config`] and the engine, the bot takes the voice pipeline (built once by
/// the assembly), the prices the operators' `/metrics` shows costs at, and the language of
/// users whose client says none.
pub async fn run(
    config: &Config,
    engine: Engine,
    voice: Transcriber,
    prices: &PriceTable,
    default_language: Lang,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Ended, StartupError> {
    let bot = api(config)?;
    // The stop is listened for from the start: a stop while Telegram is still being reached
    // ends the process cleanly too.
    let stopping = listen_for_stop(shutdown);
    let me = tokio::select! {
        me = verify_token(&bot) => me?,
        () = stopped(stopping.clone()) => {
            tracing::info!("stopped before connecting to Telegram");
            return Ok(Ended::Stopped);
        }
    };
    tracing::info!(username = me.username(), "connected to Telegram");
    // Kept for the invite links made where the bot is not running (the command line, the
    // desk); a failure only costs those links their default.
    if let Err(error) = engine.studies().remember_bot_username(me.username()).await {
        tracing::warn!(%error, "the bot's username could not be recorded for invite links");
    }
    let engine = Arc::new(engine);
    register_commands(&bot, &engine, default_language).await;

    // The inbox journal and the sent log are files in `SESSIONS_DIR` whichever store holds
    // the interviews: PostgreSQL does not keep them yet.
    let (inbox, saved, sent) = open_logs(&options.logs).await?;
    // With the database, this process is one replica among others: it joins, and ends at
    // once if it loses the connection that keeps it alive, since its chats may be someone
    // else's from that moment.
    let claims = match &options.logs {
        Logs::Files(_) => None,
        Logs::Database(database) => {
            // Named for the operator reading `replicas`: the host (a container's id) and pid.
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|name| name.trim().to_owned())
                .unwrap_or_else(|_| "replica".to_owned());
            let host = format!("{host} pid {}", std::process::id());
            let replica = Replica::join(database, &host)
                .await
                .map_err(|e| StartupError(format!("DATABASE_URL: {e}")))?;
            Some(Claims::new(Arc::new(replica)))
        }
    };
    let (sender, mut reports) = Sender::start(bot.clone(), sent.clone(), replicas_alive(&claims));
    let access = Arc::new(Access::new(config));
    let deps = Arc::new(Deps {
        engine: engine.clone(),
        sender: sender.clone(),
        inbox: inbox.clone(),
        sent,
        access: access.clone(),
        default_language,
        turns_per_window: config.rate_limit_messages,
        turn_window: config.rate_limit_window,
        idle_after: options.worker_idle,
        metrics: engine.metrics().clone(),
        prices: prices.clone(),
        admins: config.admin_user_ids.clone(),
        consent: config.consent.clone(),
        drafts: config.drafts,
        voice: Arc::new(voice),
        files: Files::new(bot.clone()),
        desk: options.desk,
    });
    let (updates_tx, updates_rx) = mpsc::unbounded_channel();
    let router = Router::new(deps, updates_tx.clone(), claims.clone());
    {
        let router = router.clone();
        tokio::spawn(async move {
            while let Some(report) = reports.recv().await {
                if report.key != Key::Unsaved {
                    router.route(
                        report.chat,
                        Event::Delivered {
                            key: report.key,
                            delivery: report.delivery,
                        },
                    );
                }
            }
        });
    }
    // What was saved but not handled before the last stop goes first, in order.
    for update in saved {
        let _ = updates_tx.send(update);
    }
    if inbox.is_new() {
        wake_unanswered(engine.clone(), router.clone());
    }

    let listener = poller::listener(updates_rx);
    // What is saved goes to the dispatcher; with replicas, to the follower, which hands a
    // chat's updates to the dispatcher of the replica that runs it.
    let saved_out = match (&claims, &options.logs) {
        (Some(claims), Logs::Database(database)) => {
            let (saved_tx, saved_rx) = mpsc::unbounded_channel();
            let heard = replicas::Heard {
                saved: saved_rx,
                notified: database.notifications(INBOX_CHANNEL),
            };
            tokio::spawn(replicas::follow(
                inbox.clone(),
                claims.clone(),
                heard,
                updates_tx,
                stopping.clone(),
            ));
            saved_tx
        }
        _ => updates_tx,
    };
    // Updates come in one of two ways: polled, or pushed to the webhook.
    let intake = match (&config.webhook, &claims) {
        (None, None) => tokio::spawn(poller::poll(
            bot.clone(),
            inbox.clone(),
            saved_out,
            stopping.clone(),
            engine.metrics().clone(),
        )),
        (None, Some(claims)) => tokio::spawn(replicas::poll_when_leading(
            claims.replica().clone(),
            bot.clone(),
            inbox.clone(),
            saved_out,
            stopping.clone(),
            engine.metrics().clone(),
        )),
        (Some(hook), _) => {
            if let Some(problem) = webhook::check(&bot, hook).await {
                tracing::warn!("{problem}");
            }
            let (addr, serving) = webhook::serve(hook, inbox.clone(), saved_out, stopping.clone())
                .await
                .map_err(|e| StartupError(format!("WEBHOOK_ADDR {}: {e}", hook.addr)))?;
            tracing::info!(%addr, path = hook.url.path(), "receiving updates on the webhook");
            serving
        }
    };
    let notices = Notices {
        sender: sender.clone(),
        catalog: engine.catalog().clone(),
        default_language,
    };
    let handled = inbox.clone();
    let mut dispatcher = Dispatcher::builder(bot.clone(), schema::schema())
        .dependencies(dptree::deps![
            router.clone(),
            access,
            notices,
            inbox.clone()
        ])
        .default_handler(move |update| {
            let inbox = handled.clone();
            async move {
                tracing::debug!(kind = ?update.kind, "update ignored");
                inbox.handled(update.id.0);
            }
        })
        .error_handler(LoggingErrorHandler::with_custom_text("a handler failed"))
        .build();
    stop_dispatcher_on(stopping, dispatcher.shutdown_token());
    let dispatching = dispatcher.dispatch_with_listener(
        listener,
        LoggingErrorHandler::with_custom_text("the update listener failed"),
    );
    tokio::select! {
        () = dispatching => {}
        () = lost(&claims) => {
            // No graceful stop: the chats may be other replicas' already, and nothing of this
            // replica's may be written from now on. Everything it did is saved; the caller
            // ends every task of it (see `Ended::Lost`).
            tracing::error!("this replica lost the connection that keeps it alive: it stops at once");
            return Ok(Ended::Lost);
        }
    }

    tracing::info!("stopping: finishing the work in hand");
    let grace = config.shutdown_grace;
    let finished = tokio::time::timeout(grace, async {
        router.stop().await;
        sender.idle().await;
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            ?grace,
            workers = router.running(),
            "shutdown grace over: unfinished turns stay saved and are answered after the restart"
        );
    }
    let _ = intake.await;
    if let Some(claims) = &claims {
        claims.replica().leave();
    }
    tracing::info!("stopped");
    Ok(Ended::Stopped)
}

/// How a running bot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// A stop was asked for: the work in hand was finished, or left saved for the next start.
    Stopped,
    /// This replica lost the connection that keeps it alive and returned at once, its tasks
    /// still running: whoever ran it ends them all (drops the runtime) before anything more is
    /// written, and may start the bot again, as a new replica.
    Lost,
}

/// Resolves when this replica's connection is lost; never without replicas.
async fn lost(claims: &Option<Arc<Claims>>) {
    match claims {
        Some(claims) => {
            let mut lost = claims.replica().lost();
            let _ = lost.wait_for(|lost| *lost).await;
        }
        None => std::future::pending().await,
    }
}

/// Opens the inbox and the log of sent messages where `logs` says; with files, also the
/// updates saved but not handled before the last stop.
async fn open_logs(logs: &Logs) -> Result<(Inbox, Vec<Update>, SentLog), StartupError> {
    match logs {
        Logs::Files(dir) => {
            let dir = dir.join("inbox");
            let (inbox, saved) =
                Inbox::open(&dir).map_err(|e| StartupError(format!("SESSIONS_DIR: {e}")))?;
            let sent = SentLog::open(&dir)
                .map_err(|e| StartupError(format!("SESSIONS_DIR: {}: {e}", dir.display())))?;
            Ok((inbox, saved, sent))
        }
        Logs::Database(database) => {
            let failed = |e: &dyn std::fmt::Display| StartupError(format!("DATABASE_URL: {e}"));
            let inbox = Inbox::database(database.inbox())
                .await
                .map_err(|e| failed(&e))?;
            let sent = SentLog::database(database.sent_log())
                .await
                .map_err(|e| failed(&e))?;
            Ok((inbox, Vec::new(), sent))
        }
    }
}

/// How often a replica counts the replicas alive, to take its share of Telegram's budget: a
/// replica that joins finds the others sending at their old share for at most this long.
const COUNT_REPLICAS_EVERY: Duration = Duration::from_secs(1);

/// How many processes share the bot's budget: this one alone, or the replicas alive, counted
/// again every few seconds (a replica that joins or dies changes every share).
fn replicas_alive(claims: &Option<Arc<Claims>>) -> tokio::sync::watch::Receiver<u32> {
    let (count, counted) = tokio::sync::watch::channel(1);
    if let Some(claims) = claims {
        let replica = claims.replica().clone();
        tokio::spawn(async move {
            loop {
                match replica.alive().await {
                    Ok(alive) => {
                        let alive = u32::try_from(alive).unwrap_or(u32::MAX);
                        if count.send(alive).is_err() {
                            return;
                        }
                    }
                    Err(error) => tracing::debug!(%error, "could not count the replicas"),
                }
                tokio::time::sleep(COUNT_REPLICAS_EVERY).await;
            }
        });
    }
    counted
}

/// The Bot API client for the configured token and server.
pub fn api(config: &Config) -> Result<Bot, StartupError> {
    let token = config.bot_token.clone().ok_or_else(|| {
        StartupError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env"
                .into(),
        )
    })?;
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| StartupError(format!("HTTP client: {e}")))?;
    Ok(Bot::with_client(token.expose_secret(), client).set_api_url(config.api_url.clone()))
}

/// What `ai-interviewer webhook` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookCommand {
    /// Points Telegram at `WEBHOOK_URL` with `WEBHOOK_SECRET`.
    Set,
    /// Removes the webhook: the bot polls again.
    Delete,
}

/// Sets or removes the webhook, once, from outside the running bots; returns what was done.
pub async fn webhook_command(
    config: &Config,
    command: WebhookCommand,
) -> Result<String, StartupError> {
    let bot = api(config)?;
    let failed =
        |error: RequestError| StartupError(format!("Telegram: {}", sender::describe(&error)));
    match command {
        WebhookCommand::Set => {
            let hook = config.webhook.as_ref().ok_or_else(|| {
                StartupError("WEBHOOK_URL is not set: the webhook needs an https address".into())
            })?;
            webhook::set(&bot, hook).await.map_err(failed)?;
            Ok(format!(
                "Telegram now sends updates to {} (one connection, secret set)",
                hook.url
            ))
        }
        WebhookCommand::Delete => {
            webhook::delete(&bot).await.map_err(failed)?;
            Ok("the webhook is removed: the bot polls for updates again".to_owned())
        }
    }
}

/// Checks the token with getMe. A rejected token stops start-up; an unreachable Telegram is
/// waited for, with backoff.
async fn verify_token(bot: &Bot) -> Result<Me, StartupError> {
    let mut wait = Duration::from_secs(1);
    loop {
        match bot.get_me().await {
            Ok(me) => return Ok(me),
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                return Err(StartupError(
                    "TELEGRAM_BOT_TOKEN was rejected by Telegram (getMe: Unauthorized): check the token from @BotFather".into(),
                ));
            }
            Err(RequestError::Api(error)) => {
                return Err(StartupError(format!(
                    "TELEGRAM_BOT_TOKEN: getMe failed: {error}"
                )));
            }
            Err(error) => {
                tracing::warn!(error = %sender::describe(&error), ?wait, "Telegram unreachable at start-up; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_STARTUP_BACKOFF);
            }
        }
    }
}

/// Registers the command menu in English and Russian (and the default language for others).
async fn register_commands(bot: &Bot, engine: &Engine, default: Lang) {
    let menu = |lang: Lang| -> Vec<BotCommand> {
        Command::MENU
            .iter()
            .map(|(name, msg)| BotCommand::new(*name, engine.catalog().text(lang, msg)))
            .collect()
    };
    for lang in Lang::ALL {
        let commands = menu(lang);
        let result = sender::retrying(|| {
            bot.set_my_commands(commands.clone())
                .language_code(lang.code())
                .send()
        })
        .await;
        if let Err(error) = result {
            tracing::warn!(error = %sender::describe(&error), %lang, "could not register the command menu");
        }
    }
    let commands = menu(default);
    if let Err(error) = sender::retrying(|| bot.set_my_commands(commands.clone()).send()).await {
        tracing::warn!(error = %sender::describe(&error), "could not register the default command menu");
    }
}

/// On the first start with an inbox, sessions saved by an earlier version may hold an
/// answer never answered: their chats are woken, in the background, so polling starts at
/// once.
fn wake_unanswered(engine: Arc<Engine>, router: Arc<Router>) {
    tokio::spawn(async move {
        match engine.pending_users().await {
            Ok(users) => {
                for user in users {
                    if let Some(chat) = i64::try_from(user.0).ok().filter(|id| *id > 0) {
                        tracing::info!(%user, "answering a message saved before the upgrade");
                        router.route(ChatId(chat), Event::Wake);
                    }
                }
            }
            Err(error) => tracing::error!(%error, "could not look for unanswered messages"),
        }
    });
}

/// Turns true once `shutdown` resolves: the stop that start-up, polling and the dispatcher
/// all watch.
fn listen_for_stop(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("stopping");
        let _ = tx.send(true);
    });
    rx
}

/// Resolves once a stop was asked for.
async fn stopped(mut stopping: tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Shuts the dispatcher down when a stop is asked for (once it is running).
fn stop_dispatcher_on(
    stopping: tokio::sync::watch::Receiver<bool>,
    token: teloxide::dispatching::ShutdownToken,
) {
    tokio::spawn(async move {
        stopped(stopping).await;
        // Shutdown is refused while the dispatcher is still starting: ask again.
        while let Err(teloxide::dispatching::IdleShutdownError) = token.shutdown() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}
