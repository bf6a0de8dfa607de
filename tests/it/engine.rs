//! The turn engine against the fake Anthropic server: stages, faults, restarts, the context
//! bound and bad input.

use std::{sync::Arc, time::Duration};

use ai_interviewer::{
    i18n::Lang,
    interview::{
        Outcome, Rejection, Reply as EngineReply, ReportOutcome, Role, Stage, Style, UserId,
        engine::MAX_ANSWER_CHARS,
    },
};
use serde_json::json;

use crate::support::{
    EngineOptions, FakeAnthropic, Reply, TestEngine, spawn_engine, spawn_engine_in,
};
use ai_interviewer::{llm::Fallback, metrics::FallbackReason};

const USER: UserId = UserId(1001);

async fn begin(t: &TestEngine) -> EngineReply {
    t.engine
        .begin(USER, Lang::En, Style::MasterInterviewer)
        .await
        .unwrap()
        .reply
}

async fn answer(t: &TestEngine, text: &str) -> Outcome {
    t.engine
        .answer(USER, text, std::future::pending())
        .await
        .unwrap()
}

fn reply(outcome: Outcome) -> EngineReply {
    match outcome {
        Outcome::Reply(reply) => reply,
        other => panic!("expected a reply, got {other:?}"),
    }
}

async fn online() -> (FakeAnthropic, TestEngine) {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    (fake, t)
}

