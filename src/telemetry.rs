//! Logging set-up: `tracing` to stderr, as text or JSON lines, filtered by `LOG_LEVEL`.
//!
//! Every line passes through a redacting writer that replaces the process's secrets (every
//! value the settings list as secrets: the API keys and the
//! bot token, which is part of every Telegram URL) with `[redacted]`, as they are and
//! percent-encoded as a URL would carry them, so no log line can hold one, whatever a
//! dependency decides to log.
//!
//! In JSON, each event is one object per line, its fields at the top level beside `timestamp`,
//! `level`, `target` and `message`: events carry `user`, `update_id`, `stage` and durations
//! (`elapsed_ms`) as fields where they have them.

use std::{
    io::{self, Write},
    sync::Arc,
};

use reqwest::Url;
use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(()),
        }
    }
}

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Installs the global subscriber. `level` is a filter directive already validated by the
/// settings; `secrets` are never written. Log lines from dependencies that use `log` (teloxide,
/// reqwest) are captured too.
pub fn init(level: &str, format: LogFormat, secrets: Vec<String>) {
    use tracing_subscriber::util::SubscriberInitExt;
    // A second initialisation (as in tests) keeps the first subscriber.
    let _ = subscriber(level, format, Redacting::new(secrets)).try_init();
}

/// The product's subscriber writing through `writer`: what [`init`] installs, and what tests
/// capture.
pub fn subscriber<M>(level: &str, format: LogFormat, writer: M) -> Box<dyn Subscriber + Send + Sync>
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// The forms a secret can take in a log line: as it is, and percent-encoded as in a URL's path
/// or query.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let mut url = Url::parse("http://redact.invalid/").expect("a valid URL");
    url.path_segments_mut()
        .expect("an http URL has a path")
        .push(secret);
    forms.push(url.path().trim_start_matches('/').to_owned());
    url.query_pairs_mut().clear().append_pair("s", secret);
    if let Some(query) = url.query().and_then(|q| q.strip_prefix("s=")) {
        forms.push(query.to_owned());
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Makes writers that buffer one log line and write it, with the secrets replaced, to the
/// writers `M` makes (stderr by default).
#[derive(Debug, Clone)]
pub struct Redacting<M = fn() -> io::Stderr> {
    secrets: Arc<Vec<String>>,
    inner: M,
}

impl Redacting {
    /// A writer to stderr hiding `secrets` (values shorter than four characters are ignored).
    pub fn new(secrets: Vec<String>) -> Self {
        Redacting::with_writer(secrets, io::stderr as fn() -> io::Stderr)
    }
}

impl<M> Redacting<M> {
    /// A writer to `inner`'s writers hiding `secrets`.
    pub fn with_writer(secrets: Vec<String>, inner: M) -> Self {
        let mut secrets: Vec<String> = secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .flat_map(|s| forms(s))
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redacting {
            secrets: Arc::new(secrets),
            inner,
        }
    }

    /// `text` with every secret replaced.
    pub fn clean(&self, text: &str) -> String {
        clean(&self.secrets, text)
    }
}

fn clean(secrets: &[String], text: &str) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// One log line being written.
pub struct Line<W: Write> {
    secrets: Arc<Vec<String>>,
    buffer: Vec<u8>,
    inner: W,
}

impl<W: Write> Write for Line<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Line<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        let _ = self.inner.write_all(clean(&self.secrets, &text).as_bytes());
        let _ = self.inner.flush();
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = Line<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Line {
            secrets: self.secrets.clone(),
            buffer: Vec::with_capacity(256),
            inner: self.inner.make_writer(),
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

    #[test]
    fn percent_encoded_secrets_are_replaced_too() {
        let r = Redacting::new(vec!["123456:AB/C+d e".into()]);
        assert_eq!(
            r.clean("GET /x?token=123456%3AAB%2FC%2Bd+e and /bot123456:AB%2FC+d%20e/getMe"),
            "GET /x?token=[redacted] and /bot[redacted]/getMe"
        );
    }
}
