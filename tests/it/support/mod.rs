//! Shared test helpers: the fakes (from the `interviewer-fakes` crate), [`eventually`], the one
//! way a test waits, and a `spawn_engine` that builds the real engine over a temporary sessions
//! directory, pointed at a fake Anthropic server.

#![allow(dead_code)]

pub mod assemblyai;
pub mod bot;
pub mod browser;
pub mod desk;
pub mod logs;
pub mod owner;
pub mod postgres;
pub mod prometheus;
pub mod proxy;
pub mod seed;

pub use interviewer_fakes::{anthropic, telegram};

use std::{path::PathBuf, sync::Arc, time::Duration};

use ai_interviewer::{
    app::{self, Overrides},
    interview::{Engine, ManualClock},
    retry::RetryPolicy,
    settings::Settings,
    store::{SessionStore, Storage},
};
use chrono::DateTime;

pub use anthropic::{FakeAnthropic, Reply};

/// What a probe of [`eventually`] returns: `true`, or `Some(value)`, once what the test
/// waits for has happened.
pub trait Ready {
    /// What the wait hands back.
    type Value;
    /// The value, once ready.
    fn ready(self) -> Option<Self::Value>;
}

impl Ready for bool {
    type Value = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Value = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// The one way a test waits: runs `probe` every 10 ms until it is ready and returns its value;
/// panics with `what` (which may carry a dump: it is formatted only then) once [`bot::WAIT`]
/// has passed without it. The deadline catches a test that would otherwise hang; it is never a
/// bound on how fast the system works, and nothing is asserted about the time it took.
///
/// A probe looks and returns (a count, a file, a `try_wait`, one local HTTP request); it does
/// not wait itself. The deadline is read from the real clock, not tokio's: under
/// `tokio::time::pause()` tokio's clock jumps ahead whenever the runtime idles, so a deadline
/// on it would pass while another process or a socket is still at work.
pub async fn eventually<R: Ready>(
    what: impl std::fmt::Display,
    mut probe: impl AsyncFnMut() -> R,
) -> R::Value {
    let deadline = std::time::Instant::now() + bot::WAIT;
    loop {
        if let Some(value) = probe().await.ready() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited {:?} in vain for {what}",
            bot::WAIT
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The repository's prompts.
pub fn prompts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("prompts")
}

/// A committed audio fixture (`tests/fixtures/audio/<name>`).
pub fn audio(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A bot process started by a test, killed (SIGKILL) when dropped.
pub struct RunningBot(pub std::process::Child);

impl Drop for RunningBot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `ai-interviewer` binary with a clean environment: only `SESSIONS_DIR` set (the prompts
/// are the ones compiled in), working in `sessions` (so no stray `.env` or `prompts/` is
/// found), output captured.
pub fn binary(sessions: &std::path::Path) -> std::process::Command {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ai-interviewer"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SESSIONS_DIR", sessions)
        .current_dir(sessions)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Settings as the process would load them, with `vars` set and everything else default.
pub fn settings(vars: &[(&str, String)]) -> Settings {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .expect("test settings are valid")
}

/// Fast retries for tests: the same policy with waits of milliseconds.
pub fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        ..RetryPolicy::new(max_retries)
    }
}

/// A running engine over a temporary sessions directory.
pub struct TestEngine {
    /// The engine, driven user by user.
    pub engine: owner::Owners,
    /// The engine's clock.
    pub clock: Arc<ManualClock>,
    /// The sessions directory (removed on drop).
    pub dir: tempfile::TempDir,
}

/// Options of [`spawn_engine`].
#[derive(Clone)]
pub struct EngineOptions {
    /// `MAX_CONVERSATION_HISTORY`.
    pub max_history: usize,
    /// `CLAUDE_TIMEOUT_SECONDS`, as a duration.
    pub timeout: Duration,
    /// `CLAUDE_MAX_RETRIES`.
    pub max_retries: u32,
    /// `SESSION_TIMEOUT_MINUTES`, as a duration.
    pub session_timeout: Duration,
    /// More settings for the engine and its Claude client (`CLAUDE_MODEL`, `CLAUDE_EFFORT`...).
    pub vars: Vec<(&'static str, String)>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_history: 100,
            timeout: Duration::from_secs(5),
            max_retries: 3,
            session_timeout: Duration::from_secs(180 * 60),
            vars: Vec::new(),
        }
    }
}

/// The start of every test clock.
pub fn epoch() -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

/// Builds the real engine, online against `fake` or offline without it.
pub fn spawn_engine(fake: Option<&FakeAnthropic>, options: EngineOptions) -> TestEngine {
    let dir = tempfile::tempdir().unwrap();
    spawn_engine_in(dir, fake, options)
}

/// Builds the real engine over an existing sessions directory (a "restart").
pub fn spawn_engine_in(
    dir: tempfile::TempDir,
    fake: Option<&FakeAnthropic>,
    options: EngineOptions,
) -> TestEngine {
    let clock = Arc::new(ManualClock::new(epoch()));
    let engine = build_engine(dir.path(), fake, &options, clock.clone());
    TestEngine {
        engine: owner::Owners::new(Arc::new(engine)),
        clock,
        dir,
    }
}

/// The settings an engine test runs on: `options` as the variables a deployment would set,
/// pointed at `fake` (or offline without it), over `sessions`.
pub fn engine_settings(
    sessions: &std::path::Path,
    fake: Option<&FakeAnthropic>,
    options: &EngineOptions,
) -> Settings {
    let mut vars = vec![
        ("SESSIONS_DIR", sessions.display().to_string()),
        (
            "CLAUDE_TIMEOUT_SECONDS",
            options.timeout.as_secs().max(1).to_string(),
        ),
        ("CLAUDE_MAX_RETRIES", options.max_retries.to_string()),
        ("MAX_CONVERSATION_HISTORY", options.max_history.to_string()),
        (
            "SESSION_TIMEOUT_MINUTES",
            (options.session_timeout.as_secs() / 60).max(1).to_string(),
        ),
    ];
    if let Some(fake) = fake {
        vars.push(("ANTHROPIC_BASE_URL", fake.url.clone()));
        vars.push(("ANTHROPIC_API_KEY", anthropic::API_KEY.to_owned()));
    }
    vars.extend(options.vars.iter().cloned());
    settings(&vars)
}

/// What the tests set differently from a deployment: the manual clock and waits of
/// milliseconds between retries.
pub fn overrides(options: &EngineOptions, clock: Arc<ManualClock>) -> Overrides {
    Overrides {
        clock,
        claude_retry: Some(quick_retries(options.max_retries)),
        assemblyai: Some(bot::quick_assemblyai()),
        ..Overrides::default()
    }
}

/// The engine, built by the same function the binary uses, with quick retries.
pub fn build_engine(
    sessions: &std::path::Path,
    fake: Option<&FakeAnthropic>,
    options: &EngineOptions,
    clock: Arc<ManualClock>,
) -> Engine {
    let settings = engine_settings(sessions, fake, options);
    let storage = Storage::files(SessionStore::open(sessions).expect("SESSIONS_DIR opens"));
    app::build_engine(&settings, &storage, &overrides(options, clock)).expect("the engine builds")
}
