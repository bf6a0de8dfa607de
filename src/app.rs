//! The assembly: the one place that turns settings into a running application.
//!
//! [`bot`] builds the Telegram bot (engine, Claude check, metrics, the operator's server,
//! retention) and [`Bot::run`] connects it; [`console`] builds the terminal interview. `main`
//! calls them with [`Overrides::default`], and the tests call the same functions with a manual
//! clock and short retry waits, so what is tested is what users run. Everything that must be
//! right before an interview can run is checked here, once; a failure is reported in one line
//! and the process exits with code 2.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use secrecy::ExposeSecret;

use crate::{
    desk::{self, Desk, DeskError},
    i18n::{Catalog, CatalogError},
    interview::{
        Clock, Engine, EngineConfig, PromptError, Prompts, QuestionBank, SystemClock,
        bank::BankError,
    },
    llm::{
        ClaudeClient, DEFAULT_MODEL, Fallback, LlmError, Model, RequestRules,
        generation::{self, Purpose},
        pricing::PriceTable,
    },
    login::{Issuer, Links},
    metrics::{
        FLUSH_INTERVAL, Metrics, MetricsError,
        health::HealthCheck,
        http::{self, Endpoints},
    },
    model::Lang,
    retry::RetryPolicy,
    settings::{Settings, SettingsError},
    store::links::SignInLinks,
    store::{Imported, PgStore, Storage, StoreError, retention},
    telegram,
    voice::{AssemblyAiClient, Transcriber, VoiceConfig, assemblyai::PollPolicy},
};

/// The exit code of every start-up failure.
pub const STARTUP_FAILURE: u8 = 2;

