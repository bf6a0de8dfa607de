//! Updates pushed by Telegram to the webhook: saved before they are answered 200, refused
//! without the secret, delivered again after a crash, and the webhook left in place when the
//! bot stops.

use ai_interviewer::telegram::{self, WebhookCommand, webhook::SECRET_HEADER};

use crate::support::{
    FakeAnthropic, RunningBot,
    anthropic::API_KEY,
    binary,
    bot::{BotOptions, WAIT, spawn_bot},
    eventually, settings,
    telegram::FakeTelegram,
};

const SECRET: &str = "hook_Secret-0123456789";

/// A free port on the loopback interface, for the webhook's address (Telegram must know the
/// URL before the bot listens on it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The webhook's settings for a bot on `port`.
fn webhook_vars(port: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "WEBHOOK_URL",
            format!("http://127.0.0.1:{port}/telegram/hook"),
        ),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
        ("WEBHOOK_ADDR", format!("127.0.0.1:{port}")),
    ]
}

/// `ai-interviewer webhook set` against the fake, as an operator runs it once.
async fn set_webhook(telegram: &FakeTelegram, port: u16) {
    let mut vars = webhook_vars(port);
    vars.extend([
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
    ]);
    let config = settings(&vars).telegram;
    telegram::webhook_command(&config, WebhookCommand::Set)
        .await
        .expect("the webhook is set");
}

#[tokio::test]
async fn webhook_set_points_telegram_at_the_url_with_the_secret_and_one_connection() {
    let telegram = FakeTelegram::start().await;
    set_webhook(&telegram, 9).await;
    assert_eq!(
        telegram.webhook(),
        Some((
            "http://127.0.0.1:9/telegram/hook".to_owned(),
            Some(SECRET.to_owned())
        ))
    );
    let call = &telegram.calls("setWebhook")[0];
    assert_eq!(
        call.params["max_connections"].to_string().trim_matches('"'),
        "1"
    );
    let config = settings(&[
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
    ])
    .telegram;
    telegram::webhook_command(&config, WebhookCommand::Delete)
        .await
        .unwrap();
    assert_eq!(telegram.webhook(), None);
}

#[tokio::test]
async fn an_interview_runs_on_updates_pushed_to_the_webhook_and_the_webhook_outlives_a_restart() {
    let port = free_port();
    let mut bot = spawn_bot(BotOptions {
        vars: webhook_vars(port),
        ..BotOptions::default()
    })
    .await;
    set_webhook(&bot.telegram, port).await;
    let ann = bot.telegram.user(4201, "Ann", Some("en"));
    let question = bot.start_interview(&ann, "en", 0).await;
    assert!(
        question.plain().starts_with("Stage 1/9"),
        "{}",
        question.plain()
    );
    bot.restart().await;
    bot.say(&ann, "I repair pumps.").await;
    bot.settled().await;
    assert!(bot.telegram.calls("getUpdates").is_empty(), "never polled");
    assert!(
        bot.telegram.calls("deleteWebhook").is_empty(),
        "a stopping bot leaves the webhook to the others"
    );
    assert!(bot.telegram.webhook().is_some());
    let answered = bot.telegram.webhook_deliveries();
    assert!(!answered.is_empty());
    let mut ids: Vec<i64> = answered
        .iter()
        .filter(|d| d.status == 200)
        .map(|d| d.update_id)
        .collect();
    let delivered = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), delivered, "each update answered 200 once");
}

#[tokio::test]
async fn a_request_without_the_secret_is_refused_and_nothing_is_stored() {
    let port = free_port();
    let bot = spawn_bot(BotOptions {
        vars: webhook_vars(port),
        ..BotOptions::default()
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/telegram/hook");
    let update = serde_json::json!({"update_id": 7, "message": {"message_id": 1, "date": 0,
        "chat": {"id": 4202, "type": "private", "first_name": "Eve"},
        "from": {"id": 4202, "is_bot": false, "first_name": "Eve"}, "text": "/start"}});
    let client = reqwest::Client::new();
    // The bot serves its webhook once it has checked it; until then the post is refused.
    let status = eventually("the webhook answers", async || {
        client
            .post(&url)
            .json(&update)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    })
    .await;
    assert_eq!(status, 401, "no secret");
    let wrong = client
        .post(&url)
        .header(SECRET_HEADER, "hook_Secret-0123456788")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401, "a wrong secret");
    let garbage = client
        .post(&url)
        .header(SECRET_HEADER, SECRET)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    assert!(bot.telegram.sent(4202).is_empty());
    assert!(bot.unhandled().is_empty());
    assert!(!bot.dir.path().join("4202.json").exists());
}

#[tokio::test]
async fn an_update_saved_by_a_bot_killed_before_it_answered_is_sent_again_and_answered_once() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    set_webhook(&telegram, port).await;
    let mut vars = webhook_vars(port);
    vars.extend([
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", anthropic.url.clone()),
    ]);
    let start = |crash_at: Option<&str>| {
        let mut cmd = binary(dir.path());
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        if let Some(point) = crash_at {
            cmd.env(ai_interviewer::faults::CRASH_AT, point);
        }
        RunningBot(cmd.spawn().unwrap())
    };
    let ann = telegram.user(4203, "Ann", Some("en"));
    let mut first = start(Some("webhook-saved"));
    telegram.send_text(&ann, "/start");
    let ended = eventually("the bot reaches its crash point", async || {
        first.0.try_wait().unwrap()
    })
    .await;
    assert!(!ended.success());
    assert!(telegram.sent(ann.chat_id()).is_empty());
    assert_eq!(
        telegram.pending_updates(),
        1,
        "Telegram keeps it: no 2xx came"
    );

    let _second = start(None);
    let welcome = telegram.wait_for_count(ann.chat_id(), 1, WAIT).await;
    assert!(welcome[0].plain().starts_with("Hello, Ann!"));
    eventually("the update is answered", async || {
        telegram.pending_updates() == 0
    })
    .await;
    let deliveries = telegram.webhook_deliveries();
    assert!(deliveries.iter().any(|d| d.status != 200), "{deliveries:?}");
    assert_eq!(
        deliveries.iter().filter(|d| d.status == 200).count(),
        1,
        "{deliveries:?}"
    );
    // Answered once: nothing more arrives when a second message comes.
    telegram.send_text(&ann, "/help");
    telegram.wait_for_count(ann.chat_id(), 2, WAIT).await;
    assert_eq!(
        telegram
            .sent(ann.chat_id())
            .iter()
            .filter(|m| m.plain().starts_with("Hello, Ann!"))
            .count(),
        1
    );
}
