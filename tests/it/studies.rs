//! Studies: invite links route experts to their study and its plan beside plain interviews; a
//! closed or forged code gets a polite word and a normal start; the synthesis over a study's
//! settled reports counts k of n and keeps only references that resolve, or says it was not
//! analysed; and questions added from a synthesis are asked in their stage by a later
//! interview.

use std::sync::Arc;

use ai_interviewer::{
    interview::{Engine, Outcome, Role, Session, Stage, Style, UserId},
    model::{
        Consent, Lang, NewStudy, Study,
        report::{Claim, Report, Review, Row, Step},
    },
    store::{Folder, InterviewStore, StudyRecords, StudyStore},
};
use interviewer_fakes::anthropic::writing_kind;
use serde_json::json;

use crate::support::{
    EngineOptions, Reply,
    anthropic::FakeAnthropic,
    bot::{BotOptions, spawn_bot},
    epoch, spawn_engine,
};

fn draft(title: &str, subject: &str, language: Lang, style: Style) -> NewStudy {
    NewStudy {
        title: title.into(),
        subject: subject.into(),
        language,
        style,
        consent: None,
        experts_sought: 3,
    }
}

/// The system prompts of the interview turns the fake Anthropic received so far.
fn turn_systems(fake: &FakeAnthropic) -> Vec<String> {
    fake.received()
        .into_iter()
        .filter(|r| writing_kind(&r.body).is_none() && r.body.get("system").is_some())
        .map(|r| r.body["system"].to_string())
        .collect()
}

#[tokio::test]
async fn invite_links_take_each_expert_to_their_study_and_plan_beside_a_plain_interview() {
    let bot = spawn_bot(BotOptions::default()).await;
    let studies = StudyStore::new(bot.dir.path());
    let furnace = studies
        .create(
            draft(
                "Night shift",
                "How the night shift keeps the furnace stable",
                Lang::En,
                Style::StageSpecific,
            ),
            epoch(),
        )
        .await
        .unwrap();
    let welding = studies
        .create(
            draft(
                "Сварка труб",
                "Как сварщики находят дефект шва до контроля",
                Lang::Ru,
                Style::ConversationManagement,
            ),
            epoch(),
        )
        .await
        .unwrap();

    // Ann's client is Russian, but the study is held in English: its language wins.
    let ann = bot.telegram.user(801, "Ann", Some("ru"));
    let briefing = bot
        .say(&ann, &format!("/start {}", furnace.invite.as_str()))
        .await;
    let shown = briefing.plain();
    assert!(
        shown.contains("invited to the study “Night shift”"),
        "{shown}"
    );
    assert!(shown.contains("other experts never see them"), "{shown}");
    assert!(
        briefing.buttons.iter().flatten().all(|b| !b
            .callback_data
            .as_deref()
            .unwrap_or("")
            .starts_with("lang:")),
        "the study fixed the language: {shown}"
    );
    let briefing = bot.offers(&ann, &briefing, "begin").await;
    bot.press(&ann, &briefing, "begin");
    bot.next(&ann).await;
    let session = bot.session(&ann).expect("Ann's interview is saved");
    assert_eq!(session["study"], json!(furnace.id.as_str()), "{session}");
    assert_eq!(session["language"], "en");
    assert_eq!(session["style"], "stage_specific");
    assert_eq!(
        session["consent"]["version"].as_str().map(str::len),
        Some(16)
    );
    let systems = turn_systems(&bot.anthropic);
    let last = systems.last().expect("Ann's opening turn asked Claude");
    assert!(
        last.contains("How the night shift keeps the furnace stable"),
        "{last}"
    );
    assert!(!last.contains("дефект шва"), "{last}");

    let boris = bot.telegram.user(802, "Борис", Some("en"));
    let briefing = bot
        .say(&boris, &format!("/start {}", welding.invite.as_str()))
        .await;
    assert!(
        briefing.plain().contains("«Сварка труб»"),
        "{}",
        briefing.plain()
    );
    let briefing = bot.offers(&boris, &briefing, "begin").await;
    bot.press(&boris, &briefing, "begin");
    bot.next(&boris).await;
    let session = bot.session(&boris).unwrap();
    assert_eq!(session["study"], json!(welding.id.as_str()));
    assert_eq!(session["language"], "ru");
    let systems = turn_systems(&bot.anthropic);
    let last = systems.last().unwrap();
    assert!(last.contains("Как сварщики находят дефект шва"), "{last}");
    assert!(!last.contains("furnace"), "{last}");

    // A plain /start keeps today's flow and joins no study.
    let carol = bot.telegram.user(803, "Carol", Some("en"));
    bot.start_interview(&carol, "en", 0).await;
    let session = bot.session(&carol).unwrap();
    assert!(session.get("study").is_none(), "{session}");
    let systems = turn_systems(&bot.anthropic);
    let last = systems.last().unwrap();
    assert!(
        !last.contains("The study this interview belongs to"),
        "{last}"
    );
}

