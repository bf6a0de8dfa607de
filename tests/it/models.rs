//! Claude's current models against the fake, which refuses what each generation refuses:
//! whole interviews conducted by Claude on every model, by the engine and through the bot;
//! thinking; truncation by thinking; the request shape per model and effort; lenient turns.

use std::{sync::Arc, time::Duration};

use ai_interviewer::{
    app,
    i18n::Lang,
    interview::{ManualClock, Outcome, ReportOutcome, Stage, Style, UserId},
    llm::Fallback,
};
use serde_json::{Value, json};

use crate::support::{
    EngineOptions, FakeAnthropic, Reply, TestEngine,
    anthropic::{Credentials, VERSION_2026_10_21},
    anthropic::{MODELS, thinking_tokens},
    bot::{BotOptions, spawn_bot},
    engine_settings, epoch,
    logs::Logs,
    overrides,
    owner::Owners,
    spawn_engine,
};

const USER: UserId = UserId(2001);

/// The models the figures and the README promise.
const CURRENT: [&str; 3] = ["claude-sonnet-4-6", "claude-sonnet-5", "claude-sonnet-5-5"];

fn engine_on(fake: &FakeAnthropic, vars: &[(&'static str, &str)]) -> TestEngine {
    spawn_engine(
        Some(fake),
        EngineOptions {
            vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            ..EngineOptions::default()
        },
    )
}

/// Every request the fake answered was accepted.
fn assert_nothing_refused(fake: &FakeAnthropic, model: &str) {
    for (i, r) in fake.received().iter().enumerate() {
        assert_eq!(
            r.status, 200,
            "{model}: request {i} refused: {:?}\n{}",
            r.error, r.body
        );
    }
}

#[tokio::test]
async fn on_every_current_model_claude_conducts_a_whole_interview_with_no_offline_question() {
    for model in CURRENT {
        let fake = FakeAnthropic::start().await;
        let t = engine_on(&fake, &[("CLAUDE_MODEL", model)]);
        let first = t
            .engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap();
        assert!(first.reply.fallback.is_none(), "{model}: {:?}", first.reply);
        let mut stages = vec![first.reply.stage];
        let finished = loop {
            t.clock.advance(Duration::from_secs(60));
            match t
                .engine
                .answer(
                    USER,
                    "A concrete answer about my work.",
                    std::future::pending(),
                )
                .await
                .unwrap()
            {
                Outcome::Reply(r) => {
                    assert!(!r.offline, "{model}: an offline question: {}", r.text);
                    assert!(r.text.starts_with('['), "{model}: {}", r.text);
                    stages.push(r.stage);
                }
                Outcome::Finished(f) => break f,
                other => panic!("{model}: {other:?}"),
            }
            assert!(stages.len() < 60, "{model}: the interview never ends");
        };
        stages.dedup();
        assert_eq!(stages, Stage::ALL, "{model}");
        assert!(finished.closing.is_some_and(|c| !c.offline), "{model}");
        let ready = match t.engine.write_report(USER).await.unwrap() {
            ReportOutcome::Ready(ready) => ready,
            other => panic!("{model}: {other:?}"),
        };
        assert!(!ready.offline, "{model}: Claude wrote the report");
        assert!(
            ready.markdown.contains("## 3. The task diagram") && ready.markdown.contains("*["),
            "{model}: {}",
            ready.markdown
        );
        let session = t.engine.session(USER).await.unwrap().unwrap();
        assert_eq!(session.summaries.len(), Stage::COUNT, "{model}");
        assert_nothing_refused(&fake, model);
        let received = fake.received();
        for r in &received {
            assert_eq!(r.body["model"], model);
            assert_eq!(r.stop_reason.as_deref(), Some("end_turn"), "{model}");
        }
        // Sonnet 5 thinks before every answer at a low effort; the thinking is skipped.
        let thinking = received
            .iter()
            .filter(|r| r.blocks.first().map(String::as_str) == Some("thinking"))
            .count();
        match model {
            "claude-sonnet-5" => assert_eq!(thinking, received.len(), "{model}"),
            // Sonnet 5.5 answers turns without thinking at a low effort; the stage summaries
            // and the report think.
            "claude-sonnet-5-5" => assert_eq!(thinking, fake.writing().len(), "{model}"),
            _ => assert_eq!(thinking, 0, "{model}"),
        }
        assert_eq!(fake.writing().len(), Stage::COUNT + 1, "{model}");
    }
}

#[tokio::test]
async fn each_model_gets_a_request_shape_it_accepts_at_every_effort() {
    for spec in MODELS {
        for effort in ["low", "medium", "high", "xhigh", "max"] {
            let fake = FakeAnthropic::start().await;
            let t = engine_on(
                &fake,
                &[
                    ("CLAUDE_MODEL", spec.id),
                    ("CLAUDE_EFFORT", effort),
                    ("CLAUDE_TEMPERATURE", "0.4"),
                ],
            );
            let begun = t
                .engine
                .begin(USER, Lang::En, Style::default())
                .await
                .unwrap();
            assert!(
                begun.reply.fallback.is_none(),
                "{} at {effort}: {:?}",
                spec.id,
                fake.received().last().and_then(|r| r.error.clone())
            );
            assert_nothing_refused(&fake, spec.id);
            let body = &fake.received()[0].body;
            let old = spec.id.contains("-4-");
            assert_eq!(body.get("temperature").is_some(), old, "{}", spec.id);
            assert_eq!(
                body["output_config"].get("effort").is_some(),
                !old,
                "{}",
                spec.id
            );
        }
    }
}

#[tokio::test]
async fn dated_model_ids_get_their_models_shape() {
    let fake = FakeAnthropic::start().await;
    let t = engine_on(&fake, &[("CLAUDE_MODEL", "claude-sonnet-5-5-20260928")]);
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert!(begun.reply.fallback.is_none());
    let body = &fake.received()[0].body;
    assert_eq!(body["thinking"], json!({"type": "between_tools"}));
    assert!(body.get("temperature").is_none());
}

#[tokio::test]
async fn thinking_blocks_before_the_answer_are_skipped() {
    let fake = FakeAnthropic::start().await;
    let t = engine_on(
        &fake,
        &[
            ("CLAUDE_MODEL", "claude-sonnet-5-5"),
            ("CLAUDE_EFFORT", "medium"),
        ],
    );
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert!(begun.reply.fallback.is_none());
    assert!(
        begun.reply.text.starts_with("[greeting]"),
        "{}",
        begun.reply.text
    );
    let received = &fake.received()[0];
    assert_eq!(received.blocks, ["thinking", "text"]);
    assert!(
        received.body.get("thinking").is_none(),
        "adaptive thinking at medium"
    );
    assert_eq!(received.usage.thinking, thinking_tokens("medium"));
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert!(
        session.usage.output_tokens > thinking_tokens("medium"),
        "thinking is billed as output"
    );
}

#[tokio::test]
async fn a_turn_truncated_by_thinking_is_asked_for_again_with_a_larger_budget() {
    let fake = FakeAnthropic::start().await;
    let t = engine_on(
        &fake,
        &[
            ("CLAUDE_MODEL", "claude-sonnet-5"),
            ("CLAUDE_EFFORT", "high"),
            ("CLAUDE_MAX_TOKENS", "2000"),
        ],
    );
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert!(begun.reply.fallback.is_none(), "{:?}", begun.reply);
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].stop_reason.as_deref(), Some("max_tokens"));
    assert_eq!(received[0].blocks, ["thinking"], "cut before any answer");
    assert_eq!(received[1].body["max_tokens"], 4000);
    assert_eq!(received[1].stop_reason.as_deref(), Some("end_turn"));
    let repair = fake.last_user_blocks(1).last().unwrap().clone();
    assert!(repair.contains("while thinking"), "{repair}");
}

