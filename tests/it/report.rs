//! What an interview leaves behind: stage summaries resting on the expert's words, the
//! structured report composed from them, the expert's check and the one revision, and the
//! report that waits for Claude (and survives a restart) or, after a day, is made without it.
//! At the engine level, through the bot, and in the console.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use ai_interviewer::{
    i18n::Lang,
    interview::{
        Clock, Ending, Outcome, REPORT_GIVE_UP, ReportOutcome, ReportReady, Role, Stage, Style,
        UserId,
    },
    model::{Usage, Work},
};
use serde_json::Value;

use crate::support::{
    EngineOptions, FakeAnthropic, Reply, TestEngine,
    anthropic::{API_KEY, writing_kind},
    binary,
    bot::{BotOptions, TestBot, spawn_bot},
    spawn_engine, spawn_engine_in,
    telegram::{SentMessage, TestUser},
};

const USER: UserId = UserId(3001);

/// An answer of the expert's: distinct, a few sentences, in the interview's language.
fn answer_text(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!(
            "Answer {n}: first I check what changed since the last good batch, the supplier and \
             the humidity. Then I look at the colour of the weld before anything else."
        ),
        Lang::Ru => format!(
            "Ответ {n}: сначала я смотрю, что изменилось с последней удачной партии, поставщик и \
             влажность. Потом смотрю на цвет шва, прежде всего остального."
        ),
    }
}

/// Runs an interview to its end the way the front ends do: stage summaries after each reply
/// that opens a stage; `/complete` once `complete_in` is reached.
async fn interview(t: &TestEngine, lang: Lang, complete_in: Option<Stage>) {
    t.engine
        .begin(USER, lang, Style::MasterInterviewer)
        .await
        .unwrap();
    for n in 1.. {
        t.clock.advance(Duration::from_secs(60));
        let stage = t.engine.session(USER).await.unwrap().unwrap().stage;
        let outcome = if complete_in == Some(stage) {
            t.engine.complete(USER).await.unwrap()
        } else {
            t.engine
                .answer(USER, &answer_text(lang, n), std::future::pending())
                .await
                .unwrap()
        };
        match outcome {
            Outcome::Reply(reply) => {
                if reply.stage_changed && !reply.offline {
                    t.engine.summarize_stages(USER).await.unwrap();
                }
            }
            Outcome::Finished(_) => return,
            other => panic!("{other:?}"),
        }
        assert!(n < 100, "the interview never ended");
    }
}

fn ready(outcome: ReportOutcome) -> Box<ReportReady> {
    match outcome {
        ReportOutcome::Ready(ready) => ready,
        other => panic!("expected a report, got {other:?}"),
    }
}

/// The lines of `section` (`## n.`) of a report.
fn section(markdown: &str, number: usize) -> String {
    let start = markdown
        .find(&format!("\n## {number}. "))
        .unwrap_or_else(|| panic!("no section {number}:\n{markdown}"));
    let rest = &markdown[start + 1..];
    let end = rest[3..]
        .find("\n## ")
        .or_else(|| rest.find("\n---"))
        .map_or(rest.len(), |e| e + 3);
    rest[..end].to_owned()
}

/// Every finding of sections 1 to 8 (list items, numbered steps and table rows) ends with its
/// reference in brackets.
fn assert_every_claim_is_referenced(markdown: &str) {
    let mut claims = 0;
    for number in 1..=8 {
        let text = section(markdown, number);
        for line in text.lines().skip(1) {
            let claim = line.starts_with("- ")
                || line.chars().next().is_some_and(|c| c.is_ascii_digit())
                || (line.starts_with("| ") && !line.starts_with("| Situation"));
            if claim && !line.starts_with("|---") {
                claims += 1;
                assert!(
                    line.contains("*[") && line.contains(']'),
                    "a claim without its reference: {line}\n{markdown}"
                );
            }
        }
    }
    assert!(claims > 5, "{markdown}");
}

