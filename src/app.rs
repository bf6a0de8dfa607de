//! Start-up: everything that must be right before an interview can run, checked once.
//! Any failure here is reported in one line and the process exits with code 2.

use std::{net::SocketAddr, sync::Arc};

use crate::{
    i18n::{Catalog, CatalogError},
    interview::{
        Clock, Engine, EngineConfig, PromptError, Prompts, QuestionBank, SystemClock,
        bank::BankError,
    },
    llm::{ClaudeClient, Model, pricing::PriceTable},
    metrics::{
        FLUSH_INTERVAL, Metrics, MetricsError,
        health::HealthCheck,
        http::{self, Endpoints},
    },
    settings::{Settings, SettingsError},
    store::{SessionStore, StoreError, retention},
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
    /// The metrics file cannot be read.
    #[error("SESSIONS_DIR: the metrics cannot be read: {0}")]
    Metrics(#[from] MetricsError),
    /// The metrics server cannot listen.
    #[error("METRICS_ADDR {addr}: cannot listen: {source}")]
    MetricsAddr {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
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

/// The operator's side of a running bot: the metrics and the tasks that keep them (the
/// `METRICS_ADDR` server, the periodic flush, the retention policy).
#[derive(Debug)]
pub struct Operations {
    /// The shared metrics handle.
    pub metrics: Metrics,
    /// Where the metrics server listens, if it runs.
    pub metrics_addr: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens the metrics kept in `SESSIONS_DIR` (which [`build_engine`] has opened), serves
/// `METRICS_ADDR` if set, and starts the periodic flush and the `SESSION_RETENTION_DAYS`
/// policy. Costs are computed at `prices`.
pub async fn start_operations(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    prices: PriceTable,
) -> Result<Operations, StartupError> {
    let dir = settings.sessions_dir.clone();
    let metrics = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || Metrics::open(&dir, clock))
            .await
            .map_err(MetricsError::from)??
    };
    let mut tasks = vec![metrics.spawn_flusher(FLUSH_INTERVAL)];
    let mut metrics_addr = None;
    if let Some(addr) = settings.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::MetricsAddr { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartupError::MetricsAddr { addr, source })?;
        let endpoints = Endpoints {
            metrics: metrics.clone(),
            prices,
            health: HealthCheck::new(metrics.clone(), dir.clone()),
        };
        tracing::info!(addr = %local, "serving /metrics and /healthz");
        tasks.push(tokio::spawn(async move {
            if let Err(error) = http::serve(listener, endpoints).await {
                tracing::error!(%error, "the metrics server stopped");
            }
        }));
        metrics_addr = Some(local);
    }
    if let Some(task) = retention::spawn(
        dir,
        settings.session_retention_days,
        metrics.clone(),
        retention::INTERVAL,
    ) {
        tasks.push(task);
    }
    Ok(Operations {
        metrics,
        metrics_addr,
        tasks,
    })
}

impl Operations {
    /// Stops the background tasks and writes the counters one last time.
    pub async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(error) = self.metrics.flush().await {
            tracing::error!(%error, "could not save the metrics at shutdown");
        }
    }
}
