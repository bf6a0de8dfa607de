//! Logging set-up: `tracing` to stderr, as text or JSON lines, filtered by `LOG_LEVEL`.
//!
//! Nothing logged carries a secret: keys live in [`secrecy::SecretString`], and Telegram
//! URLs, which contain the bot token, are redacted before they are logged.

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber. `level` is a filter directive already validated by the
/// settings. Log lines from dependencies (teloxide logs through `log`) are captured too.
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (as in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
