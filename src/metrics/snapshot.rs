//! A consistent copy of the counters and gauges at one moment, which the chat text and the
//! Prometheus exposition are rendered from.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ledger::Counters;

/// Claude latency percentiles over the most recent calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// The median.
    pub p50: Duration,
    /// The 95th percentile.
    pub p95: Duration,
    /// How many calls they are taken over.
    pub calls: usize,
}

/// Everything the operator can read, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// When the snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// When the process started counting.
    pub started_at: DateTime<Utc>,
    /// The program's version.
    pub version: &'static str,
    /// Counters of the current UTC day.
    pub today: Counters,
    /// Counters since the first start.
    pub all_time: Counters,
    /// Interviews in progress.
    pub active_interviews: u64,
    /// Chats whose worker is running (chats active in the last few minutes).
    pub chat_workers: u64,
    /// Claude latency percentiles, once a call was made.
    pub latency: Option<Latency>,
    /// When `getUpdates` last succeeded.
    pub last_poll: Option<DateTime<Utc>>,
    /// The process's resident memory, where the platform reports it.
    pub resident_memory_bytes: Option<u64>,
}

impl Snapshot {
    /// How long the process has been running.
    pub fn uptime(&self) -> Duration {
        (self.taken_at - self.started_at)
            .to_std()
            .unwrap_or_default()
    }

    /// How long ago `getUpdates` last succeeded.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.last_poll
            .map(|at| (self.taken_at - at).to_std().unwrap_or_default())
    }
}

/// The process's resident set size, from the same `/proc` reading Prometheus gets.
pub fn resident_memory_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use prometheus::core::Collector;
        prometheus::process_collector::ProcessCollector::for_self()
            .collect()
            .iter()
            .find(|family| family.name() == "process_resident_memory_bytes")
            .and_then(|family| family.get_metric().first())
            .map(|metric| metric.get_gauge().get_value() as u64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
