//! Studies on the operator's desk, over HTTP in the running bot: a study created through the
//! form, its invite link, an expert who joins it through Telegram, its synthesis written and
//! downloaded, its questions added to the plan, and its link closed.

use ai_interviewer::{
    model::{Clock, Lang, Session, Stage, StudyId, Style, UserId},
    store::{SessionStore, StudyStore},
};
use interviewer_fakes::telegram::BOT_USERNAME;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    studies::three_reports_in,
    support::{
        Reply,
        bot::{BotOptions, TestBot, spawn_bot},
        desk::{Browser, csrf_of},
        eventually,
    },
};

const ADMIN: u64 = 900;

fn desk_options() -> BotOptions {
    BotOptions {
        vars: vec![
            ("ADMIN_USER_IDS", ADMIN.to_string()),
            ("DESK_ADDR", "127.0.0.1:0".to_owned()),
        ],
        ..BotOptions::default()
    }
}

/// The study a `/studies/<id>` redirect names.
fn study_of(answer: &reqwest::Response) -> StudyId {
    let location = answer.headers()["location"].to_str().unwrap();
    let id = location
        .strip_prefix("/studies/")
        .unwrap_or_else(|| panic!("{location}"));
    StudyId::parse(id).unwrap_or_else(|| panic!("{location}"))
}

