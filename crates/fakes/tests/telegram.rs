//! Self-tests of the fake Telegram Bot API, driven by a real teloxide `Bot` and by raw HTTP
//! (reqwest): evidence that the fake answers in the shapes teloxide expects.

use std::time::{Duration, Instant};

use interviewer_fakes::telegram::{Failure, FakeTelegram, TestUser};
use serde_json::{Value, json};
use teloxide::adaptors::throttle::Limits;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatAction, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, MediaKind, MessageEntityKind, MessageId, MessageKind,
    ParseMode, ReplyParameters, UpdateKind,
};
use teloxide::{ApiError, RequestError};

const SECS5: Duration = Duration::from_secs(5);

/// Runs `probe` until it holds and panics naming `what` after five seconds of real time (a
/// guard against a hang, never a bound on speed). The fake's own `wait_*` methods wake on its
/// changes; this is for what happens outside it, such as its server closing.
async fn eventually(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + SECS5;
    while !probe().await {
        assert!(
            std::time::Instant::now() < deadline,
            "waited {SECS5:?} in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn bot_for(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url().parse().unwrap())
}

/// Calls a method with a JSON body; returns (status, body).
async fn raw(tg: &FakeTelegram, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/bot{}/{}", tg.api_url(), tg.token(), method);
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Sends a message through the raw API and returns the error description (or panics on success).
async fn raw_send_error(tg: &FakeTelegram, chat: i64, text: &str, parse_mode: &str) -> String {
    let (status, body) = raw(
        tg,
        "sendMessage",
        json!({"chat_id": chat, "text": text, "parse_mode": parse_mode}),
    )
    .await;
    assert_eq!(status, 400, "expected 400 for {text:?}, got {body}");
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["error_code"], json!(400));
    body["description"].as_str().unwrap().to_owned()
}

async fn single_update(bot: &Bot) -> Update {
    let mut updates = bot.get_updates().timeout(2).await.unwrap();
    assert_eq!(updates.len(), 1, "{updates:?}");
    let u = updates.remove(0);
    bot.get_updates()
        .offset(u.id.0 as i32 + 1)
        .timeout(0)
        .await
        .unwrap();
    u
}

async fn single_message(bot: &Bot) -> Message {
    match single_update(bot).await.kind {
        UpdateKind::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn media(m: &Message) -> &MediaKind {
    match &m.kind {
        MessageKind::Common(c) => &c.media_kind,
        other => panic!("expected MessageKind::Common, got {other:?}"),
    }
}

fn alice(tg: &FakeTelegram) -> TestUser {
    tg.user(1001, "Alice", Some("en"))
}

// ---------------------------------------------------------------------------
// Basics
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_me_parses_in_teloxide() {
    let tg = FakeTelegram::start().await;
    let (id, secret) = tg.token().split_once(':').unwrap();
    assert_eq!(secret.len(), 35);
    let me = bot_for(&tg).get_me().await.unwrap();
    assert_eq!(me.id.0.to_string(), id);
    assert!(me.is_bot);
    assert_eq!(me.username(), "fake_test_bot");
    assert!(me.can_join_groups);
    assert_eq!(tg.calls("getMe").len(), 1);
    assert_eq!(tg.calls("getme")[0].status, 200);
}

#[tokio::test]
async fn webhook_info_and_delete_webhook() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url, None);
    assert_eq!(info.pending_update_count, 0);
    bot.delete_webhook().await.unwrap();
}

#[tokio::test]
async fn raw_routes_tokens_methods_and_encodings() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let client = reqwest::Client::new();

    // Wrong token.
    let resp = client
        .get(format!("{}/bot1:nope/getMe", tg.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    // Unknown method.
    let (status, body) = raw(&tg, "sendTelepathy", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
    assert_eq!(tg.calls("sendTelepathy")[0].status, 404);
    // GET + query string, case-insensitive method.
    let resp = client
        .get(format!("{}/bot{}/GETME", tg.api_url(), tg.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["result"]["username"],
        "fake_test_bot"
    );
    let resp = client
        .get(format!(
            "{}/bot{}/sendMessage?chat_id={}&text=hi%20there",
            tg.api_url(),
            tg.token(),
            u.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // urlencoded form with a JSON-encoded reply_markup.
    let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}).to_string();
    let resp = client
        .post(format!("{}/bot{}/sendmessage", tg.api_url(), tg.token()))
        .form(&[
            ("chat_id", u.id.to_string()),
            ("text", "form text".into()),
            ("reply_markup", markup),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(
        body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "go"
    );
    // multipart text fields.
    let form = reqwest::multipart::Form::new()
        .text("chat_id", u.id.to_string())
        .text("text", "multipart text");
    let resp = client
        .post(format!("{}/bot{}/sendMessage", tg.api_url(), tg.token()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);

    let texts: Vec<String> = tg.sent(u.chat_id()).into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["hi there", "form text", "multipart text"]);
    assert_eq!(
        tg.sent(u.chat_id())[1].buttons[0][0]
            .callback_data
            .as_deref(),
        Some("go")
    );
    // Unknown chat.
    let (status, body) = raw(&tg, "sendMessage", json!({"chat_id": 5, "text": "x"})).await;
    assert_eq!(
        (status, body["description"].as_str().unwrap()),
        (400, "Bad Request: chat not found")
    );
}

// ---------------------------------------------------------------------------
// getUpdates
// ---------------------------------------------------------------------------

// The long-poll tests run on tokio's paused clock, which the fake's hold runs on too: the times
// they check are exact, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn long_poll_holds_until_timeout_then_returns_empty() {
    let tg = FakeTelegram::start().await;
    let started = tokio::time::Instant::now();
    let (status, body) = raw(&tg, "getUpdates", json!({"timeout": 10})).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(body, json!({"ok": true, "result": []}));
    assert!(
        elapsed >= Duration::from_secs(10) && elapsed < Duration::from_secs(11),
        "returned after {elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_delivers_an_update_as_soon_as_it_is_injected() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let started = tokio::time::Instant::now();
    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await.unwrap() }
    });
    tg.wait_until(SECS5, "getUpdates pending", |t| {
        t.calls("getUpdates").len() == 1
    })
    .await;
    // Nine of the poll's ten seconds pass with nothing to deliver, and it holds.
    tokio::time::sleep_until(started + Duration::from_secs(9)).await;
    assert!(
        !poll.is_finished(),
        "poll must hold while there is nothing to deliver"
    );
    let mid = tg.send_text(&u, "hello there");
    let updates = poll.await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "answered by the update, not at the timeout: {elapsed:?}"
    );
    assert_eq!(updates.len(), 1);
    let UpdateKind::Message(m) = &updates[0].kind else {
        panic!("{updates:?}")
    };
    assert_eq!(m.id, MessageId(mid));
    assert_eq!(m.text(), Some("hello there"));
    assert_eq!(m.chat.id, ChatId(1001));
    assert!(m.chat.is_private());
    assert_eq!(
        m.from.as_ref().unwrap().language_code.as_deref(),
        Some("en")
    );
}

#[tokio::test]
async fn offsets_confirm_updates_and_limit_applies() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    tg.send_text(&u, "one");
    tg.send_text(&u, "two");
    tg.send_text(&u, "three");
    assert_eq!(tg.pending_updates(), 3);

    let first = bot.get_updates().limit(2).await.unwrap();
    assert_eq!(first.len(), 2);
    // Not confirmed yet: the same updates come again.
    let again = bot.get_updates().await.unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(tg.pending_updates(), 3);

    let rest = bot
        .get_updates()
        .offset(first[1].id.0 as i32 + 1)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(tg.pending_updates(), 1);
    let UpdateKind::Message(m) = &rest[0].kind else {
        panic!()
    };
    assert_eq!(m.text(), Some("three"));

    let none = bot
        .get_updates()
        .offset(rest[0].id.0 as i32 + 1)
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(tg.pending_updates(), 0);
}

#[tokio::test]
async fn overlapping_polls_terminate_the_older_one_with_409() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let older = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    tg.wait_until(SECS5, "first poll pending", |t| {
        t.calls("getUpdates").len() == 1
    })
    .await;
    let newer = bot.get_updates().timeout(0).await.unwrap();
    assert!(newer.is_empty());
    let err = older.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Api(ApiError::TerminatedByOtherGetUpdates)
        ),
        "{err:?}"
    );
    let calls = tg.calls("getUpdates");
    assert_eq!(calls[0].status, 409);
    assert_eq!(
        calls[0].description(),
        Some(
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
        )
    );
}

