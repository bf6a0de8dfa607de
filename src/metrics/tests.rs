use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};

use super::*;
use crate::{
    i18n::{Catalog, Lang},
    llm::pricing::PriceTable,
    model::{ManualClock, UserId},
};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn usage(input: u64, output: u64, write: u64, read: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_creation_input_tokens: write,
        cache_read_input_tokens: read,
    }
}

fn open(dir: &Path, clock: &Arc<ManualClock>) -> Metrics {
    Metrics::open(dir, clock.clone()).unwrap()
}

const MODEL: &str = "claude-sonnet-4-6";

#[test]
fn events_count_today_and_in_all_and_today_starts_again_at_utc_midnight() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T23:58:00Z")));
    let metrics = Metrics::unpersisted(clock.clone());
    metrics.interview_started();
    metrics.answer(AnswerKind::Text);
    metrics.answer(AnswerKind::Voice);
    metrics.turn_fell_back(FallbackReason::Configuration);
    metrics.error(ErrorKind::Delivery);
    metrics.transcribed(Duration::from_secs(90));
    metrics.transcription_failed(TranscriptionFailure::Timeout);
    let before = metrics.snapshot();
    assert_eq!(before.today, before.all_time);
    assert_eq!(before.today.interviews_started, 1);
    assert_eq!(before.today.answers(AnswerKind::Voice), 1);
    assert_eq!(before.today.fallbacks(FallbackReason::Configuration), 1);
    assert_eq!(before.today.errors(ErrorKind::Delivery), 1);
    assert_eq!(before.today.transcribed_audio_ms, 90_000);
    assert_eq!(before.today.transcriptions_failed(), 1);

    clock.advance(Duration::from_secs(3 * 60));
    // Reading alone starts the new day.
    let after = metrics.snapshot();
    assert_eq!(after.today, Counters::default());
    assert_eq!(after.all_time, before.all_time);
    metrics.answer(AnswerKind::Text);
    let later = metrics.snapshot();
    assert_eq!(later.today.answers(AnswerKind::Text), 1);
    assert_eq!(later.all_time.answers(AnswerKind::Text), 2);
}

#[test]
fn claude_calls_count_tokens_by_model_and_give_latency_percentiles() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T12:00:00Z")));
    let metrics = Metrics::unpersisted(clock);
    assert_eq!(metrics.snapshot().latency, None);
    for seconds in 1..=20 {
        metrics.claude_call(
            MODEL,
            CallOutcome::Success,
            Duration::from_secs(seconds),
            usage(100, 10, 1000, 0),
        );
    }
    metrics.claude_call(
        "claude-haiku-4-5",
        CallOutcome::Failure,
        Duration::from_secs(60),
        usage(5, 0, 0, 0),
    );
    let snapshot = metrics.snapshot();
    let all = &snapshot.all_time;
    assert_eq!(all.claude_successes(), 20);
    assert_eq!(all.claude_failures(), 1);
    assert_eq!(
        all.models[MODEL].tokens,
        Tokens {
            input: 2000,
            output: 200,
            cache_write: 20_000,
            cache_read: 0
        }
    );
    assert_eq!(all.tokens().input, 2005);
    let latency = snapshot.latency.unwrap();
    assert_eq!(latency.calls, 21);
    assert_eq!(latency.p50, Duration::from_secs(11));
    assert_eq!(latency.p95, Duration::from_secs(20));
}

#[test]
fn the_cost_per_completed_interview_is_priced_from_the_interviews_own_tokens() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T12:00:00Z")));
    let metrics = Metrics::unpersisted(clock);
    let prices = PriceTable::published();
    // $3 + $1.5 = $4.50 and $0.75 + $0.30 = $1.05 at Sonnet 4.6's prices.
    metrics.interview_started();
    metrics.interview_completed(MODEL, usage(1_000_000, 100_000, 0, 0));
    metrics.interview_started();
    metrics.interview_completed(MODEL, usage(0, 0, 200_000, 1_000_000));
    let all = metrics.snapshot().all_time;
    let per_interview = all.cost_per_completed(&prices).unwrap();
    assert!(
        (per_interview - (4.5 + 1.05) / 2.0).abs() < 1e-9,
        "{per_interview}"
    );
}

