//! Nothing a user sends is lost, nothing is sent twice: redeliveries, blocks, floods, bursts,
//! Telegram's pauses and failing storage, against the real bot in-process.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    bot::{BotOptions, TestBot, spawn_bot},
    eventually,
    telegram::{CALLBACK_ANSWER_WINDOW, Failure, TestUser},
};

async fn bot() -> TestBot {
    spawn_bot(BotOptions::default()).await
}

fn expert_answers(session: &Value) -> Vec<String> {
    session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == "expert")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_update_delivered_again_has_no_second_effect() {
    let bot = bot().await;
    let ann = bot.telegram.user(701, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "I weld pipelines.").await;
    let answer = bot.telegram.last_update_id().unwrap();
    bot.settled().await;
    assert!(bot.telegram.redeliver(answer));
    // The next message is the reply to the next answer: the redelivered one changed nothing.
    let reply = bot.say(&ann, "Gas lines, mostly.").await;
    assert!(reply.plain().contains("Could you tell me more"));
    assert_eq!(bot.count(&ann), 4);
    assert_eq!(
        expert_answers(&bot.session(&ann).unwrap()),
        vec!["I weld pipelines.", "Gas lines, mostly."]
    );
}

#[tokio::test]
async fn a_user_who_blocked_the_bot_gets_the_waiting_question_when_they_come_back() {
    let bot = bot().await;
    let ann = bot.telegram.user(702, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies();
    let calls = bot.anthropic.count();
    bot.telegram.send_text(&ann, "Let me think about it.");
    eventually("the answer reached Claude", async || {
        bot.anthropic.count() > calls
    })
    .await;
    bot.telegram.set_blocked(&ann, true);
    bot.anthropic.release_replies();
    let record = bot.dir.path().join("chats/702.json");
    eventually("the bot knows it is blocked", async || {
        std::fs::read_to_string(&record).is_ok_and(|r| r.contains("\"blocked\":true"))
    })
    .await;
    assert_eq!(bot.count(&ann), 2, "nothing reached the user meanwhile");
    bot.telegram.set_blocked(&ann, false);
    bot.telegram.send_text(&ann, "/start");
    let waiting = bot.next(&ann).await;
    assert!(
        waiting.plain().contains("Could you tell me more"),
        "the question generated meanwhile comes first: {}",
        waiting.plain()
    );
    let offer = bot.next(&ann).await;
    assert!(offer.plain().contains("in progress"), "{}", offer.plain());
}

#[tokio::test]
async fn a_start_flood_gets_one_answer_and_the_next_real_answer_is_answered() {
    let bot = bot().await;
    let ann = bot.telegram.user(703, "Ann", Some("en"));
    for _ in 0..50 {
        bot.telegram.send_text(&ann, "/start");
    }
    let welcome = bot.next(&ann).await;
    bot.settled().await;
    assert_eq!(bot.count(&ann), 1, "one welcome for fifty /start");
    bot.press(&ann, &welcome, "lang:en");
    let styles = bot.offers(&ann, &welcome, "style:0").await;
    bot.press(&ann, &styles, "style:0");
    let briefing = bot.offers(&ann, &welcome, "begin").await;
    bot.press(&ann, &briefing, "begin");
    bot.next(&ann).await;
    // The same in the middle of an interview: one offer to resume.
    for _ in 0..50 {
        bot.telegram.send_text(&ann, "/start");
    }
    let offer = bot.next(&ann).await;
    bot.settled().await;
    assert_eq!(bot.count(&ann), 3, "one offer for fifty /start");
    bot.press(&ann, &offer, &offer.callback_datas()[0]);
    bot.next(&ann).await;
    let reply = bot.say(&ann, "My real answer.").await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    assert_eq!(
        expert_answers(&bot.session(&ann).unwrap()),
        vec!["My real answer."]
    );
}

#[tokio::test]
async fn two_hundred_users_pressing_buttons_at_once_all_get_their_answers_in_time() {
    let bot = bot().await;
    let users: Vec<TestUser> = (0..200)
        .map(|i| bot.telegram.user(10_000 + i, "User", Some("en")))
        .collect();
    for user in &users {
        bot.telegram.send_text(user, "/start");
    }
    let mut welcomes = Vec::new();
    for user in &users {
        welcomes.push(bot.next(user).await);
    }
    let queries: Vec<String> = users
        .iter()
        .zip(&welcomes)
        .map(|(user, welcome)| bot.press(user, welcome, "lang:en"))
        .collect();
    for query in &queries {
        bot.callback_answer(query).await;
    }
    // The fake refuses an answer given more than 15 s after the press, as Telegram does.
    let failed: Vec<_> = bot
        .telegram
        .calls("answerCallbackQuery")
        .into_iter()
        .filter(|c| c.status != 200)
        .collect();
    assert!(
        failed.is_empty(),
        "{} answers came after {CALLBACK_ANSWER_WINDOW:?}",
        failed.len()
    );
    for (user, welcome) in users.iter().zip(&welcomes).take(5) {
        bot.offers(user, welcome, "style:0").await;
    }
}

#[tokio::test]
async fn a_huge_retry_after_pauses_only_its_chat_and_the_reply_is_kept() {
    let bot = bot().await;
    let ann = bot.telegram.user(704, "Ann", Some("en"));
    let bob = bot.telegram.user(705, "Bob", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.start_interview(&bob, "en", 0).await;
    bot.settled().await;
    bot.telegram
        .fail_next("sendMessage", 1, Failure::RetryAfter(u32::MAX));
    bot.telegram
        .send_text(&ann, "An answer Telegram will not take yet.");
    eventually("Telegram refused the reply with a 429", async || {
        bot.telegram
            .calls("sendMessage")
            .iter()
            .any(|c| c.status == 429)
    })
    .await;
    // Another chat is served as usual, and the bot is alive.
    let reply = bot.say(&bob, "Bob's answer.").await;
    assert!(reply.plain().contains("Could you tell me more"));
    let session = bot.session(&ann).unwrap();
    let last = session["transcript"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "interviewer");
    assert_eq!(last["delivered"], false, "kept until Telegram takes it");
    assert_eq!(bot.count(&ann), 2);
}

#[tokio::test]
async fn with_storage_failing_a_new_user_still_gets_a_reply() {
    let bot = bot().await;
    // The chat records' folder turns into a file: every chat record write now fails.
    let chats = bot.dir.path().join("chats");
    std::fs::remove_dir_all(&chats).unwrap();
    std::fs::write(&chats, b"in the way").unwrap();
    let ann = bot.telegram.user(706, "Ann", Some("en"));
    let reply = bot.say(&ann, "/start").await;
    assert!(
        reply.plain().contains("Something went wrong on our side"),
        "{}",
        reply.plain()
    );
    // Storage comes back: the same user is served normally.
    std::fs::remove_file(&chats).unwrap();
    std::fs::create_dir(&chats).unwrap();
    let welcome = bot.say(&ann, "/start").await;
    assert!(
        welcome.plain().starts_with("Hello, Ann!"),
        "{}",
        welcome.plain()
    );
}

#[tokio::test]
async fn a_chat_worker_ends_when_quiet_and_comes_back_on_the_next_message() {
    let bot = spawn_bot(BotOptions {
        worker_idle: Some(Duration::from_millis(200)),
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(707, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "First answer.").await;
    bot.settled().await;
    eventually("the worker ended", async || bot.workers() == 0).await;
    let reply = bot.say(&ann, "Second answer.").await;
    assert!(reply.plain().contains("Could you tell me more"));
    assert_eq!(
        expert_answers(&bot.session(&ann).unwrap()),
        vec!["First answer.", "Second answer."]
    );
}