#[tokio::test]
async fn a_forged_or_closed_invite_gets_a_polite_word_and_the_normal_start() {
    let bot = spawn_bot(BotOptions::default()).await;
    let studies = StudyStore::new(bot.dir.path());
    let study = studies
        .create(
            draft(
                "Closed",
                "A closed study",
                Lang::En,
                Style::MasterInterviewer,
            ),
            epoch(),
        )
        .await
        .unwrap();
    studies.close(&study.id, epoch()).await.unwrap();
    for (id, code) in [(811, "forged-code_123"), (812, study.invite.as_str())] {
        let user = bot.telegram.user(id, "Dana", Some("en"));
        let welcome = bot.say(&user, &format!("/start {code}")).await;
        let shown = welcome.plain();
        assert!(
            shown.starts_with("This invite link is closed or not valid"),
            "{shown}"
        );
        assert!(shown.contains("Hello, Dana!"), "{shown}");
        bot.press(&user, &welcome, "lang:en");
        let styles = bot.offers(&user, &welcome, "style:0").await;
        bot.press(&user, &styles, "style:0");
        let briefing = bot.offers(&user, &welcome, "begin").await;
        assert!(!briefing.plain().contains("Closed"), "{}", briefing.plain());
        bot.press(&user, &briefing, "begin");
        bot.next(&user).await;
        let session = bot.session(&user).unwrap();
        assert!(session.get("study").is_none(), "{session}");
    }
}

/// The consent an expert gave at `at` (to a notice whose version does not matter here).
fn consent(at: chrono::DateTime<chrono::Utc>) -> Consent {
    Consent {
        version: "0123456789abcdef".into(),
        at,
    }
}

/// A settled interview of `study` by `user`, filed in `completed/` of `store`, whose report
/// holds these task steps and incident cues.
async fn file_report(
    store: &dyn InterviewStore,
    study: &Study,
    user: u64,
    steps: &[&str],
    cues: &[&str],
) {
    let start = epoch() + chrono::Duration::minutes(user as i64);
    let mut s = Session::new(
        user as u32,
        UserId(user),
        study.language,
        study.style,
        start,
    );
    s.join(study);
    s.consent = Some(consent(start));
    s.finished_at = Some(start + chrono::Duration::hours(2));
    s.report.version = 1;
    s.report.review = Review::Confirmed;
    s.report.document = Some(Report {
        summary: "summary".into(),
        profile: vec![Claim {
            text: format!("Furnace operator number {user}"),
            sources: vec!["E1".into()],
        }],
        task_diagram: steps
            .iter()
            .map(|step| Step {
                step: (*step).into(),
                hard: false,
                sources: vec!["E2".into()],
            })
            .collect(),
        incidents: cues
            .iter()
            .map(|cue| Row {
                situation: "the melt cools".into(),
                cues: (*cue).into(),
                strategy: "raise the power".into(),
                typical_error: "waiting".into(),
                sources: vec!["D1".into()],
            })
            .collect(),
        ..Report::default()
    });
    store.retire(&s, Folder::Completed, &[]).await.unwrap();
}