#[tokio::test]
async fn counters_survive_a_restart_and_a_later_day_starts_today_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    metrics.interview_started();
    metrics.claude_call(
        MODEL,
        CallOutcome::Success,
        Duration::from_millis(2500),
        usage(10, 20, 30, 40),
    );
    metrics.flush().await.unwrap();
    let saved = metrics.snapshot();
    drop(metrics);

    let again = open(dir.path(), &clock);
    let restored = again.snapshot();
    assert_eq!(restored.all_time, saved.all_time);
    assert_eq!(restored.today, saved.today);
    assert_eq!(restored.latency, saved.latency);

    clock.advance(Duration::from_secs(86_400));
    let next_day = open(dir.path(), &clock).snapshot();
    assert_eq!(next_day.today, Counters::default());
    assert_eq!(next_day.all_time, saved.all_time);
}

#[tokio::test]
async fn a_flush_writes_only_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    let file = dir.path().join(FILE_NAME);
    metrics.flush().await.unwrap();
    assert!(!file.exists(), "nothing happened, nothing is written");
    metrics.error(ErrorKind::Internal);
    metrics.flush().await.unwrap();
    assert!(file.exists());
    std::fs::remove_file(&file).unwrap();
    metrics.flush().await.unwrap();
    assert!(!file.exists(), "already written");
    metrics.answer(AnswerKind::Text);
    metrics.flush().await.unwrap();
    let ledger = Ledger::decode(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(ledger.all_time.answers(AnswerKind::Text), 1);
    assert_eq!(ledger.all_time.errors(ErrorKind::Internal), 1);
}

#[tokio::test(start_paused = true)]
async fn the_flusher_writes_the_counters_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    let task = metrics.spawn_flusher(FLUSH_INTERVAL);
    metrics.interview_started();
    let file = dir.path().join(FILE_NAME);
    // Paused time jumps ahead whenever the runtime is idle; wait for the file itself.
    for _ in 0..100 {
        if file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let ledger = Ledger::decode(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(ledger.all_time.interviews_started, 1);
    task.abort();
}

#[test]
fn an_unreadable_metrics_file_is_quarantined_and_counting_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("quarantine")).unwrap();
    std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    assert!(!dir.path().join(FILE_NAME).exists());
    let quarantined: Vec<_> = std::fs::read_dir(dir.path().join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(quarantined, vec!["metrics-20270115T100000.000Z.json"]);
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.all_time.errors(ErrorKind::Quarantine), 1);
    assert_eq!(snapshot.all_time.interviews_started, 0);
}

#[tokio::test]
async fn hand_edited_and_cut_metrics_files_are_quarantined_and_counting_goes_on() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let written = {
        let dir = tempfile::tempdir().unwrap();
        let metrics = open(dir.path(), &clock);
        metrics.interview_started();
        metrics.flush().await.unwrap();
        std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap()
    };
    let edits = [
        ("cut", written[..written.len() / 2].to_owned()),
        (
            "a count that would overflow",
            written.replace(
                "\"interviews_started\":1",
                "\"interviews_started\":18446744073709551615",
            ),
        ),
        (
            "a day that does not exist",
            written.replace("2027-01-15", "2027-02-30"),
        ),
    ];
    for (edit, text) in edits {
        assert_ne!(text, written, "{edit}: the edit applies");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
        let metrics = open(dir.path(), &clock);
        assert!(!dir.path().join(FILE_NAME).exists(), "{edit}");
        metrics.interview_started();
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.all_time.interviews_started, 1, "{edit}");
        assert_eq!(snapshot.all_time.errors(ErrorKind::Quarantine), 1, "{edit}");
    }
}

#[tokio::test]
async fn active_interviews_follow_the_events_and_the_files_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["1.json", "22.json", "metrics.json.bak", "notes.json"] {
        std::fs::write(dir.path().join(name), b"{}").unwrap();
    }
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    assert_eq!(metrics.snapshot().active_interviews, 2);
    metrics.interview_started();
    assert_eq!(metrics.snapshot().active_interviews, 3);
    metrics.interview_abandoned();
    metrics.interview_completed(MODEL, Usage::default());
    metrics.interview_completed(MODEL, Usage::default());
    metrics.interview_completed(MODEL, Usage::default());
    assert_eq!(metrics.snapshot().active_interviews, 0);
    metrics.recount_active().await.unwrap();
    assert_eq!(metrics.snapshot().active_interviews, 2);
}

