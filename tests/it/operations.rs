//! The operator's side: the `METRICS_ADDR` server (Prometheus text and `/healthz`) started the
//! way the binary starts it, the `healthcheck` subcommand, and the binary serving metrics,
//! purging old files and saving its counters on SIGTERM.

use std::{path::PathBuf, process::Command, sync::Arc, time::Duration};

use teloxide::Bot;

use ai_interviewer::{
    app::{self, Overrides},
    interview::ManualClock,
    llm::{pricing::PriceTable, wire::Usage},
    metrics::{
        AnswerKind, CallOutcome, ErrorKind, FallbackReason, Ledger, Metrics, TranscriptionFailure,
        health::POLL_STALE_AFTER,
    },
    store::SessionStore,
    telegram::{inbox::Inbox, poller},
};

use crate::support::{
    Reply, binary,
    bot::{BotOptions, WAIT, spawn_bot},
    epoch, eventually, prometheus, settings,
    telegram::{Failure, FakeTelegram},
};

const MODEL: &str = "claude-sonnet-4-6";

/// A sessions directory with the bot assembled on it (not connected to Telegram), serving
/// its metrics on 127.0.0.1.
struct Ops {
    bot: app::Bot,
    clock: Arc<ManualClock>,
    sessions: PathBuf,
    base: String,
    _dir: tempfile::TempDir,
}

impl Ops {
    async fn start() -> Ops {
        let dir = tempfile::tempdir().unwrap();
        let sessions = dir.path().join("sessions");
        SessionStore::open(&sessions).unwrap();
        let clock = Arc::new(ManualClock::new(epoch()));
        let settings = settings(&[
            ("SESSIONS_DIR", sessions.display().to_string()),
            ("METRICS_ADDR", "127.0.0.1:0".into()),
        ]);
        let overrides = Overrides {
            clock: clock.clone(),
            ..Overrides::default()
        };
        let bot = app::bot(settings, overrides).await.unwrap();
        let base = format!("http://{}", bot.metrics_addr().unwrap());
        Ops {
            bot,
            clock,
            sessions,
            base,
            _dir: dir,
        }
    }