#[tokio::test]
async fn after_a_whole_interview_each_stage_has_a_summary_resting_on_the_experts_words() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    let session = t.engine.session(USER).await.unwrap().unwrap();
    // Every stage but the last was summarised while the interview ran, after the reply that
    // opened the next one; wrap_up is summarised with the report.
    let answered: Vec<Stage> = Stage::ALL
        .into_iter()
        .filter(|s| {
            session
                .transcript
                .iter()
                .any(|e| e.role == Role::Expert && e.stage == *s)
        })
        .collect();
    let summarised: Vec<Stage> = session.summaries.keys().copied().collect();
    assert_eq!(summarised, answered[..answered.len() - 1]);
    for summary in session.summaries.values() {
        assert!(!summary.elements.is_empty());
        for element in &summary.elements {
            let entry = &session.transcript[element.evidence.entry];
            assert_eq!(entry.role, Role::Expert);
            let quote = element.evidence.quote.as_deref().expect("a quote");
            assert!(
                entry.text.contains(quote),
                "{quote:?} not in {:?}",
                entry.text
            );
        }
    }
    // One request per stage, each with the stage's own answers numbered.
    let summaries: Vec<_> = fake
        .writing()
        .into_iter()
        .filter(|(kind, _)| *kind == "summary")
        .collect();
    assert_eq!(summaries.len(), summarised.len());
    let prompt = summaries[2].1.body["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("Stage: essence (3 of 9)"), "{prompt}");
    assert!(
        !prompt.contains("Answer 1:"),
        "another stage's answer: {prompt}"
    );
    // The stage summaries and the report are counted into the interview's usage.
    ready(t.engine.write_report(USER).await.unwrap());
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.summaries.len(), answered.len());
    let billed: u64 = fake.received().iter().map(|r| r.usage.output).sum();
    assert_eq!(session.usage.output_tokens, billed);
    let input: u64 = fake
        .received()
        .iter()
        .map(|r| r.usage.input + r.usage.cache_write + r.usage.cache_read)
        .sum();
    let usage = session.usage;
    assert_eq!(
        usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens,
        input
    );
}

#[tokio::test]
async fn the_cost_is_split_into_turns_summaries_and_report_and_the_split_adds_up_to_the_totals() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    ready(t.engine.write_report(USER).await.unwrap());
    let session = t.engine.session(USER).await.unwrap().unwrap();
    let usage = session.usage;
    let split = usage
        .by_work
        .expect("a new interview's cost is split by kind");
    // What the fake billed, sorted by the request it answered.
    let billed = |kind: Option<&str>| {
        let mut sum = Usage::default();
        for r in fake.received() {
            if writing_kind(&r.body) == kind {
                sum += Usage {
                    input_tokens: r.usage.input,
                    output_tokens: r.usage.output,
                    cache_creation_input_tokens: r.usage.cache_write,
                    cache_read_input_tokens: r.usage.cache_read,
                };
            }
        }
        sum
    };
    for (work, kind) in [
        (Work::Turns, None),
        (Work::Summaries, Some("summary")),
        (Work::Report, Some("report")),
    ] {
        let spent = split.of(work);
        assert!(
            spent.input_tokens > 0 && spent.output_tokens > 0,
            "{work:?}: {spent:?}"
        );
        assert_eq!(spent, billed(kind), "{work:?}");
    }
    let mut sum = split.turns;
    sum += split.summaries;
    sum += split.report;
    assert_eq!(sum, usage.tokens());
}

