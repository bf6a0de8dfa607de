//! The operator's desk on PostgreSQL (`DATABASE_URL` with `DESK_ADDR`): it lists what the
//! database holds, reads reports from it, signs in with links kept there, and follows the
//! writes of other processes on the same database through `LISTEN`/`NOTIFY`. "Another
//! replica" is another `PgStore` connected to the same database, or a second bot.

use std::sync::Arc;

use ai_interviewer::{
    i18n::Lang,
    login::{Issuer, Refused},
    model::{Clock, Consent, Review, Session, Style, UserId},
    store::{Folder, InterviewStore, PgStore, SignInLinks},
};
use reqwest::StatusCode;

use crate::support::{
    bot::{BotOptions, TestBot, WAIT, spawn_bot},
    desk::Browser,
    eventually, postgres,
};

const ADMIN: u64 = 3_400;

/// A bot on the database `url`, its desk on, `ADMIN` its admin.
async fn desk_bot(url: &str) -> TestBot {
    spawn_bot(BotOptions {
        vars: vec![
            ("DATABASE_URL", url.to_owned()),
            ("ADMIN_USER_IDS", ADMIN.to_string()),
            ("DESK_ADDR", "127.0.0.1:0".to_owned()),
        ],
        ..BotOptions::default()
    })
    .await
}

/// An interview of `user` with one answer, agreed to (`consent`) or not.
fn interview(bot: &TestBot, user: u64, consent: bool) -> Session {
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
    s
}