    fn metrics(&self) -> &Metrics {
        self.bot.metrics()
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    async fn scrape(&self) -> prometheus::Exposition {
        let (status, content_type, body) = self.get("/metrics").await;
        assert_eq!(status, 200);
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        prometheus::parse(&body).unwrap_or_else(|e| panic!("{e}\n{body}"))
    }
}

#[tokio::test]
async fn the_prometheus_output_parses_follows_the_naming_conventions_and_has_process_metrics() {
    let ops = Ops::start().await;
    let scrape = ops.scrape().await;
    for (name, family) in &scrape.families {
        if family.kind == "counter" {
            assert!(name.ends_with("_total"), "counter {name} lacks _total");
        } else {
            assert!(
                !name.ends_with("_total"),
                "{} {name} ends in _total",
                family.kind
            );
        }
        assert!(
            name.starts_with("ai_interviewer_") || name.starts_with("process_"),
            "{name} has no namespace"
        );
        assert!(!family.help.is_empty(), "{name} has no help");
        assert!(
            !name.contains("millis") && !name.contains("_ms") && !name.contains("bytes_mb"),
            "{name} is not in base units"
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        scrape.value("ai_interviewer_build_info", &[("version", version)]),
        Some(1.0)
    );
    assert!(scrape.value("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(scrape.value("process_start_time_seconds", &[]).is_some());
    // Every label value of a counter is there from the first scrape, at zero.
    for reason in ["upstream_down", "unusable", "configuration", "refusal"] {
        assert_eq!(
            scrape.value("ai_interviewer_offline_turns_total", &[("reason", reason)]),
            Some(0.0)
        );
    }
    assert_eq!(
        scrape.value("ai_interviewer_answers_total", &[("kind", "voice")]),
        Some(0.0)
    );
}

#[tokio::test]
async fn counters_move_after_a_turn_a_fallback_and_a_transcription() {
    let ops = Ops::start().await;
    let metrics = ops.metrics();
    let usage = Usage {
        input_tokens: 1200,
        output_tokens: 120,
        cache_creation_input_tokens: 4000,
        cache_read_input_tokens: 30_000,
    };
    metrics.answer(AnswerKind::Text);
    metrics.claude_call(
        MODEL,
        CallOutcome::Success,
        Duration::from_millis(2400),
        usage,
    );
    metrics.answer(AnswerKind::Voice);
    metrics.transcribed(Duration::from_secs(42));
    metrics.transcription_failed(TranscriptionFailure::Upstream);
    metrics.claude_call(
        MODEL,
        CallOutcome::Failure,
        Duration::from_secs(9),
        Usage::default(),
    );
    metrics.turn_fell_back(FallbackReason::UpstreamDown);
    metrics.interview_started();

    let scrape = ops.scrape().await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .value(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?}"))
    };
    assert_eq!(
        value("ai_interviewer_answers_total", &[("kind", "text")]),
        1.0
    );
    assert_eq!(
        value("ai_interviewer_answers_total", &[("kind", "voice")]),
        1.0
    );
    let calls = "ai_interviewer_claude_calls_total";
    assert_eq!(
        value(calls, &[("model", MODEL), ("outcome", "success")]),
        1.0
    );
    assert_eq!(
        value(calls, &[("model", MODEL), ("outcome", "failure")]),
        1.0
    );
    let tokens = "ai_interviewer_claude_tokens_total";
    for (kind, count) in [
        ("input", 1200.0),
        ("output", 120.0),
        ("cache_write", 4000.0),
        ("cache_read", 30_000.0),
    ] {
        assert_eq!(value(tokens, &[("model", MODEL), ("kind", kind)]), count);
    }
    // Sonnet 4.6: $3 in, $15 out, $3.75 cache write, $0.30 cache read, per million tokens.
    let expected = (1200.0 * 3.0 + 120.0 * 15.0 + 4000.0 * 3.75 + 30_000.0 * 0.3) / 1e6;
    let cost = value(
        "ai_interviewer_claude_cost_dollars_total",
        &[("model", MODEL)],
    );
    assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");
    assert_eq!(
        value(
            "ai_interviewer_offline_turns_total",
            &[("reason", "upstream_down")]
        ),
        1.0
    );
    assert_eq!(value("ai_interviewer_transcriptions_total", &[]), 1.0);
    assert_eq!(
        value("ai_interviewer_transcribed_audio_seconds_total", &[]),
        42.0
    );
    assert_eq!(
        value(
            "ai_interviewer_transcription_failures_total",
            &[("kind", "upstream")]
        ),
        1.0
    );
    assert_eq!(value("ai_interviewer_interviews_started_total", &[]), 1.0);
    assert_eq!(value("ai_interviewer_interviews_active", &[]), 1.0);
    let latency = "ai_interviewer_claude_call_duration_seconds";
    assert_eq!(value(&format!("{latency}_count"), &[]), 2.0);
    assert!((value(&format!("{latency}_sum"), &[]) - 11.4).abs() < 1e-9);
    assert_eq!(value(&format!("{latency}_bucket"), &[("le", "3")]), 1.0);
}

#[tokio::test]
async fn healthz_is_200_while_polling_succeeds_and_sessions_dir_takes_a_write() {
    let ops = Ops::start().await;
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503, "no poll yet: {body}");
    assert!(body.contains("no successful getUpdates yet"), "{body}");

    ops.metrics().polled();
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    // The probe leaves nothing behind.
    let names: Vec<_> = std::fs::read_dir(&ops.sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[tokio::test]
async fn healthz_is_503_with_the_reason_when_polling_goes_stale() {
    let ops = Ops::start().await;
    ops.metrics().polled();
    ops.clock.advance(POLL_STALE_AFTER);
    assert_eq!(ops.get("/healthz").await.0, 200, "at the limit");
    ops.clock.advance(Duration::from_secs(1));
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503);
    assert!(
        body.contains("last successful getUpdates 121 s ago (limit 120 s)"),
        "{body}"
    );
    ops.metrics().polled();
    assert_eq!(ops.get("/healthz").await.0, 200);
}

/// The bot's poller, polling `telegram` and recording into the operations' metrics, until
/// the returned sender says stop.
fn start_polling(ops: &Ops, telegram: &FakeTelegram) -> tokio::sync::watch::Sender<bool> {
    let bot = Bot::new(telegram.token()).set_api_url(telegram.api_url().parse().unwrap());
    let (inbox, _) = Inbox::open(&ops.sessions.join("inbox")).unwrap();
    let (updates, _) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(poller::poll(
        bot,
        inbox,
        updates,
        stopping,
        ops.metrics().clone(),
    ));
    stop
}

/// Whether Telegram is holding a long poll of the bot's right now (no answer yet).
fn holds_a_poll(telegram: &FakeTelegram) -> bool {
    telegram
        .calls("getUpdates")
        .iter()
        .any(|call| call.status == 0)
}

#[tokio::test]
async fn healthz_is_200_while_the_first_long_poll_is_held_and_503_once_it_stalls() {
    let ops = Ops::start().await;
    let telegram = FakeTelegram::start().await;
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503, "nothing sent to Telegram yet: {body}");

    let stop = start_polling(&ops, &telegram);
    telegram
        .wait_until(WAIT, "the first long poll is held", holds_a_poll)
        .await;
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "ok\n"),
        "polling from the first request"
    );
    assert!(
        telegram
            .calls("getUpdates")
            .iter()
            .all(|call| call.status == 0),
        "the answer came while the first poll was still held"
    );

