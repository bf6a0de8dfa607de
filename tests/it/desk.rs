//! The operator's desk over HTTP, in the running bot: `/desk` links, signing in, the pages,
//! the refusals, the export and the JSON API. Interviews are laid in the sessions directory
//! while the bot is stopped, so the desk's first scan finds them; `/delete` goes through
//! Telegram, so the desk learns of it from the store's announcements.

use std::io::Read;

use ai_interviewer::{
    i18n::Lang,
    llm::DEFAULT_MODEL,
    model::{
        Clock, Consent, Correction, Fallback, Review, Session, Style, Usage, UserId, VoiceClip,
        Work,
    },
    store::{Folder, SessionStore},
};
use reqwest::StatusCode;

use crate::support::{
    bot::{BotOptions, TestBot, WAIT, spawn_bot},
    desk::{Browser, csrf_of, link},
    eventually,
};

const ADMIN: u64 = 900;
const TOKEN: &str = "desk-api-token-for-tests";

/// In progress, with consent.
const ACTIVE: u64 = 501;
/// Confirmed and filed in `completed/`, with consent.
const CONFIRMED: u64 = 502;
/// In progress, without consent: never on the desk.
const HIDDEN: u64 = 503;

fn session(bot: &TestBot, user: u64, consent: bool) -> Session {
    let now = bot.clock.now();
    let mut s = Session::new(user as u32, UserId(user), Lang::En, Style::default(), now);
    if consent {
        s.consent = Some(Consent {
            version: "test".into(),
            at: now,
        });
    }
    s.push_question("What do you do?".into(), now);
    s.push_answer("I weld pipelines", now);
    // Answered and delivered: the bot has nothing to do for it when it starts.
    s.push_question("Which ones?".into(), now);
    for entry in &mut s.transcript {
        entry.delivered = true;
    }
    s
}

/// A bot with the desk on (and the API when `api`), over the three interviews above.
async fn desk_bot(api: bool) -> TestBot {
    let mut vars = vec![
        ("ADMIN_USER_IDS", ADMIN.to_string()),
        ("DESK_ADDR", "127.0.0.1:0".to_owned()),
    ];
    if api {
        vars.push(("DESK_API_TOKEN", TOKEN.to_owned()));
    }
    let mut bot = spawn_bot(BotOptions {
        vars,
        ..BotOptions::default()
    })
    .await;
    bot.stop().await;
    let store = SessionStore::open(bot.dir.path()).unwrap();
    let mut active = session(&bot, ACTIVE, true);
    let now = bot.clock.now();
    let clip = VoiceClip {
        duration_ms: 4_000,
        confidence: 0.93,
        model: None,
    };
    active.push_voice_answer("Gas lines, mostly", clip, now);
    active.push_fallback_question(
        "Tell me about a hard day".into(),
        Fallback::UpstreamDown,
        now,
    );
    for entry in &mut active.transcript {
        entry.delivered = true;
    }
    store.save(&active).await.unwrap();
    store.save(&session(&bot, HIDDEN, false)).await.unwrap();
    let mut confirmed = session(&bot, CONFIRMED, true);
    confirmed.finished_at = Some(bot.clock.now());
    confirmed.report.version = 1;
    confirmed.report.review = Review::Confirmed;
    store
        .retire(
            &confirmed,
            Folder::Completed,
            &[("md", "# The report of 502")],
        )
        .await
        .unwrap();
    bot.start().await;
    bot
}

