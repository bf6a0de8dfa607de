//! The health verdict behind `/healthz`: healthy while Telegram polling keeps succeeding and
//! `SESSIONS_DIR` takes a real atomic write.

use std::{fmt, path::PathBuf, time::Duration};

use super::Metrics;
use crate::store::atomic;

/// How long polling may go without a successful `getUpdates` before the bot is unhealthy.
/// A poll lasts at most about ten seconds; two minutes rides out a short Telegram outage.
pub const POLL_STALE_AFTER: Duration = Duration::from_secs(120);

/// The file the write probe replaces and removes; its prefix marks it as a temporary, so a
/// leftover is cleaned at start-up.
const PROBE: &str = ".tmp-healthz";

/// Why the bot is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No `getUpdates` has succeeded since the start.
    NeverPolled,
    /// The last successful `getUpdates` is too old.
    PollingStale {
        /// How long ago it was.
        ago: Duration,
        /// The limit.
        limit: Duration,
    },
    /// The write probe failed.
    NotWritable {
        /// `SESSIONS_DIR`.
        dir: String,
        /// The error.
        error: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NeverPolled => f.write_str("polling: no successful getUpdates yet"),
            Problem::PollingStale { ago, limit } => write!(
                f,
                "polling: last successful getUpdates {} s ago (limit {} s)",
                ago.as_secs(),
                limit.as_secs()
            ),
            Problem::NotWritable { dir, error } => {
                write!(f, "SESSIONS_DIR {dir} is not writable: {error}")
            }
        }
    }
}

/// Checks the bot's health.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    /// Where the last successful poll is recorded.
    pub metrics: Metrics,
    /// `SESSIONS_DIR`, probed with a write.
    pub sessions_dir: PathBuf,
    /// How old the last successful poll may be.
    pub poll_stale_after: Duration,
}

impl HealthCheck {
    /// A check of `sessions_dir` and of the polling recorded in `metrics`, with the default
    /// staleness limit.
    pub fn new(metrics: Metrics, sessions_dir: PathBuf) -> Self {
        HealthCheck {
            metrics,
            sessions_dir,
            poll_stale_after: POLL_STALE_AFTER,
        }
    }

    /// Healthy, or every reason it is not.
    pub async fn check(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let now = self.metrics.clock().now();
        match self.metrics.last_poll() {
            None => problems.push(Problem::NeverPolled),
            Some(at) => {
                let ago = (now - at).to_std().unwrap_or_default();
                if ago > self.poll_stale_after {
                    problems.push(Problem::PollingStale {
                        ago,
                        limit: self.poll_stale_after,
                    });
                }
            }
        }
        let dir = self.sessions_dir.clone();
        let probe = tokio::task::spawn_blocking(move || {
            let path = dir.join(PROBE);
            atomic::write(&path, b"ok")?;
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
        .await;
        let failure = match probe {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error.to_string()),
            Err(error) => Some(error.to_string()),
        };
        if let Some(error) = failure {
            problems.push(Problem::NotWritable {
                dir: self.sessions_dir.display().to_string(),
                error,
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