#[tokio::test]
async fn allowed_updates_filters_new_updates() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let (_, body) = raw(
        &tg,
        "getUpdates",
        json!({"allowed_updates": ["callback_query"]}),
    )
    .await;
    assert_eq!(body["result"], json!([]));
    tg.send_text(&u, "ignored");
    assert_eq!(tg.pending_updates(), 0);
    raw(&tg, "getUpdates", json!({"allowed_updates": []})).await;
    tg.send_text(&u, "seen");
    assert_eq!(tg.pending_updates(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_fake_answers_pending_polls_and_stops_the_server() {
    let tg = FakeTelegram::start().await;
    let url = format!("{}/bot{}/getUpdates", tg.api_url(), tg.token());
    let started = tokio::time::Instant::now();
    let poll = tokio::spawn({
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"timeout": 10}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    tg.wait_until(SECS5, "poll pending", |t| t.calls("getUpdates").len() == 1)
        .await;
    drop(tg);
    assert_eq!(poll.await.unwrap().unwrap(), 200);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "answered at the drop, not at the timeout: {elapsed:?}"
    );
    // The server closes its socket once its last connection is done.
    eventually("the server refuses connections", async || {
        reqwest::Client::new().post(&url).send().await.is_err()
    })
    .await;
}

// ---------------------------------------------------------------------------
// End to end through teloxide's Dispatcher
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_end_to_end_text_keyboard_and_callback() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let handler = dptree::entry()
        .branch(
            Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                let text = msg.text().unwrap_or_default().to_owned();
                if text == "/start" {
                    let kb = InlineKeyboardMarkup::new([[
                        InlineKeyboardButton::callback("Yes", "pick:yes"),
                        InlineKeyboardButton::callback("No", "pick:no"),
                    ]]);
                    bot.send_message(msg.chat.id, "Pick one")
                        .reply_markup(kb)
                        .await?;
                } else {
                    bot.send_chat_action(msg.chat.id, ChatAction::Typing)
                        .await?;
                    bot.send_message(
                        msg.chat.id,
                        format!("echo: <b>{}</b>", teloxide::utils::html::escape(&text)),
                    )
                    .parse_mode(ParseMode::Html)
                    .await?;
                }
                respond(())
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |bot: Bot, q: CallbackQuery| async move {
                bot.answer_callback_query(q.id.clone())
                    .text("noted")
                    .await?;
                let m = q
                    .regular_message()
                    .expect("callback query carries the message");
                assert_eq!(m.text(), Some("Pick one"));
                assert!(m.reply_markup().is_some());
                bot.edit_message_text(m.chat.id, m.id, format!("You picked {}", q.data.unwrap()))
                    .await?;
                respond(())
            },
        ));
    let mut dispatcher = Dispatcher::builder(bot_for(&tg), handler).build();
    tokio::spawn(async move { dispatcher.dispatch().await });

    tg.send_text(&u, "a < b & c");
    let reply = tg
        .wait_for(u.chat_id(), SECS5, |m| m.text.starts_with("echo:"))
        .await;
    assert_eq!(reply.text, "echo: <b>a &lt; b &amp; c</b>");
    assert_eq!(reply.plain(), "echo: a < b & c");
    assert_eq!(reply.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        reply.raw["entities"],
        json!([{"type": "bold", "offset": 6, "length": 9}])
    );
    assert_eq!(tg.chat_actions(u.chat_id())[0].0, "typing");

    tg.send_text(&u, "/start");
    let menu = tg
        .wait_for(u.chat_id(), SECS5, |m| m.text == "Pick one")
        .await;
    assert_eq!(menu.callback_datas(), ["pick:yes", "pick:no"]);
    assert_eq!(
        menu.button("No").unwrap().callback_data.as_deref(),
        Some("pick:no")
    );

    let qid = tg.press_button(&u, menu.message_id, "pick:yes");
    let edited = tg
        .wait_for(u.chat_id(), SECS5, |m| {
            m.message_id == menu.message_id && m.edited
        })
        .await;
    assert_eq!(edited.text, "You picked pick:yes");
    assert!(
        edited.buttons.is_empty(),
        "editMessageText without reply_markup drops the keyboard"
    );
    tg.wait_until(SECS5, "callback answered", |t| {
        !t.callback_answers().is_empty()
    })
    .await;
    let answers = tg.callback_answers();
    assert_eq!(answers[0].query_id, qid);
    assert_eq!(answers[0].text.as_deref(), Some("noted"));
    assert!(!answers[0].show_alert);
    assert_eq!(tg.wait_for_count(u.chat_id(), 2, SECS5).await.len(), 2);
    tg.wait_until(SECS5, "all updates confirmed", |t| t.pending_updates() == 0)
        .await;
    // The dispatcher started the way the reference says.
    assert!(!tg.calls("getMe").is_empty());
    assert!(!tg.calls("getWebhookInfo").is_empty());
    assert_eq!(tg.calls("getUpdates")[0].params["timeout"], json!(10));
}

