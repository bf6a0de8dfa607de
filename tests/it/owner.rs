//! The owner of a session keeps what comes in while Claude thinks: a turn, the stage summaries
//! and the report are written on a copy, and what they bring is applied to the session as it
//! is by then, so a delivery report or a voice transcript taken meanwhile is never undone by a
//! save of the copy. Each case runs in both orders: the news before Claude's answer is
//! applied, and after it.

use std::sync::Arc;

use ai_interviewer::{
    i18n::Lang,
    interview::{
        Answer, Engine, Outcome, ReportOutcome, Role, SessionOwner, Stage, Style, UserId, VoiceClip,
    },
};

use crate::support::{
    EngineOptions, FakeAnthropic, TestEngine,
    assemblyai::{FakeAssemblyAi, Script},
    audio,
    bot::{BotOptions, TestBot, spawn_bot},
    eventually,
    owner::Owners,
    spawn_engine,
    telegram::TestUser,
};

const USER: UserId = UserId(1201);

/// When the news comes in, relative to Claude's answer.
#[derive(Debug, Clone, Copy)]
enum Order {
    /// While Claude is still thinking (its answer is applied after).
    WhileClaudeThinks,
    /// Once Claude's answer is applied and saved.
    AfterTheAnswer,
}

const ORDERS: [Order; 2] = [Order::WhileClaudeThinks, Order::AfterTheAnswer];

async fn online() -> (FakeAnthropic, TestEngine) {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    (fake, t)
}

fn engine(owners: &Owners) -> Arc<Engine> {
    owners.engine().clone()
}

/// The index of the last question in the owner's session.
fn last_question(owner: &SessionOwner) -> (u32, usize) {
    let session = owner.session().unwrap();
    let index = session
        .transcript
        .iter()
        .rposition(|e| e.role == Role::Interviewer)
        .unwrap();
    (session.id, index)
}

fn clip() -> VoiceClip {
    VoiceClip {
        duration_ms: 4_000,
        confidence: 0.91,
        model: Some("universal".into()),
    }
}

#[tokio::test]
async fn a_delivery_report_that_comes_while_a_turn_waits_for_claude_is_kept() {
    for order in ORDERS {
        let (fake, t) = online().await;
        let engine = engine(&t.engine);
        t.engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap();
        let mut owner = t.engine.owner(USER).await;
        let (id, opening) = last_question(&owner);
        let answer = Answer::input("I weld pipelines.", 7);
        owner.take_answer(&engine, answer).await.unwrap().unwrap();
        let job = engine.next_turn(owner.session()).unwrap();
        fake.hold_replies();
        let asked = fake.count();
        let call = tokio::spawn({
            let engine = engine.clone();
            async move { engine.ask(job, std::future::pending()).await }
        });
        eventually("the turn reaches Claude", async || fake.count() > asked).await;
        if let Order::WhileClaudeThinks = order {
            assert!(owner.mark_delivered(&engine, id, opening).await.unwrap());
        }
        fake.release_replies();
        let done = call.await.unwrap();
        let outcome = owner.apply_turn(&engine, done).await.unwrap();
        assert!(
            matches!(outcome, Outcome::Reply(_)),
            "{order:?}: {outcome:?}"
        );
        if let Order::AfterTheAnswer = order {
            assert!(owner.mark_delivered(&engine, id, opening).await.unwrap());
        }
        let saved = t.engine.session(USER).await.unwrap().unwrap();
        assert!(
            saved.transcript[opening].delivered,
            "{order:?}: the mark is kept"
        );
        assert_eq!(saved.transcript.len(), 3, "{order:?}: the turn is applied");
        assert_eq!(&saved, owner.session().unwrap(), "{order:?}: all is saved");
    }
}

#[tokio::test]
async fn a_delivery_report_and_a_voice_transcript_that_come_while_a_summary_waits_are_kept() {
    for order in ORDERS {
        let (fake, t) = online().await;
        let engine = engine(&t.engine);
        t.engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap();
        // The fake moves on every second turn: the reply to this answer opens the profile.
        let Outcome::Reply(reply) = t
            .engine
            .answer(USER, "Call me Ann.", std::future::pending())
            .await
            .unwrap()
        else {
            panic!("a reply")
        };
        assert!(reply.stage_changed);
        let mut owner = t.engine.owner(USER).await;
        let (id, opening) = last_question(&owner);
        let job = engine.summaries_job(owner.session()).unwrap();
        fake.hold_replies_to("Summarise one stage");
        let call = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write_summaries(job).await }
        });
        eventually("the summary reaches Claude", async || {
            fake.writing().len() == 1
        })
        .await;
        let news = async |owner: &mut SessionOwner| {
            assert!(owner.mark_delivered(&engine, id, opening).await.unwrap());
            let spoken = Answer::input("Twelve years of welding.", 9).spoken(clip());
            let held = owner.hold(&engine, spoken).await.unwrap();
            assert!(matches!(held, Outcome::Held), "{held:?}");
        };
        if let Order::WhileClaudeThinks = order {
            news(&mut owner).await;
        }
        fake.release_replies();
        let done = call.await.unwrap();
        assert_eq!(done.written(), 1);
        assert_eq!(engine.apply_summaries(owner.session_mut(), done), 1);
        owner.save(&engine).await.unwrap();
        if let Order::AfterTheAnswer = order {
            news(&mut owner).await;
        }
        let saved = t.engine.session(USER).await.unwrap().unwrap();
        assert!(
            saved.transcript[opening].delivered,
            "{order:?}: the mark is kept"
        );
        let pending = saved.pending().expect("the voice answer is kept");
        assert_eq!(pending.text, "Twelve years of welding.", "{order:?}");
        assert_eq!(pending.voice.len(), 1, "{order:?}: with its clip");
        assert!(
            saved.summaries.contains_key(&Stage::Greeting),
            "{order:?}: the summary is kept"
        );
        assert_eq!(&saved, owner.session().unwrap(), "{order:?}: all is saved");
    }
}