#[tokio::test]
async fn a_turn_still_truncated_after_the_repair_falls_back_as_unusable() {
    let fake = FakeAnthropic::start().await;
    let t = engine_on(
        &fake,
        &[
            ("CLAUDE_MODEL", "claude-sonnet-5"),
            ("CLAUDE_EFFORT", "max"),
            ("CLAUDE_MAX_TOKENS", "2000"),
        ],
    );
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert_eq!(begun.reply.fallback, Some(Fallback::UnusableTurn));
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_turn_with_integer_minutes_and_an_out_of_range_completeness_is_accepted() {
    let fake = FakeAnthropic::start().await;
    let t = engine_on(&fake, &[]);
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    fake.script([Reply::Json(json!({
        "interview_stage": "greeting",
        "response": "How would you like me to address you?",
        "metadata": {"question_depth": "2", "completeness": 140, "engagement_level": "HIGH",
                     "estimated_time_remaining": 36},
        "internal_tracking": {"key_insights": "Welds pipelines for a living", "examples_collected": "1",
                              "follow_up_needed": null, "stage_transition_ready": "no",
                              "conversation_quality": "warm"}
    }))]);
    let next = match t
        .engine
        .answer(USER, "I weld pipelines.", std::future::pending())
        .await
        .unwrap()
    {
        Outcome::Reply(r) => r,
        other => panic!("{other:?}"),
    };
    assert!(next.fallback.is_none(), "the turn was kept");
    assert_eq!(next.text, "How would you like me to address you?");
    assert_eq!(fake.count(), 2, "no repair was needed");
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.record(Stage::Greeting).completeness, 100);
    assert_eq!(
        session.record(Stage::Greeting).insights,
        vec!["Welds pipelines for a living".to_owned()]
    );
    let reading = session.last_reading.unwrap();
    assert_eq!(reading.estimated_time_remaining, "36 minutes");
    assert_eq!(reading.engagement_level, "high");
}

