//! Start-up: everything that must be right before an interview can run, checked once.
//! Any failure here is reported in one line and the process exits with code 2.

use std::sync::Arc;

use crate::{
    i18n::{Catalog, CatalogError},
    interview::{
        Clock, Engine, EngineConfig, PromptError, Prompts, QuestionBank, SystemClock,
        bank::BankError,
    },
    llm::{ClaudeClient, Model},
    settings::{Settings, SettingsError},
    store::{SessionStore, StoreError},
};

/// The exit code of every start-up failure.
pub const STARTUP_FAILURE: u8 = 2;

/// Why the process cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is malformed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A prompt is missing or empty.
    #[error("PROMPTS_DIR: {0}")]
    Prompts(#[from] PromptError),
    /// The sessions directory cannot be used.
    #[error("SESSIONS_DIR is not writable: {0}")]
    Store(#[from] StoreError),
    /// The embedded locales are broken.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// The offline bank lacks a stage.
    #[error("{0}")]
    Bank(#[from] BankError),
    /// The Telegram front end cannot start.
    #[error("{0}")]
    Telegram(String),
}

/// Builds the engine from the settings, on the system clock.
pub fn build_engine(settings: &Settings) -> Result<Engine, StartupError> {
    build_engine_with_clock(settings, Arc::new(SystemClock))
}

/// Builds the engine from the settings, on the given clock.
pub fn build_engine_with_clock(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Engine, StartupError> {
    let prompts = Prompts::load(&settings.prompts_dir)?;
    let store = SessionStore::open(&settings.sessions_dir)?;
    let catalog = Arc::new(Catalog::load()?);
    let bank = QuestionBank::from_catalog(&catalog)?;
    let claude = settings
        .claude
        .api_key
        .clone()
        .map(|key| Arc::new(ClaudeClient::new(&settings.claude, key)) as Arc<dyn Model>);
    let config = EngineConfig::new(settings.max_conversation_history, settings.session_timeout);
    Ok(Engine::new(
        store, claude, prompts, catalog, bank, clock, config,
    ))
}