async fn three_reports(engine: &Engine) -> Study {
    three_reports_in(engine.studies(), engine.store()).await
}

/// The study "Night shift" in `studies`, with three settled reports filed in `store`: two
/// experts check the gauges, each names a cue, and the third walks the floor.
pub(crate) async fn three_reports_in(
    studies: &dyn StudyRecords,
    store: &dyn InterviewStore,
) -> Study {
    let study = studies
        .create(
            draft(
                "Night shift",
                "How the night shift keeps the furnace stable",
                Lang::En,
                Style::MasterInterviewer,
            ),
            epoch(),
        )
        .await
        .unwrap();
    file_report(
        store,
        &study,
        1,
        &["Check the gauges", "Log the readings"],
        &["a hum"],
    )
    .await;
    file_report(store, &study, 2, &["Check the gauges"], &["a hum", "smoke"]).await;
    file_report(store, &study, 3, &["Walk the floor"], &["a dull colour"]).await;
    study
}

#[tokio::test]
async fn a_synthesis_of_three_reports_counts_k_of_n_and_every_reference_resolves() {
    let fake = FakeAnthropic::start().await;
    let t = spawn_engine(Some(&fake), EngineOptions::default());
    let engine = t.engine.engine();
    let study = three_reports(engine).await;
    fake.script_writing([Reply::Json(json!({
        "summary": "They agree on the gauges and differ on what comes first.",
        "task_diagram": [
            {"text": "Check the gauges", "sources": ["X1.T1", "X2.T1"]},
            {"text": "Step resting on a missing item", "sources": ["X2.T7"]}
        ],
        "cues": [{"text": "A hum warns of a cooling melt", "sources": ["X1.I1", "X2.I1"]}],
        "strategies": [{"text": "Raise the power", "sources": ["X1.I1", "X2.I1", "X3.I1"]}],
        "typical_errors": [],
        "disagreements": [{"topic": "What comes first", "sides": [
            {"position": "The gauges", "sources": ["X1.T1"]},
            {"position": "A walk on the floor", "sources": ["X3.T1"]}
        ]}],
        "failure_modes": [],
        "unique": [{"text": "Smoke as an early sign", "sources": ["X2.I2"]}],
        "gaps": [{"text": "Nobody says who is called at night", "sources": ["X3.I1"]}],
        "questions": [{"stage": "operations", "question": "Who do you call when the melt cools at night?", "sources": ["X3.I1"]}]
    }))]);
    let synthesis = engine.synthesize(&study.id).await.unwrap();
    assert!(synthesis.analysed);
    assert_eq!(synthesis.experts.len(), 3);
    assert_eq!(
        synthesis.dropped, 1,
        "the step citing X2.T7, which no report has"
    );
    assert_eq!(synthesis.task_diagram.len(), 1);
    assert_eq!(synthesis.task_diagram[0].experts, 2);
    assert_eq!(synthesis.strategies[0].experts, 3);
    let cited = synthesis
        .task_diagram
        .iter()
        .chain(&synthesis.cues)
        .chain(&synthesis.strategies)
        .chain(&synthesis.unique)
        .chain(&synthesis.gaps)
        .flat_map(|f| f.sources.clone());
    for id in cited {
        let item = &synthesis.references[&id];
        assert!(id.starts_with(&item.expert), "{id} resolves to {item:?}");
    }
    assert_eq!(synthesis.references["X3.T1"].text, "Walk the floor");
    // The request carried the study's subject and every item by id; the system prompt is the
    // synthesis writer's.
    let (kind, request) = fake.writing().pop().unwrap();
    assert_eq!(kind, "synthesis");
    let prompt = request.body["messages"].to_string();
    assert!(
        prompt.contains("How the night shift keeps the furnace stable"),
        "{prompt}"
    );
    assert!(prompt.contains("X2.I2 [incidents]"), "{prompt}");
    assert!(
        request.body["system"]
            .to_string()
            .contains("Study synthesis writer")
    );
    assert!(synthesis.usage.output_tokens > 0, "the tokens are recorded");
    assert!(
        synthesis.cost_usd.is_some_and(|c| c > 0.0),
        "{:?}",
        synthesis.cost_usd
    );
    let doc = engine
        .studies()
        .synthesis_markdown(&study.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        doc.contains("Check the gauges — **2 of 3** (X1.T1, X2.T1)"),
        "{doc}"
    );
    assert!(doc.contains("> Walk the floor"), "{doc}");
    assert!(!doc.contains("missing item"), "{doc}");
    let kept = engine.synthesis(&study.id).await.unwrap().unwrap();
    assert_eq!(kept, synthesis);
    let overview = engine.study_overview(&study.id).await.unwrap();
    assert_eq!(
        (
            overview.joined,
            overview.in_progress,
            overview.completed,
            overview.settled
        ),
        (3, 0, 3, 3)
    );
    assert_eq!(
        overview.tokens, synthesis.usage,
        "the filed interviews spent nothing"
    );
    assert_eq!(overview.cost_usd, synthesis.cost_usd);
}