#[tokio::test]
async fn the_report_has_its_sections_every_claim_referenced_and_is_composed_from_the_summaries() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    // One very long answer: the report's request carries its findings, not its text.
    let long = format!(
        "{} {}",
        answer_text(Lang::En, 0),
        "and the rest of a very long story about the night shift ".repeat(60)
    );
    t.engine
        .answer(USER, &long, std::future::pending())
        .await
        .unwrap();
    drop(long);
    interview_rest(&t).await;
    let report = ready(t.engine.write_report(USER).await.unwrap());
    assert!(report.review && !report.offline && report.version == 1);
    let md = &report.markdown;
    if std::env::var("SHOW_REPORT").is_ok() {
        eprintln!("{md}\n=====\n{}", report.screen);
    }
    for heading in [
        "## Summary",
        "## 1. The expert's profile",
        "## 2. The essence of the role",
        "## 3. The task diagram",
        "## 4. Expertise map: what to learn, in what order",
        "## 5. Cues, strategies and typical errors",
        "## 6. Failure modes and how to prevent them",
        "## 7. Mastery",
        "## 8. Growth path",
        "## 9. Memorable quotes",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    assert_every_claim_is_referenced(md);
    assert!(section(md, 5).contains("| Situation | Cues | Strategy | Typical error | Source |"));
    assert!(section(md, 3).contains("(hard)"), "{md}");
    assert!(section(md, 9).contains("> «"), "{md}");
    assert!(report.screen.contains("report is ready"));
    assert!(
        report
            .screen
            .contains("Confirm it, or tell me what to correct")
    );
    // Saved where it will be archived.
    assert_eq!(std::fs::read_to_string(&report.path).unwrap(), *md);
    let request = fake
        .writing()
        .into_iter()
        .find(|(kind, _)| *kind == "report")
        .unwrap()
        .1
        .body;
    let prompt = request["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(prompt.contains("E1 [profile]"), "{prompt}");
    assert!(
        !prompt.contains("night shift and the rest"),
        "the raw story: {prompt}"
    );
    let session = t.engine.session(USER).await.unwrap().unwrap();
    let transcript: usize = session.transcript.iter().map(|e| e.text.len()).sum();
    assert!(
        prompt.len() < transcript,
        "{} vs {transcript}",
        prompt.len()
    );
}

/// Answers until the interview ends, summarising as the front ends do.
async fn interview_rest(t: &TestEngine) {
    for n in 1.. {
        t.clock.advance(Duration::from_secs(60));
        match t
            .engine
            .answer(USER, &answer_text(Lang::En, n), std::future::pending())
            .await
            .unwrap()
        {
            Outcome::Reply(reply) if reply.stage_changed => {
                t.engine.summarize_stages(USER).await.unwrap();
            }
            Outcome::Reply(_) => {}
            Outcome::Finished(_) => return,
            other => panic!("{other:?}"),
        }
        assert!(n < 100);
    }
}

#[tokio::test]
async fn a_correction_produces_exactly_one_revised_report_and_that_one_is_archived() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    let first = ready(t.engine.write_report(USER).await.unwrap());
    let correction = "The second step is wrong: we check the gas first.";
    let revised = ready(
        t.engine
            .correct_report(USER, correction, Some(77))
            .await
            .unwrap(),
    );
    assert_eq!(revised.version, 2);
    assert!(!revised.review, "one revision, no second round");
    assert_eq!(revised.path, first.path);
    let md = &revised.markdown;
    assert!(
        section(md, 3).contains(&format!("As the expert corrected: {correction}")),
        "{md}"
    );
    assert!(md.contains("*[the expert's correction]*"), "{md}");
    assert!(md.contains("Revised after the expert's correction"), "{md}");
    assert!(revised.screen.contains("revised report"));
    let revision = fake.writing().last().unwrap().1.body.clone();
    let prompt = revision["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(prompt.contains("## The report as it stands") && prompt.contains(correction));
    // Exactly one: the same correction again (a redelivery), or more text, asks nothing more.
    let requests = fake.count();
    assert!(matches!(
        t.engine
            .correct_report(USER, correction, Some(77))
            .await
            .unwrap(),
        ReportOutcome::Nothing
    ));
    assert!(matches!(
        t.engine
            .correct_report(USER, "And another thing.", Some(78))
            .await
            .unwrap(),
        ReportOutcome::Nothing
    ));
    assert!(!t.engine.confirm_report(USER).await.unwrap());
    assert_eq!(fake.count(), requests);
    // The revised version is the one kept in completed/.
    assert!(t.engine.retire_finished(USER).await.unwrap());
    let archived = std::fs::read_to_string(&revised.path).unwrap();
    assert_eq!(archived, *md);
    let completed: Vec<_> = std::fs::read_dir(t.dir.path().join("completed"))
        .unwrap()
        .collect();
    assert_eq!(completed.len(), 2, "the session and one report");
    let saved: Value =
        serde_json::from_slice(&std::fs::read(revised.path.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(saved["report"]["review"], "corrected");
    assert_eq!(saved["report"]["correction"]["text"], correction);
    // The first report stays beside the revision, for the operators to compare.
    let earlier = saved["report"]["earlier"]
        .as_array()
        .expect("the first version is kept");
    assert_eq!(earlier.len(), 1);
    assert_ne!(earlier[0], saved["report"]["document"]);
    assert!(!first.markdown.contains("As the expert corrected"));
}

#[tokio::test]
async fn a_russian_interview_gets_a_russian_report() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::Ru, None).await;
    let report = ready(t.engine.write_report(USER).await.unwrap());
    let md = &report.markdown;
    assert!(md.starts_with("# Отчёт о профессиональном опыте"), "{md}");
    for heading in [
        "## 1. Профиль эксперта",
        "## 3. Схема работы",
        "## 9. Запомнившиеся слова",
    ] {
        assert!(md.contains(heading), "{heading}:\n{md}");
    }
    assert!(md.contains("Эксперт рассказывает"), "{md}");
    assert!(md.contains("*[Профиль, "), "{md}");
    assert!(
        report
            .screen
            .starts_with("📄 Отчёт о вашем профессиональном опыте готов.")
    );
    // Every request said which language to write in.
    for (kind, request) in fake.writing() {
        let system = request.body["system"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(system.contains("language is Russian"), "{kind}: {system}");
    }
}

#[tokio::test]
async fn an_interview_whose_failure_modes_stage_is_empty_gets_a_report_that_says_so() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    // The expert finishes early during the expertise map: failure modes are never reached.
    interview(&t, Lang::En, Some(Stage::ExpertiseMap)).await;
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert!(
        !session
            .transcript
            .iter()
            .any(|e| e.stage == Stage::FailureModes)
    );
    let report = ready(t.engine.write_report(USER).await.unwrap());
    let failures = section(&report.markdown, 6);
    assert!(
        failures.contains("Too little material"),
        "{}",
        report.markdown
    );
    assert!(!failures.contains("*["), "{failures}");
    assert!(
        section(&report.markdown, 3).contains("*["),
        "the task diagram is there"
    );
    assert!(report.screen.contains("Too little material for:"));
    assert!(
        report
            .screen
            .contains("Failure modes and how to prevent them")
    );
    let prompt = fake
        .writing()
        .into_iter()
        .find(|(kind, _)| *kind == "report")
        .unwrap()
        .1
        .body["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        prompt.contains("## Stage 6 of 9: failure_modes\n(no answers in this stage"),
        "{prompt}"
    );
}

#[tokio::test]
async fn while_claude_is_down_the_report_waits_and_is_written_once_it_is_back_after_a_restart() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    fake.always_writing([Reply::overloaded()]);
    let pending = t.engine.write_report(USER).await.unwrap();
    let ReportOutcome::Pending { retry_in, revision } = pending else {
        panic!("{pending:?}");
    };
    assert_eq!((retry_in, revision), (Duration::from_secs(60), false));
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.ending(), Ending::ReportDue);
    assert_eq!(session.report.failures, 1);
    // Asked again before the wait is over, Claude is not called.
    let calls = fake.count();
    t.clock.advance(Duration::from_secs(30));
    assert!(matches!(
        t.engine.write_report(USER).await.unwrap(),
        ReportOutcome::Pending { retry_in, .. } if retry_in == Duration::from_secs(30)
    ));
    assert_eq!(fake.count(), calls);
    // The next failure doubles the wait.
    t.clock.advance(Duration::from_secs(30));
    assert!(matches!(
        t.engine.write_report(USER).await.unwrap(),
        ReportOutcome::Pending { retry_in, .. } if retry_in == Duration::from_secs(120)
    ));
    assert!(fake.count() > calls);
    // A restart later, with Claude back.
    let TestEngine { dir, clock, .. } = t;
    let t = spawn_engine_in(dir, Some(&fake), EngineOptions::default());
    let elapsed = (clock.now() - crate::support::epoch()).to_std().unwrap();
    t.clock.advance(elapsed + Duration::from_secs(3 * 60));
    fake.always_writing([]);
    let report = ready(t.engine.write_report(USER).await.unwrap());
    assert!(!report.offline);
    assert!(report.markdown.contains("## 3. The task diagram"));
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert_eq!(session.ending(), Ending::Review);
    assert_eq!(session.report.failures, 0);
}

