//! Drafts: the next question shown while Claude writes it (`sendMessageDraft`), and the
//! question itself still sent as a message, once.

use ai_interviewer::telegram::{
    drafts::DRAFT_EVERY, sender::Sender, sent::SentLog, typing::Typing,
};
use teloxide::types::ChatId;

use crate::support::{
    Reply,
    bot::{BotOptions, TestBot, WAIT, spawn_bot},
    eventually,
    telegram::{Failure, FakeTelegram, SentDraft, TestUser},
};

/// A question long enough to be written over several drafts.
const QUESTION: &str = "Thank you, that helps. Let us stay with last week's repair for a moment: \
    when the pump stopped, what did you look at first, and what told you it was the seal and \
    not the bearing? Walk me through it as it happened, step by step.";

/// A bot whose Claude writes at 40 tokens a second, and a user in the middle of an interview.
async fn writing_bot(vars: Vec<(&'static str, String)>) -> (TestBot, TestUser) {
    let bot = spawn_bot(BotOptions {
        vars,
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(4101, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.anthropic.set_output_rate(40);
    (bot, ann)
}

/// The drafts shown while the `n`-th bot message (counting from 1) was written.
fn drafts_for(telegram: &FakeTelegram, user: &TestUser, n: usize) -> Vec<SentDraft> {
    telegram
        .drafts(user.chat_id())
        .into_iter()
        .filter(|d| d.messages_before == n - 1)
        .collect()
}

#[tokio::test]
async fn the_next_question_shows_as_it_is_written_then_arrives_once_as_a_message() {
    let (bot, ann) = writing_bot(Vec::new()).await;
    bot.anthropic.script([Reply::Respond(QUESTION.into())]);
    bot.anthropic.hold_streams_after(60);
    let before = bot.count(&ann);
    bot.telegram.send_text(&ann, "I repair pumps.");
    // Caught in the middle of being written, the question already shows.
    eventually(bot.awaiting("a draft of the question"), async || {
        drafts_for(&bot.telegram, &ann, before + 1)
            .iter()
            .any(|d| !d.text.is_empty())
    })
    .await;
    assert_eq!(bot.count(&ann), before, "no message yet");
    bot.anthropic.release_replies();
    bot.skip_all(&ann);
    let question = bot.next(&ann).await;
    assert!(question.plain().contains(QUESTION), "{}", question.plain());
    bot.settled().await;

    let drafts = drafts_for(&bot.telegram, &ann, before + 1);
    assert!(drafts.len() >= 2, "{drafts:?}");
    assert!(
        bot.telegram
            .drafts(ann.chat_id())
            .iter()
            .all(|d| d.messages_before <= before),
        "no draft after the question was sent"
    );
    let mut previous = "";
    for draft in &drafts {
        assert!(
            QUESTION.starts_with(&draft.text),
            "only the question, as written so far: {:?}",
            draft.text
        );
        assert!(draft.text.starts_with(previous), "in order: {drafts:?}");
        previous = &draft.text;
    }
    for pair in drafts.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= DRAFT_EVERY,
            "a few updates a second at most"
        );
    }
    let id = drafts[0].draft_id;
    assert!(id != 0 && drafts.iter().all(|d| d.draft_id == id));
    assert_eq!(
        bot.telegram.sent(ann.chat_id()).len(),
        before + 1,
        "the question was sent once"
    );

    // The next turn is a draft of its own.
    bot.anthropic.script([Reply::Respond(QUESTION.into())]);
    bot.anthropic.hold_streams_after(60);
    bot.telegram.send_text(&ann, "Mostly centrifugal ones.");
    eventually(bot.awaiting("a draft of the next question"), async || {
        !drafts_for(&bot.telegram, &ann, before + 2).is_empty()
    })
    .await;
    bot.anthropic.release_replies();
    bot.next(&ann).await;
    assert!(
        drafts_for(&bot.telegram, &ann, before + 2)
            .iter()
            .all(|d| d.draft_id != id)
    );
}

#[tokio::test]
async fn with_drafts_off_the_chat_shows_typing_and_nothing_is_streamed() {
    let (bot, ann) = writing_bot(vec![("DRAFTS", "false".into())]).await;
    bot.skip_all(&ann);
    let question = bot.say(&ann, "I repair pumps.").await;
    assert!(!question.plain().is_empty());
    assert!(bot.telegram.drafts(ann.chat_id()).is_empty());
    assert!(bot.telegram.calls("sendMessageDraft").is_empty());
    assert!(
        bot.anthropic
            .received()
            .iter()
            .all(|r| r.body.get("stream").is_none()),
        "requested in one piece"
    );
    assert!(!bot.telegram.chat_actions(ann.chat_id()).is_empty());
}

#[tokio::test]
async fn the_offline_bank_asks_without_drafts() {
    let bot = spawn_bot(BotOptions {
        without_claude: true,
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(4102, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    let question = bot.say(&ann, "I repair pumps.").await;
    assert!(!question.plain().is_empty());
    bot.settled().await;
    assert!(bot.telegram.calls("sendMessageDraft").is_empty());
}

#[tokio::test]
async fn a_refused_draft_sends_the_chat_back_to_typing_and_the_question_still_arrives() {
    let (bot, ann) = writing_bot(Vec::new()).await;
    bot.telegram.fail_next(
        "sendMessageDraft",
        1,
        Failure::Status(400, "Bad Request: method is not available".into()),
    );
    bot.anthropic.script([Reply::Respond(QUESTION.into())]);
    bot.anthropic.hold_streams_after(60);
    let actions_before = bot.telegram.chat_actions(ann.chat_id()).len();
    bot.skip_all(&ann);
    bot.telegram.send_text(&ann, "I repair pumps.");
    let refused = bot
        .telegram
        .wait_for_calls("sendMessageDraft", 1, WAIT)
        .await;
    let refused_at = refused[0].received_at;
    eventually(bot.awaiting("typing after the refusal"), async || {
        bot.telegram.chat_actions(ann.chat_id())[actions_before..]
            .iter()
            .any(|(action, at)| action == "typing" && *at > refused_at)
    })
    .await;
    bot.anthropic.release_replies();
    let question = bot.next(&ann).await;
    assert!(question.plain().contains(QUESTION));
    assert_eq!(
        bot.telegram.calls("sendMessageDraft").len(),
        1,
        "no draft after the refusal"
    );
}

#[tokio::test]
async fn a_stream_broken_off_by_an_overload_is_asked_again_and_answered_once() {
    let (bot, ann) = writing_bot(Vec::new()).await;
    bot.anthropic
        .script([Reply::BrokenStream, Reply::Respond(QUESTION.into())]);
    let turns = bot.anthropic.turn_count();
    bot.skip_all(&ann);
    let question = bot.say(&ann, "I repair pumps.").await;
    assert!(question.plain().contains(QUESTION), "{}", question.plain());
    assert_eq!(bot.anthropic.turn_count(), turns + 2, "retried once");
    bot.settled().await;
    assert_eq!(bot.count(&ann), 2 + 1, "one question");
    let last = bot.telegram.sent(ann.chat_id()).len();
    assert!(
        bot.telegram
            .drafts(ann.chat_id())
            .iter()
            .all(|d| d.messages_before < last)
    );
}

/// The sender and the drafting indicator on their own, against the fake Bot API.
struct Drafting {
    telegram: FakeTelegram,
    ann: TestUser,
    sender: Sender,
    _dir: tempfile::TempDir,
}

impl Drafting {
    async fn start() -> Drafting {
        let telegram = FakeTelegram::start().await;
        let ann = telegram.user(4150, "Ann", Some("en"));
        let api = teloxide::Bot::new(telegram.token())
            .set_api_url(reqwest::Url::parse(&telegram.api_url()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let sent = SentLog::open(dir.path()).unwrap();
        let (sender, _reports) = Sender::start(api, sent, tokio::sync::watch::channel(1).1);
        Drafting {
            telegram,
            ann,
            sender,
            _dir: dir,
        }
    }

    async fn shows(&self, text: &str) {
        eventually(format!("the draft {text:?}"), async || {
            self.telegram
                .drafts(self.ann.chat_id())
                .last()
                .is_some_and(|d| d.text == text)
        })
        .await;
    }
}

#[tokio::test]
async fn the_question_is_drafted_from_the_json_as_it_grows_and_emptied_when_a_reply_starts_over() {
    let drafting = Drafting::start().await;
    let (partial, shown) = tokio::sync::watch::channel(String::new());
    let _typing = Typing::drafting(&drafting.sender, ChatId(drafting.ann.chat_id()), 7, shown);
    partial.send_replace(r#"{"interview_stage": "operations", "respo"#.into());
    partial.send_replace(r#"{"interview_stage": "operations", "response": "When the pu"#.into());
    drafting.shows("When the pu").await;
    partial.send_replace(
        r#"{"interview_stage": "operations", "response": "When the pump stopped, what"#.into(),
    );
    drafting.shows("When the pump stopped, what").await;
    // A repair starts over: the words that will not be sent give way to the placeholder.
    partial.send_replace(String::new());
    drafting.shows("").await;
    partial.send_replace(r#"{"interview_stage": "operations", "response": "Which"#.into());
    drafting.shows("Which").await;
    let drafts = drafting.telegram.drafts(drafting.ann.chat_id());
    assert!(
        drafts
            .iter()
            .all(|d| d.draft_id == 7 && !d.text.contains('{'))
    );
    assert!(
        drafting.telegram.chat_actions(drafting.ann.chat_id()).len() <= 1,
        "typing only before the first words"
    );
}

#[tokio::test]
async fn a_message_queued_for_the_chat_drops_the_draft_waiting_for_its_turn() {
    use ai_interviewer::telegram::{
        drafts::Drafted,
        outbox::{Body, Key},
    };
    let drafting = Drafting::start().await;
    let chat = ChatId(drafting.ann.chat_id());
    // Telegram is slow to take a first message, so the draft queued after it waits.
    drafting
        .telegram
        .fail_next("sendMessage", 1, Failure::RetryAfter(1));
    drafting
        .sender
        .send(chat, Key::Unsaved, Body::text("A notice."));
    let mut draft = Box::pin(drafting.sender.draft(chat, 3, "The ques".into()));
    assert!(futures::poll!(&mut draft).is_pending(), "queued, waiting");
    // The question it previews is queued: the draft will never be shown.
    drafting
        .sender
        .send(chat, Key::Unsaved, Body::text("The question."));
    assert_eq!(draft.await, Drafted::Skipped);
    drafting.sender.idle().await;
    assert_eq!(drafting.telegram.sent(chat.0).len(), 2);
    assert!(drafting.telegram.drafts(chat.0).is_empty());
}