/// The part of `page` from the element with `id` to the end of its section.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(r#"<section id="{id}">"#))
        .unwrap_or_else(|| panic!("no section {id} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[tokio::test]
async fn a_study_created_on_the_desk_invites_an_expert_by_its_link_until_the_link_is_closed() {
    let bot = spawn_bot(desk_options()).await;
    let browser = Browser::signed_in(&bot).await;
    let (status, page) = browser.page("/studies").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"<a href="/studies">Studies</a>"#), "{page}");
    assert!(page.contains(r#"<form id="create" method="post" action="/studies">"#));
    let csrf = csrf_of(&page);
    let fields = [
        ("title", "Night shift"),
        ("subject", "How the night shift keeps the furnace stable"),
        ("lang", "en"),
        ("style", "stage_specific"),
        ("consent", ""),
        ("experts", "5"),
    ];
    let studies = StudyStore::new(bot.dir.path());

    let forged = browser.post("/studies", &fields).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(studies.list().await.unwrap().is_empty(), "nothing created");
    let mut too_long = fields.to_vec();
    let title = "t".repeat(121);
    too_long[0] = ("title", &title);
    too_long.push(("csrf", &csrf));
    let refused = browser.post("/studies", &too_long).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = refused.text().await.unwrap();
    assert!(form.contains("at most 120 characters"), "{form}");
    assert!(
        form.contains("How the night shift keeps the furnace stable</textarea>"),
        "what was typed stays in the form: {form}"
    );
    assert!(studies.list().await.unwrap().is_empty(), "nothing created");

    let mut good = fields.to_vec();
    good.push(("csrf", &csrf));
    let created = browser.post("/studies", &good).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let id = study_of(&created);
    let study = studies.get(&id).await.unwrap().expect("the study is kept");
    assert_eq!(
        (study.language, study.style, study.experts_sought),
        (Lang::En, Style::StageSpecific, 5)
    );
    assert_eq!(
        study.consent, None,
        "an empty consent text keeps the notice"
    );
    let link = format!(
        "https://t.me/{BOT_USERNAME}?start={}",
        study.invite.as_str()
    );
    let href = format!("/studies/{id}");
    let (status, page) = browser.page(&href).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!(r#"<code id="invite-link">{link}</code>"#)),
        "{page}"
    );
    assert!(page.contains("Night shift"), "{page}");
    let (_, list) = browser.page("/studies").await;
    assert!(
        list.contains(&format!(r#"<tr data-study="{id}" data-open="true">"#)),
        "{list}"
    );
    assert!(list.contains(&link), "{list}");

    // An expert opens the link in Telegram, accepts, and appears under the study.
    let ann = bot.telegram.user(801, "Ann", Some("en"));
    let briefing = bot
        .say(&ann, &format!("/start {}", study.invite.as_str()))
        .await;
    assert!(
        briefing.plain().contains("“Night shift”"),
        "{}",
        briefing.plain()
    );
    let briefing = bot.offers(&ann, &briefing, "begin").await;
    bot.press(&ann, &briefing, "begin");
    bot.next(&ann).await;
    let session = bot.session(&ann).expect("Ann's interview is saved");
    let row = format!(r#"data-user="801" data-session="{}""#, session["id"]);
    let page = eventually("the study's page to list Ann", async || {
        let (_, page) = browser.page(&href).await;
        page.contains(&row).then_some(page)
    })
    .await;
    let interviews = section(&page, "study-interviews");
    assert!(interviews.contains("Ann</a>"), "{interviews}");
    let figures = section(&page, "study-figures");
    assert!(
        figures.contains("<dt>Experts who joined</dt><dd>1</dd>"),
        "{figures}"
    );
    assert!(
        figures.contains("<dt>In progress</dt><dd>1</dd>"),
        "{figures}"
    );

    // Closing the link wants the form's token too; then the link says so and a later start
    // gets the polite word.
    let close = format!("{href}/close");
    assert_eq!(
        browser.post(&close, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(studies.get(&id).await.unwrap().unwrap().is_open());
    let closed = browser
        .post(&close, &[("csrf", &csrf), ("back", "/studies")])
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    assert_eq!(closed.headers()["location"], "/studies");
    assert!(!studies.get(&id).await.unwrap().unwrap().is_open());
    let (_, page) = browser.page(&href).await;
    assert!(page.contains(r#"<p id="closed">"#), "{page}");
    assert!(!page.contains(r#"id="invite-link""#), "{page}");
    let (_, list) = browser.page("/studies").await;
    assert!(
        list.contains(&format!(r#"<tr data-study="{id}" data-open="false">"#)),
        "{list}"
    );
    let boris = bot.telegram.user(802, "Boris", Some("en"));
    let welcome = bot
        .say(&boris, &format!("/start {}", study.invite.as_str()))
        .await;
    assert!(
        welcome
            .plain()
            .starts_with("This invite link is closed or not valid"),
        "{}",
        welcome.plain()
    );
}

/// Stops `bot`, files three settled reports of a new study and an interview of it without
/// consent, and starts the bot again so that the desk's first scan finds them.
async fn bot_with_three_reports(bot: &mut TestBot) -> StudyId {
    bot.stop().await;
    let store = SessionStore::open(bot.dir.path()).unwrap();
    let study = three_reports_in(&StudyStore::new(bot.dir.path()), &store).await;
    // Joined, but the expert never agreed: counted, never shown.
    let now = bot.clock.now();
    let mut hidden = Session::new(4, UserId(4), Lang::En, Style::default(), now);
    hidden.join(&study);
    store.save(&hidden).await.unwrap();
    bot.start().await;
    study.id
}

#[tokio::test]
async fn the_synthesis_is_written_from_the_desk_with_its_references_downloads_and_questions() {
    let mut bot = spawn_bot(desk_options()).await;
    let id = bot_with_three_reports(&mut bot).await;
    let browser = Browser::signed_in(&bot).await;
    let href = format!("/studies/{id}");
    let (status, page) = browser.page(&href).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let interviews = section(&page, "study-interviews");
    for user in 1..=3 {
        assert!(
            interviews.contains(&format!(r#"data-user="{user}""#)),
            "{interviews}"
        );
    }
    assert!(
        !interviews.contains(r#"data-user="4""#),
        "no consent: {interviews}"
    );
    let figures = section(&page, "study-figures");
    for line in [
        "<dt>Experts who joined</dt><dd>4</dd>",
        "<dt>Completed</dt><dd>3</dd>",
        "<dt>Reports confirmed</dt><dd>3</dd>",
    ] {
        assert!(figures.contains(line), "{line} not in {figures}");
    }
    assert!(page.contains(r#"<p id="no-synthesis">"#), "{page}");
    assert!(!page.contains(r#"id="add-questions""#), "{page}");

    bot.anthropic.script_writing([Reply::Json(json!({
        "summary": "They agree on the gauges.",
        "task_diagram": [{"text": "Check the gauges", "sources": ["X1.T1", "X2.T1"]}],
        "cues": [], "strategies": [], "typical_errors": [], "disagreements": [],
        "failure_modes": [], "unique": [], "gaps": [],
        "questions": [{"stage": "operations", "question": "Who do you call when the melt cools at night?", "sources": ["X3.I1"]}]
    }))]);
    let csrf = csrf_of(&page);
    let synthesize = format!("{href}/synthesize");
    assert_eq!(
        browser.post(&synthesize, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let asked = browser.post(&synthesize, &[("csrf", &csrf)]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(asked.headers()["location"], href.as_str());
    let page = eventually("the synthesis on the study's page", async || {
        let (_, page) = browser.page(&href).await;
        (page.contains(r#"<pre id="synthesis-document">"#) && !page.contains(r#"id="writing""#))
            .then_some(page)
    })
    .await;
    let synthesis = section(&page, "synthesis");
    assert!(
        synthesis.contains("Check the gauges — **2 of 3** (X1.T1, X2.T1)"),
        "{synthesis}"
    );
    assert!(
        synthesis.contains("<dt>Experts</dt><dd>3</dd>"),
        "{synthesis}"
    );
    assert!(synthesis.contains("<dt>Cost</dt><dd>$"), "{synthesis}");
    let md = browser.get(&format!("{href}/synthesis.md")).await;
    assert_eq!(md.status(), StatusCode::OK);
    assert!(
        md.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("study-{id}-synthesis.md"))
    );
    let md = md.text().await.unwrap();
    let kept = StudyStore::new(bot.dir.path())
        .synthesis_markdown(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(md, kept);
    assert!(
        md.contains("- **X1.T1** (task_diagram): Check the gauges"),
        "the references resolve in the document: {md}"
    );
    let json: serde_json::Value = browser
        .get(&format!("{href}/synthesis.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["references"]["X1.T1"]["text"], "Check the gauges");
    assert_eq!(json["analysed"], true);

    // Its question for the next experts goes into the plan, in its stage.
    let add = format!("{href}/questions");
    assert_eq!(
        browser.post(&add, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let added = browser.post(&add, &[("csrf", &csrf)]).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let back = added.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("{href}?added=1"));
    let study = StudyStore::new(bot.dir.path())
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        study.plan().questions(Stage::Operations),
        ["Who do you call when the melt cools at night?"]
    );
    let (_, page) = browser.page(&back).await;
    let questions = section(&page, "questions");
    assert!(questions.contains("New questions added: 1"), "{questions}");
    assert!(
        questions
            .contains(r#"<li class="question">Who do you call when the melt cools at night?</li>"#),
        "{questions}"
    );
}

#[tokio::test]
async fn an_unknown_study_is_not_found_and_the_pages_want_a_session() {
    let bot = spawn_bot(desk_options()).await;
    assert_eq!(
        Browser::new(&bot).page("/studies").await.0,
        StatusCode::UNAUTHORIZED
    );
    let browser = Browser::signed_in(&bot).await;
    for path in [
        "/studies/not-a-study",
        "/studies/0123456789ab",
        "/studies/0123456789ab/synthesis.md",
    ] {
        assert_eq!(browser.page(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}
