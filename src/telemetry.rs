//! Logging set-up: `tracing` to stderr, as text or JSON lines, filtered by `LOG_LEVEL`.
//!
//! Every line passes through a redacting writer that replaces the process's secrets (the
//! Anthropic key, the bot token, which is part of every Telegram URL) with `[redacted]`, so no
//! log line can carry one, whatever a dependency decides to log.

use std::{
    io::{self, Write},
    sync::Arc,
};

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

use crate::settings::LogFormat;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Installs the global subscriber. `level` is a filter directive already validated by the
/// settings; `secrets` are never written. Log lines from dependencies that use `log` (teloxide)
/// are captured too.
pub fn init(level: &str, format: LogFormat, secrets: Vec<String>) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting::new(secrets);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    // A second initialisation (as in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Makes writers that buffer one log line and write it to stderr with the secrets replaced.
#[derive(Debug, Clone)]
pub struct Redacting {
    secrets: Arc<Vec<String>>,
}

impl Redacting {
    /// A writer hiding `secrets` (empty ones are ignored).
    pub fn new(secrets: Vec<String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redacting {
            secrets: Arc::new(secrets),
        }
    }

    /// `text` with every secret replaced.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

/// One log line being written.
pub struct Line {
    redacting: Redacting,
    buffer: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        let _ = io::stderr()
            .lock()
            .write_all(self.redacting.clean(&text).as_bytes());
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            redacting: self.clone(),
            buffer: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_wherever_they_appear() {
        let r = Redacting::new(vec![
            "123456:ABC-secret".into(),
            "sk-ant-key".into(),
            String::new(),
        ]);
        let line =
            "POST https://api.telegram.org/bot123456:ABC-secret/getMe failed; key=sk-ant-key";
        assert_eq!(
            r.clean(line),
            "POST https://api.telegram.org/bot[redacted]/getMe failed; key=[redacted]"
        );
        assert_eq!(r.clean("nothing here"), "nothing here");
    }
}
