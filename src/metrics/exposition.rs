//! The Prometheus text format: the all-time counters (which survive restarts, so they never go
//! back), the gauges, the Claude latency histogram of this process, and the usual `process_*`
//! metrics, encoded by the `prometheus` crate.
//!
//! Every label value a counter can take is written, zero included, so alerts can use `rate()`
//! from the first scrape on.

use prometheus::{
    Counter, CounterVec, Encoder, Gauge, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
    core::{Collector, GenericCounterVec},
};

use super::{
    AnswerKind, ErrorKind, FallbackReason, Label, Metrics, TranscriptionFailure,
    kinds::CallOutcome, snapshot::Snapshot,
};
use crate::llm::pricing::PriceTable;

/// The prefix of every metric of the product.
pub const NAMESPACE: &str = "ai_interviewer";

/// The name of the Claude latency histogram.
pub const CLAUDE_LATENCY: &str = "ai_interviewer_claude_call_duration_seconds";

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Builds metric families into a registry, one scrape at a time.
struct Families {
    registry: Registry,
}

impl Families {
    fn add<C: Collector + Clone + 'static>(&self, collector: &C) {
        self.registry
            .register(Box::new(collector.clone()))
            .expect("metric names are unique and valid");
    }

    fn counter(&self, name: &str, help: &str, value: u64) {
        let counter = IntCounter::with_opts(opts(name, help)).expect("valid counter");
        counter.inc_by(value);
        self.add(&counter);
    }

    fn counters(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let vec = IntCounterVec::new(opts(name, help), labels).expect("valid counter");
        self.add(&vec);
        vec
    }

    fn gauge(&self, name: &str, help: &str, value: i64) {
        let gauge = IntGauge::with_opts(opts(name, help)).expect("valid gauge");
        gauge.set(value);
        self.add(&gauge);
    }
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(format!("{NAMESPACE}_{name}"), help)
}

fn inc<P: prometheus::core::Atomic<T = u64>>(vec: &GenericCounterVec<P>, labels: &[&str], by: u64) {
    vec.with_label_values(labels).inc_by(by);
}

/// The metrics in the Prometheus text format, costs priced by `prices`.
pub fn encode(metrics: &Metrics, prices: &PriceTable) -> String {
    let snapshot = metrics.snapshot();
    let families = Families {
        registry: Registry::new(),
    };
    add_snapshot(&families, &snapshot, prices);
    families.add(metrics.latency_histogram());
    #[cfg(target_os = "linux")]
    families.add(&ProcessMetrics);
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&families.registry.gather(), &mut out)
        .expect("the text encoder writes to memory");
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// The process collector, made cloneable for registration.
#[cfg(target_os = "linux")]
#[derive(Clone)]
struct ProcessMetrics;

#[cfg(target_os = "linux")]
impl Collector for ProcessMetrics {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        Vec::new()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        prometheus::process_collector::ProcessCollector::for_self().collect()
    }
}

fn add_snapshot(families: &Families, snapshot: &Snapshot, prices: &PriceTable) {
    let all = &snapshot.all_time;

    let info = IntGaugeVec::new(
        opts("build_info", "The running version; always 1."),
        &["version"],
    )
    .expect("valid gauge");
    info.with_label_values(&[snapshot.version]).set(1);
    families.add(&info);

    families.gauge(
        "interviews_active",
        "Interviews in progress.",
        i64::try_from(snapshot.active_interviews).unwrap_or(i64::MAX),
    );
    families.gauge(
        "chat_workers",
        "Chats whose worker is running (active in the last minutes).",
        i64::try_from(snapshot.chat_workers).unwrap_or(i64::MAX),
    );
    families.counter(
        "interviews_started_total",
        "Interviews begun.",
        all.interviews_started,
    );
    families.counter(
        "interviews_completed_total",
        "Interviews that reached the knowledge report.",
        all.interviews_completed,
    );
    families.counter(
        "interviews_abandoned_total",
        "Interviews set aside unfinished (reset or started over).",
        all.interviews_abandoned,
    );

    let answers = families.counters(
        "answers_total",
        "Expert answers processed, by kind (text or voice).",
        &["kind"],
    );
    for kind in [AnswerKind::Text, AnswerKind::Voice] {
        inc(&answers, &[kind.label()], all.answers(kind));
    }

    let calls = families.counters(
        "claude_calls_total",
        "Calls to Claude, by model and outcome.",
        &["model", "outcome"],
    );
    let tokens = families.counters(
        "claude_tokens_total",
        "Tokens billed by Claude, by model and kind (input, output, cache_write, cache_read).",
        &["model", "kind"],
    );
    let cost = CounterVec::new(
        opts(
            "claude_cost_dollars_total",
            "Estimated dollars spent on Claude, by model, at the configured prices.",
        ),
        &["model"],
    )
    .expect("valid counter");
    for (model, counters) in &all.models {
        inc(
            &calls,
            &[model, CallOutcome::Success.label()],
            counters.successes,
        );
        inc(
            &calls,
            &[model, CallOutcome::Failure.label()],
            counters.failures,
        );
        let t = counters.tokens;
        for (kind, count) in [
            ("input", t.input),
            ("output", t.output),
            ("cache_write", t.cache_write),
            ("cache_read", t.cache_read),
        ] {
            inc(&tokens, &[model, kind], count);
        }
        if let Some(price) = prices.price(model) {
            cost.with_label_values(&[model])
                .inc_by(price.cost(&t.usage()));
        }
    }
    families.add(&cost);

    let completed_cost = Counter::with_opts(opts(
        "completed_interviews_cost_dollars_total",
        "Estimated dollars spent on Claude by the completed interviews; divide by \
         ai_interviewer_interviews_completed_total for the cost per interview.",
    ))
    .expect("valid counter");
    completed_cost.inc_by(all.completed_cost(prices).dollars);
    families.add(&completed_cost);

    let fallbacks = families.counters(
        "offline_turns_total",
        "Interviewer turns taken from the offline bank, by reason (upstream_down, unusable, configuration).",
        &["reason"],
    );
    for reason in FallbackReason::ALL {
        inc(&fallbacks, &[reason.label()], all.fallbacks(reason));
    }

    families.counter(
        "transcriptions_total",
        "Voice notes transcribed.",
        all.transcriptions,
    );
    let audio = Counter::with_opts(opts(
        "transcribed_audio_seconds_total",
        "Audio transcribed, in seconds.",
    ))
    .expect("valid counter");
    audio.inc_by(all.transcribed_audio_ms as f64 / 1000.0);
    families.add(&audio);
    let failures = families.counters(
        "transcription_failures_total",
        "Voice notes that could not be transcribed, by kind.",
        &["kind"],
    );
    for kind in TranscriptionFailure::ALL {
        inc(&failures, &[kind.label()], all.transcription_failures(kind));
    }

    let errors = families.counters("errors_total", "Errors, by kind.", &["kind"]);
    for kind in ErrorKind::ALL {
        inc(&errors, &[kind.label()], all.errors(kind));
    }

    families.counter(
        "retention_purged_files_total",
        "Files removed by SESSION_RETENTION_DAYS.",
        all.files_purged,
    );

    if let Some(at) = snapshot.last_poll {
        let gauge = Gauge::with_opts(opts(
            "last_poll_success_timestamp_seconds",
            "Unix time of the last successful getUpdates.",
        ))
        .expect("valid gauge");
        gauge.set(at.timestamp_millis() as f64 / 1000.0);
        families.add(&gauge);
    }
}