    // A poll held past any long-poll timeout has stalled.
    ops.clock.advance(POLL_STALE_AFTER + Duration::from_secs(1));
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503);
    assert!(
        body.contains("the first getUpdates has had no answer for 121 s (limit 120 s)"),
        "{body}"
    );
    stop.send_replace(true);
}

#[tokio::test]
async fn healthz_is_503_with_the_reason_when_polling_fails_from_the_start() {
    let ops = Ops::start().await;
    let telegram = FakeTelegram::start().await;
    // Every attempt in this test fails (the poller backs off for seconds between them).
    telegram.fail_next(
        "getUpdates",
        100,
        Failure::Status(400, "Bad Request: the poll is refused".into()),
    );
    let stop = start_polling(&ops, &telegram);
    let metrics = ops.metrics().clone();
    eventually("the failed poll is recorded", async || {
        metrics.snapshot().today.errors(ErrorKind::Polling) >= 1
    })
    .await;
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503);
    assert!(
        body.contains("every getUpdates has failed since the start"),
        "{body}"
    );
    assert!(!body.contains("SESSIONS_DIR"), "storage is fine: {body}");
    stop.send_replace(true);
}

#[tokio::test]
async fn healthz_is_503_with_the_reason_when_sessions_dir_cannot_be_written() {
    let ops = Ops::start().await;
    ops.metrics().polled();
    assert_eq!(ops.get("/healthz").await.0, 200);
    // The directory gives way to a file: no write can succeed there, whoever runs the test
    // (permission bits do not stop root).
    std::fs::remove_dir_all(&ops.sessions).unwrap();
    std::fs::write(&ops.sessions, b"").unwrap();
    let (status, _, body) = ops.get("/healthz").await;
    assert_eq!(status, 503);
    assert!(body.contains("SESSIONS_DIR"), "{body}");
    assert!(body.contains("is not writable"), "{body}");
    assert!(!body.contains("getUpdates"), "polling is fine: {body}");
}

#[cfg(unix)]
#[tokio::test]
async fn healthz_is_503_when_sessions_dir_turns_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let ops = Ops::start().await;
    ops.metrics().polled();
    std::fs::set_permissions(&ops.sessions, std::fs::Permissions::from_mode(0o555)).unwrap();
    let restore =
        || std::fs::set_permissions(&ops.sessions, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::fs::write(ops.sessions.join("probe"), b"").is_ok() {
        restore();
        eprintln!(
            "skipped: permission bits do not stop this user (root); the replaced-directory test covers it"
        );
        return;
    }
    let (status, _, body) = ops.get("/healthz").await;
    restore();
    assert_eq!(status, 503);
    assert!(body.contains("Permission denied"), "{body}");
}