#[tokio::test]
#[should_panic(expected = "no matching bot message in chat 1001")]
async fn wait_for_panics_with_a_dump_on_timeout() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    bot_for(&tg)
        .send_message(ChatId(1001), "something else")
        .await
        .unwrap();
    tg.send_text(&u, "hi");
    tg.wait_for(u.chat_id(), Duration::from_millis(200), |m| {
        m.text == "never"
    })
    .await;
}

// ---------------------------------------------------------------------------
// sendMessage validation
// ---------------------------------------------------------------------------

#[tokio::test]
async fn html_good_and_bad() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let chat = ChatId(u.chat_id());

    let m = bot
        .send_message(
            chat,
            "<b>Bold</b> &amp; <i>it</i> <a href=\"https://example.com/x?a=1&amp;b=2\">link</a> \
             <pre><code class=\"language-rust\">let x = 1;</code></pre> <span class=\"tg-spoiler\">s</span> \
             <blockquote expandable>q</blockquote> &#128512; &#x41;",
        )
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(m.text(), Some("Bold & it link let x = 1; s q 😀 A"));
    let kinds: Vec<MessageEntityKind> = m
        .entities()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert!(matches!(kinds[0], MessageEntityKind::Bold));
    assert!(matches!(kinds[1], MessageEntityKind::Italic));
    assert!(
        matches!(&kinds[2], MessageEntityKind::TextLink { url } if url.as_str() == "https://example.com/x?a=1&b=2")
    );
    assert!(matches!(&kinds[3], MessageEntityKind::Pre { language: Some(l) } if l == "rust"));
    assert!(matches!(kinds[4], MessageEntityKind::Spoiler));
    assert!(matches!(kinds[5], MessageEntityKind::ExpandableBlockquote));

    let err = bot
        .send_message(chat, "<b>unclosed")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    match err {
        RequestError::Api(ApiError::CantParseEntities(d)) => assert_eq!(
            d,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
        ),
        other => panic!("{other:?}"),
    }

    let c = u.chat_id();
    assert_eq!(
        raw_send_error(&tg, c, "<foo>x</foo>", "HTML").await,
        "Bad Request: can't parse entities: Unsupported start tag \"foo\" at byte offset 0"
    );
    assert_eq!(
        raw_send_error(&tg, c, "<b>x</i>", "HTML").await,
        "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""
    );
    assert_eq!(
        raw_send_error(&tg, c, "1 < 2", "HTML").await,
        "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 2"
    );
    assert_eq!(
        raw_send_error(&tg, c, "x</b>", "HTML").await,
        "Bad Request: can't parse entities: Unexpected end tag at byte offset 1"
    );
    assert_eq!(
        raw_send_error(&tg, c, "a<b", "HTML").await,
        "Bad Request: can't parse entities: Unclosed start tag at byte offset 1"
    );
    assert_eq!(
        raw_send_error(&tg, c, "<span>x</span>", "HTML").await,
        "Bad Request: can't parse entities: Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
    );
    assert!(
        raw_send_error(&tg, c, "Tom & Jerry", "HTML")
            .await
            .starts_with("Bad Request: can't parse entities: Character '&' at byte offset 4")
    );
    assert!(
        raw_send_error(&tg, c, "&foo; bar", "HTML")
            .await
            .contains("'&'")
    );
    assert_eq!(
        raw_send_error(&tg, c, "x", "html5").await,
        "Bad Request: unsupported parse_mode"
    );
    // The real server keeps a bare '&' literally; the lenient mode does too.
    tg.set_strict_ampersand(false);
    let m = bot
        .send_message(chat, "Tom & Jerry &amp")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(m.text(), Some("Tom & Jerry &amp"));
    // Rejected sends leave no message behind.
    assert_eq!(tg.sent(c).len(), 2);
}