#[tokio::test]
async fn without_claude_the_synthesis_is_merged_by_section_and_says_it_was_not_analysed() {
    let t = spawn_engine(None, EngineOptions::default());
    let engine = t.engine.engine();
    let study = three_reports(engine).await;
    let synthesis = engine.synthesize(&study.id).await.unwrap();
    assert!(!synthesis.analysed);
    assert_eq!(synthesis.experts.len(), 3);
    let doc = engine
        .studies()
        .synthesis_markdown(&study.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        doc.contains("Not analysed: Claude was not available"),
        "{doc}"
    );
    assert!(
        doc.contains("- situation: the melt cools | cues: smoke | strategy: raise the power | typical error: waiting (X2.I2)"),
        "{doc}"
    );
}

/// Answers offline until the interview leaves `stage` (or ends); returns the interviewer's
/// questions asked in `stage`.
async fn questions_in(
    engine: &Arc<Engine>,
    t: &crate::support::TestEngine,
    user: UserId,
    stage: Stage,
) -> Vec<String> {
    for turn in 0..120 {
        let outcome = t
            .engine
            .answer(
                user,
                &format!("Answer {turn}: on the night shift I walk the floor, read every gauge and write down what I saw, because a cold melt costs the whole batch."),
                std::future::pending(),
            )
            .await
            .unwrap();
        let session = t.engine.session(user).await.unwrap();
        let done = matches!(outcome, Outcome::Finished(_))
            || session.as_ref().is_none_or(|s| s.stage > stage);
        if done {
            break;
        }
    }
    let session = match t.engine.session(user).await.unwrap() {
        Some(s) => s,
        None => engine
            .store()
            .latest(Folder::Completed, user)
            .await
            .unwrap()
            .unwrap(),
    };
    session
        .transcript
        .iter()
        .filter(|e| e.role == Role::Interviewer && e.stage == stage)
        .map(|e| e.text.clone())
        .collect()
}