#[test]
fn polling_success_is_stamped_by_the_clock() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = Metrics::unpersisted(clock.clone());
    assert_eq!(metrics.last_poll(), None);
    metrics.polled();
    clock.advance(Duration::from_secs(30));
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.last_poll, Some(at("2027-01-15T10:00:00Z")));
    assert_eq!(snapshot.since_last_poll(), Some(Duration::from_secs(30)));
    assert_eq!(snapshot.uptime(), Duration::from_secs(30));
}

#[test]
fn polling_is_under_way_from_the_first_request_and_fails_only_until_a_success() {
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = Metrics::unpersisted(clock.clone());
    assert_eq!(metrics.polling(), Polling::NotStarted);
    metrics.poll_sent();
    clock.advance(Duration::from_secs(5));
    metrics.poll_sent();
    assert_eq!(
        metrics.polling(),
        Polling::FirstInFlight {
            since: at("2027-01-15T10:00:00Z")
        },
        "in flight since the first request"
    );
    metrics.poll_failed();
    let failed = Polling::Failing {
        since: at("2027-01-15T10:00:05Z"),
    };
    assert_eq!(metrics.polling(), failed);
    metrics.poll_sent();
    assert_eq!(
        metrics.polling(),
        failed,
        "a retry does not hide the failure"
    );
    clock.advance(Duration::from_secs(5));
    metrics.polled();
    assert_eq!(metrics.last_poll(), Some(at("2027-01-15T10:00:10Z")));
    // After a success, a failure leaves the last success to age, as before.
    clock.advance(Duration::from_secs(1));
    metrics.poll_failed();
    metrics.poll_sent();
    assert_eq!(
        metrics.polling(),
        Polling::Succeeded {
            at: at("2027-01-15T10:00:10Z")
        }
    );
    assert_eq!(metrics.snapshot().today.errors(ErrorKind::Polling), 2);
}

/// A busy day: every kind of event, so every line of the report has something to show.
fn busy(clock: &Arc<ManualClock>) -> Metrics {
    let metrics = Metrics::unpersisted(clock.clone());
    metrics.polled();
    for _ in 0..3 {
        metrics.interview_started();
    }
    metrics.interview_completed(MODEL, usage(1_000_000, 100_000, 200_000, 2_000_000));
    metrics.interview_abandoned();
    for _ in 0..12 {
        metrics.answer(AnswerKind::Text);
    }
    metrics.answer(AnswerKind::Voice);
    for _ in 0..3 {
        metrics.claude_call(
            MODEL,
            CallOutcome::Success,
            Duration::from_millis(3200),
            usage(1_000_000, 100_000, 200_000, 2_000_000),
        );
    }
    metrics.claude_call(
        MODEL,
        CallOutcome::Failure,
        Duration::from_secs(30),
        Usage::default(),
    );
    metrics.turn_fell_back(FallbackReason::Configuration);
    metrics.transcribed(Duration::from_secs(150));
    metrics.transcription_failed(TranscriptionFailure::Upstream);
    metrics.error(ErrorKind::Storage);
    metrics.files_purged(4);
    metrics
}