#[tokio::test]
async fn a_new_interview_begun_while_the_report_waits_for_claude_archives_the_old_one_with_its_report()
 {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    fake.always_writing([Reply::overloaded()]);
    let pending = t.engine.write_report(USER).await.unwrap();
    assert!(
        matches!(pending, ReportOutcome::Pending { .. }),
        "{pending:?}"
    );
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    let reports: Vec<_> = std::fs::read_dir(t.dir.path().join("completed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    assert_eq!(reports.len(), 1, "the old interview's report is kept");
    let report = std::fs::read_to_string(&reports[0]).unwrap();
    assert!(
        report.contains("Answer 1"),
        "made from the transcript: {report}"
    );
}

#[tokio::test]
async fn after_a_day_without_claude_the_offline_report_is_sent_with_a_note() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    interview(&t, Lang::En, None).await;
    fake.always_writing([Reply::server_error()]);
    let mut attempts = 0;
    let report = loop {
        match t.engine.write_report(USER).await.unwrap() {
            ReportOutcome::Pending { retry_in, .. } => {
                attempts += 1;
                t.clock.advance(retry_in);
            }
            ReportOutcome::Ready(ready) => break ready,
            other => panic!("{other:?}"),
        }
        assert!(attempts < 60, "retried forever");
    };
    // A minute, doubling to an hour: about thirty attempts in a day.
    assert!((20..40).contains(&attempts), "{attempts} attempts");
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert!(
        t.clock.now() - session.finished_at.unwrap()
            >= chrono::Duration::from_std(REPORT_GIVE_UP).unwrap()
    );
    assert!(report.offline && report.review);
    assert!(
        report.markdown.contains("without the language model"),
        "{}",
        report.markdown
    );
    // The expert's answers under the report's sections, each with its reference.
    assert!(report.markdown.contains("## 2. The essence of the role"));
    let items: Vec<&str> = report
        .markdown
        .lines()
        .filter(|l| l.starts_with("- “Answer "))
        .collect();
    assert!(items.len() >= 5, "{}", report.markdown);
    assert!(items.iter().all(|l| l.contains("*[")), "{items:?}");
    assert!(report.screen.contains("was unavailable"));
    // A correction cannot be worked in without a structured report: it is attached.
    let revised = ready(
        t.engine
            .correct_report(USER, "We weld steel, not aluminium.", None)
            .await
            .unwrap(),
    );
    // Matching no passage, it stands under its own heading, cited as the expert's.
    let correction = revised.markdown.find("## The expert's correction").unwrap();
    assert!(
        revised.markdown[correction..]
            .contains("- “We weld steel, not aluminium.” *[the expert's correction]*"),
        "{}",
        revised.markdown
    );
    assert!(revised.screen.contains("attached to it as you wrote it"));
}

// ----- through the bot -----------------------------------------------------------------

/// Runs an interview through the bot to its end; returns the report's document text and the
/// one-screen message with its buttons.
async fn bot_interview(bot: &TestBot, user: &TestUser, lang: &str) -> (String, SentMessage) {
    bot.start_interview(user, lang, 0).await;
    let (notice, document) = answer_to_the_end(bot, user, |n| {
        format!("Answer {n}: I check the gas first, then the colour.")
    })
    .await;
    assert!(
        notice.plain().contains("end of the interview"),
        "{}",
        notice.plain()
    );
    let markdown = String::from_utf8(document.document.expect("a document").bytes).unwrap();
    let screen = bot.next(user).await;
    (markdown, screen)
}

/// Answers until the wrap-up's last reply, and returns the two messages that come after it.
async fn answer_to_the_end(
    bot: &TestBot,
    user: &TestUser,
    answer: impl Fn(usize) -> String,
) -> (SentMessage, SentMessage) {
    for n in 0..60 {
        let reply = bot.say(user, &answer(n)).await;
        if reply.plain().contains("100%") && reply.plain().contains("[wrap_up]") {
            return (bot.next(user).await, bot.next(user).await);
        }
    }
    panic!("the interview never ended");
}

#[tokio::test]
async fn through_the_bot_the_report_is_corrected_once_and_the_revised_one_is_archived() {
    let bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3101, "Ann", Some("en"));
    let (markdown, screen) = bot_interview(&bot, &ann, "en").await;
    assert!(markdown.contains("## 3. The task diagram"));
    assert_every_claim_is_referenced(&markdown);
    let session = bot.session(&ann).unwrap();
    assert_eq!(
        session["summaries"].as_object().unwrap().len(),
        9,
        "every stage summarised"
    );
    let id = session["id"].as_u64().unwrap();
    assert_eq!(
        screen.callback_datas(),
        vec![format!("ok:{id}"), format!("fix:{id}")]
    );
    // ✏️ Correct asks for the correction; the text that follows is it.
    bot.press(&ann, &screen, &format!("fix:{id}"));
    let ask = bot.next(&ann).await;
    assert!(
        ask.plain().contains("What should be corrected?"),
        "{}",
        ask.plain()
    );
    bot.telegram
        .send_text(&ann, "The second step is wrong: we check the gas first.");
    let revised = bot.next(&ann).await;
    assert!(revised.plain().contains("revised"), "{}", revised.plain());
    let revised_md =
        String::from_utf8(revised.document.expect("the revised report").bytes).unwrap();
    assert!(revised_md.contains("As the expert corrected: The second step is wrong"));
    let done = bot.next(&ann).await;
    assert!(
        done.plain().contains("This version is the one kept"),
        "{}",
        done.plain()
    );
    assert!(done.buttons.is_empty());
    // Exactly one revision: more text is not a second correction; the old buttons are stale.
    let after = bot.say(&ann, "One more thing!").await;
    assert!(after.plain().contains("/start"), "{}", after.plain());
    let press = bot.press(&ann, &screen, &format!("ok:{id}"));
    assert!(
        bot.callback_answer(&press).await.text.is_some(),
        "a stale button"
    );
    bot.settled().await;
    let reports: Vec<_> = bot
        .anthropic
        .writing()
        .into_iter()
        .filter(|(kind, _)| *kind == "report")
        .collect();
    assert_eq!(reports.len(), 2, "the report and its one revision");
    // The revised report is the one in completed/, beside the session.
    assert!(bot.session(&ann).is_none());
    let completed: Vec<_> = std::fs::read_dir(bot.dir.path().join("completed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(completed.len(), 2);
    let archived = completed
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    assert_eq!(std::fs::read_to_string(archived).unwrap(), revised_md);
    // /export after the end includes the report.
    bot.telegram.send_text(&ann, "/export");
    let transcript = bot.next(&ann).await;
    let report = bot.next(&ann).await;
    let json = bot.next(&ann).await;
    assert_eq!(
        transcript.document.unwrap().file_name,
        "interview-transcript.md"
    );
    assert_eq!(
        String::from_utf8(report.document.unwrap().bytes).unwrap(),
        revised_md
    );
    assert_eq!(
        json.document.unwrap().file_name,
        "interview-transcript.json"
    );
}

#[tokio::test]
async fn the_reply_opening_a_stage_is_not_held_up_by_the_summary_of_the_last_one() {
    let bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3102, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies_to("Summarise one stage");
    // The fake moves on every second turn: the reply to this answer opens the profile stage.
    let reply = bot.say(&ann, "Call me Ann. I weld pipelines.").await;
    assert!(reply.plain().starts_with("Stage 2/9"), "{}", reply.plain());
    crate::support::eventually(bot.awaiting("the summary is asked for"), async || {
        bot.anthropic.writing().len() == 1
    })
    .await;
    assert!(
        bot.session(&ann).unwrap().get("summaries").is_none(),
        "still being written"
    );
    // An answer sent meanwhile waits for it (showing that something is under way), then is
    // answered.
    let actions = bot.telegram.chat_actions(ann.chat_id()).len();
    bot.telegram.send_text(&ann, "Twelve years now.");
    crate::support::eventually(bot.awaiting("the typing indicator shows"), async || {
        bot.telegram.chat_actions(ann.chat_id()).len() > actions
    })
    .await;
    assert_eq!(bot.count(&ann), 3, "no reply before the summary is written");
    bot.anthropic.release_replies();
    let next = bot.next(&ann).await;
    assert!(
        next.plain().contains("Could you tell me more"),
        "{}",
        next.plain()
    );
    let session = bot.session(&ann).unwrap();
    assert!(session["summaries"]["greeting"]["elements"].is_array());
}

#[tokio::test]
async fn a_report_pending_while_claude_was_down_is_delivered_after_a_restart() {
    let mut bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3103, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    // Claude writes no summary and no report from here on; the interview goes on.
    bot.anthropic.always_writing([Reply::overloaded()]);
    let (notice, told) = answer_to_the_end(&bot, &ann, |n| format!("Answer {n}.")).await;
    assert!(notice.plain().contains("end of the interview"));
    assert!(
        told.plain().contains("report will follow"),
        "{}",
        told.plain()
    );
    let session = bot.session(&ann).unwrap();
    assert_eq!(session["report"]["failures"], 1);
    assert!(session.get("summaries").is_none());
    // The update behind the ending stays unhandled while the report waits.
    crate::support::eventually(
        bot.awaiting("the bot is quiet but for the report"),
        async || bot.telegram.pending_updates() == 0,
    )
    .await;
    assert!(!bot.unhandled().is_empty());
    // While it waits, text and /start are told the report is coming.
    assert!(
        bot.say(&ann, "Hello?")
            .await
            .plain()
            .contains("still being written")
    );
    assert!(
        bot.say(&ann, "/start")
            .await
            .plain()
            .contains("still being written")
    );

    // Claude is back, and by the time the bot restarts the wait is over: the update saved
    // before the stop comes back, the chat's worker starts, and the report follows.
    bot.anthropic.always_writing([]);
    bot.clock.advance(Duration::from_secs(5 * 60));
    bot.restart().await;
    let document = bot.next(&ann).await;
    let markdown = String::from_utf8(document.document.expect("the report").bytes).unwrap();
    assert!(markdown.contains("## 3. The task diagram"), "{markdown}");
    assert!(!markdown.contains("without the language model"));
    let screen = bot.next(&ann).await;
    assert!(screen.plain().contains("report is ready"));
    let id = bot.session(&ann).unwrap()["id"].as_u64().unwrap();
    bot.press(&ann, &screen, &format!("ok:{id}"));
    assert!(bot.next(&ann).await.plain().contains("confirmed"));
    bot.settled().await;
    assert!(bot.session(&ann).is_none(), "archived");
}

#[tokio::test]
async fn a_wake_before_the_wait_is_over_asks_claude_nothing() {
    let mut bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3104, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.always_writing([Reply::overloaded()]);
    let (_, told) = answer_to_the_end(&bot, &ann, |_| "An answer.".into()).await;
    assert!(told.plain().contains("will follow"));
    bot.anthropic.always_writing([]);
    let calls = bot.anthropic.count();
    // Woken early (a restart, which hands back the update the report is owed to): the
    // engine's clock says not yet.
    bot.clock.advance(Duration::from_secs(20));
    bot.restart().await;
    bot.telegram.send_text(&ann, "Is it ready?");
    let notice = bot.next(&ann).await;
    assert!(
        notice.plain().contains("still being written"),
        "{}",
        notice.plain()
    );
    assert_eq!(bot.anthropic.count(), calls, "Claude was not asked again");
    // Once the wait is over, the next wake writes it.
    bot.clock.advance(Duration::from_secs(60));
    bot.restart().await;
    let document = bot.next(&ann).await;
    assert!(document.document.is_some(), "{}", document.plain());
    assert!(bot.next(&ann).await.plain().contains("report is ready"));
}

#[tokio::test]
async fn after_a_day_without_claude_the_bot_sends_the_offline_report_with_a_note() {
    let mut bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3105, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.always_writing([Reply::overloaded()]);
    let (_, told) = answer_to_the_end(&bot, &ann, |_| "An answer about welding.".into()).await;
    assert!(told.plain().contains("will follow"));
    bot.clock.advance(REPORT_GIVE_UP + Duration::from_secs(60));
    bot.restart().await;
    let document = bot.next(&ann).await;
    let markdown = String::from_utf8(document.document.expect("the report").bytes).unwrap();
    assert!(
        markdown.contains("without the language model"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- “An answer about welding.” *["),
        "{markdown}"
    );
    let screen = bot.next(&ann).await;
    assert!(
        screen.plain().contains("was unavailable"),
        "{}",
        screen.plain()
    );
    assert_eq!(screen.callback_datas().len(), 2, "it can be checked too");
}

#[tokio::test]
async fn export_after_the_end_includes_the_report() {
    let bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3106, "Ann", Some("en"));
    let (markdown, _) = bot_interview(&bot, &ann, "en").await;
    // The report is out, not yet checked.
    bot.telegram.send_text(&ann, "/export");
    let transcript = bot.next(&ann).await;
    let report = bot.next(&ann).await;
    bot.next(&ann).await;
    let transcript = String::from_utf8(transcript.document.unwrap().bytes).unwrap();
    assert!(transcript.contains("Answer 0: I check the gas first"));
    assert_eq!(
        String::from_utf8(report.document.unwrap().bytes).unwrap(),
        markdown
    );
}

// ----- in the console ------------------------------------------------------------------

fn console(sessions: &std::path::Path, fake: &FakeAnthropic) -> Command {
    let mut cmd = binary(sessions);
    cmd.arg("console")
        .stdin(Stdio::piped())
        .env("ANTHROPIC_API_KEY", API_KEY)
        .env("ANTHROPIC_BASE_URL", &fake.url);
    cmd
}

async fn run_console(cmd: Command, input: String) -> String {
    let mut cmd = cmd;
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_console_prints_the_report_and_takes_one_correction() {
    let fake = FakeAnthropic::start().await;
    fake.set_step(100);
    let dir = tempfile::tempdir().unwrap();
    let mut input = String::new();
    for n in 0..20 {
        input.push_str(&format!("Answer {n}: I check the gas first.\n"));
    }
    // The interview ends after a few answers: the next line is the review's.
    let stdout = run_console(console(dir.path(), &fake), input).await;
    assert!(stdout.contains("## 3. The task diagram"), "{stdout}");
    assert!(
        stdout.contains("Type y (д) to confirm the report"),
        "{stdout}"
    );
    assert!(stdout.contains("revised report"), "{stdout}");
    assert!(stdout.contains("The report is saved in"), "{stdout}");
    let summaries = fake
        .writing()
        .iter()
        .filter(|(k, _)| *k == "summary")
        .count();
    assert!(
        summaries >= 7,
        "stage summaries in the console too: {summaries}"
    );
    let reports: Vec<Value> = fake
        .received()
        .iter()
        .filter(|r| writing_kind(&r.body) == Some("report"))
        .map(|r| r.body.clone())
        .collect();
    assert_eq!(reports.len(), 2, "the report and one revision");
    let completed: Vec<_> = std::fs::read_dir(dir.path().join("completed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(completed.len(), 2, "{completed:?}");
    let md = completed
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("As the expert corrected: Answer"), "{md}");
    assert!(!dir.path().join("0.json").exists(), "archived");
}

#[tokio::test]
async fn the_console_confirms_a_report_and_picks_up_one_left_unchecked() {
    let fake = FakeAnthropic::start().await;
    fake.set_step(100);
    let dir = tempfile::tempdir().unwrap();
    let mut input = String::new();
    for n in 0..8 {
        input.push_str(&format!("Answer {n}: I check the gas first.\n"));
    }
    // The input ends at the review: the report waits for the next start.
    let first = run_console(console(dir.path(), &fake), input).await;
    assert!(
        first.contains("Type y (д) to confirm the report"),
        "{first}"
    );
    assert!(dir.path().join("0.json").exists(), "kept for the check");
    let requests = fake.count();
    let second = run_console(console(dir.path(), &fake), "y\n".into()).await;
    assert!(
        second.contains("## 3. The task diagram"),
        "printed again: {second}"
    );
    assert!(second.contains("confirmed"), "{second}");
    assert_eq!(fake.count(), requests, "nothing written again");
    assert!(!dir.path().join("0.json").exists(), "archived");
}

#[tokio::test]
async fn a_stage_whose_summary_stays_unusable_is_left_out_and_the_report_still_comes() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    t.engine
        .begin(USER, Lang::En, Style::default())
        .await
        .unwrap();
    // Answered without the front end's summaries: all of them are written with the report.
    for n in 1.. {
        t.clock.advance(Duration::from_secs(60));
        match t
            .engine
            .answer(USER, &answer_text(Lang::En, n), std::future::pending())
            .await
            .unwrap()
        {
            Outcome::Finished(_) => break,
            Outcome::Reply(_) => {}
            other => panic!("{other:?}"),
        }
        assert!(n < 100, "the interview never ended");
    }
    // The greeting's summary is unusable twice (the reply and its repair).
    fake.script_writing([Reply::NotJson, Reply::NotJson]);
    let report = ready(t.engine.write_report(USER).await.unwrap());
    assert!(!report.offline);
    let session = t.engine.session(USER).await.unwrap().unwrap();
    assert!(!session.summaries.contains_key(&Stage::Greeting));
    assert_eq!(session.summaries.len(), Stage::COUNT - 1);
    let prompt = fake.writing().last().unwrap().1.body["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        prompt.contains("## Stage 1 of 9: greeting\n(not summarised"),
        "{prompt}"
    );
}

#[tokio::test]
async fn an_interview_ended_by_an_earlier_version_gets_its_report_and_is_archived() {
    let mut bot = spawn_bot(BotOptions::default()).await;
    let ann = bot.telegram.user(3107, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "I weld.").await;
    bot.settled().await;
    // As an earlier version left it, found by this version's first start: ended, its report
    // written beside, the ending not sent.
    bot.stop().await;
    let path = bot.dir.path().join("3107.json");
    let mut session: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let report = bot
        .dir
        .path()
        .join("completed/3107-20270115T080500.000Z.md");
    std::fs::write(&report, "# Knowledge report\n\nAn older report.\n").unwrap();
    session["finished_at"] = Value::String("2027-01-15T08:05:00Z".into());
    session["report_path"] = Value::String(report.display().to_string());
    std::fs::write(&path, serde_json::to_vec(&session).unwrap()).unwrap();
    bot.skip_all(&ann);
    let written = bot.anthropic.writing().len();
    // The version that reads it starts over the file (a running worker keeps the session it
    // loaded, and is the only writer of it).
    bot.start().await;
    // The chat's next message wakes its worker, which finds the ended interview first.
    bot.telegram.send_text(&ann, "Hello?");
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .contains("end of the interview")
    );
    let document = bot.next(&ann).await;
    assert_eq!(
        String::from_utf8(document.document.unwrap().bytes).unwrap(),
        "# Knowledge report\n\nAn older report.\n"
    );
    crate::support::eventually(bot.awaiting("archived"), async || {
        bot.session(&ann).is_none()
    })
    .await;
    assert_eq!(
        bot.anthropic.writing().len(),
        written,
        "nothing written again"
    );
}