#[tokio::test]
async fn a_delivery_report_that_comes_while_the_report_waits_for_claude_is_kept() {
    for order in ORDERS {
        let (fake, t) = online().await;
        let engine = engine(&t.engine);
        t.engine
            .begin(USER, Lang::En, Style::default())
            .await
            .unwrap();
        // /complete twice: the closing question, then the end.
        assert!(matches!(
            t.engine.complete(USER).await.unwrap(),
            Outcome::Reply(_)
        ));
        assert!(matches!(
            t.engine.complete(USER).await.unwrap(),
            Outcome::Finished(_)
        ));
        let mut owner = t.engine.owner(USER).await;
        let (id, closing) = last_question(&owner);
        let job = engine.report_job(owner.session());
        fake.hold_replies_to("task_diagram");
        let call = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write_report(job).await }
        });
        eventually("the report reaches Claude", async || {
            fake.writing().iter().any(|(kind, _)| *kind == "report")
        })
        .await;
        if let Order::WhileClaudeThinks = order {
            assert!(owner.mark_delivered(&engine, id, closing).await.unwrap());
        }
        fake.release_replies();
        let done = call.await.unwrap();
        let outcome = owner.apply_report(&engine, done).await.unwrap();
        assert!(
            matches!(&outcome, ReportOutcome::Ready(ready) if !ready.offline),
            "{order:?}: {outcome:?}"
        );
        if let Order::AfterTheAnswer = order {
            assert!(owner.mark_delivered(&engine, id, closing).await.unwrap());
        }
        let saved = t.engine.session(USER).await.unwrap().unwrap();
        assert!(
            saved.transcript[closing].delivered,
            "{order:?}: the mark is kept"
        );
        assert_eq!(saved.report.version, 1, "{order:?}: the report is kept");
        assert_eq!(&saved, owner.session().unwrap(), "{order:?}: all is saved");
    }
}

/// Through the bot: the interviewer message at `index` of the saved session reached the
/// expert (the file leaves the mark out once it is set).
fn delivered(bot: &TestBot, user: &TestUser, index: usize) -> bool {
    bot.session(user).is_some_and(|s| {
        let entry = &s["transcript"][index];
        entry["role"] == "interviewer" && entry.get("delivered").is_none()
    })
}

/// The index of the last interviewer message in the saved session.
fn last_question_saved(bot: &TestBot, user: &TestUser) -> usize {
    let session = bot.session(user).unwrap();
    session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .rposition(|e| e["role"] == "interviewer")
        .unwrap()
}

