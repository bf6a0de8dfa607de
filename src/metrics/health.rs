//! The health verdict behind `/healthz`: healthy from the moment the first `getUpdates` is
//! on its way, while polling keeps succeeding and `SESSIONS_DIR` takes a real atomic write.
//!
//! The first long poll is held by Telegram for up to its timeout when nobody writes: waiting
//! for it to return would report a polling, healthy bot as down for its first ten seconds. So
//! a poll in flight counts until it fails, or until it has been held longer than any poll
//! lasts (a stall).

use std::{fmt, path::PathBuf, time::Duration};

use chrono::{DateTime, Utc};

use super::Metrics;
use crate::store::atomic;

/// How long polling may go without a successful `getUpdates` before the bot is unhealthy.
/// A poll lasts at most about ten seconds; two minutes rides out a short Telegram outage.
pub const POLL_STALE_AFTER: Duration = Duration::from_secs(120);

/// The file the write probe replaces and removes; its prefix marks it as a temporary, so a
/// leftover is cleaned at start-up.
const PROBE: &str = ".tmp-healthz";

/// How Telegram polling is going, as the poller reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polling {
    /// No `getUpdates` sent yet.
    NotStarted,
    /// The first `getUpdates` is on its way, and none has answered yet.
    FirstInFlight {
        /// When it was sent.
        since: DateTime<Utc>,
    },
    /// Every `getUpdates` so far has failed.
    Failing {
        /// When the first one failed.
        since: DateTime<Utc>,
    },
    /// A `getUpdates` has succeeded.
    Succeeded {
        /// The last time one did.
        at: DateTime<Utc>,
    },
}

impl Polling {
    /// When `getUpdates` last succeeded.
    pub fn last_success(self) -> Option<DateTime<Utc>> {
        match self {
            Polling::Succeeded { at } => Some(at),
            Polling::NotStarted | Polling::FirstInFlight { .. } | Polling::Failing { .. } => None,
        }
    }
}

/// Why the bot is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No `getUpdates` has been sent since the start.
    NeverPolled,
    /// The first `getUpdates` has been held longer than any poll lasts.
    FirstPollStalled {
        /// How long ago it was sent.
        ago: Duration,
        /// The limit.
        limit: Duration,
    },
    /// Every `getUpdates` since the start has failed.
    PollingFailing {
        /// How long ago the first one failed.
        ago: Duration,
    },
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
            Problem::FirstPollStalled { ago, limit } => write!(
                f,
                "polling: the first getUpdates has had no answer for {} s (limit {} s)",
                ago.as_secs(),
                limit.as_secs()
            ),
            Problem::PollingFailing { ago } => write!(
                f,
                "polling: every getUpdates has failed since the start (for {} s)",
                ago.as_secs()
            ),
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
    /// Where polling is recorded.
    pub metrics: Metrics,
    /// `SESSIONS_DIR`, probed with a write.
    pub sessions_dir: PathBuf,
    /// How old the last successful poll (or the first one in flight) may be.
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
        let age = |at: DateTime<Utc>| (now - at).to_std().unwrap_or_default();
        let limit = self.poll_stale_after;
        match self.metrics.polling() {
            Polling::NotStarted => problems.push(Problem::NeverPolled),
            Polling::FirstInFlight { since } if age(since) > limit => {
                problems.push(Problem::FirstPollStalled {
                    ago: age(since),
                    limit,
                });
            }
            Polling::Failing { since } => {
                problems.push(Problem::PollingFailing { ago: age(since) })
            }
            Polling::Succeeded { at } if age(at) > limit => {
                problems.push(Problem::PollingStale {
                    ago: age(at),
                    limit,
                });
            }
            Polling::FirstInFlight { .. } | Polling::Succeeded { .. } => {}
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