#[tokio::test]
async fn questions_added_from_a_synthesis_are_asked_in_their_stage_by_a_later_interview() {
    let fake = FakeAnthropic::start().await;
    let online = spawn_engine(Some(&fake), EngineOptions::default());
    let study = three_reports(online.engine.engine()).await;
    fake.script_writing([Reply::Json(json!({
        "summary": "s", "task_diagram": [], "cues": [], "strategies": [], "typical_errors": [],
        "disagreements": [], "failure_modes": [], "unique": [], "gaps": [],
        "questions": [
            {"stage": "operations", "question": "Who do you call when the melt cools at night?", "sources": ["X3.I1"]},
            {"stage": "mastery", "question": "An unfounded question?", "sources": ["X9.Q9"]}
        ]
    }))]);
    online.engine.engine().synthesize(&study.id).await.unwrap();
    let added = online
        .engine
        .engine()
        .add_synthesis_questions(&study.id)
        .await
        .unwrap();
    assert_eq!(added, 1, "only the question resting on a report item");

    // A later interview of the study, offline, over the same sessions directory.
    let offline = crate::support::spawn_engine_in(online.dir, None, EngineOptions::default());
    let engine = offline.engine.engine().clone();
    let study = engine.studies().get(&study.id).await.unwrap().unwrap();
    let user = UserId(901);
    let mut owner = offline.engine.owner(user).await;
    let session = engine.open_in_study(user, &study);
    let job = engine.opening_turn(&session);
    owner.install(session);
    owner
        .turn(&engine, job, std::future::pending())
        .await
        .unwrap();
    let asked = questions_in(&engine, &offline, user, Stage::Operations).await;
    assert!(
        asked
            .iter()
            .any(|q| q == "Who do you call when the melt cools at night?"),
        "{asked:#?}"
    );
    let before = questions_in(&engine, &offline, user, Stage::Profiling).await;
    assert!(
        !before.iter().any(|q| q.contains("melt cools")),
        "{before:#?}"
    );
}

#[tokio::test]
async fn confirming_a_report_of_a_study_writes_its_synthesis_again() {
    let t = spawn_engine(None, EngineOptions::default());
    let engine = t.engine.engine();
    let study = three_reports(engine).await;
    // A fourth expert's report waits for their check in their interview in progress.
    let start = epoch() + chrono::Duration::hours(5);
    let mut s = Session::new(4, UserId(4), Lang::En, Style::MasterInterviewer, start);
    s.join(&study);
    s.consent = Some(consent(start));
    s.finished_at = Some(start + chrono::Duration::hours(2));
    s.report.version = 1;
    s.report.document = Some(Report {
        task_diagram: vec![Step {
            step: "Call the day shift".into(),
            hard: true,
            sources: vec!["E1".into()],
        }],
        ..Report::default()
    });
    engine.store().save(&s).await.unwrap();
    assert!(t.engine.confirm_report(UserId(4)).await.unwrap());
    let doc =
        crate::support::eventually("the synthesis written after the confirmation", async || {
            engine
                .studies()
                .synthesis_markdown(&study.id)
                .await
                .unwrap()
                .filter(|d| d.contains("Call the day shift (hard) (X4.T1)"))
        })
        .await;
    assert!(doc.contains("Not analysed"), "{doc}");
}

#[test]
fn the_command_line_creates_lists_and_closes_a_study_and_prints_its_invite_link() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = crate::support::binary(dir.path())
            .env("TELEGRAM_BOT_USERNAME", "@ivbot")
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let created = run(&[
        "study",
        "create",
        "--title",
        "Night shift",
        "--subject",
        "How the night shift keeps the furnace stable",
        "--experts",
        "5",
        "--bot-username",
        "furnace_bot",
    ]);
    let mut lines = created.lines();
    let id = lines.next().unwrap().split('\t').next().unwrap().to_owned();
    let link = lines.next().unwrap();
    let code = link
        .strip_prefix("https://t.me/furnace_bot?start=")
        .unwrap_or_else(|| panic!("{created}"));
    assert_eq!(code.len(), 22, "{link}");
    let listed = run(&["study", "list"]);
    assert!(
        listed.contains(&format!(
            "{id}\topen\ten\tNight shift\thttps://t.me/ivbot?start={code}"
        )),
        "{listed}"
    );
    assert!(run(&["study", "close", &id]).contains("closed"));
    assert!(run(&["study", "list"]).contains(&format!("{id}\tclosed")));
    let synthesized = run(&["study", "synthesize", &id]);
    assert!(
        synthesized.contains("0 experts\tnot analysed"),
        "{synthesized}"
    );
}