#[tokio::test]
async fn a_whole_interview_walks_the_nine_stages_in_order_and_is_archived() {
    let (fake, t) = online().await;
    let first = begin(&t).await;
    let mut stages = vec![first.stage];
    let finished = loop {
        t.clock.advance(Duration::from_secs(90));
        match answer(&t, "A detailed answer about my work.").await {
            Outcome::Reply(r) => {
                assert!(!r.offline && r.fallback.is_none());
                stages.push(r.stage);
            }
            Outcome::Finished(f) => break f,
            other => panic!("{other:?}"),
        }
        assert!(stages.len() < 100, "the interview never ends");
    };
    for pair in stages.windows(2) {
        assert!(
            pair[1] == pair[0] || Some(pair[1]) == pair[0].next(),
            "{:?} -> {:?}",
            pair[0],
            pair[1]
        );
    }
    let mut visited = stages.clone();
    visited.dedup();
    assert_eq!(visited, Stage::ALL);

    assert!(
        finished.closing.is_some(),
        "the model's closing words are shown"
    );
    // The session stays until the report is written and checked, then moves.
    let ended = t.engine.session(USER).await.unwrap().unwrap();
    assert!(ended.finished_at.is_some());
    assert!(
        !t.engine.retire_finished(USER).await.unwrap(),
        "no report yet"
    );
    let ready = match t.engine.write_report(USER).await.unwrap() {
        ReportOutcome::Ready(ready) => ready,
        other => panic!("{other:?}"),
    };
    assert!(ready.review && !ready.offline);
    assert!(
        ready.markdown.contains("## 9. Memorable quotes"),
        "{}",
        ready.markdown
    );
    assert!(ready.path.starts_with(t.dir.path().join("completed")));
    assert!(
        !t.engine.retire_finished(USER).await.unwrap(),
        "not checked yet"
    );
    assert!(t.engine.confirm_report(USER).await.unwrap());
    assert!(t.engine.retire_finished(USER).await.unwrap());
    assert!(ready.path.with_extension("json").exists());
    assert!(
        !t.dir.path().join("1001.json").exists(),
        "the active file is gone"
    );
    assert!(t.engine.session(USER).await.unwrap().is_none());
    // The last request was the report, a structured reply of its own.
    let last = fake.received().last().unwrap().body.clone();
    assert!(last["output_config"]["format"]["schema"]["properties"]["task_diagram"].is_object());
    assert!(fake.received().iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn a_proposal_to_skip_ahead_or_go_back_is_refused() {
    let (fake, t) = online().await;
    fake.script([Reply::Turn {
        stage: "mastery",
        completeness: 10,
    }]);
    assert_eq!(begin(&t).await.stage, Stage::Greeting);
    fake.script([Reply::Turn {
        stage: "profiling",
        completeness: 10,
    }]);
    assert_eq!(reply(answer(&t, "I am Ann").await).stage, Stage::Profiling);
    fake.script([Reply::Turn {
        stage: "greeting",
        completeness: 90,
    }]);
    let back = reply(answer(&t, "I weld").await);
    assert_eq!(back.stage, Stage::Profiling);
    assert!(!back.stage_changed);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.stage, Stage::Profiling);
    assert_eq!(
        session.record(Stage::Profiling).completeness,
        10,
        "a refused proposal sets nothing"
    );
    assert_eq!(
        session.record(Stage::Greeting).completeness,
        100,
        "moving on closed the greeting"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_the_server_asked_for() {
    let (fake, t) = online().await;
    fake.script([Reply::rate_limited(1)]);
    let first = begin(&t).await;
    assert!(!first.offline);
    let received = fake.received();
    assert_eq!(received.len(), 2);
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
}

#[tokio::test]
async fn overloaded_and_server_errors_are_retried_with_backoff() {
    let (fake, t) = online().await;
    fake.script([Reply::overloaded(), Reply::server_error()]);
    assert!(!begin(&t).await.offline);
    assert_eq!(fake.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_call_is_retried() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(
        Some(&fake),
        EngineOptions {
            timeout: Duration::from_secs(1),
            ..EngineOptions::default()
        },
    );
    fake.script([Reply::Hang(Duration::from_secs(5))]);
    // On tokio's paused clock, which the fake's hang runs on too: exact times, not measured.
    let started = tokio::time::Instant::now();
    assert!(!begin(&t).await.offline);
    assert_eq!(fake.count(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the client gave up on the hung call"
    );
}

#[tokio::test]
async fn a_malformed_turn_is_asked_for_again_with_the_reason() {
    let (fake, t) = online().await;
    fake.script([Reply::Json(
        json!({"interview_stage": "lunch", "response": "Hello"}),
    )]);
    assert!(!begin(&t).await.offline);
    assert_eq!(fake.count(), 2);
    let note = fake.last_user_blocks(1).last().unwrap().clone();
    assert!(
        note.contains("could not be used") && note.contains("interview_stage"),
        "{note}"
    );
}

#[tokio::test]
async fn a_truncated_turn_is_asked_for_again_with_more_room() {
    let (fake, t) = online().await;
    fake.script([Reply::Truncated]);
    assert!(!begin(&t).await.offline);
    let received = fake.received();
    assert_eq!(received[0].body["max_tokens"], 4096);
    assert_eq!(received[1].body["max_tokens"], 8192);
    assert!(fake.last_user_blocks(1).last().unwrap().contains("cut off"));
}

#[tokio::test]
async fn a_turn_still_unusable_after_one_repair_falls_back_to_the_offline_bank() {
    let (fake, t) = online().await;
    fake.script([Reply::NotJson, Reply::Truncated]);
    let first = begin(&t).await;
    assert!(first.offline);
    assert_eq!(first.fallback, Some(Fallback::UnusableTurn));
    assert_eq!(fake.count(), 2);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.usage.offline_by_reason.unusable_turn, 1);
    assert!(
        session.usage.output_tokens > 0,
        "the unusable replies' tokens are counted"
    );
}

#[tokio::test]
async fn a_refusal_is_its_own_cause_not_asked_again_and_the_expert_still_gets_a_question() {
    let (fake, t) = online().await;
    begin(&t).await;
    fake.script([Reply::Refusal]);
    let before = fake.count();
    let next = reply(answer(&t, "I inspect pressure vessels.").await);
    assert!(next.offline, "the offline bank answered");
    assert!(!next.text.is_empty());
    assert_eq!(next.fallback, Some(Fallback::Refusal));
    assert_eq!(fake.count() - before, 1, "a refusal is not repaired");
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.usage.offline_by_reason.refusal, 1);
    assert_eq!(session.usage.offline_by_reason.unusable_turn, 0);
    assert_eq!(
        session.transcript.last().unwrap().fallback,
        Some(Fallback::Refusal)
    );
    let today = t.engine.metrics().snapshot().today;
    assert_eq!(today.fallbacks(FallbackReason::Refusal), 1);
    assert_eq!(today.fallbacks(FallbackReason::Unusable), 0);
    // A refusal after an unusable first reply is a refusal too.
    fake.script([Reply::NotJson, Reply::Refusal]);
    let next = reply(answer(&t, "Mostly boilers.").await);
    assert_eq!(next.fallback, Some(Fallback::Refusal));
}

#[tokio::test]
async fn when_the_api_stays_down_the_interview_goes_on_offline_and_the_turn_is_marked() {
    let (fake, t) = online().await;
    begin(&t).await;
    fake.always([Reply::server_error()]);
    let before = fake.count();
    let next = reply(answer(&t, "My name is Ann and I weld pipelines.").await);
    assert!(next.offline);
    assert_eq!(next.fallback, Some(Fallback::UpstreamDown));
    assert_eq!(fake.count() - before, 4, "one attempt and three retries");
    let catalog = ai_interviewer::i18n::Catalog::load().unwrap();
    let bank = ai_interviewer::interview::QuestionBank::from_catalog(&catalog).unwrap();
    assert_eq!(next.text, bank.get(Lang::En, Stage::Greeting, 0).unwrap());
    let session = t.engine.session(USER).await.unwrap().unwrap();
    let last = session.transcript.last().unwrap();
    assert!(last.offline && last.role == Role::Interviewer);
    assert_eq!(last.fallback, Some(Fallback::UpstreamDown));
    assert_eq!(session.usage.offline_turns, 1);
    assert_eq!(session.usage.offline_by_reason.upstream_down, 1);
    assert!(!next.text.contains("api_error") && !next.text.contains("500"));
}

#[tokio::test]
async fn authentication_errors_are_not_retried() {
    let (fake, t) = online().await;
    fake.always([Reply::unauthorized()]);
    let first = begin(&t).await;
    assert_eq!(first.fallback, Some(Fallback::Configuration));
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn a_request_the_api_refuses_is_a_configuration_fallback_counted_and_not_retried() {
    let (fake, t) = online().await;
    fake.always([Reply::Rejected(
        "`temperature` is deprecated for this model.".into(),
    )]);
    let first = begin(&t).await;
    assert_eq!(first.fallback, Some(Fallback::Configuration));
    let next = reply(answer(&t, "Still here.").await);
    assert_eq!(next.fallback, Some(Fallback::Configuration));
    assert_eq!(fake.count(), 2, "a 400 is never retried");
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.usage.offline_by_reason.configuration, 2);
    assert_eq!(session.usage.offline_turns, 2);
}

#[tokio::test]
async fn requests_ask_for_structured_json_with_no_tool_and_no_sampling_and_cache_their_prefixes() {
    let (fake, t) = online().await;
    begin(&t).await;
    answer(&t, "Hello").await;
    let body = fake.received()[1].body.clone();
    assert_eq!(body["model"], "claude-sonnet-5-5");
    assert_eq!(body["output_config"]["format"]["type"], "json_schema");
    assert!(body["output_config"]["format"]["schema"]["properties"]["interview_stage"].is_object());
    assert_eq!(body["output_config"]["effort"], "low");
    assert_eq!(body["thinking"], json!({"type": "between_tools"}));
    for absent in ["tools", "tool_choice", "temperature", "top_p", "top_k"] {
        assert!(body.get(absent).is_none(), "{absent} was sent");
    }
    assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    assert!(
        body["system"][0]["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("one json object")
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["role"], "user", "no prefill");
    let last = messages.last().unwrap()["content"].as_array().unwrap();
    assert_eq!(last[last.len() - 2]["text"], "Hello");
    assert_eq!(last[last.len() - 2]["cache_control"]["type"], "ephemeral");
    assert!(
        last[last.len() - 1]["text"]
            .as_str()
            .unwrap()
            .starts_with("[Interview engine]")
    );
    assert!(
        fake.received()[1].usage.cache_read > 0,
        "the prefix was read"
    );
}

#[tokio::test]
async fn an_empty_answer_gets_a_request_to_answer_and_no_call() {
    let (fake, t) = online().await;
    begin(&t).await;
    let calls = fake.count();
    assert!(matches!(
        answer(&t, "  \n\t ").await,
        Outcome::Rejected(Rejection::Empty)
    ));
    assert_eq!(fake.count(), calls);
    assert_eq!(t.engine.session(USER).await.unwrap().unwrap().answers(), 0);
}

#[tokio::test]
async fn a_long_answer_is_taken_whole_and_one_over_the_limit_is_refused_with_it() {
    let (fake, t) = online().await;
    begin(&t).await;
    let long = "word ".repeat(1200);
    reply(answer(&t, &long).await);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.transcript[1].text, long.trim());
    let calls = fake.count();
    let too_long = "x".repeat(MAX_ANSWER_CHARS + 1);
    match answer(&t, &too_long).await {
        Outcome::Rejected(Rejection::TooLong { length, limit }) => {
            assert_eq!((length, limit), (MAX_ANSWER_CHARS + 1, MAX_ANSWER_CHARS));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count(), calls);
}

#[tokio::test]
async fn a_message_saved_before_a_crash_is_answered_after_the_restart() {
    let (fake, t) = online().await;
    begin(&t).await;
    fake.script([Reply::Hang(Duration::from_secs(30))]);
    let engine = t.engine.clone();
    let call = tokio::spawn(async move {
        engine
            .answer(USER, "The answer in flight", std::future::pending())
            .await
    });
    crate::support::eventually("the answer reached Claude", async || fake.count() >= 2).await;
    call.abort();
    let _ = call.await;
    let TestEngine { dir, .. } = t;

    let restarted = spawn_engine_in(dir, Some(&fake), EngineOptions::default());
    assert_eq!(restarted.engine.pending_users().await.unwrap(), vec![USER]);
    let next = reply(
        restarted
            .engine
            .answer_pending(USER, std::future::pending())
            .await
            .unwrap(),
    );
    assert!(!next.offline);
    let session = restarted.engine.session(USER).await.unwrap().unwrap();
    let texts: Vec<_> = session
        .transcript
        .iter()
        .map(|e| (e.role, e.text.as_str()))
        .collect();
    assert_eq!(texts[1], (Role::Expert, "The answer in flight"));
    assert_eq!(texts[2].0, Role::Interviewer);
    assert_eq!(texts.len(), 3);
    assert!(restarted.engine.pending_users().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_session_saved_by_one_engine_resumes_in_a_fresh_one() {
    let (fake, t) = online().await;
    begin(&t).await;
    reply(answer(&t, "first").await);
    let before = t.engine.session(USER).await.unwrap().unwrap();
    let TestEngine { dir, .. } = t;
    let restarted = spawn_engine_in(dir, Some(&fake), EngineOptions::default());
    assert_eq!(
        restarted.engine.session(USER).await.unwrap().unwrap(),
        before
    );
    reply(
        restarted
            .engine
            .answer(USER, "second", std::future::pending())
            .await
            .unwrap(),
    );
    assert_eq!(
        restarted
            .engine
            .session(USER)
            .await
            .unwrap()
            .unwrap()
            .answers(),
        2
    );
}

#[tokio::test]
async fn a_corrupt_session_file_is_quarantined_and_a_new_interview_can_begin() {
    let (_fake, t) = online().await;
    std::fs::write(
        t.dir.path().join("1001.json"),
        b"{\"version\": 1, \"transcript\": [",
    )
    .unwrap();
    assert!(matches!(answer(&t, "hello").await, Outcome::Quarantined));
    let quarantined: Vec<_> = std::fs::read_dir(t.dir.path().join("quarantine"))
        .unwrap()
        .collect();
    assert_eq!(quarantined.len(), 1);
    let begun = t
        .engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    assert!(!begun.quarantined, "the file was already set aside");
    std::fs::write(t.dir.path().join("1001.json"), b"").unwrap();
    assert!(
        t.engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap()
            .quarantined
    );
}

#[tokio::test]
async fn a_session_idle_past_the_timeout_asks_to_resume_and_the_break_is_not_counted() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(
        Some(&fake),
        EngineOptions {
            session_timeout: Duration::from_secs(30 * 60),
            ..EngineOptions::default()
        },
    );
    let first = begin(&t).await;
    t.clock.advance(Duration::from_secs(31 * 60));
    let calls = fake.count();
    match answer(&t, "back again").await {
        Outcome::Idle {
            stage, idle_for, ..
        } => {
            assert_eq!(stage, Stage::Greeting);
            assert!(idle_for >= Duration::from_secs(31 * 60));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.count(),
        calls,
        "nothing is sent while the user chooses"
    );
    let resumed = t.engine.resume(USER).await.unwrap().unwrap();
    assert_eq!(resumed.text, first.text);
    t.clock.advance(Duration::from_secs(60));
    reply(answer(&t, "back again").await);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert!(
        session.active_time() < Duration::from_secs(5 * 60),
        "{:?}",
        session.active_time()
    );
}

#[tokio::test]
async fn complete_moves_to_the_wrap_up_and_a_second_complete_finishes() {
    let (fake, t) = online().await;
    begin(&t).await;
    reply(answer(&t, "I am Ann").await);
    let wrap = match t.engine.complete(USER).await.unwrap() {
        Outcome::Reply(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(wrap.stage, Stage::WrapUp);
    assert!(
        fake.last_user_blocks(fake.count() - 1)
            .last()
            .unwrap()
            .contains("asked to finish now")
    );
    match t.engine.complete(USER).await.unwrap() {
        Outcome::Finished(f) => assert!(f.closing.is_none(), "finished at once, no new turn"),
        other => panic!("{other:?}"),
    }
    let ended = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(ended.ending(), ai_interviewer::interview::Ending::ReportDue);
}

#[tokio::test]
async fn input_arriving_while_the_model_thinks_joins_the_pending_answer_into_one_turn() {
    let (fake, t) = online().await;
    begin(&t).await;
    fake.set_latency(Duration::from_millis(700));
    let newer = Arc::new(tokio::sync::Notify::new());
    let engine = t.engine.clone();
    let signal = newer.clone();
    let first = tokio::spawn(async move {
        engine
            .answer(USER, "part one", async move { signal.notified().await })
            .await
    });
    crate::support::eventually("the first part reached Claude", async || fake.count() >= 2).await;
    newer.notify_one();
    assert!(matches!(first.await.unwrap().unwrap(), Outcome::Superseded));
    reply(answer(&t, "part two").await);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.answers(), 1);
    assert_eq!(session.transcript[1].text, "part one\n\npart two");
    assert_eq!(session.transcript.len(), 3);
    let blocks = fake.last_user_blocks(fake.count() - 1);
    assert_eq!(blocks[blocks.len() - 2], "part one\n\npart two");
}

#[tokio::test]
async fn after_300_turns_the_request_stays_within_its_bound_and_mostly_reads_the_cache() {
    let fake = FakeAnthropic::start().await;
    fake.set_step(1);
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    begin(&t).await;
    let mut sizes = Vec::new();
    for i in 0..300 {
        t.clock.advance(Duration::from_secs(20));
        let answer_text = format!("Answer {i}: {}", "with some concrete detail ".repeat(8));
        reply(answer(&t, &answer_text).await);
        let body = fake.received().last().unwrap().body.clone();
        let blocks: usize = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_array().unwrap().len())
            .sum();
        assert!(blocks <= 100 + 2, "turn {i}: {blocks} blocks");
        sizes.push(body.to_string().len());
    }
    let max = *sizes.iter().max().unwrap();
    assert!(max < 150_000, "largest request {max} bytes");
    // The size stops growing: the last hundred turns are no bigger than the bound reached early.
    let plateau = sizes[100..].iter().max().unwrap();
    assert!(*plateau <= sizes[..150].iter().max().unwrap() + 20_000);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.answers(), 300);
    assert!(session.context.folded > 400);
    let read = session.usage.cache_read_input_tokens as f64;
    let total =
        read + session.usage.cache_creation_input_tokens as f64 + session.usage.input_tokens as f64;
    assert!(read / total > 0.7, "cache share {:.2}", read / total);
}

#[tokio::test]
async fn reset_archives_the_interview_and_delete_erases_every_file() {
    let (_fake, t) = online().await;
    begin(&t).await;
    assert!(t.engine.reset(USER).await.unwrap());
    assert_eq!(
        std::fs::read_dir(t.dir.path().join("archive"))
            .unwrap()
            .count(),
        1
    );
    assert!(t.engine.session(USER).await.unwrap().is_none());
    begin(&t).await;
    assert_eq!(t.engine.delete(USER).await.unwrap(), 2);
    let files = ai_interviewer::store::SessionStore::open(t.dir.path()).unwrap();
    assert!(files.files_of(USER).is_empty());
}

#[tokio::test]
async fn offline_interviews_reach_the_end_of_all_nine_stages() {
    let t = spawn_engine(None, EngineOptions::default());
    let first = begin(&t).await;
    assert!(first.offline);
    let mut stages = vec![first.stage];
    let finished = loop {
        match answer(&t, "An answer.").await {
            Outcome::Reply(r) => stages.push(r.stage),
            Outcome::Finished(f) => break f,
            other => panic!("{other:?}"),
        }
        assert!(stages.len() < 100, "the interview never ends");
    };
    stages.dedup();
    assert_eq!(stages, Stage::ALL);
    assert!(finished.closing.is_none());
    // Without Claude the report is the interview by stage, at once.
    match t.engine.write_report(USER).await.unwrap() {
        ReportOutcome::Ready(ready) => {
            assert!(ready.offline && ready.review);
            assert!(ready.markdown.contains("## 9."), "{}", ready.markdown);
            assert!(ready.markdown.contains("without the language model"));
        }
        other => panic!("{other:?}"),
    }
}

/// The stage whose bank questions (or their variants) include `text`.
fn bank_stage(text: &str) -> Option<Stage> {
    let catalog = ai_interviewer::i18n::Catalog::load().unwrap();
    let bank = ai_interviewer::interview::QuestionBank::from_catalog(&catalog).unwrap();
    Stage::ALL
        .into_iter()
        .find(|&stage| bank.identify(stage, text).is_some())
}

/// An answer that tells no case and walks through nothing, long enough to be taken as it is:
/// the offline interviewer neither probes nor reads it back, and asks the bank's next question.
const PLAIN: &str = "I usually check every weld twice because people who rush always miss the \
                     small cracks that grow over the years into real trouble.";

#[tokio::test]
async fn after_an_outage_mid_interview_the_offline_question_is_the_current_stages() {
    let (fake, t) = online().await;
    begin(&t).await;
    // Claude leads the interview to operations, with a refused skip-ahead on the way.
    fake.script([Reply::Turn {
        stage: "mastery",
        completeness: 30,
    }]);
    reply(answer(&t, "I am Ann, I weld pipelines.").await);
    for _ in 0..6 {
        t.clock.advance(Duration::from_secs(120));
        reply(answer(&t, "A detailed answer.").await);
    }
    let before = t.engine.session(USER).await.unwrap().unwrap().stage;
    assert_eq!(before, Stage::Operations);
    fake.always([Reply::server_error()]);
    for n in 0..3 {
        let next = reply(answer(&t, PLAIN).await);
        assert!(next.offline);
        assert_eq!(next.stage, Stage::Operations, "question {n}");
        assert_eq!(
            bank_stage(&next.text),
            Some(Stage::Operations),
            "{}",
            next.text
        );
        let session = t.engine.session(USER).await.unwrap().unwrap();
        assert_eq!(session.transcript.last().unwrap().stage, Stage::Operations);
    }
}

#[tokio::test]
async fn offline_questions_always_come_from_the_stage_the_interview_is_in() {
    // Deterministic pseudo-random sequences of answers, outages, unusable replies, stage
    // proposals (accepted or refused), language switches, early finishes and restarts.
    let mut seed: u64 = 0x5eed;
    let mut random = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let options = || EngineOptions {
        max_retries: 0,
        ..EngineOptions::default()
    };
    for run in 0..12 {
        let fake = FakeAnthropic::start().await;
        let mut t = spawn_engine(Some(&fake), options());
        begin(&t).await;
        for step in 0..50 {
            match random(12) {
                0 | 1 => fake.script([Reply::server_error()]),
                2 => fake.script([Reply::NotJson, Reply::NotJson]),
                3 => fake.script([Reply::Turn {
                    stage: Stage::ALL[random(9) as usize].id(),
                    completeness: random(101) as u8,
                }]),
                4 => {
                    let lang = if random(2) == 0 { Lang::Ru } else { Lang::En };
                    t.engine.set_language(USER, lang).await.unwrap();
                }
                5 if random(3) == 0 => {
                    if let Outcome::Finished(_) = t.engine.complete(USER).await.unwrap() {
                        break;
                    }
                }
                6 => {
                    let TestEngine { dir, .. } = t;
                    t = spawn_engine_in(dir, Some(&fake), options());
                }
                _ => {}
            }
            t.clock.advance(Duration::from_secs(60 * random(8)));
            match answer(&t, PLAIN).await {
                Outcome::Reply(r) if r.offline => {
                    let stage = t.engine.session(USER).await.unwrap().unwrap().stage;
                    assert_eq!(r.stage, stage, "run {run}, step {step}");
                    assert_eq!(bank_stage(&r.text), Some(stage), "run {run}, step {step}");
                }
                Outcome::Finished(_) => break,
                _ => {}
            }
        }
    }
}