#[tokio::test]
async fn markdown_v2_rules() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let m = bot
        .send_message(
            ChatId(u.chat_id()),
            "*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://e.com) 1\\.5",
        )
        .parse_mode(ParseMode::MarkdownV2)
        .await
        .unwrap();
    assert_eq!(m.text(), Some("bold it u s sp c l 1.5"));
    assert_eq!(m.entities().unwrap().len(), 7);
    assert_eq!(
        raw_send_error(&tg, u.chat_id(), "Done. Next", "MarkdownV2").await,
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"
    );
    assert_eq!(
        raw_send_error(&tg, u.chat_id(), "*bold", "MarkdownV2").await,
        "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0"
    );
}

#[tokio::test]
async fn text_length_and_emptiness() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let chat = ChatId(u.chat_id());

    let err = bot.send_message(chat, "a".repeat(4097)).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageIsTooLong)),
        "{err:?}"
    );
    bot.send_message(chat, "я".repeat(4096)).await.unwrap();
    // The limit applies after entity parsing: tags and entities don't count.
    let html = format!("<b>{}</b>&amp;", "a".repeat(4095));
    bot.send_message(chat, html)
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    let html = format!("<b>{}</b>&amp;", "a".repeat(4096));
    let err = bot
        .send_message(chat, html)
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageIsTooLong)),
        "{err:?}"
    );

    let err = bot.send_message(chat, "").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "{err:?}"
    );
    let err = bot
        .send_message(chat, "<b> </b>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "{err:?}"
    );

    // Surrounding whitespace is trimmed and entity offsets (UTF-16) follow.
    let m = bot
        .send_message(chat, "  😀 <b>hi</b>  ")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(m.text(), Some("😀 hi"));
    assert_eq!(
        (
            m.entities().unwrap()[0].offset,
            m.entities().unwrap()[0].length
        ),
        (3, 2)
    );
}