/// Whether the list shows an interview of `user` in `state`.
async fn listed(browser: &Browser, user: u64, state: &str) -> bool {
    let (_, page) = browser.page("/interviews").await;
    page.contains(&format!(r#"data-state="{state}" data-user="{user}""#))
}

#[tokio::test]
async fn on_postgres_an_interview_shows_on_the_desk_once_agreed_its_report_reads_and_a_deletion_removes_it()
 {
    let url = postgres::database().await;
    let bot = desk_bot(&url).await;
    let browser = Browser::signed_in(&bot).await;
    let ann = bot.telegram.user(3_401, "Ann", Some("en"));

    // Up to the briefing nothing is agreed, and the desk shows nothing of Ann.
    let welcome = bot.say(&ann, "/start").await;
    bot.press(&ann, &welcome, "lang:en");
    let styles = bot.offers(&ann, &welcome, "style:0").await;
    bot.press(&ann, &styles, "style:0");
    let briefing = bot.offers(&ann, &welcome, "begin").await;
    bot.settled().await;
    let (_, before) = browser.page("/interviews").await;
    assert!(!before.contains(r#"data-user="3401""#), "{before}");
    bot.press(&ann, &briefing, "begin");
    bot.next(&ann).await;
    eventually("the desk to list the agreed interview", async || {
        listed(&browser, ann.id, "in_progress").await
    })
    .await;

    let mut document = None;
    for n in 0..60 {
        let reply = bot
            .say(&ann, &format!("Answer {n}: I check the gas first."))
            .await;
        if reply.plain().contains("100%") && reply.plain().contains("[wrap_up]") {
            bot.next(&ann).await;
            document = bot.next(&ann).await.document;
            break;
        }
    }
    let markdown = String::from_utf8(document.expect("the report").bytes).unwrap();
    let screen = bot.next(&ann).await;
    let ok = screen
        .callback_datas()
        .into_iter()
        .find(|d| d.starts_with("ok:"))
        .expect("a button to confirm the report");
    bot.press(&ann, &screen, &ok);
    assert!(bot.next(&ann).await.plain().contains("confirmed"));
    eventually("the desk to show the interview confirmed", async || {
        listed(&browser, ann.id, "confirmed").await
    })
    .await;

    // The report as the database keeps it, on the interview's page and as a download.
    let database = PgStore::connect(&url).await.unwrap();
    let filed = database
        .latest(Folder::Completed, UserId(ann.id))
        .await
        .unwrap()
        .expect("the interview is completed in the database");
    let page = format!("/interviews/{}/{}", ann.id, filed.id);
    // The desk follows the store's changes as they come: the retirement may reach its index
    // a moment after the confirmation did.
    let shown = eventually("the interview's page to open", async || {
        let (status, shown) = browser.page(&page).await;
        (status == StatusCode::OK).then_some(shown)
    })
    .await;
    assert!(shown.contains("The task diagram"), "{shown}");
    let md = browser.get(&format!("{page}/report.md")).await;
    assert_eq!(md.status(), StatusCode::OK);
    assert_eq!(md.text().await.unwrap(), markdown);
    let zip = browser
        .get("/export/reports.zip")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut zipped = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name(&format!("{}-{}.md", ann.id, filed.id))
            .unwrap(),
        &mut zipped,
    )
    .unwrap();
    assert_eq!(zipped, markdown);

    let confirm = bot.say(&ann, "/delete").await;
    bot.press(&ann, &confirm, &confirm.callback_datas()[0]);
    bot.telegram
        .wait_for(ann.chat_id(), WAIT, |m| {
            m.plain().contains("has been erased")
        })
        .await;
    eventually("the desk to drop the deleted interview", async || {
        !browser
            .page("/interviews")
            .await
            .1
            .contains(r#"data-user="3401""#)
    })
    .await;
    assert_eq!(browser.page(&page).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_link_one_replica_gives_in_a_chat_signs_in_once_on_another_replicas_desk() {
    let url = postgres::database().await;
    let one = desk_bot(&url).await;
    let admin = one.telegram.user(ADMIN, "Olga", Some("en"));
    let reply = one.say(&admin, "/desk").await.plain();
    // The second replica joins once the link is given: each test bot has a fake Telegram of
    // its own, and a chat claimed by the other replica would be answered on the other fake.
    let other = desk_bot(&url).await;
    let link = reply
        .split_whitespace()
        .find(|word| word.contains("/signin?token="))
        .unwrap_or_else(|| panic!("a sign-in link: {reply}"))
        .to_owned();
    let (other_addr, _) = other.desk.as_ref().unwrap();
    let (one_addr, _) = one.desk.as_ref().unwrap();
    let elsewhere = link.replace(&one_addr.to_string(), &other_addr.to_string());
    assert_ne!(elsewhere, link);

    let mut browser = Browser::new(&other);
    let signed = browser.open_link(&elsewhere).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.page("/interviews").await.0, StatusCode::OK);
    // Spent on one replica, it is spent on all of them.
    for bot in [&one, &other] {
        let mut again = Browser::new(bot);
        let replay = again.open_link(&link).await;
        assert_eq!(replay.status(), StatusCode::FORBIDDEN);
        assert!(again.cookie.is_none());
    }
    for bot in [&one, &other] {
        assert!(
            !bot.dir
                .path()
                .join(ai_interviewer::login::LINKS_DIR)
                .exists(),
            "the links are in the database, not in SESSIONS_DIR"
        );
    }
}

#[tokio::test]
async fn a_link_issued_through_one_store_is_accepted_once_by_a_desk_on_another() {
    let url = postgres::database().await;
    let bot = desk_bot(&url).await;
    let (addr, _) = bot.desk.as_ref().unwrap();
    let store = PgStore::connect(&url).await.unwrap();
    let issuer = Issuer::new(
        Arc::new(store.clone()),
        format!("http://{addr}").parse().unwrap(),
    );
    let link = issuer
        .link(bot.clock.now(), Lang::En)
        .await
        .unwrap()
        .to_string();
    let mut browser = Browser::new(&bot);
    assert_eq!(
        browser.open_link(&link).await.status(),
        StatusCode::SEE_OTHER
    );
    let mut again = Browser::new(&bot);
    assert_eq!(again.open_link(&link).await.status(), StatusCode::FORBIDDEN);

    // And the other way: a link the bot issued, spent by its desk, is spent for the store.
    let (_, bots_issuer) = bot.desk.as_ref().unwrap();
    let link = bots_issuer.link(bot.clock.now(), Lang::En).await.unwrap();
    let token = link
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let mut third = Browser::new(&bot);
    assert_eq!(
        third.open_link(link.as_str()).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        store.redeem(&token, bot.clock.now()).await.unwrap(),
        Err(Refused::Unknown)
    );
}

#[tokio::test]
async fn what_another_process_writes_on_the_database_shows_on_the_desk_without_a_rescan() {
    let url = postgres::database().await;
    let bot = desk_bot(&url).await;
    let browser = Browser::signed_in(&bot).await;
    let writer = PgStore::connect(&url).await.unwrap();

    // Until the bot's store listens, a notification goes unheard: save until the desk shows
    // it. Nothing but the notification can bring it (the full read is an hour away).
    let probe = interview(&bot, 3_500, true);
    eventually("the desk to list what another process saved", async || {
        writer.save(&probe).await.unwrap();
        listed(&browser, 3_500, "in_progress").await
    })
    .await;

    // Notifications arrive in commit order and the desk takes them in order: once the
    // second interview shows, the first was read too, and left out for want of consent.
    writer.save(&interview(&bot, 3_501, false)).await.unwrap();
    let mut shown = interview(&bot, 3_502, true);
    writer.save(&shown).await.unwrap();
    eventually("the desk to list the agreed interview", async || {
        listed(&browser, 3_502, "in_progress").await
    })
    .await;
    let (_, list) = browser.page("/interviews").await;
    assert!(!list.contains(r#"data-user="3501""#), "{list}");
    assert_eq!(
        browser.page("/interviews/3501/3501").await.0,
        StatusCode::NOT_FOUND
    );

    // Completed elsewhere, with its report: the desk shows it confirmed and reads the report.
    shown.finished_at = Some(bot.clock.now());
    shown.report.version = 1;
    shown.report.review = Review::Confirmed;
    writer
        .retire(&shown, Folder::Completed, &[("md", "# The report of 3502")])
        .await
        .unwrap();
    eventually("the desk to show the interview confirmed", async || {
        listed(&browser, 3_502, "confirmed").await
    })
    .await;
    let (status, page) = browser.page("/interviews/3502/3502").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("The report of 3502"), "{page}");
    assert!(page.contains("I weld pipelines"), "the transcript: {page}");

    writer.delete_user(UserId(3_502)).await.unwrap();
    eventually("the desk to drop what another process erased", async || {
        !browser
            .page("/interviews")
            .await
            .1
            .contains(r#"data-user="3502""#)
    })
    .await;
    assert_eq!(
        browser.page("/interviews/3502/3502").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_desk_link_command_on_postgres_issues_a_link_the_database_redeems_once() {
    let url = postgres::database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::binary(dir.path());
    cmd.args(["desk-link", "--lang", "en"])
        .env("DESK_ADDR", "127.0.0.1:8080")
        .env("DATABASE_URL", &url);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let url_printed = reqwest::Url::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let token = url_printed
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        !dir.path().join(ai_interviewer::login::LINKS_DIR).exists(),
        "the link is in the database"
    );
    let store = PgStore::connect(&url).await.unwrap();
    let now = chrono::Utc::now();
    assert_eq!(store.redeem(&token, now).await.unwrap(), Ok(()));
    assert_eq!(
        store.redeem(&token, now).await.unwrap(),
        Err(Refused::Unknown)
    );
}