#[tokio::test]
async fn an_admin_gets_a_sign_in_link_without_a_preview_and_anyone_else_the_unknown_command_reply()
{
    let bot = desk_bot(false).await;
    let admin = bot.telegram.user(ADMIN, "Olga", Some("ru"));
    let reply = bot.say(&admin, "/desk").await.plain();
    let (addr, _) = bot.desk.as_ref().unwrap();
    let prefix = format!("http://{addr}/signin?token=");
    assert!(reply.contains(&prefix), "{reply}");
    assert!(
        reply.contains("lang=ru"),
        "the link opens the desk in the admin's language"
    );
    let sent = bot.telegram.calls("sendMessage");
    let call = sent
        .iter()
        .find(|c| c.params.to_string().contains("signin?token="))
        .unwrap();
    let preview = call.params["link_preview_options"].to_string();
    assert!(
        preview.contains("is_disabled") && preview.contains("true"),
        "{preview}"
    );

    // The link works in a browser, and its secret rests nowhere on disk (only its hash).
    let link = reply
        .split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .unwrap();
    let secret = link[prefix.len()..].split('&').next().unwrap();
    bot.settled().await;
    for file in files_under(bot.dir.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} holds the link",
            file.display()
        );
    }
    let mut browser = Browser::new(&bot);
    assert_eq!(
        browser.open_link(link).await.status(),
        StatusCode::SEE_OTHER
    );

    let expert = bot.telegram.user(777, "Ivan", Some("en"));
    let unknown = bot.say(&expert, "/metrics").await.plain();
    assert_eq!(bot.say(&expert, "/desk").await.plain(), unknown);
}