#[tokio::test]
async fn reply_parameters_and_reply_keyboards() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let chat = ChatId(u.chat_id());
    let asked = tg.send_text(&u, "question");
    let m = bot
        .send_message(chat, "answer")
        .reply_parameters(ReplyParameters::new(MessageId(asked)))
        .reply_markup(KeyboardMarkup::new([[
            KeyboardButton::new("A"),
            KeyboardButton::new("B"),
        ]]))
        .await
        .unwrap();
    assert_eq!(m.reply_to_message().unwrap().text(), Some("question"));
    assert!(
        m.reply_markup().is_none(),
        "reply keyboards are not echoed in the Message"
    );
    let sent = &tg.sent(u.chat_id())[0];
    assert_eq!(sent.reply_to_message_id, Some(asked));
    assert!(sent.buttons.is_empty());
    assert_eq!(
        sent.reply_markup.as_ref().unwrap()["keyboard"][0][1]["text"],
        "B"
    );

    let err = bot
        .send_message(chat, "x")
        .reply_parameters(ReplyParameters::new(MessageId(999)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToReplyNotFound)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Keyboards, callbacks, edits, deletes
// ---------------------------------------------------------------------------

#[tokio::test]
async fn inline_keyboard_and_press_button_round_trip() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let kb = InlineKeyboardMarkup::new([
        vec![InlineKeyboardButton::callback("One", "n:1")],
        vec![InlineKeyboardButton::url(
            "Site",
            "https://example.com".parse().unwrap(),
        )],
    ]);
    let sent = bot
        .send_message(ChatId(u.chat_id()), "Choose")
        .reply_markup(kb)
        .await
        .unwrap();
    assert_eq!(sent.reply_markup().unwrap().inline_keyboard.len(), 2);
    let m = &tg.sent(u.chat_id())[0];
    assert_eq!(m.buttons[1][0].url.as_deref(), Some("https://example.com/"));

    let qid = tg.press_button(&u, sent.id.0, "n:1");
    let update = single_update(&bot).await;
    let UpdateKind::CallbackQuery(q) = update.kind else {
        panic!("{update:?}")
    };
    assert_eq!(q.id.0, qid);
    assert_eq!(q.data.as_deref(), Some("n:1"));
    assert_eq!(q.from.id, UserId(1001));
    let msg = q.regular_message().expect("message attached");
    assert_eq!(msg.id, sent.id);
    assert_eq!(msg.text(), Some("Choose"));
    assert_eq!(
        msg.from.as_ref().unwrap().id,
        sent.from.as_ref().unwrap().id
    );
    assert_eq!(
        msg.reply_markup().unwrap().inline_keyboard[0][0],
        InlineKeyboardButton::callback("One", "n:1")
    );

    bot.answer_callback_query(q.id.clone())
        .text("Done")
        .show_alert(true)
        .await
        .unwrap();
    assert_eq!(tg.callback_answers()[0].text.as_deref(), Some("Done"));
    assert!(tg.callback_answers()[0].show_alert);
    // A second answer, or an unknown id, fails like the real server.
    let err = bot.answer_callback_query(q.id.clone()).await.unwrap_err();
    assert!(format!("{err:?}").contains("query is too old"), "{err:?}");
    let (status, body) = raw(
        &tg,
        "answerCallbackQuery",
        json!({"callback_query_id": "nope"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );

    // Forged callback data is allowed through send_callback.
    tg.send_callback(&u, u.chat_id(), sent.id.0, "forged");
    let UpdateKind::CallbackQuery(q) = single_update(&bot).await.kind else {
        panic!()
    };
    assert_eq!(q.data.as_deref(), Some("forged"));
}

#[tokio::test]
#[should_panic(expected = "has no button with callback_data")]
async fn press_button_checks_the_keyboard() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let kb = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("One", "n:1")]]);
    let m = bot_for(&tg)
        .send_message(ChatId(u.chat_id()), "x")
        .reply_markup(kb)
        .await
        .unwrap();
    tg.press_button(&u, m.id.0, "n:2");
}

#[tokio::test]
async fn callback_data_over_64_bytes_is_rejected() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let kb = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("x", "d".repeat(65))]]);
    let err = bot
        .send_message(ChatId(u.chat_id()), "x")
        .reply_markup(kb)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ButtonDataInvalid)),
        "{err:?}"
    );
    let kb = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("x", "d".repeat(64))]]);
    bot.send_message(ChatId(u.chat_id()), "x")
        .reply_markup(kb)
        .await
        .unwrap();
}