#[tokio::test]
async fn through_the_bot_news_that_comes_while_a_summary_is_written_is_kept() {
    let aai = FakeAssemblyAi::start().await;
    let bot = spawn_bot(BotOptions {
        vars: aai.vars(),
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(1202, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies_to("Summarise one stage");
    let reply = bot.say(&ann, "Call me Ann. I weld pipelines.").await;
    assert!(reply.plain().starts_with("Stage 2/9"), "{}", reply.plain());
    let opening = last_question_saved(&bot, &ann);
    eventually(bot.awaiting("the summary is asked for"), async || {
        bot.anthropic.writing().len() == 1
    })
    .await;
    // The reply's delivery report comes in while Claude writes the summary.
    eventually(bot.awaiting("the reply is marked delivered"), async || {
        delivered(&bot, &ann, opening)
    })
    .await;
    // So does a voice note: it waits for the summary, then its transcript is the answer.
    let said = "Twelve years of welding gas lines.";
    aai.script(
        &audio("voice-en.ogg"),
        Script::new(said, "en").confidence(0.93),
    );
    let bytes = audio("voice-en.ogg");
    let size = bytes.len() as u64;
    bot.telegram.register_file("note", bytes);
    bot.telegram
        .send_voice(&ann, "note", 3, Some("audio/ogg"), Some(size));
    bot.anthropic.release_replies();
    eventually(bot.awaiting("the summary is saved"), async || {
        bot.session(&ann)
            .is_some_and(|s| s["summaries"]["greeting"].is_object())
    })
    .await;
    assert!(
        delivered(&bot, &ann, opening),
        "saving the summary kept the delivery report"
    );
    let echo = bot.next(&ann).await;
    assert!(echo.plain().starts_with("🎤"), "{}", echo.plain());
    let answered = bot.next(&ann).await;
    assert!(
        answered.plain().contains("Could you tell me more"),
        "{}",
        answered.plain()
    );
    bot.settled().await;
    let session = bot.session(&ann).unwrap();
    assert!(session["transcript"][opening].get("delivered").is_none());
    assert!(session["summaries"]["greeting"].is_object());
    let spoken = &session["transcript"][opening + 1];
    assert_eq!(spoken["text"], said);
    assert_eq!(spoken["voice"][0]["confidence"], 0.93);
}

#[tokio::test]
async fn through_the_bot_the_closing_words_delivered_while_the_report_is_written_stay_delivered() {
    let bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(1203, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies_to("task_diagram");
    let wrap = bot.say(&ann, "/complete").await;
    assert!(wrap.plain().starts_with("Stage 9/9"), "{}", wrap.plain());
    let mut n = 0;
    let closing = loop {
        let reply = bot.say(&ann, &format!("Answer {n}.")).await;
        if reply.plain().contains("100%") {
            break reply;
        }
        n += 1;
        assert!(n < 10, "the wrap-up never ended: {}", reply.plain());
    };
    assert!(closing.plain().contains("[wrap_up]"), "{}", closing.plain());
    let notice = bot.next(&ann).await;
    assert!(notice.plain().contains("end of the interview"));
    let closing = last_question_saved(&bot, &ann);
    eventually(bot.awaiting("the report is asked for"), async || {
        bot.anthropic
            .writing()
            .iter()
            .any(|(kind, _)| *kind == "report")
    })
    .await;
    eventually(
        bot.awaiting("the closing words are marked delivered"),
        async || delivered(&bot, &ann, closing),
    )
    .await;
    bot.anthropic.release_replies();
    let document = bot.next(&ann).await;
    assert!(document.document.is_some());
    eventually(bot.awaiting("the report is saved"), async || {
        bot.session(&ann)
            .is_some_and(|s| s["report"]["version"] == 1)
    })
    .await;
    assert!(
        delivered(&bot, &ann, closing),
        "saving the report kept the delivery report"
    );
}

/// Rewrites the user's session file through `edit`, as a hand would.
fn hand_edit(t: &TestEngine, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = t.dir.path().join(format!("{}.json", USER.0));
    let mut session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut session);
    std::fs::write(&path, serde_json::to_vec(&session).unwrap()).unwrap();
}

#[tokio::test]
async fn hand_edited_sessions_in_states_the_engine_never_writes_are_handled_without_a_panic() {
    // A window folded past the end of the transcript, with a stage summary due.
    let (_fake, t) = online().await;
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    let outcome = t
        .engine
        .answer(USER, "Call me Ann.", std::future::pending())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Reply(r) if r.stage == Stage::Profiling));
    hand_edit(&t, |s| s["context"]["folded"] = 999.into());
    assert_eq!(t.engine.summarize_stages(USER).await.unwrap(), 1);
    let outcome = t
        .engine
        .answer(USER, "I weld.", std::future::pending())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Reply(_)), "{outcome:?}");

    // A running interview whose transcript was emptied.
    let (_fake, t) = online().await;
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    hand_edit(&t, |s| s["transcript"] = serde_json::json!([]));
    assert!(t.engine.resume(USER).await.unwrap().is_none());
    let outcome = t
        .engine
        .answer(USER, "Hello?", std::future::pending())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Reply(_)), "{outcome:?}");

    // A correction waiting for a revision of a report that has no structured document: the
    // correction is attached as written.
    let (_fake, t) = online().await;
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    t.engine.complete(USER).await.unwrap();
    assert!(matches!(
        t.engine.complete(USER).await.unwrap(),
        Outcome::Finished(_)
    ));
    assert!(matches!(
        t.engine.write_report(USER).await.unwrap(),
        ReportOutcome::Ready(_)
    ));
    hand_edit(&t, |s| {
        let report = s["report"].as_object_mut().unwrap();
        report.remove("document");
        report.insert(
            "correction".into(),
            serde_json::json!({"text": "I weld gas lines, not water.", "at": "2027-01-15T08:05:00Z"}),
        );
    });
    match t.engine.write_report(USER).await.unwrap() {
        ReportOutcome::Ready(ready) => {
            assert_eq!(ready.version, 2);
            assert!(ready.offline);
            assert!(
                ready.markdown.contains("I weld gas lines, not water."),
                "{}",
                ready.markdown
            );
        }
        other => panic!("{other:?}"),
    }
    let saved = t.engine.session(USER).await.unwrap().unwrap();
    assert!(!saved.report.correction.unwrap().applied);
}