#[test]
fn the_report_shows_every_figure_in_both_languages() {
    let catalog = Catalog::load().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = busy(&clock);
    clock.advance(Duration::from_secs(2 * 3600 + 5 * 60));
    let snapshot = metrics.snapshot();
    let prices = PriceTable::published();
    let en = report::render(&snapshot, &prices, &catalog, Lang::En);
    for expected in [
        "up 2 h 5 min",
        "1 in progress",
        "started 3 / 3",
        "completed 1 / 1 (33% of those started)",
        "abandoned 1 / 1",
        "text 12 / 12 · voice 1 / 1",
        "Claude calls: 4 / 4 · successful 75% / 75%",
        "p50 3.2 s · p95 30.0 s",
        "configuration error 1 / 1",
        "Tokens today: in 3,000,000 · out 300,000 · cache written 600,000 · cache read 6,000,000",
        // 3 × ($3 + $1.50 + $0.75 + $0.60) = $17.55; the completed interview: $5.85.
        "$17.55 today · $17.55 all time · $5.85 per completed interview",
        "Voice notes transcribed: 1 / 1 · failed 1 / 1 · 2 min of audio all time",
        "transcription service failed: 1 / 1",
        "storage: 1 / 1",
        "(SESSION_RETENTION_DAYS): 4 / 4",
        "Last successful Telegram poll: 2 h 5 min ago",
        "MB",
        "Needs attention",
        "configuration error): 1. Check ANTHROPIC_API_KEY and CLAUDE_MODEL",
        "Storage errors today: 1.",
        "Voice notes not transcribed today: 1 of 2.",
        "No successful Telegram poll for 2 h 5 min.",
    ] {
        assert!(en.contains(expected), "missing {expected:?} in:\n{en}");
    }
    let ru = report::render(&snapshot, &prices, &catalog, Lang::Ru);
    for expected in [
        "работает 2 ч 5 мин",
        "завершено 1 / 1 (33\u{a0}% от начатых)",
        "p50 3,2 с · p95 30,0 с",
        "17,55\u{a0}$ сегодня",
        "5,85\u{a0}$ на завершённое интервью",
        "Требует внимания",
    ] {
        assert!(ru.contains(expected), "missing {expected:?} in:\n{ru}");
    }
    for text in [&en, &ru] {
        assert!(!text.contains('{') && !text.contains('}'), "{text}");
    }
    assert_eq!(
        en.lines().count(),
        ru.lines().count(),
        "the same lines in both languages"
    );
}

#[test]
fn a_quiet_day_raises_no_alarm_and_a_model_without_a_price_does() {
    let catalog = Catalog::load().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = Metrics::unpersisted(clock.clone());
    metrics.polled();
    metrics.claude_call(
        MODEL,
        CallOutcome::Success,
        Duration::from_secs(2),
        usage(10, 10, 0, 0),
    );
    let prices = PriceTable::published();
    let text = report::render(&metrics.snapshot(), &prices, &catalog, Lang::En);
    assert!(!text.contains("Needs attention"), "{text}");
    assert!(text.contains("Errors: none"), "{text}");
    assert!(text.contains("per completed interview"), "{text}");

    metrics.claude_call(
        "claude-opus-9",
        CallOutcome::Success,
        Duration::from_secs(2),
        usage(10, 10, 0, 0),
    );
    let text = report::render(&metrics.snapshot(), &prices, &catalog, Lang::En);
    assert!(
        text.contains("No price is known for model claude-opus-9"),
        "{text}"
    );
}

#[test]
fn only_operators_get_the_report() {
    let catalog = Catalog::load().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = busy(&clock);
    let prices = PriceTable::published();
    let admins = [42];
    let reply = report::reply_for(&metrics, &prices, &catalog, &admins, UserId(42), Lang::Ru);
    assert!(reply.unwrap().contains("Интервью"));
    assert_eq!(
        report::reply_for(&metrics, &prices, &catalog, &admins, UserId(7), Lang::En),
        None
    );
}

#[tokio::test]
async fn a_panic_while_recording_leaves_every_later_call_working() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2027-01-15T10:00:00Z")));
    let metrics = open(dir.path(), &clock);
    metrics.answer(AnswerKind::Text);
    let buggy = metrics.clone();
    let panicked = std::thread::spawn(move || {
        buggy.update(|_| panic!("a bug in one recording"));
    })
    .join();
    assert!(panicked.is_err());
    assert!(metrics.inner.state.is_poisoned(), "the lock was poisoned");

    metrics.answer(AnswerKind::Text);
    metrics.polled();
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.today.answers(AnswerKind::Text), 2);
    assert_eq!(snapshot.last_poll, Some(clock.now()));
    metrics.flush().await.unwrap();
    let reopened = open(dir.path(), &clock);
    assert_eq!(reopened.snapshot().all_time.answers(AnswerKind::Text), 2);
}