#[tokio::test]
async fn a_link_signs_in_once_and_the_pages_show_only_the_interviews_with_consent() {
    let bot = desk_bot(false).await;
    let mut browser = Browser::new(&bot);
    let link = link(&bot).await;
    let signed = browser.open_link(&link).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http in the test: {cookie}"
    );

    let answer = browser.get("/interviews").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let csp = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(answer.headers()["referrer-policy"], "no-referrer");
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let page = answer.text().await.unwrap();
    assert!(page.contains(r#"<table id="interviews">"#), "{page}");
    assert!(
        page.contains(r#"data-state="in_progress" data-user="501""#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-state="confirmed" data-user="502""#),
        "{page}"
    );
    assert!(!page.contains("503"), "no consent, not listed: {page}");
    assert!(page.contains(r#"<form id="logout""#));

    let (status, filtered) = browser.page("/interviews?state=confirmed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(filtered.contains(r#"data-user="502""#) && !filtered.contains(r#"data-user="501""#));

    let (status, active) = browser.page("/interviews/501/501").await;
    assert_eq!(status, StatusCode::OK, "{active}");
    assert!(active.contains(r#"<li class="expert voice">"#), "{active}");
    assert!(
        active.contains("93%"),
        "the voice answer's confidence: {active}"
    );
    assert!(
        active.contains(r#"<li class="interviewer offline">"#),
        "{active}"
    );
    let causes = [
        "no Claude key",
        "Claude unreachable",
        "unusable reply",
        "configuration error",
        "declined by Claude",
    ];
    assert!(
        causes
            .iter()
            .any(|c| active.contains(&format!("offline question ({c})"))),
        "an offline question says why: {active}"
    );
    assert!(active.contains(r#"<section id="stages">"#));

    let (status, one) = browser.page("/interviews/502/502").await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert!(one.contains(r#"class="report-md""#) && one.contains("The report of 502"));
    assert!(one.contains("I weld pipelines"), "the transcript: {one}");
    let md = browser.get("/interviews/502/502/report.md").await;
    assert_eq!(md.status(), StatusCode::OK);
    assert_eq!(md.text().await.unwrap(), "# The report of 502");
    assert_eq!(
        browser.page("/interviews/503/503").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, overview) = browser.page("/overview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("<svg") && overview.contains(r#"id="attention""#));
    assert_eq!(browser.page("/export").await.0, StatusCode::OK);
    let unknown = browser.get("/no-such-page").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers().contains_key("content-security-policy"));

    // The link was spent: opening it again is refused.
    let mut other = Browser::new(&bot);
    let replay = other.open_link(&link).await;
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    assert!(other.cookie.is_none());
    // Without an API token the API does not exist.
    assert_eq!(
        browser.get("/api/sessions").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_expired_link_a_forged_cookie_and_a_form_without_its_csrf_token_are_refused() {
    let bot = desk_bot(false).await;
    let late = link(&bot).await;
    bot.clock.advance(std::time::Duration::from_secs(11 * 60));
    let mut browser = Browser::new(&bot);
    let expired = browser.open_link(&late).await;
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert!(expired.text().await.unwrap().contains("expired"));

    let forged = Browser {
        cookie: Some("desk_session=forged".into()),
        ..Browser::new(&bot)
    };
    assert_eq!(forged.page("/interviews").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        Browser::new(&bot).page("/overview").await.0,
        StatusCode::UNAUTHORIZED
    );

    let browser = Browser::signed_in(&bot).await;
    let (_, page) = browser.page("/interviews").await;
    let csrf = csrf_of(&page);
    assert_eq!(
        browser.post("/signout", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let wrong = browser.post("/signout", &[("csrf", "not-the-token")]).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.page("/interviews").await.0,
        StatusCode::OK,
        "still signed in"
    );
    let out = browser.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(
        browser.page("/interviews").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn failed_sign_ins_from_one_address_are_limited() {
    let bot = desk_bot(false).await;
    let browser = Browser::new(&bot);
    for _ in 0..ai_interviewer::desk::auth::MAX_FAILURES {
        let answer = browser.post("/signin", &[("token", "made-up")]).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    }
    let mut browser = browser;
    let limited = browser.open_link(&link(&bot).await).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_language_of_the_pages_changes_with_a_posted_form() {
    let bot = desk_bot(false).await;
    let browser = Browser::signed_in(&bot).await;
    let (_, page) = browser.page("/overview").await;
    assert!(page.contains("Needs attention"));
    let answer = browser
        .post(
            "/language",
            &[
                ("csrf", &csrf_of(&page)),
                ("lang", "ru"),
                ("back", "/overview"),
            ],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/overview");
    let (_, page) = browser.page("/overview").await;
    assert!(page.contains("Требует внимания"), "{page}");
}

#[tokio::test]
async fn deleting_an_interview_in_telegram_removes_it_from_the_desk() {
    let bot = desk_bot(false).await;
    let browser = Browser::signed_in(&bot).await;
    assert_eq!(browser.page("/interviews/501/501").await.0, StatusCode::OK);
    let expert = bot.telegram.user(ACTIVE, "Ann", Some("en"));
    let confirm = bot.say(&expert, "/delete").await;
    bot.press(&expert, &confirm, &confirm.callback_datas()[0]);
    bot.telegram
        .wait_for(expert.chat_id(), WAIT, |m| {
            m.plain().contains("has been erased")
        })
        .await;
    eventually("the desk to drop the deleted interview", async || {
        !browser
            .page("/interviews")
            .await
            .1
            .contains(r#"data-user="501""#)
    })
    .await;
    assert_eq!(
        browser.page("/interviews/501/501").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_zip_holds_every_confirmed_report_and_the_csv_one_row_per_interview() {
    let bot = desk_bot(false).await;
    let browser = Browser::signed_in(&bot).await;
    let zip = browser.get("/export/reports.zip").await;
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["502-502.json", "502-502.md"]);
    let mut md = String::new();
    archive
        .by_name("502-502.md")
        .unwrap()
        .read_to_string(&mut md)
        .unwrap();
    assert_eq!(md, "# The report of 502");

    let csv = browser.get("/export/interviews.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "user");
    let state = header.iter().position(|h| h == "state").unwrap();
    let mut rows: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[state].to_owned())
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("501".to_owned(), "in_progress".to_owned()),
            ("502".to_owned(), "confirmed".to_owned())
        ]
    );
}

#[tokio::test]
async fn the_api_answers_only_with_the_bearer_token() {
    let bot = desk_bot(true).await;
    let browser = Browser::new(&bot);
    let get = |path: &'static str, token: Option<&'static str>| {
        let mut request = browser.client.get(format!("{}{path}", browser.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(
        get("/api/sessions", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = get("/api/sessions", Some("not-the-token")).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let all: serde_json::Value = get("/api/sessions", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut users: Vec<u64> = all["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user"].as_u64().unwrap())
        .collect();
    users.sort();
    assert_eq!(users, [ACTIVE, CONFIRMED]);

    let status: serde_json::Value = get("/api/sessions/501/status", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "in_progress");
    assert_eq!(status["stage_number"], 1);
    assert_eq!(status["answers"]["text"], 1);
    assert_eq!(status["answers"]["voice"], 1);
    let hidden = get("/api/sessions/503/status", Some(TOKEN)).await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    let report: serde_json::Value = get("/api/sessions/502/report", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["markdown"], "# The report of 502");
    assert_eq!(report["review"], "confirmed");
    let none = get("/api/sessions/501/report", Some(TOKEN)).await.unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_desk_link_command_prints_a_link_that_signs_in_once_and_refuses_without_a_desk() {
    let dir = tempfile::tempdir().unwrap();
    let run = |vars: Vec<(&'static str, &'static str)>| {
        let mut cmd = crate::support::binary(dir.path());
        cmd.args(["desk-link", "--lang", "ru"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };
    let out = run(vec![("DESK_ADDR", "0.0.0.0:8080")]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    let url = reqwest::Url::parse(printed.trim()).unwrap();
    assert_eq!(
        url.as_str().split('?').next(),
        Some("http://127.0.0.1:8080/signin")
    );
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(url.query().unwrap().ends_with("lang=ru"));
    // The running bot redeems it from the same folder: once.
    let links = ai_interviewer::login::Links::open(dir.path()).unwrap();
    assert_eq!(links.redeem(&token, chrono::Utc::now()), Ok(()));
    assert!(links.redeem(&token, chrono::Utc::now()).is_err());

    let off = run(vec![]).await;
    assert_eq!(off.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&off.stderr).contains("DESK_ADDR is not set"));
}

#[tokio::test]
async fn one_interviews_page_shows_the_cost_of_turns_summaries_and_report_or_that_it_was_not_split()
{
    // Output tokens at $10 a million, nothing else billed: the dollars are easy to read.
    let mut bot = spawn_bot(BotOptions {
        vars: vec![
            ("ADMIN_USER_IDS", ADMIN.to_string()),
            ("DESK_ADDR", "127.0.0.1:0".to_owned()),
            ("CLAUDE_PRICES", format!("{DEFAULT_MODEL}=0/10/0/0")),
            ("DESK_API_TOKEN", TOKEN.to_owned()),
        ],
        ..BotOptions::default()
    })
    .await;
    bot.stop().await;
    let store = SessionStore::open(bot.dir.path()).unwrap();
    let output = |tokens: u64| Usage {
        output_tokens: tokens,
        ..Usage::default()
    };
    let mut split = session(&bot, 511, true);
    split.usage.record(output(100_000));
    split.usage.add_tokens(Work::Summaries, output(200_000));
    split.usage.add_tokens(Work::Report, output(300_000));
    store.save(&split).await.unwrap();
    // Saved before the split was kept: its file has no `by_work`.
    let mut old = session(&bot, 512, true);
    old.usage.record(output(50_000));
    old.usage.by_work = None;
    store.save(&old).await.unwrap();
    bot.start().await;
    let browser = Browser::signed_in(&bot).await;

    let (status, page) = browser.page("/interviews/511/511").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for line in [
        "<dt>Cost so far</dt><dd>$6.00</dd>",
        "<dt>Interviewer turns</dt><dd>$1.00</dd>",
        "<dt>Stage summaries</dt><dd>$2.00</dd>",
        "<dt>Report</dt><dd>$3.00</dd>",
    ] {
        assert!(page.contains(line), "{line} not in {page}");
    }
    assert!(!page.contains("not recorded"), "{page}");

    let (status, page) = browser.page("/interviews/512/512").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("<dt>Cost so far</dt><dd>$0.50</dd>"),
        "{page}"
    );
    assert!(
        page.contains("<dt>By kind</dt><dd>not recorded: this interview began before"),
        "{page}"
    );
    assert!(!page.contains("<dt>Interviewer turns</dt>"), "{page}");

    // The API's status carries the same split, and `null` for the older interview.
    let status = |user: u64| {
        let request = browser
            .client
            .get(format!("{}/api/sessions/{user}/status", browser.base))
            .bearer_auth(TOKEN);
        async move {
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            answer.json::<serde_json::Value>().await.unwrap()
        }
    };
    let split = status(511).await;
    assert_eq!(
        split["cost_usd_by_kind"],
        serde_json::json!({ "turns": 1.0, "summaries": 2.0, "report": 3.0 }),
        "{split}"
    );
    assert_eq!(split["cost_usd"], 6.0, "{split}");
    let old = status(512).await;
    assert!(old["cost_usd_by_kind"].is_null(), "{old}");
    assert_eq!(old["cost_usd"], 0.5, "{old}");
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn an_expert_who_accepts_the_notice_in_telegram_appears_on_the_desk_by_name() {
    let bot = desk_bot(false).await;
    let browser = Browser::signed_in(&bot).await;
    let mut olga = bot
        .telegram
        .user(777, "Olga", Some("ru"))
        .with_username("olga_weld");
    olga.last_name = Some("Smirnova".to_owned());
    bot.start_interview(&olga, "ru", 0).await;
    let session = bot.session(&olga).expect("the interview is saved");
    assert_eq!(
        session["expert"],
        serde_json::json!({"name": "Olga Smirnova", "username": "olga_weld"})
    );
    eventually("the desk to list the new interview", async || {
        browser
            .page("/interviews")
            .await
            .1
            .contains(r#"data-user="777""#)
    })
    .await;
    let (_, list) = browser.page("/interviews").await;
    assert!(list.contains("Olga Smirnova</a>"), "{list}");
    assert!(list.contains("@olga_weld · 777"), "{list}");
    let id = session["id"].as_u64().unwrap();
    let (status, page) = browser.page(&format!("/interviews/777/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Olga Smirnova (@olga_weld, 777)"), "{page}");
}

#[tokio::test]
async fn a_corrected_report_shows_the_first_version_as_the_expert_was_shown_it() {
    let mut bot = desk_bot(false).await;
    bot.stop().await;
    let store = SessionStore::open(bot.dir.path()).unwrap();
    let mut corrected = session(&bot, 504, true);
    corrected.finished_at = Some(bot.clock.now());
    corrected.report.version = 2;
    corrected.report.review = Review::Corrected;
    corrected.report.correction = Some(Correction {
        text: "Gas lines, not water lines.".into(),
        at: bot.clock.now(),
        applied: false,
    });
    store
        .retire(
            &corrected,
            Folder::Completed,
            &[("md", "# The revised report of 504")],
        )
        .await
        .unwrap();
    bot.start().await;
    let browser = Browser::signed_in(&bot).await;
    let (status, page) = browser.page("/interviews/504/504").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let first = &page[page.find(r#"<details id="first-version">"#).expect(&page)..];
    let first = &first[..first.find("</details>").unwrap()];
    assert!(first.contains("# Knowledge report"), "{first}");
    assert!(!first.contains("Gas lines, not water lines."), "{first}");
    assert!(page.contains(r#"<blockquote class="correction">Gas lines, not water lines."#));
    assert!(page.contains("# The revised report of 504"), "{page}");
}

#[tokio::test]
async fn the_overview_names_at_most_fifty_interviews_that_need_attention_and_counts_the_rest() {
    let mut bot = desk_bot(false).await;
    bot.stop().await;
    let store = SessionStore::open(bot.dir.path()).unwrap();
    let long_ago = bot.clock.now() - chrono::Duration::hours(5);
    for user in 10_000..10_060 {
        let mut quiet = Session::new(
            user as u32,
            UserId(user),
            Lang::En,
            Style::default(),
            long_ago,
        );
        quiet.consent = Some(Consent {
            version: "test".into(),
            at: long_ago,
        });
        quiet.push_question("What do you do?".into(), long_ago);
        quiet.transcript[0].delivered = true;
        store.save(&quiet).await.unwrap();
    }
    bot.start().await;
    let browser = Browser::signed_in(&bot).await;
    let (status, page) = browser.page("/overview").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page.matches(r#"<li data-why="idle">"#).count(),
        50,
        "{page}"
    );
    assert!(
        page.contains("Also needing attention, not listed here: 10; <a href=\"/interviews\">"),
        "{page}"
    );
}
