//! Handler errors: what the user is told is separate from what is logged. A handler that fails
//! after identifying the user attaches them ([`Tell::tell`]); the error handler logs the cause
//! and sends that user a localized "please try again", never the error itself.

use std::sync::Arc;

use teloxide::{RequestError, error_handlers::ErrorHandler};

use super::{
    send::{self, TgBot},
    services::Who,
};
use crate::{
    i18n::{Catalog, Msg},
    interview::EngineError,
    llm::BoxFuture,
    store::StoreError,
};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// A Bot API call failed (the token is never part of the text).
    #[error("Telegram: {0}")]
    Telegram(#[from] RequestError),
    /// The engine failed (storage).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Dialogue or profile storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// A handler's failure, with the user to tell if there is one.
#[derive(Debug)]
pub struct HandlerError {
    /// Who should hear that something went wrong.
    pub tell: Option<Who>,
    /// The cause, for the log.
    pub error: BotError,
}

impl<E: Into<BotError>> From<E> for HandlerError {
    fn from(error: E) -> Self {
        HandlerError {
            tell: None,
            error: error.into(),
        }
    }
}

/// The result of a handler.
pub type HandlerResult = Result<(), HandlerError>;

/// Attaches the user to tell to a failure.
pub trait Tell<T> {
    /// On error, `who` is told to try again.
    fn tell(self, who: Who) -> Result<T, HandlerError>;
}

impl<T, E: Into<BotError>> Tell<T> for Result<T, E> {
    fn tell(self, who: Who) -> Result<T, HandlerError> {
        self.map_err(|error| HandlerError {
            tell: Some(who),
            error: error.into(),
        })
    }
}

/// Logs handler failures and tells the user, in their language, to try again.
pub struct Reporter {
    /// For telling the user.
    pub bot: TgBot,
    /// The text.
    pub catalog: Arc<Catalog>,
}

impl ErrorHandler<HandlerError> for Reporter {
    fn handle_error(self: Arc<Self>, failure: HandlerError) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            match &failure.error {
                BotError::Telegram(RequestError::Api(teloxide::ApiError::BotBlocked)) => {
                    tracing::info!(user = ?failure.tell.map(|w| w.user.0), "the user blocked the bot");
                    return;
                }
                error => {
                    tracing::error!(user = ?failure.tell.map(|w| w.user.0), %error, "handler failed")
                }
            }
            if let Some(who) = failure.tell {
                let text = self.catalog.text(who.lang, &Msg::InternalError);
                if let Err(error) = send::say(&self.bot, who.chat, &text).await {
                    tracing::warn!(%error, "could not tell the user about a failure");
                }
            }
        })
    }
}