#[tokio::test]
async fn edit_message_text_and_markup() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let chat = ChatId(u.chat_id());
    let kb = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("A", "a")]]);
    let m = bot
        .send_message(chat, "v1")
        .reply_markup(kb.clone())
        .await
        .unwrap();

    let err = bot
        .edit_message_text(chat, m.id, "v1")
        .reply_markup(kb.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );

    let edited = bot
        .edit_message_text(chat, m.id, "<i>v2</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(kb)
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("v2"));
    assert!(edited.edit_date().is_some());
    let now = &tg.sent(u.chat_id())[0];
    assert!(now.edited);
    assert_eq!(now.text, "<i>v2</i>");
    assert_eq!(now.plain(), "v2");
    assert_eq!(now.buttons[0][0].text, "A");

    let bare = bot.edit_message_reply_markup(chat, m.id).await.unwrap();
    assert!(bare.reply_markup().is_none());
    let err = bot.edit_message_reply_markup(chat, m.id).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );

    let err = bot
        .edit_message_text(chat, MessageId(777), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToEditNotFound)),
        "{err:?}"
    );
    let theirs = tg.send_text(&u, "mine");
    let err = bot
        .edit_message_text(chat, MessageId(theirs), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageCantBeEdited)),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_message() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let chat = ChatId(u.chat_id());
    let a = bot.send_message(chat, "keep").await.unwrap();
    let b = bot.send_message(chat, "drop").await.unwrap();
    bot.delete_message(chat, b.id).await.unwrap();
    assert_eq!(
        tg.sent(u.chat_id())
            .iter()
            .map(|m| m.message_id)
            .collect::<Vec<_>>(),
        [a.id.0]
    );
    assert_eq!(tg.deleted(u.chat_id())[0].text, "drop");
    let err = bot.delete_message(chat, b.id).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToDeleteNotFound)),
        "{err:?}"
    );
}

#[tokio::test]
async fn blocked_user_gets_403() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    tg.set_blocked(&u, true);
    let err = bot_for(&tg)
        .send_message(ChatId(u.chat_id()), "hi")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------

#[tokio::test]
async fn injected_429_surfaces_as_retry_after() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    tg.fail_next("sendMessage", 1, Failure::RetryAfter(2));
    let err = bot
        .send_message(ChatId(u.chat_id()), "hi")
        .await
        .unwrap_err();
    match err {
        RequestError::RetryAfter(s) => assert_eq!(s.duration(), Duration::from_secs(2)),
        other => panic!("{other:?}"),
    }
    let c = &tg.calls("sendMessage")[0];
    assert_eq!(c.status, 429);
    assert_eq!(
        c.response,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 2", "parameters": {"retry_after": 2}})
    );
    assert!(tg.sent(u.chat_id()).is_empty());
    bot.send_message(ChatId(u.chat_id()), "hi").await.unwrap();
}

#[tokio::test]
async fn throttle_adaptor_retries_after_429() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg).throttle(Limits::default());
    tg.fail_next("sendMessage", 1, Failure::RetryAfter(1));
    let m = bot
        .send_message(ChatId(u.chat_id()), "eventually")
        .await
        .unwrap();
    assert_eq!(m.text(), Some("eventually"));
    let calls = tg.calls("sendMessage");
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert!(calls[1].received_at - calls[0].received_at >= Duration::from_millis(950));
    assert_eq!(tg.sent(u.chat_id()).len(), 1);
}

#[tokio::test]
async fn other_injected_failures() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.fail_next("getMe", 1, Failure::Unauthorized);
    let err = bot.get_me().await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidToken)),
        "{err:?}"
    );
    bot.get_me().await.unwrap();

    // 5xx via raw HTTP (teloxide sleeps 10 s before reading any 5xx body).
    tg.fail_next("getme", 1, Failure::InternalServerError);
    tg.fail_next("getMe", 1, Failure::BadGateway);
    tg.fail_next(
        "getMe",
        1,
        Failure::Status(400, "Bad Request: custom".into()),
    );
    let (s, b) = raw(&tg, "getMe", json!({})).await;
    assert_eq!(
        (s, b["description"].as_str().unwrap()),
        (500, "Internal Server Error")
    );
    let url = format!("{}/bot{}/getMe", tg.api_url(), tg.token());
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 502);
    assert!(resp.text().await.unwrap().contains("502 Bad Gateway"));
    let err = bot.get_me().await.unwrap_err();
    assert!(
        matches!(&err, RequestError::Api(ApiError::Unknown(d)) if d == "Bad Request: custom"),
        "{err:?}"
    );
    assert_eq!(
        tg.calls("getMe")
            .iter()
            .map(|c| c.status)
            .collect::<Vec<_>>(),
        [401, 200, 500, 502, 400]
    );
}