#[tokio::test]
async fn an_operators_temperature_is_sent_only_to_models_that_take_it() {
    for (model, sent) in [("claude-sonnet-4-6", true), ("claude-sonnet-5-5", false)] {
        let fake = FakeAnthropic::start().await;
        let t = engine_on(
            &fake,
            &[("CLAUDE_MODEL", model), ("CLAUDE_TEMPERATURE", "0.3")],
        );
        let begun = t
            .engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap();
        assert!(begun.reply.fallback.is_none(), "{model}");
        let body = &fake.received()[0].body;
        assert_eq!(body.get("temperature").is_some(), sent, "{model}");
    }
}

/// A raw request to the fake, as a future client change might send it.
async fn post(fake: &FakeAnthropic, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url))
        .header("x-api-key", crate::support::anthropic::API_KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("request-id"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn request(model: &str, extra: Value) -> Value {
    let mut body = json!({
        "model": model,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn the_fake_refuses_what_each_generation_refuses_in_the_real_error_shape() {
    let fake = FakeAnthropic::start().await;
    let schema = |extra: Value| {
        let mut s = json!({"type": "object", "additionalProperties": false,
                           "properties": {"n": {"type": "integer"}}, "required": ["n"]});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({"output_config": {"format": {"type": "json_schema", "schema": s}}})
    };
    let refused: Vec<(&str, Value, &str)> = vec![
        (
            "claude-sonnet-5",
            json!({"temperature": 0.7}),
            "`temperature` is deprecated",
        ),
        (
            "claude-sonnet-5-5",
            json!({"temperature": 1.0}),
            "`temperature` is deprecated",
        ),
        (
            "claude-sonnet-5-5",
            json!({"top_p": 0.9}),
            "`top_p` is deprecated",
        ),
        (
            "claude-sonnet-5-5",
            json!({"tools": [{"name": "t", "input_schema": {"type": "object"}}],
                   "tool_choice": {"type": "tool", "name": "t"}}),
            "forced tool use",
        ),
        (
            "claude-opus-5-5",
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                                {"role": "assistant", "content": [{"type": "text", "text": "{"}]}]}),
            "prefill",
        ),
        (
            "claude-sonnet-5-5",
            json!({"thinking": {"type": "disabled"}}),
            "thinking.type",
        ),
        (
            "claude-sonnet-5",
            json!({"thinking": {"type": "enabled", "budget_tokens": 2048}}),
            "budget",
        ),
        (
            "claude-sonnet-5",
            json!({"thinking": {"type": "between_tools"}}),
            "thinking.type",
        ),
        (
            "claude-sonnet-5-5",
            json!({"thinking": {"type": "between_tools"}, "output_config": {"effort": "max"}}),
            "between_tools",
        ),
        (
            "claude-sonnet-4-6",
            json!({"output_config": {"effort": "low"}}),
            "effort",
        ),
        (
            "claude-haiku-5-5",
            json!({"output_config": {"effort": "extreme"}}),
            "effort",
        ),
        (
            "claude-sonnet-5-5",
            json!({"output_config": {"format": {"type": "json", "schema": {}}}}),
            "output_config.format",
        ),
        (
            "claude-sonnet-5-5",
            schema(json!({"minimum": 0})),
            "`minimum`",
        ),
        (
            "claude-sonnet-5-5",
            schema(json!({"properties": {"n": {"type": "string", "maxLength": 9}}})),
            "`maxLength`",
        ),
        (
            "claude-sonnet-5-5",
            schema(json!({"additionalProperties": true})),
            "additionalProperties",
        ),
        (
            "claude-sonnet-5-5",
            schema(json!({"required": []})),
            "required",
        ),
        (
            "claude-sonnet-5-5",
            json!({"output_format": {"type": "json_schema"}}),
            "output_format",
        ),
    ];
    for (model, extra, needle) in refused {
        let (status, body) = post(&fake, request(model, extra.clone())).await;
        assert_eq!(status, 400, "{model} {extra}: {body}");
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{model} {extra}: {message}");
    }
    let (status, body) = post(&fake, request("claude-sonnet-9", json!({}))).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (404, Some("not_found_error"))
    );
    // What the older generations still take.
    for (model, extra) in [
        ("claude-sonnet-4-6", json!({"temperature": 0.7})),
        ("claude-sonnet-5", json!({"temperature": 1.0})),
        ("claude-sonnet-5", json!({"thinking": {"type": "disabled"}})),
        (
            "claude-sonnet-5",
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                                {"role": "assistant", "content": [{"type": "text", "text": "{"}]}]}),
        ),
        ("claude-sonnet-5-5", schema(json!({}))),
    ] {
        let (status, body) = post(&fake, request(model, extra.clone())).await;
        assert_eq!(status, 200, "{model} {extra}: {body}");
    }
}