#[tokio::test]
async fn the_healthcheck_command_exits_0_when_healthy_and_1_otherwise() {
    let ops = Ops::start().await;
    let addr = ops.base.trim_start_matches("http://").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let run = |vars: Vec<(&'static str, String)>| {
        let mut cmd = binary(dir.path());
        cmd.arg("healthcheck");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };

    let out = run(vec![("METRICS_ADDR", addr.clone())]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no successful getUpdates"),
        "{out:?}"
    );

    ops.metrics().polled();
    let out = run(vec![("METRICS_ADDR", addr.clone())]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");

    // The server listens everywhere; the check asks the loopback address.
    let port = addr.rsplit(':').next().unwrap();
    let out = run(vec![("METRICS_ADDR", format!("0.0.0.0:{port}"))]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = run(vec![]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("METRICS_ADDR is not set"),
        "{out:?}"
    );

    let out = run(vec![("METRICS_ADDR", format!("127.0.0.1:{}", free_port()))]).await;
    assert_eq!(out.status.code(), Some(1), "nothing listens: {out:?}");

    let out = run(vec![
        ("METRICS_ADDR", addr),
        ("CLAUDE_MAX_TOKENS", "lots".into()),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad settings are unhealthy, not 2"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary, killed on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_bot_serves_metrics_purges_old_files_and_saves_its_counters_on_sigterm() {
    let telegram = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    SessionStore::open(dir.path()).unwrap();
    // A report finished long ago, and one from yesterday.
    let old = dir.path().join("completed/7-20200101T000000.000Z.md");
    std::fs::write(&old, b"# old").unwrap();
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let recent = dir.path().join(format!(
        "completed/7-{}.md",
        yesterday.format(ai_interviewer::store::STAMP_FORMAT)
    ));
    std::fs::write(&recent, b"# recent").unwrap();

    let port = free_port();
    let mut cmd = binary(dir.path());
    cmd.env("TELEGRAM_BOT_TOKEN", telegram.token())
        .env("TELEGRAM_API_URL", telegram.api_url())
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"));
    let mut bot = Running(cmd.spawn().unwrap());

    let url = format!("http://127.0.0.1:{port}/metrics");
    // The purge runs at start-up, right after the server.
    let body = eventually("metrics that count the purge", async || {
        let body = reqwest::get(&url).await.ok()?.text().await.unwrap();
        body.contains("ai_interviewer_retention_purged_files_total 1")
            .then_some(body)
    })
    .await;
    prometheus::parse(&body).unwrap();
    assert!(!old.exists());
    assert!(recent.exists());

    // SIGTERM is handled once the bot polls.
    telegram.wait_for_calls("getUpdates", 1, WAIT).await;
    let pid = bot.0.id().to_string();
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    assert!(status.success());
    let child = &mut bot.0;
    let exit = eventually("the bot stops", async || child.try_wait().unwrap()).await;
    assert_eq!(exit.code(), Some(0));
    let ledger = Ledger::decode(&std::fs::read(dir.path().join("metrics.json")).unwrap()).unwrap();
    assert_eq!(ledger.all_time.files_purged, 1);
}

#[tokio::test]
async fn a_metrics_address_in_use_stops_the_bot_with_one_line_and_exit_code_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary(dir.path());
    cmd.env("TELEGRAM_BOT_TOKEN", "1:unused")
        .env("METRICS_ADDR", addr.to_string());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("ai-interviewer:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&format!("METRICS_ADDR {addr}: cannot listen")),
        "{stderr}"
    );
}

#[tokio::test]
async fn metrics_in_the_chat_answers_an_admin_and_is_unknown_to_anyone_else() {
    let bot = spawn_bot(BotOptions {
        vars: vec![("ADMIN_USER_IDS", "801".into())],
        ..BotOptions::default()
    })
    .await;
    let admin = bot.telegram.user(801, "Olga", Some("en"));
    let expert = bot.telegram.user(802, "Ann", Some("en"));
    bot.start_interview(&expert, "en", 0).await;
    bot.say(&expert, "An answer.").await;
    let report = bot.say(&admin, "/metrics").await;
    let text = report.plain();
    assert!(text.contains("Interviews"), "{text}");
    assert!(text.contains('$'), "the estimated cost: {text}");
    let refused = bot.say(&expert, "/metrics").await;
    let unknown = bot.say(&expert, "/nosuchcommand").await;
    assert_eq!(
        refused.plain(),
        unknown.plain(),
        "indistinguishable from an unknown command"
    );
    // The command is not in the menu.
    assert!(
        !bot.telegram
            .commands(Some("en"))
            .iter()
            .any(|(c, _)| c == "metrics")
    );
}

#[tokio::test]
async fn counters_move_after_real_turns_and_a_fallback_and_the_cost_matches_the_fakes_usage() {
    let bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(803, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "I repair turbines.").await;
    // Claude stays down through the retries: the turn comes from the offline bank.
    bot.anthropic.script([
        Reply::server_error(),
        Reply::server_error(),
        Reply::server_error(),
        Reply::server_error(),
    ]);
    let offline = bot.say(&ann, "Mostly gas turbines.").await;
    assert!(!offline.plain().is_empty());
    let prices = PriceTable::published();
    let scrape = prometheus::parse(&ai_interviewer::metrics::exposition::encode(
        &bot.metrics,
        &prices,
    ))
    .unwrap();
    let model = ai_interviewer::llm::DEFAULT_MODEL;
    let value = |name: &str, labels: &[(&str, &str)]| scrape.value(name, labels).unwrap_or(0.0);
    assert_eq!(value("ai_interviewer_interviews_started_total", &[]), 1.0);
    assert_eq!(
        value("ai_interviewer_answers_total", &[("kind", "text")]),
        2.0
    );
    let calls = "ai_interviewer_claude_calls_total";
    // Every call that succeeded (turns, and the stage summary the stage change asked for),
    // and the one that failed through its retries.
    let succeeded = bot
        .anthropic
        .received()
        .iter()
        .filter(|r| r.status == 200)
        .count();
    assert!(succeeded >= 2);
    assert_eq!(
        value(calls, &[("model", model), ("outcome", "success")]),
        succeeded as f64
    );
    assert_eq!(
        value(calls, &[("model", model), ("outcome", "failure")]),
        1.0
    );
    assert_eq!(
        value(
            "ai_interviewer_offline_turns_total",
            &[("reason", "upstream_down")]
        ),
        1.0
    );
    // Every token the fake reported, and their cost at the published price.
    let reported = bot
        .anthropic
        .received()
        .iter()
        .fold(Usage::default(), |mut sum, r| {
            sum.input_tokens += r.usage.input;
            sum.output_tokens += r.usage.output;
            sum.cache_creation_input_tokens += r.usage.cache_write;
            sum.cache_read_input_tokens += r.usage.cache_read;
            sum
        });
    let tokens = "ai_interviewer_claude_tokens_total";
    assert_eq!(
        value(tokens, &[("model", model), ("kind", "input")]),
        reported.input_tokens as f64
    );
    assert_eq!(
        value(tokens, &[("model", model), ("kind", "output")]),
        reported.output_tokens as f64
    );
    assert_eq!(
        value(tokens, &[("model", model), ("kind", "cache_write")]),
        reported.cache_creation_input_tokens as f64
    );
    assert_eq!(
        value(tokens, &[("model", model), ("kind", "cache_read")]),
        reported.cache_read_input_tokens as f64
    );
    let expected = prices.price(model).unwrap().cost(&reported);
    let cost = value(
        "ai_interviewer_claude_cost_dollars_total",
        &[("model", model)],
    );
    assert!(expected > 0.0);
    assert!((cost - expected).abs() < 1e-9, "{cost} != {expected}");
}
