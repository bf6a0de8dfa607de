//! The bot end to end: the real dispatcher against the fake Telegram and Anthropic servers.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    EngineOptions, Reply,
    bot::{BotOptions, TestBot, WAIT, spawn_bot},
    eventually,
    telegram::{Failure, SentMessage, TestUser},
};

async fn bot() -> TestBot {
    spawn_bot(BotOptions::default()).await
}

#[tokio::test]
async fn a_whole_interview_in_english_runs_through_the_buttons_to_the_report() {
    let bot = bot().await;
    let ann = bot.telegram.user(501, "Ann", Some("en-GB"));
    let welcome = bot.say(&ann, "/start").await;
    assert!(
        welcome.plain().starts_with("Hello, Ann!"),
        "{}",
        welcome.plain()
    );
    assert_eq!(welcome.callback_datas(), vec!["lang:en", "lang:ru"]);
    bot.press(&ann, &welcome, "lang:en");
    // Onboarding edits the same message: language, then interviewer, then briefing.
    let styles = bot.offers(&ann, &welcome, "style:2").await;
    assert_eq!(styles.callback_datas().len(), 5);
    assert!(styles.plain().starts_with("Language: English ✓"));
    assert!(
        styles
            .plain()
            .contains("Short messages, one quick question at a time")
    );
    bot.press(&ann, &styles, "style:2");
    let briefing = bot.offers(&ann, &welcome, "begin").await;
    assert!(
        briefing.plain().contains("nine stages") && briefing.plain().contains("90–120 minutes")
    );
    assert!(briefing.plain().contains("/status") && briefing.plain().contains("/complete"));
    assert_eq!(briefing.callback_datas(), vec!["begin"]);
    bot.press(&ann, &briefing, "begin");
    let first = bot.next(&ann).await;
    assert_eq!(
        bot.count(&ann),
        2,
        "onboarding took one message, edited, then the first question"
    );
    let settled = bot.telegram.sent(ann.chat_id())[0].clone();
    assert!(settled.buttons.is_empty(), "the Begin button is gone");
    assert!(
        first.plain().starts_with("Stage 1/9 · Greeting"),
        "{}",
        first.plain()
    );
    assert!(first.text.starts_with("<b>Stage 1/9 · Greeting</b>"));
    assert_eq!(first.parse_mode.as_deref(), Some("HTML"));
    // The personality chosen reaches Claude's system prompt.
    let system = bot.anthropic.received()[0].body["system"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains("held in English"));
    assert!(
        bot.anthropic.received()[0].body["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("[Interview engine]")
    );

    let mut stages_seen = Vec::new();
    let mut report = None;
    for _ in 0..60 {
        bot.telegram
            .send_text(&ann, "Here is a detailed answer about my craft.");
        let reply = bot.next(&ann).await;
        if let Some(header) = reply
            .plain()
            .lines()
            .next()
            .filter(|l| l.starts_with("Stage "))
        {
            stages_seen.push(header.to_owned());
        }
        if reply.plain().contains("100%") && reply.plain().contains("[wrap_up]") {
            let notice = bot.next(&ann).await;
            assert!(
                notice.plain().contains("end of the interview"),
                "{}",
                notice.plain()
            );
            report = Some(bot.next(&ann).await);
            break;
        }
    }
    let report = report.expect("the interview reached its end");
    let document = report.document.expect("the report is a document");
    assert_eq!(document.file_name, "knowledge-report.md");
    let markdown = String::from_utf8(document.bytes).unwrap();
    assert!(markdown.starts_with("# Knowledge report"));
    assert!(markdown.contains("## 3. The task diagram"), "{markdown}");
    assert_eq!(
        stages_seen.len(),
        8,
        "a header for each new stage: {stages_seen:?}"
    );
    assert!(stages_seen.last().unwrap().contains("9/9 · Wrap-up"));
    // The report's one-screen summary asks the expert to check it.
    let screen = bot.next(&ann).await;
    assert!(
        screen.plain().contains("report is ready"),
        "{}",
        screen.plain()
    );
    let confirm = format!("ok:{}", bot.session(&ann).unwrap()["id"]);
    bot.press(&ann, &screen, &confirm);
    let thanks = bot.next(&ann).await;
    assert!(thanks.plain().contains("confirmed"), "{}", thanks.plain());
    // Archived once everything is delivered: the interview left the active files and sits in
    // completed/ with its report, as delivered.
    bot.settled().await;
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
    assert_eq!(std::fs::read_to_string(archived).unwrap(), markdown);
    // Typing was shown while Claude worked.
    assert!(!bot.telegram.chat_actions(ann.chat_id()).is_empty());
    // After the end, text points to /start.
    assert!(bot.say(&ann, "hello?").await.plain().contains("/start"));
}

#[tokio::test]
async fn a_whole_interview_in_russian_runs_through_the_buttons_to_the_report() {
    let bot = bot().await;
    let ivan = bot.telegram.user(502, "Иван", Some("ru"));
    let welcome = bot.say(&ivan, "/start").await;
    assert!(
        welcome.plain().starts_with("Здравствуйте, Иван!"),
        "{}",
        welcome.plain()
    );
    assert_eq!(
        welcome.callback_datas(),
        vec!["lang:ru", "lang:en"],
        "the detected language first"
    );
    bot.press(&ivan, &welcome, "lang:ru");
    let styles = bot.offers(&ivan, &welcome, "style:0").await;
    assert!(styles.plain().contains("Выберите интервьюера"));
    bot.press(&ivan, &styles, "style:0");
    let briefing = bot.offers(&ivan, &welcome, "begin").await;
    assert!(briefing.plain().contains("девять этапов"));
    bot.press(&ivan, &briefing, "begin");
    let first = bot.next(&ivan).await;
    assert!(
        first.plain().starts_with("Этап 1/9 · Знакомство"),
        "{}",
        first.plain()
    );
    let system = bot.anthropic.received()[0].body["system"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains("held in Russian"));

    let status = bot.say(&ivan, "/status").await;
    assert!(status.plain().contains("Этап 1 из 9"), "{}", status.plain());

    let mut finished = false;
    for _ in 0..60 {
        bot.telegram
            .send_text(&ivan, "Подробный ответ о моей работе.");
        let reply = bot.next(&ivan).await;
        if reply.plain().contains("100%") && reply.plain().contains("[wrap_up]") {
            assert!(bot.next(&ivan).await.plain().contains("Интервью завершено"));
            let report = bot.next(&ivan).await;
            assert_eq!(report.plain(), "Ваш отчёт о профессиональном опыте");
            let markdown = String::from_utf8(report.document.unwrap().bytes).unwrap();
            assert!(markdown.starts_with("# Отчёт о профессиональном опыте"));
            assert!(markdown.contains("## 3. Схема работы"), "{markdown}");
            assert!(markdown.contains("Эксперт рассказывает"), "{markdown}");
            let screen = bot.next(&ivan).await;
            assert!(
                screen
                    .plain()
                    .contains("Отчёт о вашем профессиональном опыте готов")
            );
            assert_eq!(
                screen
                    .buttons
                    .iter()
                    .flatten()
                    .map(|b| b.text.clone())
                    .collect::<Vec<_>>(),
                vec!["✅ Подтвердить", "✏️ Исправить"]
            );
            finished = true;
            break;
        }
    }
    assert!(finished);
    // The command menu is registered in both languages.
    let ru: Vec<String> = bot
        .telegram
        .commands(Some("ru"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let en: Vec<String> = bot
        .telegram
        .commands(Some("en"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(ru, en);
    assert!(ru.contains(&"status".to_owned()) && ru.contains(&"delete".to_owned()));
    assert!(!ru.contains(&"metrics".to_owned()));
    assert!(
        bot.telegram
            .commands(Some("ru"))
            .iter()
            .any(|(_, d)| d.contains("Прогресс"))
    );
}

#[tokio::test]
async fn status_shows_the_stage_progress_time_answers_and_insights() {
    let bot = bot().await;
    let ann = bot.telegram.user(503, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.clock.advance(Duration::from_secs(120));
    bot.say(&ann, "I am Ann, I weld pipelines").await;
    bot.clock.advance(Duration::from_secs(180));
    bot.say(&ann, "Mostly high-pressure gas lines").await;
    let status = bot.say(&ann, "/status").await;
    let text = status.plain();
    assert!(text.starts_with("Stage 2 of 9: Profile"), "{text}");
    assert!(status.text.starts_with("<b>Stage 2 of 9: Profile</b>"));
    assert!(text.contains("▰▰▱▱▱▱▱▱▱"));
    assert!(text.contains("✅ Greeting: 100% · 2 of 5 min"), "{text}");
    assert!(text.contains("▶️ Profile: 50% · 3 of 10 min"), "{text}");
    assert!(text.contains("▫️ Wrap-up: 0% · 0 of 5 min"));
    assert!(
        text.contains("Time: 5 of about 125 min · answers: 2 · insights: 2"),
        "{text}"
    );
}

#[tokio::test]
async fn model_text_is_escaped_for_html() {
    let bot = bot().await;
    let ann = bot.telegram.user(504, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic
        .script([Reply::Respond("Is it <b>A</b> & B, or <i>C?".into())]);
    let reply = bot.say(&ann, "Both").await;
    // The fake moves on to profiling here, so the reply opens with the new stage's header.
    assert_eq!(
        reply.text,
        "<b>Stage 2/9 · Profile</b>\n\nIs it &lt;b&gt;A&lt;/b&gt; &amp; B, or &lt;i&gt;C?"
    );
    assert_eq!(
        reply.plain(),
        "Stage 2/9 · Profile\n\nIs it <b>A</b> & B, or <i>C?"
    );
}

#[tokio::test]
async fn a_10000_character_reply_is_split_at_paragraphs_within_the_limit() {
    let bot = bot().await;
    let ann = bot.telegram.user(505, "Ann", Some("en"));
    // The fake stays in the greeting stage, so the reply has no stage header.
    bot.anthropic.set_step(1);
    bot.start_interview(&ann, "en", 0).await;
    let paragraph = format!(
        "{} & that <matters>.",
        "A long paragraph of careful reasoning".repeat(12)
    );
    let long: String = std::iter::repeat_n(paragraph.as_str(), 22)
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(long.chars().count() >= 10_000, "{}", long.chars().count());
    bot.anthropic.script([Reply::Respond(long.clone())]);
    bot.telegram.send_text(&ann, "Tell me everything");
    let parts = [
        bot.next(&ann).await,
        bot.next(&ann).await,
        bot.next(&ann).await,
    ];
    for part in &parts {
        assert!(part.plain().encode_utf16().count() <= 4096);
        assert!(
            part.plain().ends_with("that <matters>."),
            "split at a paragraph end"
        );
    }
    let joined = parts
        .iter()
        .map(|p| p.plain())
        .collect::<Vec<_>>()
        .join("\n\n");
    assert_eq!(joined, long);
    // The next message is the reply to the next answer: there was no fourth part.
    let next = bot.say(&ann, "A short follow-up").await;
    assert!(
        next.plain().contains("Could you tell me more"),
        "{}",
        next.plain()
    );
}

#[tokio::test]
async fn a_reply_telegram_cannot_parse_is_sent_again_as_plain_text() {
    let bot = bot().await;
    let ann = bot.telegram.user(506, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.telegram.fail_next(
        "sendMessage",
        1,
        Failure::Status(
            400,
            "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"
                .into(),
        ),
    );
    let reply = bot.say(&ann, "An answer").await;
    assert_eq!(reply.parse_mode, None);
    assert!(reply.plain().contains("Could you tell me more"));
    let calls = bot.telegram.calls("sendMessage");
    let failed = &calls[calls.len() - 2];
    assert_eq!(failed.status, 400);
    assert_eq!(failed.params["parse_mode"], "HTML");
}

#[tokio::test]
async fn a_429_from_telegram_is_waited_out_on_throttled_and_unthrottled_methods() {
    let bot = bot().await;
    let ann = bot.telegram.user(507, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.telegram
        .fail_next("sendMessage", 1, Failure::RetryAfter(2));
    let sent_at = Instant::now();
    let reply = bot.say(&ann, "An answer").await;
    assert!(reply.plain().contains("Could you tell me more"));
    let calls: Vec<_> = bot
        .telegram
        .calls("sendMessage")
        .into_iter()
        .rev()
        .take(2)
        .collect();
    assert_eq!(calls[1].status, 429);
    assert!(calls[0].received_at - calls[1].received_at >= Duration::from_secs(2));
    assert!(sent_at.elapsed() >= Duration::from_secs(2));

    // answerCallbackQuery is not queued by the Throttle adaptor: the bot retries it itself.
    bot.telegram
        .fail_next("answerCallbackQuery", 1, Failure::RetryAfter(1));
    let confirm = bot.say(&ann, "/reset").await;
    let query = bot.press(&ann, &confirm, "cancel");
    bot.callback_answer(&query).await;
    let answers = bot.telegram.calls("answerCallbackQuery");
    assert_eq!(answers.iter().filter(|c| c.status == 429).count(), 1);
    assert!(answers.last().unwrap().status == 200);
}

#[tokio::test]
async fn forged_stale_and_unknown_buttons_change_nothing() {
    let bot = bot().await;
    let ann = bot.telegram.user(508, "Ann", Some("en"));
    let first = bot.start_interview(&ann, "en", 0).await;
    bot.settled().await;
    let before = bot.session(&ann).unwrap();
    let messages_before = bot.count(&ann);
    let session_id = before["id"].as_u64().unwrap();
    let forged = [
        "style:9".to_owned(),
        "drop table".to_owned(),
        format!("reset:{}", session_id + 1),
        format!("resume:{session_id}"),
        "lang:ru".to_owned(),
        "begin".to_owned(),
        format!("delete:{}", 1000),
    ];
    for data in &forged {
        let query = bot
            .telegram
            .send_callback(&ann, ann.chat_id(), first.message_id, data);
        let answer = bot.callback_answer(&query).await;
        assert_eq!(
            answer.text.as_deref(),
            Some("This button is no longer active."),
            "{data}"
        );
    }
    // An old button on the welcome message (the language choice is over).
    let welcome = bot.telegram.sent(ann.chat_id())[0].clone();
    let query = bot
        .telegram
        .send_callback(&ann, ann.chat_id(), welcome.message_id, "lang:ru");
    bot.callback_answer(&query).await;
    bot.settled().await;
    assert_eq!(
        bot.session(&ann).unwrap(),
        before,
        "the session is untouched"
    );
    assert_eq!(bot.count(&ann), messages_before, "no message was sent");
    assert!(
        !bot.dir
            .path()
            .join("profiles/508.json")
            .read_to_string_lossy()
            .contains("ru")
    );
    assert!(
        std::fs::read_dir(bot.dir.path().join("archive"))
            .unwrap()
            .next()
            .is_none()
    );
}

trait ReadLossy {
    fn read_to_string_lossy(&self) -> String;
}

impl ReadLossy for std::path::PathBuf {
    fn read_to_string_lossy(&self) -> String {
        std::fs::read(self)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn reset_asks_for_confirmation_and_archives_the_interview() {
    let bot = bot().await;
    let ann = bot.telegram.user(509, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "An answer").await;
    let confirm = bot.say(&ann, "/reset").await;
    assert!(confirm.plain().contains("Nothing is deleted"));
    assert!(
        bot.session(&ann).is_some(),
        "nothing happens before the confirmation"
    );
    bot.press(&ann, &confirm, &confirm.callback_datas()[0]);
    let styles = bot.offers(&ann, &confirm, "style:0").await;
    assert!(
        styles.plain().contains("Choose your interviewer"),
        "{}",
        styles.plain()
    );
    assert!(bot.session(&ann).is_none());
    let archived: Vec<_> = std::fs::read_dir(bot.dir.path().join("archive"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(archived.len(), 1);
    let old: Value = serde_json::from_slice(&std::fs::read(&archived[0]).unwrap()).unwrap();
    assert_eq!(old["transcript"][1]["text"], "An answer");
    // The confirmation button is now stale.
    let query = bot.telegram.send_callback(
        &ann,
        ann.chat_id(),
        confirm.message_id,
        &confirm.callback_datas()[0],
    );
    let answer = bot.callback_answer(&query).await;
    assert!(answer.text.is_some());
}

#[tokio::test]
async fn start_during_an_interview_offers_resume_or_start_over() {
    let bot = bot().await;
    let ann = bot.telegram.user(510, "Ann", Some("en"));
    let first = bot.start_interview(&ann, "en", 0).await;
    let offer = bot.say(&ann, "/start").await;
    assert!(offer.plain().contains("in progress"), "{}", offer.plain());
    bot.press(&ann, &offer, &offer.callback_datas()[0]);
    let again = bot.next(&ann).await;
    assert!(
        again
            .plain()
            .ends_with(&first.plain().lines().last().unwrap().to_owned()),
        "the last question again"
    );
    assert!(bot.session(&ann).is_some());
    let reply = bot.say(&ann, "Carrying on").await;
    assert!(reply.plain().contains("Could you tell me more"));
}

#[tokio::test]
async fn an_idle_session_asks_to_resume_and_keeps_the_answer_typed() {
    let bot = spawn_bot(BotOptions {
        engine: EngineOptions {
            session_timeout: Duration::from_secs(30 * 60),
            ..EngineOptions::default()
        },
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(511, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.clock.advance(Duration::from_secs(3 * 3600));
    let calls = bot.anthropic.turn_count();
    let prompt = bot
        .say(&ann, "Sorry, I was away. My answer is: welding.")
        .await;
    assert!(
        prompt.plain().starts_with("Welcome back!"),
        "{}",
        prompt.plain()
    );
    assert_eq!(prompt.callback_datas().len(), 2);
    assert_eq!(
        bot.anthropic.turn_count(),
        calls,
        "nothing sent to Claude yet"
    );
    bot.press(&ann, &prompt, &prompt.callback_datas()[0]);
    let reply = bot.next(&ann).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    let blocks = bot.anthropic.last_turn_blocks();
    assert_eq!(
        blocks[blocks.len() - 2],
        "Sorry, I was away. My answer is: welding."
    );
}

#[tokio::test]
async fn two_users_interleave_and_a_slow_reply_does_not_hold_up_the_other() {
    let bot = bot().await;
    let slow = bot.telegram.user(512, "Slow", Some("en"));
    let fast = bot.telegram.user(513, "Fast", Some("en"));
    bot.start_interview(&slow, "en", 0).await;
    bot.start_interview(&fast, "en", 0).await;
    // The slow user's call is held until the fast user has had their reply.
    bot.anthropic.hold_replies_to("A slow answer");
    let calls = bot.anthropic.count();
    bot.telegram.send_text(&slow, "A slow answer");
    eventually(bot.awaiting("the slow call is in flight"), async || {
        bot.anthropic.count() > calls
    })
    .await;
    let reply = bot.say(&fast, "A fast answer").await;
    assert!(reply.plain().contains("Could you tell me more"));
    let slow_messages = bot.count(&slow);
    bot.anthropic.release_replies();
    let slow_reply = bot.next(&slow).await;
    assert!(slow_reply.plain().contains("Could you tell me more"));
    assert_eq!(bot.count(&slow), slow_messages + 1);
}

#[tokio::test]
async fn three_quick_messages_become_one_turn_with_one_reply() {
    let bot = bot().await;
    let ann = bot.telegram.user(514, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies();
    let calls = bot.anthropic.count();
    bot.telegram.send_text(&ann, "First thought.");
    eventually(bot.awaiting("the first call is in flight"), async || {
        bot.anthropic.count() > calls
    })
    .await;
    bot.telegram.send_text(&ann, "Second thought.");
    bot.telegram.send_text(&ann, "Third thought.");
    let joined = "First thought.\n\nSecond thought.\n\nThird thought.";
    eventually(
        bot.awaiting("the three messages are one saved answer"),
        async || {
            bot.session(&ann)
                .is_some_and(|s| s["transcript"][1]["text"] == joined)
        },
    )
    .await;
    bot.anthropic.release_replies();
    let reply = bot.next(&ann).await;
    assert!(reply.plain().contains("Could you tell me more"));
    // The next message is the reply to the next answer: there was one reply only.
    let next = bot.say(&ann, "Fourth thought.").await;
    assert!(next.plain().contains("Could you tell me more"));
    assert_eq!(
        bot.count(&ann),
        4,
        "the setup message, the first question, one reply, the next reply"
    );
    let session = bot.session(&ann).unwrap();
    let transcript = session["transcript"].as_array().unwrap();
    assert_eq!(transcript[1]["text"], joined);
    assert_eq!(transcript[2]["role"], "interviewer");
    let answered = bot.anthropic.received().into_iter().rev().nth(1).unwrap();
    assert!(answered.body.to_string().contains("Third thought."));
}

#[tokio::test]
async fn export_sends_the_transcript_as_markdown_and_json() {
    let bot = bot().await;
    let ann = bot.telegram.user(515, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "I weld pipelines & vessels").await;
    bot.telegram.send_text(&ann, "/export");
    let markdown = bot.next(&ann).await.document.unwrap();
    let json = bot.next(&ann).await.document.unwrap();
    assert_eq!(markdown.file_name, "interview-transcript.md");
    let text = String::from_utf8(markdown.bytes).unwrap();
    assert!(text.starts_with("# Interview transcript"));
    assert!(text.contains("I weld pipelines & vessels"));
    assert_eq!(json.file_name, "interview-transcript.json");
    let value: Value = serde_json::from_slice(&json.bytes).unwrap();
    assert_eq!(value["transcript"][1]["text"], "I weld pipelines & vessels");
    assert_eq!(value["user"], 515);
}

#[tokio::test]
async fn delete_after_confirmation_leaves_no_file_behind() {
    let bot = bot().await;
    let ann = bot.telegram.user(516, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.say(&ann, "An answer").await;
    let confirm = bot.say(&ann, "/reset").await;
    bot.press(&ann, &confirm, &confirm.callback_datas()[0]);
    bot.start_interview_again(&ann, &confirm).await;
    let files_before = files_of(&bot, 516);
    assert!(files_before.len() >= 3, "{files_before:?}");
    let confirm = bot.say(&ann, "/delete").await;
    assert!(confirm.plain().contains("cannot be undone"));
    bot.press(&ann, &confirm, &confirm.callback_datas()[0]);
    bot.telegram
        .wait_for(ann.chat_id(), WAIT, |m| {
            m.plain().contains("has been erased")
        })
        .await;
    assert!(files_of(&bot, 516).is_empty(), "{:?}", files_of(&bot, 516));
    // Text afterwards stores nothing either, once it is answered.
    assert!(bot.say(&ann, "hello").await.plain().contains("/start"));
    bot.settled().await;
    assert!(files_of(&bot, 516).is_empty(), "{:?}", files_of(&bot, 516));
    let journal = std::fs::read_to_string(bot.dir.path().join("inbox/journal.jsonl")).unwrap();
    assert!(
        !journal.contains("An answer"),
        "the inbox keeps none of the erased user's messages: {journal}"
    );
}

fn files_of(bot: &TestBot, user: u64) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walk(bot.dir.path()) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if name == format!("{user}.json") || name.starts_with(&format!("{user}-")) {
            out.push(entry.display().to_string());
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

impl TestBot {
    /// After a reset confirmed on `confirm`: the same message offers the interviewers.
    async fn start_interview_again(&self, user: &TestUser, confirm: &SentMessage) {
        let styles = self.offers(user, confirm, "style:1").await;
        self.press(user, &styles, "style:1");
        let briefing = self.offers(user, confirm, "begin").await;
        self.press(user, &briefing, "begin");
        self.next(user).await;
    }
}

#[tokio::test]
async fn users_not_on_the_allow_list_get_one_refusal_and_nothing_is_stored() {
    let bot = spawn_bot(BotOptions {
        vars: vec![
            ("ALLOWED_USER_IDS", "1,2".into()),
            ("ADMIN_USER_IDS", "520".into()),
        ],
        ..BotOptions::default()
    })
    .await;
    let eve = bot.telegram.user(517, "Eve", Some("ru"));
    let refusal = bot.say(&eve, "/start").await;
    assert!(
        refusal.plain().contains("закрытый бот"),
        "{}",
        refusal.plain()
    );
    bot.telegram.send_text(&eve, "please?");
    bot.settled().await;
    assert_eq!(bot.count(&eve), 1, "one refusal only");
    assert!(files_of(&bot, 517).is_empty());
    let admin = bot.telegram.user(520, "Admin", Some("en"));
    assert!(
        bot.say(&admin, "/start")
            .await
            .plain()
            .starts_with("Hello, Admin!")
    );
}

#[tokio::test]
async fn over_the_rate_limit_an_answer_is_kept_and_answered_when_the_window_allows() {
    let bot = spawn_bot(BotOptions {
        vars: vec![
            ("RATE_LIMIT_MESSAGES", "2".into()),
            ("RATE_LIMIT_WINDOW_SECONDS", "10".into()),
        ],
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(518, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    let calls = bot.anthropic.turn_count();
    bot.say(&ann, "answer one").await;
    bot.say(&ann, "answer two").await;
    bot.telegram.send_text(&ann, "answer three");
    bot.telegram.send_text(&ann, "answer four");
    let limited = bot.next(&ann).await;
    assert!(
        limited.plain().contains("I'll answer it in about"),
        "{}",
        limited.plain()
    );
    assert!(limited.plain().contains("seconds"));
    eventually(bot.awaiting("both answers are kept"), async || {
        bot.session(&ann).is_some_and(|s| {
            s["transcript"].as_array().unwrap().last().unwrap()["text"]
                == "answer three\n\nanswer four"
        })
    })
    .await;
    assert_eq!(
        bot.anthropic.turn_count(),
        calls + 2,
        "the waiting answers reached no one yet"
    );
    // When the window allows, one turn answers both, and the user was told only once: the
    // next message is the reply.
    let reply = bot.next(&ann).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    assert_eq!(bot.anthropic.turn_count(), calls + 3);
    let last = bot.anthropic.last_turn_blocks();
    assert_eq!(last[last.len() - 2], "answer three\n\nanswer four");
}

#[tokio::test]
async fn groups_get_one_explanation_and_nothing_else() {
    let bot = bot().await;
    let ann = bot.telegram.user(519, "Ann", Some("en"));
    bot.telegram.send_group_text(-4001, &ann, "/start");
    let explained = bot.telegram.wait_for(-4001, WAIT, |_| true).await;
    assert!(explained.plain().contains("private chat"));
    bot.telegram.send_group_text(-4001, &ann, "hello bot");
    bot.telegram.send_group_text(-4001, &ann, "/status");
    bot.settled().await;
    assert_eq!(bot.telegram.sent(-4001).len(), 1);
    assert!(bot.telegram.drafts(-4001).is_empty());
    // The inbox, and the bot's username recorded at start for invite links, are the bot's own.
    let own = bot.dir.path().join("studies/bot.txt");
    let stored: Vec<_> = walk(bot.dir.path())
        .into_iter()
        .filter(|p| !p.starts_with(bot.dir.path().join("inbox")) && *p != own)
        .collect();
    assert!(stored.is_empty(), "nothing stored for groups: {stored:?}");
    let sent_log = std::fs::read_to_string(bot.dir.path().join("inbox/sent.jsonl")).unwrap();
    assert!(
        sent_log.is_empty(),
        "group notices are not logged: {sent_log}"
    );
    assert!(bot.unhandled().is_empty());
}

#[tokio::test]
async fn other_kinds_of_message_get_a_note_on_what_the_bot_accepts() {
    let bot = bot().await;
    let ann = bot.telegram.user(521, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.telegram.send_photo(&ann, "photo-1", None);
    assert!(bot.next(&ann).await.plain().contains("only read text"));
    bot.telegram.send_sticker(&ann, "sticker-1", "👍");
    assert!(bot.next(&ann).await.plain().contains("only read text"));
    bot.telegram.send_location(&ann, 55.75, 37.62);
    assert!(bot.next(&ann).await.plain().contains("only read text"));
    bot.telegram
        .send_document(&ann, "doc-1", "cv.pdf", Some("application/pdf"));
    assert!(bot.next(&ann).await.plain().contains("only read text"));
    // Recordings are answers now; without a speech recognition key they get a note.
    bot.telegram
        .send_voice(&ann, "voice-1", 12, Some("audio/ogg"), Some(20_000));
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .contains("speech recognition isn't set up")
    );
    bot.telegram
        .send_document(&ann, "doc-2", "answer.mp3", Some("audio/mpeg"));
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .contains("speech recognition isn't set up")
    );
    assert!(bot.telegram.downloads().is_empty(), "nothing downloaded");
    assert!(
        bot.say(&ann, "/metrics")
            .await
            .plain()
            .contains("don't know that command")
    );
    let session = bot.session(&ann).unwrap();
    assert_eq!(
        session["transcript"].as_array().unwrap().len(),
        1,
        "the session is intact"
    );
}

#[tokio::test]
async fn complete_moves_to_the_wrap_up() {
    let bot = bot().await;
    let ann = bot.telegram.user(522, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    let wrap = bot.say(&ann, "/complete").await;
    assert!(
        wrap.plain().starts_with("Stage 9/9 · Wrap-up"),
        "{}",
        wrap.plain()
    );
}

#[tokio::test]
async fn language_switches_the_running_interview() {
    let bot = bot().await;
    let ann = bot.telegram.user(523, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    let prompt = bot.say(&ann, "/language").await;
    bot.press(&ann, &prompt, "lang:ru");
    let done = bot
        .edited(&ann, prompt.message_id, "the choice is shown", |m| {
            m.buttons.is_empty()
        })
        .await;
    assert!(done.plain().contains("по-русски"), "{}", done.plain());
    assert_eq!(bot.session(&ann).unwrap()["language"], "ru");
    assert!(
        bot.say(&ann, "/help")
            .await
            .plain()
            .contains("/status — текущий этап")
    );
}

#[tokio::test]
async fn the_typing_indicator_is_renewed_while_claude_thinks() {
    let bot = spawn_bot(BotOptions {
        engine: EngineOptions {
            timeout: Duration::from_secs(60),
            ..EngineOptions::default()
        },
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(524, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.hold_replies();
    let before = bot.telegram.chat_actions(ann.chat_id()).len();
    bot.telegram.send_text(&ann, "A long think");
    // Telegram shows an action for five seconds at most: it must be sent again and again
    // while the call is held.
    eventually(bot.awaiting("three typing actions"), async || {
        bot.telegram.chat_actions(ann.chat_id()).len() >= before + 3
    })
    .await;
    bot.anthropic.release_replies();
    let reply = bot.next(&ann).await;
    assert!(reply.plain().contains("Could you tell me more"));
    let actions: Vec<_> = bot
        .telegram
        .chat_actions(ann.chat_id())
        .into_iter()
        .skip(before)
        .collect();
    assert!(actions.iter().all(|(action, _)| action == "typing"));
    for pair in actions.windows(2) {
        assert!(
            pair[1].1 - pair[0].1 >= Duration::from_secs(3),
            "not renewed more often than needed"
        );
    }
}
