//! The Claude client on its own against the fake: success, errors, retries, timeouts.

use std::time::Duration;

use ai_interviewer::{
    interview::{
        knowledge,
        turn::{InterviewModel, TurnRequest, WriteRequest},
    },
    llm::{
        ClaudeClient, Fallback, LlmError,
        wire::{ChatMessage, ChatRole, TextBlock},
    },
};
use secrecy::SecretString;
use serde_json::json;

use crate::support::{FakeAnthropic, Reply, anthropic::API_KEY, quick_retries, settings};

fn client(fake: &FakeAnthropic, key: &str, timeout: Duration) -> ClaudeClient {
    let mut s = settings(&[("ANTHROPIC_BASE_URL", fake.url.clone())]).claude;
    s.timeout = timeout;
    ClaudeClient::new(&s, SecretString::from(key.to_owned())).with_retry(quick_retries(2))
}

fn request() -> TurnRequest {
    TurnRequest {
        system: "You interview experts.".into(),
        messages: vec![ChatMessage {
            role: ChatRole::User,
            content: vec![TextBlock::new(
                "[Interview engine]\nStage: greeting (1 of 9).",
            )],
        }],
    }
}

#[tokio::test]
async fn a_valid_turn_comes_back_with_its_usage() {
    let fake = FakeAnthropic::start().await;
    let reply = client(&fake, API_KEY, Duration::from_secs(5))
        .turn(&request(), None)
        .await
        .unwrap();
    assert_eq!(reply.turn.interview_stage.id(), "greeting");
    assert!(!reply.repaired);
    assert!(reply.usage.input_tokens > 0);
    assert!(reply.usage.output_tokens > 0);
}

#[tokio::test]
async fn a_streamed_turn_reads_as_one_in_one_piece_and_shows_its_json_as_it_comes() {
    let fake = FakeAnthropic::start().await;
    let client = client(&fake, API_KEY, Duration::from_secs(5));
    fake.set_verbose(true);
    let whole = client.turn(&request(), None).await.unwrap();
    let (partial, mut shown) = tokio::sync::watch::channel(String::new());
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while shown.changed().await.is_ok() {
            seen.push(shown.borrow_and_update().clone());
        }
        seen
    });
    let streamed = client.turn(&request(), Some(&partial)).await.unwrap();
    let json = partial.borrow().clone();
    drop(partial);
    let seen = watcher.await.unwrap();
    assert_eq!(streamed.turn, whole.turn);
    assert_eq!(streamed.usage.output_tokens, whole.usage.output_tokens);
    assert_eq!(
        streamed.usage.input_tokens + streamed.usage.cache_read_input_tokens,
        whole.usage.input_tokens
            + whole.usage.cache_read_input_tokens
            + whole.usage.cache_creation_input_tokens
    );
    assert_eq!(fake.received()[1].body["stream"], true);
    assert!(fake.received()[0].body.get("stream").is_none());
    assert!(seen.len() > 2, "{seen:?}");
    assert!(
        seen.iter().all(|s| json.starts_with(s.as_str())),
        "{seen:?}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json).unwrap()["response"],
        streamed.turn.response.as_str()
    );
}

#[tokio::test]
async fn an_overload_in_the_middle_of_a_stream_is_retried() {
    let fake = FakeAnthropic::start().await;
    fake.script([Reply::BrokenStream]);
    let (partial, _shown) = tokio::sync::watch::channel(String::new());
    let reply = client(&fake, API_KEY, Duration::from_secs(5))
        .turn(&request(), Some(&partial))
        .await
        .unwrap();
    assert_eq!(fake.count(), 2);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&partial.borrow()).unwrap()["response"],
        reply.turn.response.as_str(),
        "the second attempt started the text over"
    );
}

