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

/// The captured log; capturing stops when it is dropped.
pub struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Logs {
    /// Captures this thread's log lines at `info` and above from now on.
    pub fn capture() -> Logs {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buffer = buffer.clone();
            move || Line(buffer.clone())
        };
        let subscriber = telemetry::subscriber(
            "info",
            LogFormat::Text,
            Redacting::with_writer(Vec::new(), writer),
        );
        Logs {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
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

struct Line(Arc<Mutex<Vec<u8>>>);

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
