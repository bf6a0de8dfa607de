//! What the operator watches: counters and gauges behind one shared handle, persisted in
//! `SESSIONS_DIR/metrics.json` so they survive a restart, read as chat text (`/metrics`) and as
//! Prometheus text (`METRICS_ADDR`), plus the health check.
//!
//! | module | what it holds |
//! |---|---|
//! | [`kinds`] | the typed labels: answer kinds, fallback reasons, transcription failures, errors |
//! | [`ledger`] | the counters (today and all time), token counts, the latency window, `metrics.json` |
//! | [`snapshot`] | a consistent copy of everything, for the readers |
//! | [`report`] | the `/metrics` chat text, and who may read it |
//! | [`exposition`] | the Prometheus text format |
//! | [`health`] | the `/healthz` verdict: polling fresh, `SESSIONS_DIR` writable |
//! | [`http`] | the `METRICS_ADDR` server and the `healthcheck` client |
//!
//! [`Metrics`] is cheap to clone; every part of the bot records through its typed methods.
//! "Today" is the current UTC day by the injected [`Clock`]: the first event or read of a new
//! day starts it from zero.

pub mod exposition;
pub mod health;
pub mod http;
pub mod kinds;
pub mod ledger;
pub mod report;
pub mod snapshot;

use std::{
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};

pub use self::{
    health::Polling,
    kinds::{AnswerKind, CallOutcome, ErrorKind, FallbackReason, Label, TranscriptionFailure},
    ledger::{Counters, Ledger, Tokens},
    snapshot::Snapshot,
};
use crate::{
    model::{Clock, Usage},
    store::{
        Folder, STAMP_FORMAT, atomic,
        retention::{self, PassFailure},
    },
};

/// The file the counters are kept in, inside `SESSIONS_DIR`.
pub const FILE_NAME: &str = "metrics.json";

/// How often the counters are written to disk (and the active interviews recounted).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// Upper bounds of the Claude latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0,
];

/// Why the counters could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The counters could not be encoded.
    #[error("cannot encode the metrics: {0}")]
    Encode(#[from] serde_json::Error),
    /// The blocking write did not finish.
    #[error("metrics task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The database could not be read or written.
    #[error("metrics: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The shared metrics handle.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    /// What "now" and "today" are.
    clock: Arc<dyn Clock>,
    /// Where the counters are kept.
    keep: Keep,
    /// When this process started counting, for the uptime.
    started_at: DateTime<Utc>,
    /// The counters and gauges.
    state: Mutex<State>,
    /// Claude call latencies since the process started, for Prometheus.
    latency: prometheus::Histogram,
    /// Held until a write is on disk, even by a flush whose caller went away, so an older copy
    /// never overwrites a newer one.
    flushing: Arc<tokio::sync::Mutex<()>>,
}

/// Where a process keeps its counters.
enum Keep {
    /// Nowhere (tests and tools).
    Nowhere,
    /// `SESSIONS_DIR/metrics.json`.
    File(PathBuf),
    /// A row of the database's `counters`; the other replicas' rows add up with it, and the
    /// interviews in progress are counted in `store`.
    Database {
        rows: crate::store::postgres::PgCounters,
        store: Arc<dyn crate::store::InterviewStore>,
    },
}

