//! The counters as they are kept and persisted in `SESSIONS_DIR/metrics.json`: one set for the
//! current UTC day, one for all time, and a bounded window of recent Claude latencies.

use std::{
    collections::{BTreeMap, VecDeque},
    time::Duration,
};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::kinds::{AnswerKind, ErrorKind, FallbackReason, TranscriptionFailure};
use crate::{llm::pricing::PriceTable, model::Usage};

/// The version of the `metrics.json` format.
pub const LEDGER_VERSION: u32 = 1;

/// How many recent Claude calls the latency percentiles are taken over.
pub const LATENCY_WINDOW: usize = 1000;

/// Token counts by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tokens {
    /// Input tokens neither read from nor written to the cache.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
}

impl Tokens {
    /// Adds one response's counts.
    pub fn add(&mut self, usage: &Usage) {
        self.input += usage.input_tokens;
        self.output += usage.output_tokens;
        self.cache_write += usage.cache_creation_input_tokens;
        self.cache_read += usage.cache_read_input_tokens;
    }

    /// Adds other counts.
    pub fn merge(&mut self, other: &Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_write += other.cache_write;
        self.cache_read += other.cache_read;
    }

    /// The counts as the API's usage shape, for pricing.
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input,
            output_tokens: self.output,
            cache_creation_input_tokens: self.cache_write,
            cache_read_input_tokens: self.cache_read,
        }
    }
}

/// One model's calls and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelCounters {
    /// Calls that returned a usable reply.
    pub successes: u64,
    /// Calls that did not.
    pub failures: u64,
    /// Tokens billed, failed calls included.
    pub tokens: Tokens,
}

/// Dollars estimated from token counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cost {
    /// The estimate, over every model with a known price.
    pub dollars: f64,
    /// Models that used tokens but have no price: their tokens are not in `dollars`.
    pub unpriced: Vec<String>,
}

/// Prices tokens by model.
fn cost<'a>(prices: &PriceTable, by_model: impl Iterator<Item = (&'a String, &'a Tokens)>) -> Cost {
    let mut total = Cost::default();
    for (model, tokens) in by_model {
        if *tokens == Tokens::default() {
            continue;
        }
        match prices.price(model) {
            Some(price) => total.dollars += price.cost(&tokens.usage()),
            None => total.unpriced.push(model.clone()),
        }
    }
    total
}

/// Everything counted over one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Interviews begun.
    pub interviews_started: u64,
    /// Interviews that reached the report.
    pub interviews_completed: u64,
    /// Interviews set aside unfinished (reset, or started over).
    pub interviews_abandoned: u64,
    /// Answers processed, by kind.
    pub answers: BTreeMap<AnswerKind, u64>,
    /// Claude calls and tokens, by model id.
    pub models: BTreeMap<String, ModelCounters>,
    /// Tokens spent by the interviews completed in the period, by model id.
    pub completed_tokens: BTreeMap<String, Tokens>,
    /// Interviewer turns taken from the offline bank, by reason.
    pub fallbacks: BTreeMap<FallbackReason, u64>,
    /// Voice notes transcribed.
    pub transcriptions: u64,
    /// Audio transcribed, in milliseconds.
    pub transcribed_audio_ms: u64,
    /// Voice notes that could not be transcribed, by kind.
    pub transcription_failures: BTreeMap<TranscriptionFailure, u64>,
    /// Errors, by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Files removed by the retention policy.
    pub files_purged: u64,
}

/// Adds every count of `from` into `into`, key by key.
fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (key, n) in from {
        *into.entry(key.clone()).or_default() += n;
    }
}

impl Counters {
    /// Adds `other`'s counts to these (another replica's, for the deployment's totals).
    pub fn merge(&mut self, other: &Counters) {
        self.interviews_started += other.interviews_started;
        self.interviews_completed += other.interviews_completed;
        self.interviews_abandoned += other.interviews_abandoned;
        add_map(&mut self.answers, &other.answers);
        for (model, counters) in &other.models {
            let mine = self.models.entry(model.clone()).or_default();
            mine.successes += counters.successes;
            mine.failures += counters.failures;
            mine.tokens.merge(&counters.tokens);
        }
        for (model, tokens) in &other.completed_tokens {
            self.completed_tokens
                .entry(model.clone())
                .or_default()
                .merge(tokens);
        }
        add_map(&mut self.fallbacks, &other.fallbacks);
        self.transcriptions += other.transcriptions;
        self.transcribed_audio_ms += other.transcribed_audio_ms;
        add_map(
            &mut self.transcription_failures,
            &other.transcription_failures,
        );
        add_map(&mut self.errors, &other.errors);
        self.files_purged += other.files_purged;
    }

    /// Answers of one kind.
    pub fn answers(&self, kind: AnswerKind) -> u64 {
        self.answers.get(&kind).copied().unwrap_or(0)
    }

    /// Turns that fell back for one reason.
    pub fn fallbacks(&self, reason: FallbackReason) -> u64 {
        self.fallbacks.get(&reason).copied().unwrap_or(0)
    }

