//! The Telegram front end: a teloxide long-polling dispatcher whose dialogue walks the setup
//! flow and hands answers to the interview engine.
//!
//! | module | what it holds |
//! |---|---|
//! | [`schema`] | the handler tree |
//! | [`flows`] | one file per flow: setup, commands, button presses, other messages |
//! | [`state`] | the dialogue state enum and its JSON-file storage |
//! | [`callback`] | callback data as a typed enum |
//! | [`keyboards`] | inline keyboards |
//! | [`turns`] | per-user turn workers; quick messages joined into one turn |
//! | [`delivery`] | engine outcomes turned into messages and documents |
//! | [`send`] | HTML sending with plain-text fallback, splitting, retries, typing |
//! | [`flood`] | Telegram's flood limits on every message sent |
//! | [`html`] | escaping and splitting |
//! | [`access`] | allow list and rate limit |
//! | [`services`] | what handlers share |
//! | [`error`] | handler errors: what is logged vs what the user is told |

pub mod access;
pub mod callback;
pub mod delivery;
pub mod error;
pub mod flood;
pub mod flows;
pub mod html;
pub mod keyboards;
pub mod schema;
pub mod send;
pub mod services;
pub mod state;
pub mod turns;

use std::{sync::Arc, time::Duration};

use secrecy::ExposeSecret;
use teloxide::{
    ApiError, RequestError,
    dispatching::Dispatcher,
    prelude::*,
    types::{BotCommand, Me},
};

use self::{
    access::Access,
    error::Reporter,
    flows::commands::Command,
    send::TgBot,
    services::{Services, Who},
    state::FileStorage,
    turns::Turns,
};
use crate::{
    app::StartupError,
    i18n::Lang,
    interview::{Engine, UserId},
    settings::Settings,
};

/// The longest wait between attempts to reach Telegram at start-up.
const MAX_STARTUP_BACKOFF: Duration = Duration::from_secs(60);

/// Runs the bot until it is stopped (Ctrl-C or SIGTERM).
pub async fn run(settings: &Settings, engine: Engine) -> Result<(), StartupError> {
    let token = settings.telegram.bot_token.clone().ok_or_else(|| {
        StartupError::Telegram(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env"
                .into(),
        )
    })?;
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| StartupError::Telegram(format!("HTTP client: {e}")))?;
    let bot = Bot::with_client(token.expose_secret(), client)
        .set_api_url(settings.telegram.api_url.clone());
    let me = verify_token(&bot).await?;
    tracing::info!(username = me.username(), "connected to Telegram");
    let bot = TgBot::new(bot);

    let engine = Arc::new(engine);
    let storage = FileStorage::new(engine.store().clone());
    let services = Services {
        bot: bot.clone(),
        engine: engine.clone(),
        storage: storage.clone(),
        turns: Arc::new(Turns::default()),
        access: Arc::new(Access::new(&settings.telegram)),
        default_language: settings.default_language,
        prompt_locks: Arc::default(),
    };
    register_commands(&services).await;
    answer_saved_messages(&services).await;

    let reporter = Arc::new(Reporter {
        bot: bot.clone(),
        catalog: engine.catalog().clone(),
    });
    let mut dispatcher = Dispatcher::builder(bot.api.clone(), schema::schema())
        .dependencies(dptree::deps![services, storage])
        .default_handler(|update| async move {
            tracing::debug!(kind = ?update.kind, "update ignored");
        })
        .error_handler(reporter)
        .enable_ctrlc_handler()
        .build();
    stop_on_sigterm(dispatcher.shutdown_token());
    dispatcher.dispatch().await;
    tracing::info!("stopped");
    Ok(())
}

/// Checks the token with getMe. A rejected token stops start-up; an unreachable Telegram is
/// waited for, with backoff.
async fn verify_token(bot: &Bot) -> Result<Me, StartupError> {
    let mut wait = Duration::from_secs(1);
    loop {
        match bot.get_me().await {
            Ok(me) => return Ok(me),
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                return Err(StartupError::Telegram(
                    "TELEGRAM_BOT_TOKEN was rejected by Telegram (getMe: Unauthorized): check the token from @BotFather".into(),
                ));
            }
            Err(RequestError::Api(error)) => {
                return Err(StartupError::Telegram(format!(
                    "TELEGRAM_BOT_TOKEN: getMe failed: {error}"
                )));
            }
            Err(error) => {
                tracing::warn!(%error, ?wait, "Telegram unreachable at start-up; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_STARTUP_BACKOFF);
            }
        }
    }
}

/// Registers the command menu in English and Russian (and the default language for others).
async fn register_commands(services: &Services) {
    let menu = |lang: Lang| -> Vec<BotCommand> {
        Command::MENU
            .iter()
            .map(|(name, msg)| BotCommand::new(*name, services.text(lang, msg)))
            .collect()
    };
    for lang in Lang::ALL {
        let commands = menu(lang);
        let result = send::retrying(|| {
            services
                .bot
                .api
                .set_my_commands(commands.clone())
                .language_code(lang.code())
                .send()
        })
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, %lang, "could not register the command menu");
        }
    }
    let commands = menu(services.default_language);
    if let Err(error) =
        send::retrying(|| services.bot.api.set_my_commands(commands.clone()).send()).await
    {
        tracing::warn!(%error, "could not register the default command menu");
    }
}

/// Answers every message saved before the last stop and never answered.
async fn answer_saved_messages(services: &Services) {
    let users = match services.engine.pending_users().await {
        Ok(users) => users,
        Err(error) => {
            tracing::error!(%error, "could not look for unanswered messages");
            return;
        }
    };
    for user in users {
        // User 0 is the console's; it answers its own.
        let Some(chat) = i64::try_from(user.0).ok().filter(|id| *id > 0).map(ChatId) else {
            continue;
        };
        let lang = services.language_of(user, None).await;
        tracing::info!(%user, "answering a message saved before the restart");
        turns::answer_saved(
            services,
            Who {
                user: UserId(user.0),
                chat,
                lang,
            },
        );
    }
}

fn stop_on_sigterm(token: teloxide::dispatching::ShutdownToken) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        term.recv().await;
        tracing::info!("SIGTERM: finishing the updates in hand");
        if let Ok(done) = token.shutdown() {
            done.await;
        }
    });
}