#[tokio::test]
async fn wrong_token_is_invalid_token() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new("12345:wrong").set_api_url(tg.api_url().parse().unwrap());
    let err = bot.get_me().await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidToken)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

#[tokio::test]
async fn send_document_multipart_is_captured() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let bytes = b"# Notes\nhello world\n".to_vec();
    let m = bot
        .send_document(
            ChatId(u.chat_id()),
            InputFile::memory(bytes.clone()).file_name("notes.md"),
        )
        .caption("My <b>notes</b>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    let doc = m.document().unwrap();
    assert_eq!(doc.file_name.as_deref(), Some("notes.md"));
    assert_eq!(doc.file.size as usize, bytes.len());
    assert_eq!(m.caption(), Some("My notes"));
    assert!(matches!(media(&m), MediaKind::Document(_)));

    let docs = tg.documents(u.chat_id());
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].file_name, "notes.md");
    assert_eq!(docs[0].bytes, bytes);
    assert_eq!(docs[0].caption.as_deref(), Some("My <b>notes</b>"));
    assert_eq!(docs[0].mime, "text/markdown");
    let sent = &tg.sent(u.chat_id())[0];
    assert_eq!(sent.document.as_ref().unwrap().file_id, doc.file.id.0);
    assert_eq!(sent.plain(), "My notes");
    assert_eq!(
        tg.calls("sendDocument")[0].params["document"]["file_name"],
        "notes.md"
    );

    // The uploaded file can be fetched back.
    let f = bot.get_file(doc.file.id.clone()).await.unwrap();
    assert!(
        f.path.starts_with("documents/") && f.path.ends_with(".md"),
        "{}",
        f.path
    );
    let mut back = Vec::new();
    bot.download_file(&f.path, &mut back).await.unwrap();
    assert_eq!(back, bytes);

    // Caption limit.
    let err = bot
        .send_document(
            ChatId(u.chat_id()),
            InputFile::memory(b"x".to_vec()).file_name("a.txt"),
        )
        .caption("c".repeat(1025))
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("message caption is too long"),
        "{err:?}"
    );
}

#[tokio::test]
async fn get_file_and_download_registered_bytes() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let ogg = b"OggS\0fake opus data".to_vec();
    tg.register_file("voice-1", ogg.clone());
    tg.send_voice(&u, "voice-1", 3, Some("audio/ogg"), Some(ogg.len() as u64));
    let m = single_message(&bot).await;
    let voice = m.voice().unwrap();
    let f = bot.get_file(voice.file.id.clone()).await.unwrap();
    assert!(
        f.path.starts_with("voice/") && f.path.ends_with(".oga"),
        "{}",
        f.path
    );
    assert_eq!(f.meta.size as usize, ogg.len());
    let mut got = Vec::new();
    bot.download_file(&f.path, &mut got).await.unwrap();
    assert_eq!(got, ogg);
    assert_eq!(tg.downloads(), std::slice::from_ref(&f.path));

    let err = bot.get_file(FileId("unknown".into())).await.unwrap_err();
    assert!(format!("{err:?}").contains("invalid file_id"), "{err:?}");
}

// ---------------------------------------------------------------------------
// Commands, chat actions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn set_my_commands_per_language() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    bot.set_my_commands([
        BotCommand::new("start", "Start"),
        BotCommand::new("help", "Help"),
    ])
    .await
    .unwrap();
    bot.set_my_commands([BotCommand::new("start", "Начать")])
        .language_code("ru")
        .await
        .unwrap();
    assert_eq!(
        tg.commands(None),
        [
            ("start".to_owned(), "Start".to_owned()),
            ("help".to_owned(), "Help".to_owned())
        ]
    );
    assert_eq!(
        tg.commands(Some("ru")),
        [("start".to_owned(), "Начать".to_owned())]
    );
    assert!(tg.commands(Some("de")).is_empty());
    let ru = bot.get_my_commands().language_code("ru").await.unwrap();
    assert_eq!(ru, [BotCommand::new("start", "Начать")]);
    let err = bot
        .set_my_commands([BotCommand::new("Bad Cmd", "x")])
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("BOT_COMMAND_INVALID"),
        "{err:?}"
    );
    bot.delete_my_commands().language_code("ru").await.unwrap();
    assert!(tg.commands(Some("ru")).is_empty());
}

#[tokio::test]
async fn chat_actions_are_recorded() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let before = Instant::now();
    bot.send_chat_action(ChatId(u.chat_id()), ChatAction::Typing)
        .await
        .unwrap();
    bot.send_chat_action(ChatId(u.chat_id()), ChatAction::UploadDocument)
        .await
        .unwrap();
    let actions = tg.chat_actions(u.chat_id());
    assert_eq!(
        actions.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["typing", "upload_document"]
    );
    assert!(actions[0].1 >= before);
}