/// Why the process cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is malformed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A prompt override is empty or unreadable.
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
    /// The Anthropic API refused the key or the model.
    #[error("{0}")]
    Claude(String),
    /// The Telegram front end cannot start.
    #[error(transparent)]
    Telegram(#[from] telegram::StartupError),
    /// The metrics file cannot be read.
    #[error("SESSIONS_DIR: the metrics cannot be read: {0}")]
    Metrics(#[from] MetricsError),
    /// The desk cannot start.
    #[error(transparent)]
    Desk(#[from] DeskError),
    /// The desk cannot listen.
    #[error("DESK_ADDR {addr}: cannot listen: {source}")]
    DeskAddr {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `desk-link` was asked for while the desk is off.
    #[error("DESK_ADDR is not set: the desk is off, so there is nothing to sign in to")]
    DeskOff,
    /// A command for the database, without one.
    #[error("DATABASE_URL is not set: there is no database to work on")]
    NoDatabase,
    /// The database cannot be reached or its schema brought up to date.
    #[error("DATABASE_URL: {0}")]
    Database(StoreError),
    /// The metrics server cannot listen.
    #[error("METRICS_ADDR {addr}: cannot listen: {source}")]
    MetricsAddr {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// What a test or a load tool sets differently from a deployment. Everything else, addresses
/// and paths included, comes from the settings, so the program under test is the one users run.
#[derive(Clone)]
pub struct Overrides {
    /// The time (tests turn a manual clock).
    pub clock: Arc<dyn Clock>,
    /// How Claude calls are retried, in place of the product's waits for `CLAUDE_MAX_RETRIES`.
    pub claude_retry: Option<RetryPolicy>,
    /// How AssemblyAI calls are retried and transcripts polled, in place of the product's
    /// policies (a fake answers in milliseconds, not seconds).
    pub assemblyai: Option<(RetryPolicy, PollPolicy)>,
    /// How long a quiet chat's worker stays before it ends.
    pub worker_idle: Duration,
}

impl Default for Overrides {
    fn default() -> Self {
        Overrides {
            clock: Arc::new(SystemClock),
            claude_retry: None,
            assemblyai: None,
            worker_idle: telegram::WORKER_IDLE,
        }
    }
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("claude_retry", &self.claude_retry)
            .field("assemblyai", &self.assemblyai)
            .field("worker_idle", &self.worker_idle)
            .finish_non_exhaustive()
    }
}

/// Builds the engine from the settings: prompts, store, texts, offline bank and Claude client,
/// whose requests are shaped by the table of generations (tools that do not check the model
/// with the API use this; the bot and the console shape them from the check's answer).
pub fn build_engine(
    settings: &Settings,
    storage: &Storage,
    overrides: &Overrides,
) -> Result<Engine, StartupError> {
    engine_with(
        settings,
        storage,
        overrides,
        generation::rules(&settings.claude.model),
    )
}

/// Opens where the state is kept, as the settings say: `SESSIONS_DIR`, and the database
/// (its schema brought up to date) when `DATABASE_URL` is set.
pub async fn storage(settings: &Settings) -> Result<Storage, StartupError> {
    let config = settings.storage();
    let on_database = config.database_url.is_some();
    config.open().await.map_err(|error| {
        if on_database {
            StartupError::Database(error)
        } else {
            StartupError::Store(error)
        }
    })
}

/// The longest wait between attempts to reach the database at start-up: short, since a
/// replica waiting for a restarted database is a replica not serving its chats, and an
/// attempt costs one connection.
const MAX_DATABASE_BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// [`storage`] for the bot: a database that cannot be reached (down, restarting) is waited
/// for with backoff, as Telegram is; one that refuses (a wrong password, a newer schema) stops
/// the start.
async fn storage_when_reachable(settings: &Settings) -> Result<Storage, StartupError> {
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        match storage(settings).await {
            Err(StartupError::Database(error)) if error.is_unreachable() => {
                tracing::warn!(%error, ?wait, "the database cannot be reached; waiting");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_DATABASE_BACKOFF);
            }
            other => return other,
        }
    }
}

/// The engine, its Claude client shaping requests by `rules`.
fn engine_with(
    settings: &Settings,
    storage: &Storage,
    overrides: &Overrides,
    rules: RequestRules,
) -> Result<Engine, StartupError> {
    let prompts = Prompts::load(settings.prompts_dir.as_deref())?;
    if !prompts.overridden().is_empty() {
        tracing::info!(overridden = ?prompts.overridden(), "prompts from PROMPTS_DIR replace the built-in ones");
    }
    let catalog = Arc::new(Catalog::load()?);
    let bank = QuestionBank::from_catalog(&catalog)?;
    let claude = settings.claude.api_key.clone().map(|key| {
        let client = ClaudeClient::new(&settings.claude, key).with_rules(rules);
        let client = match overrides.claude_retry {
            Some(retry) => client.with_retry(retry),
            None => client,
        };
        Arc::new(client) as Arc<dyn Model>
    });
    let mut config = EngineConfig::new(settings.max_conversation_history, settings.session_timeout);
    config.price = settings.claude.prices.price(&settings.claude.model);
    config.model = settings.claude.model.clone();
    Ok(Engine::new(
        storage,
        claude,
        prompts,
        catalog,
        bank,
        overrides.clock.clone(),
        config,
    ))
}

/// The console's application: the Claude key and model checked, then the engine, its requests
/// shaped by what the check learnt.
pub async fn console(settings: &Settings, overrides: &Overrides) -> Result<Engine, StartupError> {
    let rules = check_claude(settings).await?;
    let storage = storage(settings).await?;
    engine_with(settings, &storage, overrides, rules)
}

/// The bot, assembled and checked, not yet connected to Telegram: `main` and the tests build
/// it with this one function and then [`Bot::run`] it.
#[derive(Debug)]
pub struct Bot {
    settings: Settings,
    engine: Engine,
    operations: Operations,
    overrides: Overrides,
    desk: Option<Served>,
    logs: telegram::Logs,
}

/// The desk, once it listens.
#[derive(Debug)]
struct Served {
    addr: SocketAddr,
    issuer: Issuer,
}

/// Assembles the bot: the engine, the Claude check, the metrics and the operator's server and
/// tasks. Telegram is reached by [`Bot::run`].
pub async fn bot(settings: Settings, overrides: Overrides) -> Result<Bot, StartupError> {
    let rules = check_claude(&settings).await?;
    let storage = storage_when_reachable(&settings).await?;
    if storage.database().is_some() {
        tracing::info!(
            "the interviews, chat records, profiles, studies, the desk's sign-in links, the \
             inbox, the sent log and the counters are kept in PostgreSQL (DATABASE_URL)"
        );
    }
    let logs = match storage.database() {
        Some(database) => telegram::Logs::Database(Box::new(database.clone())),
        None => telegram::Logs::Files(storage.dir().to_path_buf()),
    };
    let engine = engine_with(&settings, &storage, &overrides, rules)?;
    if !engine.is_online() {
        tracing::warn!("no ANTHROPIC_API_KEY: interviews run on the offline question bank");
    }
    let operations = start_operations(
        &settings,
        &storage,
        overrides.clock.clone(),
        settings.claude.prices.clone(),
    )
    .await?;
    let engine = engine.with_metrics(operations.metrics.clone());
    let mut operations = operations;
    let desk = match &settings.desk {
        Some(config) => {
            Some(start_desk(&settings, &storage, config, &engine, &mut operations).await?)
        }
        None => None,
    };
    Ok(Bot {
        settings,
        engine,
        operations,
        overrides,
        desk,
        logs,
    })
}

/// Binds `DESK_ADDR`, builds the desk's index and serves it among the operator's tasks.
async fn start_desk(
    settings: &Settings,
    storage: &Storage,
    config: &desk::Config,
    engine: &Engine,
    operations: &mut Operations,
) -> Result<Served, StartupError> {
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::DeskAddr { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartupError::DeskAddr { addr, source })?;
    let mut config = config.clone();
    // `DESK_ADDR=…:0` (a test) listens on a port the system picks: the links must name it.
    if config.public_url.port() == Some(0) {
        let _ = config.public_url.set_port(Some(local.port()));
    }
    let links = sign_in_links(storage)?;
    let issuer = Issuer::new(links.clone(), config.public_url.clone());
    let served = Desk::open(
        config.clone(),
        engine,
        settings.claude.prices.clone(),
        &settings.claude.model,
        links,
    );
    tracing::info!(addr = %local, url = %config.public_url, "serving the operator's desk");
    operations.tasks.push(tokio::spawn(async move {
        if let Err(error) = desk::serve(listener, served).await {
            tracing::error!(%error, "the desk stopped");
        }
    }));
    Ok(Served {
        addr: local,
        issuer,
    })
}

/// `ai-interviewer migrate`: connects to `DATABASE_URL`, which brings its schema up to date,
/// and returns the version it is at.
pub async fn migrate(settings: &Settings) -> Result<i32, StartupError> {
    let database = database(settings).await?;
    database
        .schema_version()
        .await
        .map_err(StartupError::Database)
}

/// `ai-interviewer import-files`: copies what `SESSIONS_DIR` holds into `DATABASE_URL`,
/// leaving what the database holds already.
pub async fn import_files(settings: &Settings) -> Result<Imported, StartupError> {
    let database = database(settings).await?;
    database
        .import_files(&settings.sessions_dir)
        .await
        .map_err(StartupError::Database)
}

/// The database of `DATABASE_URL`, its schema up to date; an error if it is not set.
async fn database(settings: &Settings) -> Result<PgStore, StartupError> {
    let url = settings
        .database_url
        .as_ref()
        .ok_or(StartupError::NoDatabase)?;
    PgStore::connect(url.expose_secret())
        .await
        .map_err(StartupError::Database)
}

/// Where the desk's sign-in links are kept: with a database, in it (every replica's desk
/// honours a link any replica or `desk-link` issued, once); else in `SESSIONS_DIR`.
fn sign_in_links(storage: &Storage) -> Result<Arc<dyn SignInLinks>, StartupError> {
    Ok(match storage.database() {
        Some(database) => Arc::new(database.clone()),
        None => Arc::new(Links::open(storage.dir()).map_err(DeskError::Links)?),
    })
}

/// `ai-interviewer desk-link`: a one-time sign-in URL for the desk, whose pages open in
/// `lang`, written where the running bots read it (the files, or the database).
pub async fn desk_link(settings: &Settings, lang: Lang) -> Result<reqwest::Url, StartupError> {
    let config = settings.desk.as_ref().ok_or(StartupError::DeskOff)?;
    let storage = storage(settings).await?;
    let issuer = Issuer::new(sign_in_links(&storage)?, config.public_url.clone());
    let now = chrono::Utc::now();
    Ok(issuer.link(now, lang).await.map_err(DeskError::Issue)?)
}

impl Bot {
    /// What the bot counts (the handle `/metrics` and Prometheus read).
    pub fn metrics(&self) -> &Metrics {
        &self.operations.metrics
    }

    /// Where `/metrics` and `/healthz` are served, if `METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.operations.metrics_addr
    }

    /// Where the operator's desk is served, if `DESK_ADDR` is set.
    pub fn desk_addr(&self) -> Option<SocketAddr> {
        self.desk.as_ref().map(|d| d.addr)
    }

    /// Issues the desk's sign-in links (what `/desk` and `desk-link` do), if the desk is served.
    pub fn desk_links(&self) -> Option<&Issuer> {
        self.desk.as_ref().map(|d| &d.issuer)
    }

    /// Runs the bot until `shutdown` resolves (`main` passes SIGTERM or Ctrl-C), then stops
    /// without losing anything and writes the counters one last time. A replica that loses
    /// its database connection returns [`telegram::Ended::Lost`] at once: see there.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<telegram::Ended, StartupError> {
        let Bot {
            settings,
            engine,
            operations,
            overrides,
            desk,
            logs,
        } = self;
        let voice = voice_pipeline(&settings.voice, overrides.assemblyai).await;
        let options = telegram::Options {
            worker_idle: overrides.worker_idle,
            desk: desk.map(|d| d.issuer),
            logs,
        };
        let result = telegram::run(
            &settings.telegram,
            engine,
            voice,
            &settings.claude.prices,
            settings.default_language,
            options,
            shutdown,
        )
        .await;
        operations.shutdown().await;
        Ok(result?)
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT): how a deployed bot is asked to stop.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = terminate => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
    }
}