#[tokio::test]
async fn a_rejected_key_is_an_api_error_with_its_type_and_no_retry() {
    let fake = FakeAnthropic::start().await;
    let err = client(&fake, "sk-wrong", Duration::from_secs(5))
        .turn(&request(), None)
        .await
        .unwrap_err();
    match err {
        LlmError::Api {
            status,
            kind,
            request_id,
            ..
        } => {
            assert_eq!((status, kind.as_str()), (401, "authentication_error"));
            assert_eq!(request_id.as_deref(), Some("req_fakeerror"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_the_retries_run_out() {
    let fake = FakeAnthropic::start().await;
    fake.always([Reply::server_error()]);
    let err = client(&fake, API_KEY, Duration::from_secs(5))
        .turn(&request(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Api { status: 500, .. }), "{err:?}");
    assert_eq!(fake.count(), 3, "one attempt and two retries");
}

// On tokio's paused clock (the fake hangs on it too), so the times are exact, not measured.
#[tokio::test(start_paused = true)]
async fn a_call_that_hangs_past_the_timeout_fails_as_a_timeout() {
    let fake = FakeAnthropic::start().await;
    fake.always([Reply::Hang(Duration::from_secs(10))]);
    let started = tokio::time::Instant::now();
    let err = client(&fake, API_KEY, Duration::from_millis(300))
        .turn(&request(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Timeout(_)), "{err:?}");
    assert_eq!(fake.count(), 3);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "three attempts cut at 300 ms each, none waited out: {waited:?}"
    );
}

fn summary_prompt() -> &'static str {
    "[Interview engine] Summarise one stage of the interview.\nStage: operations (4 of 9): how \
     the work is done.\nSession language: English.\n\nQ: What do you do first?\n\nA3: I check \
     the gas before anything else.\n"
}

#[tokio::test]
async fn a_stage_summary_comes_back_as_json_matching_its_schema() {
    let fake = FakeAnthropic::start().await;
    let schema = knowledge::schema();
    let request = WriteRequest {
        system: "Summarise.",
        prompt: summary_prompt(),
        schema: &schema,
        max_tokens: 2_000,
        check: knowledge::check,
    };
    let written = client(&fake, API_KEY, Duration::from_secs(5))
        .write(&request)
        .await
        .unwrap();
    assert!(!written.repaired);
    assert_eq!(written.value["elements"][0]["answer"], 3);
    assert_eq!(
        written.value["elements"][0]["quote"],
        "I check the gas before anything"
    );
    assert!(written.usage.output_tokens > 0);
    let sent = &fake.received()[0].body;
    assert_eq!(sent["output_config"]["format"]["schema"], schema);
    assert!(sent.get("tools").is_none() && sent.get("tool_choice").is_none());
}

#[tokio::test]
async fn a_reply_of_the_wrong_shape_is_asked_for_once_more() {
    let fake = FakeAnthropic::start().await;
    fake.script_writing([Reply::Json(json!({"summary": "no elements"}))]);
    let schema = knowledge::schema();
    let request = WriteRequest {
        system: "Summarise.",
        prompt: summary_prompt(),
        schema: &schema,
        max_tokens: 2_000,
        check: knowledge::check,
    };
    let written = client(&fake, API_KEY, Duration::from_secs(5))
        .write(&request)
        .await
        .unwrap();
    assert!(written.repaired);
    assert_eq!(fake.count(), 2);
    assert!(
        fake.last_user_blocks(1)
            .last()
            .unwrap()
            .contains("could not be used")
    );
}

#[tokio::test]
async fn a_repair_that_fails_still_reports_the_tokens_of_the_unusable_reply() {
    let fake = FakeAnthropic::start().await;
    fake.script_writing([Reply::NotJson]);
    fake.always_writing([Reply::overloaded()]);
    let schema = knowledge::schema();
    let request = WriteRequest {
        system: "Summarise.",
        prompt: summary_prompt(),
        schema: &schema,
        max_tokens: 2_000,
        check: knowledge::check,
    };
    let err = client(&fake, API_KEY, Duration::from_secs(5))
        .write(&request)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::RepairFailed { .. }), "{err:?}");
    assert_eq!(err.fallback(), Fallback::UpstreamDown);
    let billed = fake.received()[0].usage;
    assert!(billed.output > 0);
    assert_eq!(
        err.usage().output_tokens,
        billed.output,
        "the unusable reply's tokens"
    );
    assert_eq!(err.usage().input_tokens, billed.input);
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_respected() {
    let fake = FakeAnthropic::start().await;
    let mut s = settings(&[("ANTHROPIC_BASE_URL", format!("{}/proxy", fake.url))]).claude;
    s.timeout = Duration::from_secs(5);
    let client =
        ClaudeClient::new(&s, SecretString::from(API_KEY.to_owned())).with_retry(quick_retries(0));
    // The fake serves only /v1/..., so a prefix must reach /proxy/v1/messages: a 404 proves it.
    let err = client.turn(&request(), None).await.unwrap_err();
    assert!(matches!(err, LlmError::Api { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn the_model_check_reads_the_models_limits_or_fails_with_the_status() {
    let fake = FakeAnthropic::start().await;
    let info = client(&fake, API_KEY, Duration::from_secs(5))
        .model_info()
        .await
        .unwrap();
    assert_eq!(info.id, "claude-sonnet-5-5");
    assert_eq!(info.display_name, "Claude Sonnet 5.5");
    assert!(info.max_input_tokens.is_some() && info.max_tokens.is_some());
    let err = client(&fake, "sk-wrong", Duration::from_secs(5))
        .model_info()
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Api { status: 401, .. }), "{err:?}");
    let mut s = settings(&[
        ("ANTHROPIC_BASE_URL", fake.url.clone()),
        ("CLAUDE_MODEL", "claude-nonexistent-1".into()),
    ])
    .claude;
    s.timeout = Duration::from_secs(5);
    let err = ClaudeClient::new(&s, SecretString::from(API_KEY.to_owned()))
        .model_info()
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Api { status: 404, .. }), "{err:?}");
    assert_eq!(err.fallback(), Fallback::Configuration);
    assert_eq!(fake.count(), 0, "no message was sent");
}

#[tokio::test]
async fn failures_are_classified_for_the_offline_fallback() {
    let fake = FakeAnthropic::start().await;
    fake.always([Reply::overloaded()]);
    let err = client(&fake, API_KEY, Duration::from_secs(5))
        .turn(&request(), None)
        .await
        .unwrap_err();
    assert_eq!(err.fallback(), Fallback::UpstreamDown);
    let fake = FakeAnthropic::start().await;
    fake.always([Reply::Refusal]);
    let err = client(&fake, API_KEY, Duration::from_secs(5))
        .turn(&request(), None)
        .await
        .unwrap_err();
    assert_eq!(err.fallback(), Fallback::Refusal);
    assert!(err.usage().output_tokens > 0, "the refusal was billed");
    assert_eq!(fake.count(), 1, "a refusal is not asked again");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = settings(&[("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))]).claude;
    s.timeout = Duration::from_secs(5);
    let err = ClaudeClient::new(&s, SecretString::from(API_KEY.to_owned()))
        .with_retry(quick_retries(0))
        .turn(&request(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Network(_)), "{err:?}");
    assert_eq!(err.fallback(), Fallback::UpstreamDown);
}