// ---------------------------------------------------------------------------
// Incoming message kinds
// ---------------------------------------------------------------------------

#[tokio::test]
async fn incoming_media_deserialize_as_the_right_kinds() {
    let tg = FakeTelegram::start().await;
    let u = tg.user(2002, "Boris", Some("ru")).with_username("boris");
    let bot = bot_for(&tg);

    tg.send_voice(&u, "v1", 7, Some("audio/ogg"), Some(12345));
    let m = single_message(&bot).await;
    let MediaKind::Voice(v) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(v.voice.duration.seconds(), 7);
    assert_eq!(
        v.voice.mime_type.as_ref().unwrap().essence_str(),
        "audio/ogg"
    );
    assert_eq!(v.voice.file.size, 12345);
    assert_eq!(m.from.as_ref().unwrap().username.as_deref(), Some("boris"));

    tg.send_photo(&u, "p1", Some("look"));
    let m = single_message(&bot).await;
    let MediaKind::Photo(p) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(p.photo.len(), 3);
    assert_eq!(p.photo.last().unwrap().file.id.0, "p1");
    assert_eq!(p.caption.as_deref(), Some("look"));

    tg.send_sticker(&u, "s1", "👍");
    let m = single_message(&bot).await;
    let MediaKind::Sticker(s) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(s.sticker.emoji.as_deref(), Some("👍"));
    assert!(s.sticker.is_static() && s.sticker.is_regular());

    tg.send_location(&u, 55.75, 37.62);
    let m = single_message(&bot).await;
    let MediaKind::Location(l) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!((l.location.latitude, l.location.longitude), (55.75, 37.62));

    tg.send_audio(&u, "a1", 200, Some("song.mp3"), Some("audio/mpeg"));
    let m = single_message(&bot).await;
    let MediaKind::Audio(a) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(a.audio.file_name.as_deref(), Some("song.mp3"));

    tg.register_file("d1", b"%PDF-1.4".to_vec());
    tg.send_document(&u, "d1", "paper.pdf", Some("application/pdf"));
    let m = single_message(&bot).await;
    let MediaKind::Document(d) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(d.document.file_name.as_deref(), Some("paper.pdf"));
    assert_eq!(d.document.file.size, 8);

    tg.send_video_note(&u, "vn1", 5, 240);
    let m = single_message(&bot).await;
    let MediaKind::VideoNote(vn) = media(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(vn.video_note.length, 240);

    tg.send_raw_message(
        u.chat_id(),
        &u,
        json!({"contact": {"phone_number": "+100", "first_name": "C"}}),
    );
    let m = single_message(&bot).await;
    assert!(matches!(media(&m), MediaKind::Contact(_)), "{m:?}");

    tg.send_text(&u, "/start deep-link");
    let m = single_message(&bot).await;
    let MediaKind::Text(t) = media(&m) else {
        panic!("{m:?}")
    };
    assert!(matches!(t.entities[0].kind, MessageEntityKind::BotCommand));
    assert_eq!((t.entities[0].offset, t.entities[0].length), (0, 6));
}

#[tokio::test]
async fn group_and_supergroup_messages() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let bot = bot_for(&tg);
    let mid = tg.send_group_text(-1001234567890, &u, "/start@fake_test_bot now");
    let m = single_message(&bot).await;
    assert!(m.chat.is_supergroup());
    assert_eq!(m.id, MessageId(mid));
    assert_eq!(m.entities().unwrap()[0].length, 20);
    tg.send_group_text(-42, &u, "hi all");
    let m = single_message(&bot).await;
    assert!(m.chat.is_group());
    let reply = bot.send_message(m.chat.id, "hello group").await.unwrap();
    assert_eq!(reply.id, MessageId(2), "message ids are counted per chat");
    assert_eq!(tg.sent(-42)[0].text, "hello group");
}

#[tokio::test]
async fn entities_inside_code_are_dropped() {
    let tg = FakeTelegram::start().await;
    let u = alice(&tg);
    let m = bot_for(&tg)
        .send_message(
            ChatId(u.chat_id()),
            "<code>a<b>b</b></code> <pre><code>x</code></pre> <b><code>y</code></b>",
        )
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    let kinds: Vec<String> = m
        .entities()
        .unwrap()
        .iter()
        .map(|e| format!("{:?}", e.kind))
        .collect();
    // Bold spanning exactly the code is dropped too: code can't contain or be part of other entities.
    assert_eq!(kinds, ["Code", "Pre { language: None }", "Code"]);
}