#[tokio::test]
async fn the_fake_truncates_a_small_budget_at_a_high_effort() {
    let fake = FakeAnthropic::start().await;
    let (status, body) = post(
        &fake,
        request(
            "claude-sonnet-5-5",
            json!({"max_tokens": 1000, "output_config": {"effort": "high"}}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["stop_reason"], "max_tokens");
    assert_eq!(body["content"][0]["type"], "thinking");
    assert_eq!(body["usage"]["output_tokens"], 1000);
}

/// A whole interview through the Telegram bot, by buttons and text, on `model`: every
/// question comes from Claude.
async fn interview_through_the_bot(model: &str) {
    let bot = spawn_bot(BotOptions {
        vars: vec![("CLAUDE_MODEL", model.to_owned())],
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(2101, "Ann", Some("en"));
    let first = bot.start_interview(&ann, "en", 0).await;
    assert!(
        first.plain().contains("[greeting]"),
        "{model}: {}",
        first.plain()
    );
    let mut report = None;
    for _ in 0..30 {
        let reply = bot.say(&ann, "Here is what I do, in detail.").await;
        let text = reply.plain();
        assert!(
            text.contains("Could you tell me more"),
            "{model}: a question not from Claude: {text}"
        );
        if text.contains("[wrap_up]") && text.contains("100%") {
            let notice = bot.next(&ann).await;
            assert!(notice.plain().contains("end of the interview"), "{model}");
            report = Some(bot.next(&ann).await);
            break;
        }
    }
    let report = report.unwrap_or_else(|| panic!("{model}: the interview never ended"));
    let markdown = String::from_utf8(report.document.expect("a document").bytes).unwrap();
    assert!(
        markdown.contains("## 3. The task diagram"),
        "{model}: {markdown}"
    );
    assert!(markdown.contains("## 9. Memorable quotes"), "{model}");
    let screen = bot.next(&ann).await;
    assert!(screen.plain().contains("report is ready"), "{model}");
    assert_nothing_refused(&bot.anthropic, model);
    assert!(
        bot.anthropic
            .received()
            .iter()
            .all(|r| r.body["model"] == model)
    );
}

#[tokio::test]
async fn through_the_bot_sonnet_4_6_conducts_a_whole_interview() {
    interview_through_the_bot("claude-sonnet-4-6").await;
}

#[tokio::test]
async fn through_the_bot_sonnet_5_conducts_a_whole_interview() {
    interview_through_the_bot("claude-sonnet-5").await;
}

#[tokio::test]
async fn through_the_bot_sonnet_5_5_conducts_a_whole_interview() {
    interview_through_the_bot("claude-sonnet-5-5").await;
}

// ---------------------------------------------------------------------------------------------
// The request shape from the Models API, read by the start-up check.

/// The console's engine, assembled as the binary assembles it: the start-up check reads the
/// model object from `fake` (described by the test first), and the requests are shaped by it.
async fn checked_engine(
    fake: &FakeAnthropic,
    vars: &[(&'static str, &str)],
) -> Result<TestEngine, app::StartupError> {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(epoch()));
    let options = EngineOptions {
        vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        ..EngineOptions::default()
    };
    let settings = engine_settings(dir.path(), Some(fake), &options);
    let engine = app::console(&settings, &overrides(&options, clock.clone())).await?;
    Ok(TestEngine {
        engine: Owners::new(Arc::new(engine)),
        clock,
        dir,
    })
}

/// The first turn's request body, after checking the fake took it.
async fn first_turn(t: &TestEngine, fake: &FakeAnthropic) -> Value {
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert!(begun.reply.fallback.is_none(), "{:?}", begun.reply);
    let received = fake.received();
    assert_eq!(received[0].status, 200, "{:?}", received[0].error);
    received[0].body.clone()
}

/// Sonnet 5.5's capabilities as the fake states them, changed by `change`.
fn sonnet_5_5_described(change: impl FnOnce(&mut Value)) -> Value {
    let mut capabilities = MODELS
        .iter()
        .find(|m| m.id == "claude-sonnet-5-5")
        .unwrap()
        .capabilities();
    change(&mut capabilities);
    capabilities
}

#[tokio::test]
async fn a_model_described_as_taking_no_effort_gets_none_though_the_table_would_send_it() {
    let fake = FakeAnthropic::start().await;
    fake.describe(
        "claude-sonnet-5-5",
        sonnet_5_5_described(|c| c["effort"] = json!({"supported": false})),
    );
    let t = checked_engine(&fake, &[]).await.unwrap();
    let body = first_turn(&t, &fake).await;
    assert_eq!(fake.model_checks(), ["claude-sonnet-5-5"]);
    assert!(body["output_config"].get("effort").is_none(), "{body}");
    assert!(
        body["output_config"]["format"].is_object(),
        "still structured"
    );
    // The table alone (no check) sends the effort, which this description refuses.
    let table = engine_on(&fake, &[]);
    let begun = table
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert_eq!(begun.reply.fallback, Some(Fallback::Configuration));
    assert_eq!(fake.received()[1].body["output_config"]["effort"], "low");
}

#[tokio::test]
async fn a_model_whose_thinking_types_lack_between_tools_never_gets_it() {
    let fake = FakeAnthropic::start().await;
    fake.describe(
        "claude-sonnet-5-5",
        sonnet_5_5_described(|c| {
            c["thinking"]["types"]["between_tools"] = json!({"supported": false});
        }),
    );
    let t = checked_engine(&fake, &[]).await.unwrap();
    let body = first_turn(&t, &fake).await;
    assert_eq!(body["output_config"]["effort"], "low");
    assert!(body.get("thinking").is_none(), "{body}");
    assert_eq!(
        fake.received()[0].blocks[0],
        "thinking",
        "adaptive thinking stays on"
    );
}

#[tokio::test]
async fn without_capabilities_the_table_of_generations_shapes_the_request() {
    let fake = FakeAnthropic::start().await;
    fake.describe_without_capabilities("claude-sonnet-5-5");
    let t = checked_engine(&fake, &[]).await.unwrap();
    let body = first_turn(&t, &fake).await;
    assert_eq!(body["output_config"]["effort"], "low");
    assert_eq!(body["thinking"], json!({"type": "between_tools"}));
}

#[tokio::test]
async fn a_model_described_without_structured_outputs_stops_the_start_naming_claude_model() {
    let fake = FakeAnthropic::start().await;
    fake.describe(
        "claude-haiku-5-5",
        json!({"structured_outputs": {"supported": false}}),
    );
    let err = checked_engine(&fake, &[("CLAUDE_MODEL", "claude-haiku-5-5")])
        .await
        .err()
        .expect("the start is refused");
    let line = err.to_string();
    assert!(
        line.contains("CLAUDE_MODEL")
            && line.contains("claude-haiku-5-5")
            && line.contains("structured outputs"),
        "{line}"
    );
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn under_version_2026_10_21_the_key_goes_as_a_bearer_token_and_no_temperature_is_sent() {
    let logs = Logs::capture();
    let fake = FakeAnthropic::start().await;
    let vars = [
        ("CLAUDE_MODEL", "claude-sonnet-4-6"),
        ("CLAUDE_TEMPERATURE", "0.5"),
    ];
    let t = checked_engine(
        &fake,
        &[&vars[..], &[("ANTHROPIC_VERSION", "2026-10-21")]].concat(),
    )
    .await
    .unwrap();
    let body = first_turn(&t, &fake).await;
    let received = &fake.received()[0];
    assert_eq!(received.version.as_deref(), Some(VERSION_2026_10_21));
    assert_eq!(received.credentials, Credentials::Bearer);
    assert!(body.get("temperature").is_none(), "{body}");
    let warning = logs.lines_with("ANTHROPIC_VERSION");
    assert!(
        warning
            .iter()
            .any(|l| l.contains("WARN") && l.contains("CLAUDE_TEMPERATURE")),
        "a warning names both settings:\n{}",
        logs.text()
    );
    // Under the default version the same settings send the temperature, with the key.
    let fake = FakeAnthropic::start().await;
    let t = checked_engine(&fake, &vars).await.unwrap();
    let body = first_turn(&t, &fake).await;
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(fake.received()[0].credentials, Credentials::ApiKey);
    assert_eq!(fake.received()[0].version.as_deref(), Some("2023-06-01"));
}
