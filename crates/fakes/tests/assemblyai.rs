//! Self-tests of the fake AssemblyAI over raw HTTP: an upload becomes a transcript that is
//! queued, then completed with its script, and the checks the real service makes.

use interviewer_fakes::assemblyai::{API_KEY, Call, Failure, FakeAssemblyAi, Script};
use serde_json::{Value, json};

async fn upload(fake: &FakeAssemblyAi, bytes: &'static [u8]) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/v2/upload", fake.url))
        .header("authorization", API_KEY)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["upload_url"].as_str().unwrap().to_owned()
}

async fn create(fake: &FakeAssemblyAi, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v2/transcript", fake.url))
        .header("authorization", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn poll(fake: &FakeAssemblyAi, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/v2/transcript/{id}", fake.url))
        .header("authorization", API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_upload_is_queued_then_transcribed_with_its_script() {
    let fake = FakeAssemblyAi::start().await;
    fake.script(b"hello audio", Script::new("Steel bridges.", "en"));
    let url = upload(&fake, b"hello audio").await;
    let (status, job) = create(
        &fake,
        json!({"audio_url": url, "speech_models": ["universal-3-5-pro"], "language_code": "en"}),
    )
    .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["status"], "queued");
    assert_eq!(fake.created(), 1);
    let id = job["id"].as_str().unwrap();
    let states = [
        poll(&fake, id).await,
        poll(&fake, id).await,
        poll(&fake, id).await,
    ];
    assert_eq!(states[0]["status"], "queued");
    assert_eq!(states[1]["status"], "completed");
    assert_eq!(states[2]["status"], "completed");
    assert_eq!(states[1]["text"], "Steel bridges.");
    assert_eq!(fake.count(Call::Poll), 3);
}

#[tokio::test]
async fn a_language_no_listed_model_speaks_is_refused() {
    let fake = FakeAssemblyAi::start().await;
    let url = upload(&fake, b"russian audio").await;
    let (status, body) = create(
        &fake,
        json!({"audio_url": url, "speech_models": ["universal-3-5-pro"], "language_code": "ru"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, body) = create(
        &fake,
        json!({"audio_url": url, "speech_models": ["universal-3-5-pro", "universal-2"], "language_code": "ru"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.created(), 1);
}

#[tokio::test]
async fn a_wrong_key_is_a_401_and_scripted_failures_come_first() {
    let fake = FakeAssemblyAi::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/v2/upload", fake.url))
        .header("authorization", "wrong")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    fake.fail(Call::Upload, [Failure::rate_limited("3")]);
    let response = reqwest::Client::new()
        .post(format!("{}/v2/upload", fake.url))
        .header("authorization", API_KEY)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    upload(&fake, b"x").await;
}

#[tokio::test]
async fn the_newest_model_takes_english_and_russian_only_once_a_test_says_so() {
    let fake = FakeAssemblyAi::start().await;
    fake.script(b"audio", Script::new("Steel bridges.", "en"));
    let url = upload(&fake, b"audio").await;
    let newest = json!(["assemblyai-stt-3-7", "universal-2"]);
    let (status, _) = create(
        &fake,
        json!({"audio_url": url, "speech_models": newest, "language_code": "en"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = create(
        &fake,
        json!({"audio_url": url, "speech_models": newest, "language_code": "ru"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = create(
        &fake,
        json!({"audio_url": url, "speech_models": ["assemblyai-stt-3-7"], "language_code": "ru"}),
    )
    .await;
    assert_eq!(status, 400, "no fallback beyond the list: {body}");
    assert!(body["error"].as_str().unwrap().contains("`ru`"), "{body}");
    fake.set_languages("assemblyai-stt-3-7", &["en", "ru"]);
    let (status, _) = create(
        &fake,
        json!({"audio_url": url, "speech_models": newest, "language_code": "ru"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        fake.models_used(),
        ["assemblyai-stt-3-7", "universal-2", "assemblyai-stt-3-7"]
    );
}

#[tokio::test]
async fn the_singular_speech_model_and_best_are_refused() {
    let fake = FakeAssemblyAi::start().await;
    let url = upload(&fake, b"audio").await;
    for body in [
        json!({"audio_url": url, "speech_model": "universal-2", "language_code": "en"}),
        json!({"audio_url": url, "speech_model": "best", "speech_models": ["universal-2"], "language_code": "en"}),
        json!({"audio_url": url, "speech_models": ["best", "universal-2"], "language_code": "en"}),
    ] {
        let (status, answer) = create(&fake, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_eq!(fake.created(), 0);
}
