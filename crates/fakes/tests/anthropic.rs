//! Self-tests of the fake Anthropic API over raw HTTP: the shapes and refusals the product's
//! client is checked against elsewhere.

use interviewer_fakes::anthropic::{API_KEY, Credentials, FakeAnthropic, Reply};
use serde_json::{Value, json};

/// Posts `body` to `/v1/messages` with `key`; returns the status, the headers and the body.
async fn post(
    fake: &FakeAnthropic,
    key: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

fn request(model: &str) -> Value {
    json!({
        "model": model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Who is the expert?"}]}],
    })
}

#[tokio::test]
async fn a_plain_request_gets_a_message_with_usage_and_a_request_id() {
    let fake = FakeAnthropic::start().await;
    let (status, headers, body) = post(&fake, API_KEY, request("claude-sonnet-4-6")).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("request-id"));
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-sonnet-4-6");
    assert_eq!(body["stop_reason"], "end_turn");
    let texts: Vec<&Value> = body["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "text")
        .collect();
    assert_eq!(texts.len(), 1, "{body}");
    assert!(body["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(body["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn a_wrong_key_is_a_401_and_an_unknown_model_a_404_in_the_error_shape() {
    let fake = FakeAnthropic::start().await;
    let (status, _, body) = post(&fake, "sk-ant-wrong", request("claude-sonnet-4-6")).await;
    assert_eq!(status, 401);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    let (status, _, body) = post(&fake, API_KEY, request("claude-sonnet-3")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "not_found_error");
}

#[tokio::test]
async fn sampling_parameters_are_taken_on_4x_and_refused_on_5_5() {
    let fake = FakeAnthropic::start().await;
    let mut body = request("claude-sonnet-4-6");
    body["temperature"] = json!(0.3);
    let (status, _, answer) = post(&fake, API_KEY, body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    body["model"] = json!("claude-sonnet-5-5");
    let (status, _, answer) = post(&fake, API_KEY, body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["type"], "invalid_request_error");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("temperature"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_scripted_429_carries_retry_after_and_the_next_call_is_answered() {
    let fake = FakeAnthropic::start().await;
    fake.script([Reply::rate_limited(7)]);
    let (status, headers, body) = post(&fake, API_KEY, request("claude-sonnet-4-6")).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let (status, _, _) = post(&fake, API_KEY, request("claude-sonnet-4-6")).await;
    assert_eq!(status, 200);
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn the_models_endpoint_describes_known_models_only() {
    let fake = FakeAnthropic::start().await;
    let get = |id: &str| {
        reqwest::Client::new()
            .get(format!("{}/v1/models/{id}", fake.url))
            .header("x-api-key", API_KEY)
            .header("anthropic-version", "2023-06-01")
            .send()
    };
    let known = get("claude-opus-5-5").await.unwrap();
    assert_eq!(known.status().as_u16(), 200);
    let known: Value = known.json().await.unwrap();
    assert_eq!(known["display_name"], "Claude Opus 5.5");
    assert_eq!(get("claude-nonesuch").await.unwrap().status().as_u16(), 404);
    assert_eq!(fake.model_checks(), ["claude-opus-5-5", "claude-nonesuch"]);
}

/// Posts `body` under API version 2026-10-21 with the key as a bearer token.
async fn post_2026(fake: &FakeAnthropic, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url))
        .bearer_auth(API_KEY)
        .header("anthropic-version", "2026-10-21")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn version_2026_10_21_takes_a_bearer_token_and_refuses_sampling_even_at_defaults() {
    let fake = FakeAnthropic::start().await;
    let (status, answer) = post_2026(&fake, request("claude-sonnet-4-6")).await;
    assert_eq!(status, 200, "{answer}");
    let received = &fake.received()[0];
    assert_eq!(received.version.as_deref(), Some("2026-10-21"));
    assert_eq!(received.credentials, Credentials::Bearer);
    for (name, default) in [
        ("temperature", json!(1.0)),
        ("top_p", json!(1.0)),
        ("top_k", json!(5)),
    ] {
        let mut body = request("claude-sonnet-4-6");
        body[name] = default;
        let (status, answer) = post_2026(&fake, body.clone()).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(name));
        // The same request under 2023-06-01 is fine on a 4.x model.
        let (status, _, answer) = post(&fake, API_KEY, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    // A bearer token is not a key under 2023-06-01, and an unknown version is refused.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url))
        .bearer_auth(API_KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&request("claude-sonnet-4-6"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url))
        .header("x-api-key", API_KEY)
        .header("anthropic-version", "2025-01-01")
        .json(&request("claude-sonnet-4-6"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

async fn model_object(fake: &FakeAnthropic, id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/models/{id}", fake.url))
        .header("x-api-key", API_KEY)
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn model_objects_carry_capabilities_a_test_can_change_and_retired_models_name_their_replacement()
 {
    let fake = FakeAnthropic::start().await;
    let (_, sonnet) = model_object(&fake, "claude-sonnet-5-5").await;
    let capabilities = &sonnet["capabilities"];
    assert_eq!(capabilities["effort"]["low"]["supported"], true);
    assert_eq!(
        capabilities["thinking"]["types"]["between_tools"]["supported"],
        true
    );
    assert_eq!(capabilities["sampling_parameters"]["supported"], false);
    let (_, older) = model_object(&fake, "claude-haiku-4-5").await;
    assert_eq!(older["capabilities"]["effort"]["supported"], false);

    fake.describe(
        "claude-sonnet-5-5",
        json!({"effort": {"supported": false}, "structured_outputs": {"supported": true}}),
    );
    let (_, described) = model_object(&fake, "claude-sonnet-5-5-20260928").await;
    assert_eq!(described["capabilities"]["effort"]["supported"], false);
    let mut body = request("claude-sonnet-5-5");
    body["output_config"] = json!({"effort": "low"});
    let (status, _, answer) = post(&fake, API_KEY, body).await;
    assert_eq!(status, 400, "held to its description: {answer}");
    fake.describe_without_capabilities("claude-sonnet-5-5");
    let (_, bare) = model_object(&fake, "claude-sonnet-5-5").await;
    assert!(bare.get("capabilities").is_none(), "{bare}");

    let (status, retired) = model_object(&fake, "claude-sonnet-4-5-20250929").await;
    assert_eq!(status, 404);
    assert_eq!(retired["error"]["type"], "not_found_error");
    let message = retired["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("retired on 2026-11-30") && message.contains("claude-sonnet-5-5"),
        "{message}"
    );
    let (status, _, _) = post(&fake, API_KEY, request("claude-sonnet-4-5-20250929")).await;
    assert_eq!(status, 404);
}
