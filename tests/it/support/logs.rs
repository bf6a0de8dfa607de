//! The bot's log lines, kept in memory for a test to read: the product's own subscriber
//! (format, redaction) writing to a buffer, installed for the current thread only.
//!
//! A `#[tokio::test]` runs the bot's tasks on the test's thread, so every line they log while
//! the guard lives lands here (work moved to blocking threads does not).

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use ai_interviewer::telemetry::{self, LogFormat, Redacting};

/// Log output collected in memory, for a subscriber a test builds itself.
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// A writer factory for a subscriber.
    pub fn writer(&self) -> impl Fn() -> Line + Send + Sync + 'static {
        let buffer = self.0.clone();
        move || Line(buffer.clone())
    }
}

/// The captured log; capturing stops when it is dropped.
pub struct Logs {
    buffer: Buffer,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Logs {
    /// Captures this thread's log lines at `info` and above from now on.
    pub fn capture() -> Logs {
        let buffer = Buffer::default();
        let subscriber = telemetry::subscriber(
            "info",
            LogFormat::Text,
            Redacting::with_writer(Vec::new(), buffer.writer()),
        );
        Logs {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        self.buffer.text()
    }

    /// The lines logged so far that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

/// One write into a [`Buffer`].
pub struct Line(Arc<Mutex<Vec<u8>>>);

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