    /// Failed transcriptions of one kind.
    pub fn transcription_failures(&self, kind: TranscriptionFailure) -> u64 {
        self.transcription_failures.get(&kind).copied().unwrap_or(0)
    }

    /// Failed transcriptions of every kind.
    pub fn transcriptions_failed(&self) -> u64 {
        self.transcription_failures.values().sum()
    }

    /// Errors of one kind.
    pub fn errors(&self, kind: ErrorKind) -> u64 {
        self.errors.get(&kind).copied().unwrap_or(0)
    }

    /// Successful Claude calls, every model.
    pub fn claude_successes(&self) -> u64 {
        self.models.values().map(|m| m.successes).sum()
    }

    /// Failed Claude calls, every model.
    pub fn claude_failures(&self) -> u64 {
        self.models.values().map(|m| m.failures).sum()
    }

    /// Tokens of every model.
    pub fn tokens(&self) -> Tokens {
        let mut total = Tokens::default();
        for model in self.models.values() {
            total.merge(&model.tokens);
        }
        total
    }

    /// The estimated cost of every Claude call in the period.
    pub fn cost(&self, prices: &PriceTable) -> Cost {
        cost(prices, self.models.iter().map(|(id, m)| (id, &m.tokens)))
    }

    /// The estimated cost of the interviews completed in the period.
    pub fn completed_cost(&self, prices: &PriceTable) -> Cost {
        cost(prices, self.completed_tokens.iter())
    }

    /// The average cost of an interview completed in the period, if any was.
    pub fn cost_per_completed(&self, prices: &PriceTable) -> Option<f64> {
        (self.interviews_completed > 0)
            .then(|| self.completed_cost(prices).dollars / self.interviews_completed as f64)
    }
}

/// The latencies of the most recent Claude calls, at most [`LATENCY_WINDOW`] of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LatencyWindow {
    /// Milliseconds, oldest first.
    millis: VecDeque<u32>,
}

impl LatencyWindow {
    /// Records one call, dropping the oldest beyond the window.
    pub fn record(&mut self, latency: Duration) {
        let millis = u32::try_from(latency.as_millis()).unwrap_or(u32::MAX);
        if self.millis.len() >= LATENCY_WINDOW {
            self.millis.pop_front();
        }
        self.millis.push_back(millis);
    }

    /// How many calls the window holds.
    pub fn len(&self) -> usize {
        self.millis.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.millis.is_empty()
    }

    /// The nearest-rank percentiles `quantiles` (each in 0..=1), or `None` when empty.
    pub fn percentiles<const N: usize>(&self, quantiles: [f64; N]) -> Option<[Duration; N]> {
        if self.millis.is_empty() {
            return None;
        }
        let mut sorted: Vec<u32> = self.millis.iter().copied().collect();
        sorted.sort_unstable();
        Some(quantiles.map(|q| {
            let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
            Duration::from_millis(u64::from(sorted[rank.max(1) - 1]))
        }))
    }

    /// Keeps only the newest [`LATENCY_WINDOW`] entries (after loading an edited file).
    fn bound(&mut self) {
        while self.millis.len() > LATENCY_WINDOW {
            self.millis.pop_front();
        }
    }
}

/// Everything `metrics.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// [`LEDGER_VERSION`].
    pub version: u32,
    /// The UTC day `today` counts.
    pub day: NaiveDate,
    /// Counters since the start of `day`.
    pub today: Counters,
    /// Counters since the first start.
    pub all_time: Counters,
    /// Recent Claude latencies.
    #[serde(default)]
    pub latencies: LatencyWindow,
}

impl Ledger {
    /// An empty ledger for `day`.
    pub fn new(day: NaiveDate) -> Self {
        Ledger {
            version: LEDGER_VERSION,
            day,
            today: Counters::default(),
            all_time: Counters::default(),
            latencies: LatencyWindow::default(),
        }
    }

    /// Starts a new `today` when `day` is later than the ledger's. Returns whether it did.
    pub fn roll_over(&mut self, day: NaiveDate) -> bool {
        if day > self.day {
            self.day = day;
            self.today = Counters::default();
            true
        } else {
            false
        }
    }

    /// Adds `other`'s counts (another replica's ledger) to this one: all time always, today's
    /// only if `other` counts the same day, and its latencies to the window.
    pub fn merge(&mut self, other: &Ledger) {
        self.all_time.merge(&other.all_time);
        if other.day == self.day {
            self.today.merge(&other.today);
        }
        for millis in &other.latencies.millis {
            self.latencies
                .record(Duration::from_millis(u64::from(*millis)));
        }
    }

    /// Applies `change` to both periods.
    pub fn count(&mut self, change: impl Fn(&mut Counters)) {
        change(&mut self.today);
        change(&mut self.all_time);
    }

