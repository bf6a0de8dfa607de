//! The logs as an operator reads them: secrets redacted even inside the URLs of failing calls
//! logged at trace level, and LOG_FORMAT=json writing one object per line.

use ai_interviewer::telemetry::{self, LogFormat, REDACTED, Redacting};
use teloxide::prelude::Requester;

use crate::support::{logs::Buffer as Capture, settings};

const TOKEN: &str = "123456789:AAHtokenThatMustNeverBeLogged";
const ANTHROPIC_KEY: &str = "sk-ant-api03-keyThatMustNeverBeLogged";
const ASSEMBLYAI_KEY: &str = "aai0123456789abcdefNeverLogged";

/// A local server that answers every request with a 500.
async fn failing_server() -> String {
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "{\"ok\":false,\"error_code\":500,\"description\":\"Internal Server Error\"}",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A base URL nobody listens on.
fn closed_port() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// Makes failing Telegram, Claude and AssemblyAI-style calls whose URLs carry the secrets,
/// at trace level, through the product's subscriber hiding `secrets`; returns the log.
async fn log_failing_calls(secrets: Vec<String>) -> String {
    // Dependencies that log through `log` (reqwest) reach the subscriber too, as in the bot.
    let _ = tracing_log::LogTracer::init();
    let capture = Capture::default();
    let subscriber = telemetry::subscriber(
        "trace",
        LogFormat::Text,
        Redacting::with_writer(secrets, capture.writer()),
    );
    let _default = tracing::subscriber::set_default(subscriber);

    let failing = failing_server().await;
    let closed = closed_port();
    let client = reqwest::Client::new();
    for base in [&failing, &closed] {
        let urls = [
            format!("{base}/bot{TOKEN}/getMe"),
            format!("{base}/v1/messages?key={ANTHROPIC_KEY}"),
            format!("{base}/v2/transcript?token={ASSEMBLYAI_KEY}"),
        ];
        for url in urls {
            let result = client
                .get(&url)
                .send()
                .await
                .and_then(|r| r.error_for_status());
            let error = result.expect_err("the call fails");
            tracing::warn!(%error, "call failed");
            tracing::debug!(?error, "call failed (details)");
        }
    }
    let bot = teloxide::Bot::new(TOKEN).set_api_url(closed.parse().unwrap());
    let error = bot.get_me().await.expect_err("getMe fails");
    tracing::warn!(%error, ?error, "Telegram call failed");
    capture.text()
}

#[tokio::test]
async fn secrets_inside_the_urls_of_failing_calls_never_reach_the_log() {
    let secrets = settings(&[
        ("TELEGRAM_BOT_TOKEN", TOKEN.into()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.into()),
    ])
    .secrets();
    // The voice key is not a setting yet; the writer hides whatever it is given.
    let secrets = secrets
        .into_iter()
        .chain([ASSEMBLYAI_KEY.to_owned()])
        .collect();
    let log = log_failing_calls(secrets).await;
    for secret in [TOKEN, ANTHROPIC_KEY, ASSEMBLYAI_KEY] {
        assert!(!log.contains(secret), "{secret} leaked:\n{log}");
    }
    // The token is split at its colon in some forms (percent-encoded); no part of it shows.
    assert!(!log.contains("AAHtokenThatMustNeverBeLogged"), "{log}");
    assert!(log.contains(&format!("/bot{REDACTED}/getMe")), "{log}");
    assert!(log.contains(&format!("key={REDACTED}")), "{log}");
    assert!(log.contains(&format!("token={REDACTED}")), "{log}");
    assert!(
        log.contains("TRACE"),
        "trace-level events are captured:\n{log}"
    );
}

#[tokio::test]
async fn without_redaction_the_same_calls_would_log_the_secrets() {
    // The check above is only worth something if the secrets are really there to hide.
    let log = log_failing_calls(Vec::new()).await;
    for secret in [TOKEN, ANTHROPIC_KEY, ASSEMBLYAI_KEY] {
        assert!(log.contains(secret), "{secret} is not in the log:\n{log}");
    }
}

#[test]
fn json_logs_are_one_object_per_line_with_the_event_fields_at_the_top() {
    let capture = Capture::default();
    let subscriber = telemetry::subscriber(
        "info",
        LogFormat::Json,
        Redacting::with_writer(vec![TOKEN.into()], capture.writer()),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            user = 42,
            update_id = 7001,
            stage = "essence",
            elapsed_ms = 1234,
            "turn received"
        );
        tracing::warn!(error = %format!("multi\nline bot{TOKEN}"), "delivery failed");
        tracing::debug!("filtered out at info");
    });
    let text = capture.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let turn = &lines[0];
    assert_eq!(turn["message"], "turn received");
    assert_eq!(turn["level"], "INFO");
    assert_eq!(turn["user"], 42);
    assert_eq!(turn["update_id"], 7001);
    assert_eq!(turn["stage"], "essence");
    assert_eq!(turn["elapsed_ms"], 1234);
    assert!(turn["timestamp"].is_string());
    assert_eq!(lines[1]["error"], format!("multi\nline bot{REDACTED}"));
}