struct State {
    /// The persisted counters.
    ledger: Ledger,
    /// The other replicas' counters, as last read (with a database).
    others: Vec<Ledger>,
    /// Changes made to the ledger.
    changes: u64,
    /// The change count last written to disk.
    flushed: u64,
    /// Interviews in progress.
    active_interviews: u64,
    /// Chats whose worker is running.
    chat_workers: u64,
    /// How Telegram polling is going.
    polling: Polling,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field(
                "keep",
                &match &self.inner.keep {
                    Keep::Nowhere => "nowhere".to_owned(),
                    Keep::File(dir) => dir.display().to_string(),
                    Keep::Database { .. } => "database".to_owned(),
                },
            )
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> MetricsError + '_ {
    move |source| MetricsError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Metrics {
    /// Opens the counters kept in `sessions_dir` (an existing, writable directory), counting
    /// the interviews in progress. A `metrics.json` that cannot be decoded is moved to
    /// `quarantine/` with a warning and counting starts again from zero.
    pub fn open(sessions_dir: &Path, clock: Arc<dyn Clock>) -> Result<Metrics, MetricsError> {
        let path = sessions_dir.join(FILE_NAME);
        let today = clock.now().date_naive();
        let mut quarantined = false;
        let ledger = match std::fs::read(&path) {
            Ok(bytes) => match Ledger::decode(&bytes) {
                Ok(ledger) => ledger,
                Err(reason) => {
                    let stamp = clock.now().format(STAMP_FORMAT);
                    let target = sessions_dir
                        .join(Folder::Quarantine.name())
                        .join(format!("metrics-{stamp}.json"));
                    tracing::warn!(file = %path.display(), to = %target.display(), %reason,
                        "metrics file quarantined; counting starts again");
                    if let Some(dir) = target.parent() {
                        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
                    }
                    atomic::rename(&path, &target).map_err(io_error(&path))?;
                    quarantined = true;
                    Ledger::new(today)
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ledger::new(today),
            Err(e) => return Err(io_error(&path)(e)),
        };
        let metrics = Metrics::with_ledger(Keep::File(sessions_dir.to_path_buf()), clock, ledger);
        if quarantined {
            metrics.error(ErrorKind::Quarantine);
        }
        metrics.set_active_interviews(count_active(sessions_dir).map_err(io_error(sessions_dir))?);
        Ok(metrics)
    }

    /// Counters kept in memory only (for tests and tools); [`Metrics::flush`] does nothing.
    pub fn unpersisted(clock: Arc<dyn Clock>) -> Metrics {
        let today = clock.now().date_naive();
        Metrics::with_ledger(Keep::Nowhere, clock, Ledger::new(today))
    }

    /// Counters kept in the database (`DATABASE_URL`): this process counts from zero in a row
    /// of its own, and every figure is the sum over the rows, so several replicas' counts add
    /// up and a replica's counts outlive it. The interviews in progress are counted in `store`.
    pub async fn on_database(
        rows: crate::store::postgres::PgCounters,
        store: Arc<dyn crate::store::InterviewStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Metrics, MetricsError> {
        let today = clock.now().date_naive();
        let metrics =
            Metrics::with_ledger(Keep::Database { rows, store }, clock, Ledger::new(today));
        metrics.flush().await?;
        metrics.recount_active().await?;
        Ok(metrics)
    }

    fn with_ledger(keep: Keep, clock: Arc<dyn Clock>, ledger: Ledger) -> Self {
        let latency = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                exposition::CLAUDE_LATENCY,
                "Duration of Claude calls (retries included) since the process started.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .expect("the latency histogram's options are valid");
        Metrics {
            inner: Arc::new(Inner {
                started_at: clock.now(),
                clock,
                keep,
                state: Mutex::new(State {
                    ledger,
                    others: Vec::new(),
                    changes: 0,
                    flushed: 0,
                    active_interviews: 0,
                    chat_workers: 0,
                    polling: Polling::NotStarted,
                }),
                latency,
                flushing: Arc::default(),
            }),
        }
    }

    /// The clock the metrics count days and ages by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The counters, locked. A panic while they were held (a bug in one recording) leaves
    /// them as whole numbers, at worst one event short, so the lock is taken over rather than
    /// letting that one panic make every later recording, scrape and health check panic too.
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the state, after starting a new day if one has begun.
    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let today = self.inner.clock.now().date_naive();
        let mut state = self.state();
        if state.ledger.roll_over(today) {
            state.changes += 1;
        }
        change(&mut state)
    }

    /// Counts one event in both periods.
    fn count(&self, change: impl Fn(&mut Counters)) {
        self.update(|state| {
            state.ledger.count(change);
            state.changes += 1;
        });
    }

    /// An interview began (its first question is on its way).
    pub fn interview_started(&self) {
        self.count(|c| c.interviews_started += 1);
        self.update(|s| s.active_interviews += 1);
    }

    /// An interview reached its report. `usage` is every token the interview spent, on
    /// `model`; it is what the cost per completed interview is computed from.
    pub fn interview_completed(&self, model: &str, usage: Usage) {
        self.count(|c| {
            c.interviews_completed += 1;
            c.completed_tokens
                .entry(model.to_owned())
                .or_default()
                .add(&usage);
        });
        self.update(|s| s.active_interviews = s.active_interviews.saturating_sub(1));
    }

    /// Tokens an ended interview spent after it ended (its stage summaries and report, on
    /// `model`): part of what the cost per completed interview is computed from.
    pub fn completed_interview_spent(&self, model: &str, usage: Usage) {
        self.count(|c| {
            c.completed_tokens
                .entry(model.to_owned())
                .or_default()
                .add(&usage)
        });
    }

    /// An interview was set aside unfinished (reset, or started over).
    pub fn interview_abandoned(&self) {
        self.count(|c| c.interviews_abandoned += 1);
        self.update(|s| s.active_interviews = s.active_interviews.saturating_sub(1));
    }

    /// Sets the number of interviews in progress.
    pub fn set_active_interviews(&self, count: u64) {
        self.update(|s| s.active_interviews = count);
    }

    /// Sets the number of chats whose worker is running.
    pub fn set_chat_workers(&self, count: u64) {
        self.update(|s| s.chat_workers = count);
    }

    /// Counts the interviews in progress in `SESSIONS_DIR` again.
    pub async fn recount_active(&self) -> Result<(), MetricsError> {
        let count = match &self.inner.keep {
            Keep::Nowhere => return Ok(()),
            Keep::File(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || count_active(&dir).map_err(io_error(&dir)))
                    .await??
            }
            Keep::Database { store, .. } => store.active_users().await?.len() as u64,
        };
        self.set_active_interviews(count);
        Ok(())
    }

    /// An expert's message was taken as an answer (quick messages joined into one turn count
    /// one each).
    pub fn answer(&self, kind: AnswerKind) {
        self.count(|c| *c.answers.entry(kind).or_default() += 1);
    }

    /// One call to Claude ended: `latency` from the request to the usable reply or the final
    /// failure, retries included; `usage` every token billed, repair requests included.
    pub fn claude_call(&self, model: &str, outcome: CallOutcome, latency: Duration, usage: Usage) {
        self.inner.latency.observe(latency.as_secs_f64());
        self.update(|state| {
            state.ledger.latencies.record(latency);
            state.ledger.count(|c| {
                let counters = c.models.entry(model.to_owned()).or_default();
                match outcome {
                    CallOutcome::Success => counters.successes += 1,
                    CallOutcome::Failure => counters.failures += 1,
                }
                counters.tokens.add(&usage);
            });
            state.changes += 1;
        });
    }

    /// An interviewer turn came from the offline bank instead of Claude.
    pub fn turn_fell_back(&self, reason: impl Into<FallbackReason>) {
        let reason = reason.into();
        self.count(|c| *c.fallbacks.entry(reason).or_default() += 1);
    }

    /// A voice note of `audio` length was transcribed.
    pub fn transcribed(&self, audio: Duration) {
        let millis = u64::try_from(audio.as_millis()).unwrap_or(u64::MAX);
        self.count(|c| {
            c.transcriptions += 1;
            c.transcribed_audio_ms += millis;
        });
    }

    /// A voice note could not be transcribed.
    pub fn transcription_failed(&self, kind: impl Into<TranscriptionFailure>) {
        let kind = kind.into();
        self.count(|c| *c.transcription_failures.entry(kind).or_default() += 1);
    }

    /// An error of `kind` happened.
    pub fn error(&self, kind: ErrorKind) {
        self.count(|c| *c.errors.entry(kind).or_default() += 1);
    }

    /// A `getUpdates` call was sent. The first one makes polling under way: a long poll is
    /// held by Telegram for up to its timeout, and the bot is healthy while it waits.
    pub fn poll_sent(&self) {
        let now = self.inner.clock.now();
        self.update(|s| {
            if s.polling == Polling::NotStarted {
                s.polling = Polling::FirstInFlight { since: now };
            }
        });
    }

    /// A `getUpdates` call succeeded (with or without updates).
    pub fn polled(&self) {
        let now = self.inner.clock.now();
        self.update(|s| s.polling = Polling::Succeeded { at: now });
    }

    /// A `getUpdates` call failed (counted as a polling error). Before any call has
    /// succeeded this makes the bot unhealthy at once; after one, the last success ages as
    /// usual.
    pub fn poll_failed(&self) {
        let now = self.inner.clock.now();
        self.count(|c| *c.errors.entry(ErrorKind::Polling).or_default() += 1);
        self.update(|s| {
            if let Polling::NotStarted | Polling::FirstInFlight { .. } = s.polling {
                s.polling = Polling::Failing { since: now };
            }
        });
    }

    /// How Telegram polling is going.
    pub fn polling(&self) -> Polling {
        self.update(|s| s.polling)
    }

    /// When `getUpdates` last succeeded.
    pub fn last_poll(&self) -> Option<DateTime<Utc>> {
        self.polling().last_success()
    }

    /// The retention policy removed `count` files.
    pub fn files_purged(&self, count: u64) {
        if count > 0 {
            self.count(|c| c.files_purged += count);
        }
    }

    /// A consistent copy of every counter and gauge, now.
    pub fn snapshot(&self) -> Snapshot {
        let taken_at = self.inner.clock.now();
        let (ledger, active_interviews, chat_workers, last_poll) = self.update(|s| {
            let last_poll = s.polling.last_success();
            // With replicas, the deployment's counts: this one's and the others' as last read.
            let mut ledger = s.ledger.clone();
            for other in &s.others {
                ledger.merge(other);
            }
            (ledger, s.active_interviews, s.chat_workers, last_poll)
        });
        let latency =
            ledger
                .latencies
                .percentiles([0.5, 0.95])
                .map(|[p50, p95]| snapshot::Latency {
                    p50,
                    p95,
                    calls: ledger.latencies.len(),
                });
        Snapshot {
            taken_at,
            started_at: self.inner.started_at,
            version: env!("CARGO_PKG_VERSION"),
            today: ledger.today,
            all_time: ledger.all_time,
            active_interviews,
            chat_workers,
            latency,
            last_poll,
            resident_memory_bytes: snapshot::resident_memory_bytes(),
        }
    }

    /// The Claude latency histogram since the process started.
    pub(crate) fn latency_histogram(&self) -> &prometheus::Histogram {
        &self.inner.latency
    }

    /// Writes the counters to `SESSIONS_DIR/metrics.json` atomically, if anything changed
    /// since the last write; with a database, writes this process's row if anything changed and
    /// reads the other replicas' rows.
    pub async fn flush(&self) -> Result<(), MetricsError> {
        let dir = match &self.inner.keep {
            Keep::Nowhere => return Ok(()),
            Keep::File(dir) => dir,
            Keep::Database { rows, .. } => return self.flush_to(rows).await,
        };
        let one_at_a_time = self.inner.flushing.clone().lock_owned().await;
        let (bytes, changes) = {
            let state = self.state();
            if state.changes == state.flushed {
                return Ok(());
            }
            (serde_json::to_vec(&state.ledger)?, state.changes)
        };
        let path = dir.join(FILE_NAME);
        tokio::task::spawn_blocking(move || {
            let _held = one_at_a_time;
            atomic::write(&path, &bytes).map_err(io_error(&path))
        })
        .await??;
        let mut state = self.state();
        state.flushed = state.flushed.max(changes);
        Ok(())
    }

    async fn flush_to(
        &self,
        rows: &crate::store::postgres::PgCounters,
    ) -> Result<(), MetricsError> {
        let _one_at_a_time = self.inner.flushing.lock().await;
        let (text, changes) = {
            let state = self.state();
            let changed = state.changes != state.flushed;
            (
                changed
                    .then(|| serde_json::to_string(&state.ledger))
                    .transpose()?,
                state.changes,
            )
        };
        if let Some(text) = text {
            rows.save(&text).await?;
        }
        let others: Vec<Ledger> = rows
            .others()
            .await?
            .into_iter()
            .filter_map(|text| {
                Ledger::decode(text.as_bytes())
                    .inspect_err(|reason| {
                        tracing::warn!(%reason, "a replica's counters cannot be read: left out")
                    })
                    .ok()
            })
            .collect();
        let mut state = self.state();
        state.flushed = state.flushed.max(changes);
        state.others = others;
        Ok(())
    }

    /// Flushes and recounts the active interviews every `every`, until the handle's last
    /// clone is dropped or the task is aborted. Failures are logged and retried next time.
    pub fn spawn_flusher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let metrics = Metrics { inner };
                if let Err(error) = metrics.recount_active().await {
                    tracing::warn!(%error, "could not count the interviews in progress");
                }
                if let Err(error) = metrics.flush().await {
                    metrics.error(ErrorKind::Storage);
                    tracing::warn!(%error, "could not save the metrics; retrying later");
                }
            }
        })
    }
}

/// Interviews in progress: the `<user id>.json` files at the top of `SESSIONS_DIR`.
fn count_active(sessions_dir: &Path) -> io::Result<u64> {
    let mut count = 0;
    for entry in std::fs::read_dir(sessions_dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name
            .strip_suffix(".json")
            .is_some_and(|id| id.parse::<u64>().is_ok())
        {
            count += 1;
        }
    }
    Ok(count)
}

/// The retention policy's passes, counted with everything else.
impl retention::Tally for Metrics {
    fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    fn purged(&self, count: u64) {
        self.files_purged(count);
    }

    fn failed(&self, failure: PassFailure) {
        self.error(match failure {
            PassFailure::Storage => ErrorKind::Storage,
            PassFailure::Internal => ErrorKind::Internal,
        });
    }
}

#[cfg(test)]
mod tests;