    /// Decodes a ledger file, checking its version.
    pub fn decode(bytes: &[u8]) -> Result<Ledger, String> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } =
            serde_json::from_slice(bytes).map_err(|e| format!("not a metrics file: {e}"))?;
        if version != LEDGER_VERSION {
            return Err(format!("unknown metrics version {version}"));
        }
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("malformed metrics: {e}"))?;
        if largest_count(&value) > MAX_COUNT {
            return Err(format!(
                "a count above {MAX_COUNT}: not one this bot wrote (an edited file?)"
            ));
        }
        let mut ledger: Ledger =
            serde_json::from_value(value).map_err(|e| format!("malformed metrics: {e}"))?;
        ledger.latencies.bound();
        Ok(ledger)
    }
}

/// The largest count a ledger read from disk may hold. Counting adds one event at a time, so
/// from here a count cannot reach `u64::MAX` in any lifetime; a file holding more was edited,
/// and counting on from it would overflow.
pub const MAX_COUNT: u64 = 1 << 53;

/// The largest whole number anywhere in `value`.
fn largest_count(value: &serde_json::Value) -> u64 {
    use serde_json::Value;
    match value {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::Array(items) => items.iter().map(largest_count).max().unwrap_or(0),
        Value::Object(fields) => fields.values().map(largest_count).max().unwrap_or(0),
        Value::Null | Value::Bool(_) | Value::String(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::pricing::Price;

    #[test]
    fn percentiles_are_nearest_rank_over_the_window() {
        let mut window = LatencyWindow::default();
        assert_eq!(window.percentiles([0.5]), None);
        for ms in 1..=100 {
            window.record(Duration::from_millis(ms));
        }
        let [p50, p95] = window.percentiles([0.5, 0.95]).unwrap();
        assert_eq!(p50, Duration::from_millis(50));
        assert_eq!(p95, Duration::from_millis(95));
        window.record(Duration::from_millis(7));
        assert_eq!(window.len(), 101);
    }

    #[test]
    fn the_window_keeps_only_the_most_recent_calls() {
        let mut window = LatencyWindow::default();
        for _ in 0..LATENCY_WINDOW {
            window.record(Duration::from_secs(60));
        }
        for _ in 0..LATENCY_WINDOW {
            window.record(Duration::from_secs(1));
        }
        assert_eq!(window.len(), LATENCY_WINDOW);
        assert_eq!(
            window.percentiles([1.0]).unwrap()[0],
            Duration::from_secs(1)
        );
    }

    #[test]
    fn costs_skip_unpriced_models_and_name_them() {
        let prices = PriceTable::published().with_override(
            "m",
            Price {
                input: 1.0,
                output: 10.0,
                cache_write: 0.0,
                cache_read: 0.0,
            },
        );
        let mut counters = Counters::default();
        counters.models.insert(
            "m".into(),
            ModelCounters {
                successes: 1,
                failures: 0,
                tokens: Tokens {
                    input: 2_000_000,
                    output: 100_000,
                    ..Tokens::default()
                },
            },
        );
        counters.models.insert(
            "unknown-model".into(),
            ModelCounters {
                successes: 1,
                failures: 0,
                tokens: Tokens {
                    input: 5,
                    ..Tokens::default()
                },
            },
        );
        let cost = counters.cost(&prices);
        assert!((cost.dollars - 3.0).abs() < 1e-9, "{cost:?}");
        assert_eq!(cost.unpriced, vec!["unknown-model".to_owned()]);
        assert_eq!(counters.cost_per_completed(&prices), None);
    }

    #[test]
    fn a_ledger_round_trips_and_rejects_other_versions() {
        let mut ledger = Ledger::new(NaiveDate::from_ymd_opt(2027, 1, 15).unwrap());
        ledger.count(|c| *c.errors.entry(ErrorKind::Storage).or_default() += 1);
        ledger.latencies.record(Duration::from_millis(1500));
        let bytes = serde_json::to_vec(&ledger).unwrap();
        assert_eq!(Ledger::decode(&bytes).unwrap(), ledger);
        assert!(
            Ledger::decode(br#"{"version": 7}"#)
                .unwrap_err()
                .contains("version 7")
        );
        assert!(Ledger::decode(b"[]").is_err());
    }

    #[test]
    fn a_ledger_edited_to_counts_that_would_overflow_is_refused() {
        let ledger = Ledger::new(NaiveDate::from_ymd_opt(2027, 1, 15).unwrap());
        let mut value = serde_json::to_value(&ledger).unwrap();
        value["all_time"]["interviews_started"] = u64::MAX.into();
        let reason = Ledger::decode(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert!(reason.contains("edited"), "{reason}");
        value["all_time"]["interviews_started"] = MAX_COUNT.into();
        assert!(Ledger::decode(&serde_json::to_vec(&value).unwrap()).is_ok());
    }

    #[test]
    fn a_new_day_clears_today_only() {
        let day = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        let mut ledger = Ledger::new(day);
        ledger.count(|c| c.interviews_started += 1);
        assert!(!ledger.roll_over(day));
        assert!(ledger.roll_over(day.succ_opt().unwrap()));
        assert_eq!(ledger.today.interviews_started, 0);
        assert_eq!(ledger.all_time.interviews_started, 1);
    }
}