/// The voice pipeline, built once; what the operator should know about it goes to the log.
async fn voice_pipeline(
    settings: &VoiceConfig,
    policies: Option<(RetryPolicy, PollPolicy)>,
) -> Transcriber {
    let (mut transcriber, warnings) = Transcriber::from_settings(settings).await;
    if !settings.enabled {
        tracing::info!(
            "voice notes are turned off (VOICE_PROCESSING_ENABLED=false): they get a note asking for text"
        );
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    if let (Some((retry, poll)), Some(key)) = (policies, settings.assemblyai.api_key.clone()) {
        transcriber = transcriber.with_client(
            AssemblyAiClient::new(&settings.assemblyai, key)
                .with_retry(retry)
                .with_poll(poll),
        );
    }
    if settings.enabled && warnings.is_empty() {
        tracing::info!(
            english = %settings.assemblyai.speech_models.en.join(","),
            russian = %settings.assemblyai.speech_models.ru.join(","),
            concurrent = settings.concurrent_requests,
            "voice notes are transcribed by AssemblyAI"
        );
    }
    transcriber
}

/// The operator's side of a running bot: the metrics and the tasks that keep them (the
/// `METRICS_ADDR` server, the periodic flush, the retention policy).
#[derive(Debug)]
struct Operations {
    /// The shared metrics handle.
    metrics: Metrics,
    /// Where the metrics server listens, if it runs.
    metrics_addr: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens the metrics kept in `SESSIONS_DIR` (which [`build_engine`] has opened), serves
/// `METRICS_ADDR` if set, and starts the periodic flush and the `SESSION_RETENTION_DAYS`
/// policy. Costs are computed at `prices`.
async fn start_operations(
    settings: &Settings,
    storage: &Storage,
    clock: Arc<dyn Clock>,
    prices: PriceTable,
) -> Result<Operations, StartupError> {
    let dir = settings.sessions_dir.clone();
    let metrics = match storage.database() {
        // The counters go where the rest is: with a database, a row per replica, summed.
        Some(database) => {
            Metrics::on_database(database.counters(), storage.interviews().clone(), clock).await?
        }
        None => {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || Metrics::open(&dir, clock))
                .await
                .map_err(MetricsError::from)??
        }
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
        storage.retained()?,
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
    async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(error) = self.metrics.flush().await {
            tracing::error!(%error, "could not save the metrics at shutdown");
        }
    }
}

/// Checks the Anthropic key and model with `GET /v1/models/{CLAUDE_MODEL}`, and returns the
/// rules the requests are shaped by: the model's capabilities as the answer states them over
/// the table of generations ([`RequestRules::with_capabilities`]), or the table alone when the
/// answer states none, nothing could be checked, or there is no key.
///
/// A rejected key (401), a key without access (403), an unknown or retired model (404, with the
/// replacement when the API's message names one) or a model without structured outputs stops
/// the process: every turn would fail. A network failure or a 5xx only warns: the offline bank
/// covers an outage, and the bot should be up when the API comes back.
pub async fn check_claude(settings: &Settings) -> Result<RequestRules, StartupError> {
    let model = &settings.claude.model;
    let table = generation::rules(model);
    let Some(key) = settings.claude.api_key.clone() else {
        return Ok(table);
    };
    let client = ClaudeClient::new(&settings.claude, key);
    match client.model_info().await {
        Ok(info) => {
            let described = info.capabilities.as_ref();
            tracing::info!(
                model = %info.id,
                display_name = %info.display_name,
                max_input_tokens = info.max_input_tokens,
                max_tokens = info.max_tokens,
                capabilities = if described.is_some() { "described" } else { "not described" },
                "Claude model available"
            );
            if described
                .and_then(|c| c.structured_outputs)
                .is_some_and(|s| !s.supported)
            {
                return Err(StartupError::Claude(format!(
                    "CLAUDE_MODEL {model:?} does not support structured outputs, which every \
                     request of the interview relies on: choose another model, such as \
                     {DEFAULT_MODEL}"
                )));
            }
            let rules = match described {
                Some(capabilities) => table.with_capabilities(capabilities),
                None => table,
            };
            let source = if described.is_some() {
                "the model's capabilities"
            } else {
                "the table of generations"
            };
            log_request_shape(settings, &rules, client.max_tokens(), source);
            if let Some(limit) = info.max_tokens
                && u64::from(client.max_tokens()) > limit
            {
                tracing::warn!(
                    budget = client.max_tokens(),
                    limit,
                    "CLAUDE_MAX_TOKENS is above the model's output limit: lower it"
                );
            }
            Ok(rules)
        }
        Err(LlmError::Api { status, kind, .. }) if status == 401 => {
            Err(StartupError::Claude(format!(
                "ANTHROPIC_API_KEY was rejected by the Anthropic API ({status} {kind}): set a \
                 valid key, or remove it to run on the offline question bank"
            )))
        }
        Err(LlmError::Api { status, kind, .. }) if status == 403 => {
            Err(StartupError::Claude(format!(
                "ANTHROPIC_API_KEY may not use CLAUDE_MODEL {model:?} ({status} {kind}): check \
                 the key's permissions or choose another model"
            )))
        }
        Err(LlmError::Api {
            status,
            kind,
            message,
            ..
        }) if status == 404 => {
            let fix = match replacement(&message, model) {
                Some(replacement) => {
                    format!("set CLAUDE_MODEL={replacement}, the replacement the API names")
                }
                None => format!("set a current model id, such as {DEFAULT_MODEL}"),
            };
            Err(StartupError::Claude(format!(
                "CLAUDE_MODEL {model:?} was not found by the Anthropic API ({status} {kind}: \
                 {message}): {fix}"
            )))
        }
        Err(error) => {
            log_request_shape(
                settings,
                &table,
                client.max_tokens(),
                "the table of generations",
            );
            tracing::warn!(
                %error,
                fallback = %Fallback::UpstreamDown,
                "the Anthropic API could not be checked at start-up; starting anyway: turns \
                 come from the offline question bank until it answers"
            );
            Ok(table)
        }
    }
}

/// The model id an API message names besides `model` (itself, dated or not): what a
/// retirement notice points to as the replacement. The notice's wording is not documented, so
/// any other `claude-` id in it is taken.
fn replacement(message: &str, model: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        .map(|word| word.trim_end_matches('.'))
        .find(|word| {
            word.starts_with("claude-") && !model.starts_with(word) && !word.starts_with(model)
        })
        .map(str::to_owned)
}

/// Logs the request shape the model gets (its rules from `source`), and warns about settings
/// it will not use.
fn log_request_shape(settings: &Settings, rules: &RequestRules, max_tokens: u32, source: &str) {
    let claude = &settings.claude;
    let shape = rules.shape(Purpose::Turn, claude.effort, claude.temperature);
    tracing::info!(
        model = %claude.model,
        version = %claude.api_version,
        from = source,
        generation = %rules.generation,
        effort = shape.effort.map(|e| e.as_str()).unwrap_or("not sent"),
        efforts = %rules.efforts,
        thinking = if rules.thinks(&shape) {
            "adaptive"
        } else if shape.thinking.is_some() {
            "between_tools"
        } else {
            "none"
        },
        max_tokens,
        min_cacheable_tokens = rules.min_cacheable_tokens,
        "Claude request shape"
    );
    if claude.temperature.is_some() && !claude.api_version.takes_sampling_parameters() {
        tracing::warn!(
            version = %claude.api_version,
            "CLAUDE_TEMPERATURE is set, but ANTHROPIC_VERSION {} refuses sampling parameters: \
             it is not sent; remove CLAUDE_TEMPERATURE from the settings",
            claude.api_version
        );
    } else if claude.temperature.is_some() && !rules.sampling_parameters {
        tracing::warn!(
            model = %claude.model,
            "CLAUDE_TEMPERATURE is set, but this model refuses sampling parameters: it is not \
             sent; remove CLAUDE_TEMPERATURE from the settings"
        );
    }
    if shape.effort.is_none() {
        tracing::debug!(
            generation = %rules.generation,
            "CLAUDE_EFFORT is not sent: the model takes no effort at this level"
        );
    }
    match claude.prices.price(&claude.model) {
        Some(price) => tracing::info!(
            input = price.input,
            output = price.output,
            cache_write = price.cache_write,
            cache_read = price.cache_read,
            "prices per million tokens"
        ),
        None => tracing::info!(
            model = %claude.model,
            "no price known for this model: set CLAUDE_PRICES to have interview costs logged"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replacement_is_the_other_model_id_a_message_names() {
        let model = "claude-sonnet-4-5-20250929";
        assert_eq!(
            replacement(
                "model: claude-sonnet-4-5-20250929 was retired on 2026-11-30. Use \
                 claude-sonnet-5-5.",
                model
            )
            .as_deref(),
            Some("claude-sonnet-5-5")
        );
        assert_eq!(
            replacement("claude-sonnet-4-5 is no longer served", model),
            None,
            "the model's own alias is not a replacement"
        );
        assert_eq!(
            replacement("model: claude-nonesuch", "claude-nonesuch"),
            None
        );
    }
}
