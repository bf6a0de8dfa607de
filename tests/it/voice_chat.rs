//! Voice notes in the chat, end to end: the real bot against the fake Telegram (serving the
//! files), the fake AssemblyAI and the fake Anthropic.

use serde_json::Value;

use crate::support::{
    assemblyai::{Call, Failure, FakeAssemblyAi, Script},
    audio,
    bot::{BotOptions, TestBot, spawn_bot},
    eventually,
    logs::Logs,
    telegram::TestUser,
};

/// A bot with voice notes transcribed by a fake AssemblyAI.
struct VoiceBot {
    bot: TestBot,
    aai: FakeAssemblyAi,
}

impl std::ops::Deref for VoiceBot {
    type Target = TestBot;

    fn deref(&self) -> &TestBot {
        &self.bot
    }
}

async fn voice_bot(vars: &[(&'static str, &str)]) -> VoiceBot {
    let aai = FakeAssemblyAi::start().await;
    let mut all = aai.vars();
    all.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let bot = spawn_bot(BotOptions {
        vars: all,
        ..BotOptions::default()
    })
    .await;
    VoiceBot { bot, aai }
}

impl VoiceBot {
    /// Registers fixture `name` under `file_id` and sends it as a voice note that says it
    /// lasts `seconds`; returns the update id.
    fn voice(&self, user: &TestUser, file_id: &str, name: &str, seconds: u32) -> i64 {
        let bytes = audio(name);
        let size = bytes.len() as u64;
        self.telegram.register_file(file_id, bytes);
        self.telegram
            .send_voice(user, file_id, seconds, Some("audio/ogg"), Some(size));
        self.telegram.last_update_id().unwrap()
    }

    /// The user's saved expert answers: text and voice clips.
    fn answers(&self, user: &TestUser) -> Vec<(String, Vec<Value>)> {
        self.session(user).map_or_else(Vec::new, |s| {
            s["transcript"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["role"] == "expert")
                .map(|e| {
                    let clips = e["voice"].as_array().cloned().unwrap_or_default();
                    (e["text"].as_str().unwrap().to_owned(), clips)
                })
                .collect()
        })
    }
}

#[tokio::test]
async fn an_english_voice_note_is_echoed_with_its_confidence_and_answered_as_a_voice_turn() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(701, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    let said = "I keep pressure < 5 bar & check the valves daily.";
    bot.aai.script(
        &audio("voice-en.ogg"),
        Script::new(said, "en").confidence(0.93),
    );
    // While the transcript is under way, the chat shows the bot at work.
    let actions = bot.telegram.chat_actions(ann.chat_id()).len();
    bot.aai.hold();
    let update = bot.voice(&ann, "voice-en", "voice-en.ogg", 3);
    eventually("1 transcript created", async || bot.aai.created() >= 1).await;
    eventually(
        bot.awaiting("a chat action during the transcription"),
        async || bot.telegram.chat_actions(ann.chat_id()).len() > actions,
    )
    .await;
    assert_eq!(
        bot.telegram.chat_actions(ann.chat_id())[actions].0,
        "typing"
    );
    bot.aai.release();

    let echo = bot.next(&ann).await;
    assert_eq!(
        echo.plain(),
        format!("🎤 {said}\n\n🟢 Heard clearly (93%)"),
        "the transcript and its confidence"
    );
    assert!(
        echo.text.contains("&lt; 5 bar &amp; check"),
        "escaped for HTML: {}",
        echo.text
    );
    let reply = bot.next(&ann).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );

    // Downloaded from Telegram, sent to AssemblyAI untouched, in the interview's language.
    assert_eq!(bot.telegram.downloads().len(), 1);
    assert!(bot.telegram.downloads()[0].starts_with("voice/"));
    assert_eq!(bot.aai.uploads()[0].bytes.as_ref(), audio("voice-en.ogg"));
    assert_eq!(bot.aai.creates()[0]["language_code"], "en");
    // The transcript is the answer Claude got, and the session keeps it as a voice turn.
    let blocks = bot.anthropic.last_turn_blocks();
    assert!(blocks.iter().any(|b| b == said), "{blocks:?}");
    let answers = bot.answers(&ann);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, said);
    let clip = &answers[0].1[0];
    assert_eq!(clip["confidence"], 0.93);
    assert_eq!(clip["model"], "assemblyai-stt-3-7");
    assert_eq!(
        bot.aai.creates()[0]["speech_models"],
        serde_json::json!(["assemblyai-stt-3-7", "universal-2"]),
        "the English list"
    );
    let ms = clip["duration_ms"].as_u64().unwrap();
    assert!(
        (2_400..=2_700).contains(&ms),
        "measured from the audio: {ms} ms"
    );

    // Telegram delivering the update again changes nothing.
    bot.settled().await;
    let messages = bot.count(&ann);
    assert!(bot.telegram.redeliver(update));
    bot.settled().await;
    assert_eq!(bot.count(&ann), messages);
    assert_eq!(bot.aai.count(Call::Upload), 1);
    assert_eq!(bot.answers(&ann).len(), 1);
}

#[tokio::test]
async fn a_russian_voice_note_in_a_russian_interview_is_transcribed_in_russian() {
    let bot = voice_bot(&[]).await;
    let ivan = bot.telegram.user(702, "Иван", Some("ru"));
    bot.start_interview(&ivan, "ru", 0).await;
    let said = "Я тридцать лет ремонтирую дизельные двигатели.";
    bot.aai.script(
        &audio("voice-ru.ogg"),
        Script::new(said, "ru").confidence(0.9),
    );
    bot.voice(&ivan, "voice-ru", "voice-ru.ogg", 3);

    let echo = bot.next(&ivan).await;
    assert_eq!(echo.plain(), format!("🎤 {said}\n\n🟢 Слышно чётко (90%)"));
    bot.next(&ivan).await;
    let create = &bot.aai.creates()[0];
    assert_eq!(create["language_code"], "ru");
    assert_eq!(
        bot.aai.models_used(),
        vec!["universal-2"],
        "the default models route Russian to the one that has it"
    );
    assert_eq!(bot.answers(&ivan)[0].0, said);
    assert_eq!(bot.answers(&ivan)[0].1[0]["model"], "universal-2");
    assert_eq!(
        create["speech_models"],
        serde_json::json!(["universal-2"]),
        "the Russian list"
    );
}

#[tokio::test]
async fn a_russian_list_the_account_cannot_use_gets_the_configuration_reply_and_names_its_setting()
{
    let logs = Logs::capture();
    let bot = voice_bot(&[(
        "ASSEMBLYAI_SPEECH_MODELS_RU",
        "universal-3-5-pro-max,universal-2",
    )])
    .await;
    let ivan = bot.telegram.user(707, "Иван", Some("ru"));
    bot.start_interview(&ivan, "ru", 0).await;
    bot.aai.script(
        &audio("voice-ru.ogg"),
        Script::new("Я ремонтирую дизели.", "ru"),
    );
    bot.voice(&ivan, "voice-ru", "voice-ru.ogg", 3);
    let reply = bot.next(&ivan).await;
    assert!(
        reply.plain().contains("настроена неправильно"),
        "the configuration reply: {}",
        reply.plain()
    );
    assert!(bot.answers(&ivan).is_empty());
    assert_eq!(
        bot.aai.creates()[0]["speech_models"],
        serde_json::json!(["universal-3-5-pro-max", "universal-2"])
    );
    let lines = logs.lines_with("ASSEMBLYAI_SPEECH_MODELS_RU");
    assert!(
        lines.iter().any(|l| l.contains("ERROR")
            && l.contains("Invalid speech model")
            && l.contains("universal-3-5-pro-max")),
        "the log names the setting, the list and the API's message:\n{}",
        logs.text()
    );
    assert!(logs.lines_with("ASSEMBLYAI_SPEECH_MODELS_EN").is_empty());

    // English notes, on their own list, still go through.
    let ann = bot.telegram.user(708, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai
        .script(&audio("voice-en.ogg"), Script::new("Steel bridges.", "en"));
    bot.voice(&ann, "voice-en", "voice-en.ogg", 3);
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .starts_with("🎤 Steel bridges.")
    );
    assert_eq!(bot.aai.models_used(), ["assemblyai-stt-3-7"]);
}

#[tokio::test]
async fn audio_files_documents_and_round_video_notes_are_converted_and_transcribed() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(703, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai
        .default_script(Script::new("Converted speech.", "en"));

    bot.telegram.register_file("mp3-1", audio("speech-en.mp3"));
    bot.telegram
        .send_audio(&ann, "mp3-1", 3, Some("talk.mp3"), Some("audio/mpeg"));
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .starts_with("🎤 Converted speech.")
    );
    bot.next(&ann).await;

    bot.telegram.register_file("m4a-1", audio("speech-en.m4a"));
    bot.telegram
        .send_document(&ann, "m4a-1", "answer.m4a", Some("audio/mp4"));
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .starts_with("🎤 Converted speech.")
    );
    bot.next(&ann).await;

    bot.telegram
        .register_file("round-1", audio("video-note.mp4"));
    bot.telegram.send_video_note(&ann, "round-1", 1, 240);
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .starts_with("🎤 Converted speech.")
    );
    bot.next(&ann).await;

    let uploads = bot.aai.uploads();
    assert_eq!(uploads.len(), 3);
    for upload in &uploads {
        assert!(
            upload.bytes.starts_with(b"fLaC"),
            "converted to FLAC before upload"
        );
    }
    assert_eq!(bot.answers(&ann).len(), 3);
}

#[tokio::test]
async fn a_corrupt_file_gets_a_clear_reply_and_the_interview_goes_on() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(704, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.voice(&ann, "bad-1", "corrupt.ogg", 4);
    let reply = bot.next(&ann).await;
    assert!(
        reply.plain().contains("couldn't read that recording"),
        "{}",
        reply.plain()
    );
    assert_eq!(bot.aai.count(Call::Upload), 0, "nothing uploaded");
    assert!(bot.answers(&ann).is_empty(), "the session is intact");
    let next = bot.say(&ann, "Then I'll type it.").await;
    assert!(next.plain().contains("Could you tell me more"));
}

#[tokio::test]
async fn recordings_too_long_or_too_big_are_refused_before_or_after_download() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(705, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;

    // Eleven minutes of audio that claims thirty seconds: counted after download.
    bot.voice(&ann, "long-1", "silence-11min.ogg", 30);
    let reply = bot.next(&ann).await;
    assert!(
        reply.plain().contains("too long") && reply.plain().contains("10 min"),
        "{}",
        reply.plain()
    );
    assert_eq!(bot.telegram.downloads().len(), 1);

    // Declared over the limits: refused before anything is downloaded.
    bot.telegram
        .send_voice(&ann, "long-2", 601, Some("audio/ogg"), Some(9_000));
    assert!(bot.next(&ann).await.plain().contains("too long"));
    bot.telegram
        .send_voice(&ann, "big-1", 60, Some("audio/ogg"), Some(21 * 1024 * 1024));
    let reply = bot.next(&ann).await;
    assert!(reply.plain().contains("up to 20 MB"), "{}", reply.plain());
    assert_eq!(bot.telegram.downloads().len(), 1, "nothing more downloaded");
    assert_eq!(bot.aai.count(Call::Upload), 0);
    assert!(bot.answers(&ann).is_empty(), "the session is intact");
}

/// Sets the fake up for one fault.
type Arrange = Box<dyn Fn(&FakeAssemblyAi)>;

#[tokio::test]
async fn every_speech_recognition_fault_gets_its_own_reply_and_the_session_stays_intact() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(706, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai.default_script(Script::new("Hello there.", "en"));
    let cases: Vec<(&str, Arrange)> = vec![
        (
            "couldn't transcribe that recording",
            Box::new(|aai| aai.end_next_with_error("Audio duration is too short.")),
        ),
        (
            "couldn't hear any speech",
            Box::new(|aai| aai.end_next_empty()),
        ),
        (
            "misconfigured on my side",
            Box::new(|aai| {
                aai.fail(
                    Call::Create,
                    [Failure::Status {
                        status: 400,
                        message: "Invalid speech model: universal-3-pro.".into(),
                        retry_after: None,
                    }],
                )
            }),
        ),
        (
            "misconfigured on my side",
            Box::new(|aai| aai.fail(Call::Upload, [Failure::status(401)])),
        ),
        (
            "isn't responding right now",
            Box::new(|aai| aai.fail(Call::Upload, (0..4).map(|_| Failure::status(503)))),
        ),
        (
            "isn't responding right now",
            Box::new(|aai| aai.fail(Call::Poll, (0..4).map(|_| Failure::rate_limited("0")))),
        ),
    ];
    for (n, (expected, arrange)) in cases.iter().enumerate() {
        arrange(&bot.aai);
        bot.voice(&ann, &format!("note-{n}"), "voice-en.ogg", 3);
        let reply = bot.next(&ann).await;
        assert!(
            reply.plain().contains(expected),
            "case {n}: {}",
            reply.plain()
        );
        assert!(
            bot.answers(&ann).is_empty(),
            "case {n}: the session is intact"
        );
    }
    // Retried where that makes sense: one upload for each case, but four for the 503s.
    assert_eq!(bot.aai.count(Call::Upload), 9);
    // And the next note goes through.
    bot.voice(&ann, "note-ok", "voice-en.ogg", 3);
    assert!(bot.next(&ann).await.plain().starts_with("🎤 Hello there."));
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .contains("Could you tell me more")
    );
}

#[tokio::test]
async fn voice_turned_off_or_without_ffmpeg_gets_its_reply_and_voice_notes_still_work_without_ffmpeg()
 {
    let off = voice_bot(&[("VOICE_PROCESSING_ENABLED", "false")]).await;
    let ann = off.telegram.user(707, "Ann", Some("en"));
    off.start_interview(&ann, "en", 0).await;
    off.voice(&ann, "v-1", "voice-en.ogg", 3);
    let reply = off.next(&ann).await;
    assert!(reply.plain().contains("turned off"), "{}", reply.plain());
    assert!(off.telegram.downloads().is_empty());

    let no_ffmpeg = voice_bot(&[("FFMPEG_PATH", "/nonexistent/ffmpeg")]).await;
    let ben = no_ffmpeg.telegram.user(708, "Ben", Some("en"));
    no_ffmpeg.start_interview(&ben, "en", 0).await;
    no_ffmpeg
        .aai
        .default_script(Script::new("Opus needs no conversion.", "en"));
    no_ffmpeg
        .telegram
        .register_file("mp3-1", audio("speech-en.mp3"));
    no_ffmpeg
        .telegram
        .send_audio(&ben, "mp3-1", 3, Some("talk.mp3"), Some("audio/mpeg"));
    let reply = no_ffmpeg.next(&ben).await;
    assert!(
        reply.plain().contains("can't convert this audio format"),
        "{}",
        reply.plain()
    );
    no_ffmpeg.voice(&ben, "v-2", "voice-en.ogg", 3);
    assert!(
        no_ffmpeg
            .next(&ben)
            .await
            .plain()
            .starts_with("🎤 Opus needs no conversion.")
    );
}

#[tokio::test]
async fn a_doubtful_transcript_waits_for_the_users_word_on_its_buttons() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(709, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai
        .default_script(Script::new("Mumble about valves.", "en").confidence(0.42));

    // ✅ Use it.
    let update = bot.voice(&ann, "doubt-1", "voice-en.ogg", 3);
    let echo = bot.next(&ann).await;
    assert_eq!(
        echo.plain(),
        "🎤 Mumble about valves.\n\n🔴 Hard to make out (42%)"
    );
    let ask = bot.next(&ann).await;
    assert!(ask.plain().contains("confidence 42%"), "{}", ask.plain());
    assert_eq!(
        ask.callback_datas(),
        vec![format!("vuse:{update}"), format!("vretry:{update}")]
    );
    assert!(bot.answers(&ann).is_empty(), "not an answer yet");
    let query = bot.press(&ann, &ask, &format!("vuse:{update}"));
    assert_eq!(bot.callback_answer(&query).await.text, None);
    let used = bot
        .edited(&ann, ask.message_id, "the buttons go", |m| {
            m.buttons.is_empty()
        })
        .await;
    assert_eq!(used.plain(), "✅ Taken as your answer.");
    assert!(
        bot.next(&ann)
            .await
            .plain()
            .contains("Could you tell me more")
    );
    let answers = bot.answers(&ann);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, "Mumble about valves.");
    assert_eq!(answers[0].1[0]["confidence"], 0.42);

    // 🔁 Send again or type.
    let update = bot.voice(&ann, "doubt-2", "voice-en.ogg", 3);
    bot.next(&ann).await;
    let ask = bot.next(&ann).await;
    let query = bot.press(&ann, &ask, &format!("vretry:{update}"));
    bot.callback_answer(&query).await;
    let aside = bot
        .edited(&ann, ask.message_id, "the buttons go", |m| {
            m.buttons.is_empty()
        })
        .await;
    assert!(aside.plain().contains("set that transcript aside"));
    // The old buttons, pressed again (a client that kept them), do nothing.
    let query = bot.telegram.send_callback(
        &ann,
        ann.chat_id(),
        ask.message_id,
        &format!("vuse:{update}"),
    );
    let stale = bot.callback_answer(&query).await;
    assert!(stale.text.unwrap().contains("no longer active"));
    bot.settled().await;
    assert_eq!(bot.answers(&ann).len(), 1, "nothing taken");

    // Typing instead of pressing: the text is the answer, the transcript goes.
    bot.voice(&ann, "doubt-3", "voice-en.ogg", 3);
    bot.next(&ann).await;
    let ask = bot.next(&ann).await;
    let reply = bot.say(&ann, "Let me type it: valves first.").await;
    assert!(reply.plain().contains("Could you tell me more"));
    let aside = bot
        .edited(&ann, ask.message_id, "the buttons go", |m| {
            m.buttons.is_empty()
        })
        .await;
    assert!(aside.plain().contains("set that transcript aside"));
    let answers = bot.answers(&ann);
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[1].0, "Let me type it: valves first.");
    assert!(answers[1].1.is_empty(), "a typed answer");
}

#[tokio::test]
async fn a_voice_note_sent_while_a_reply_is_written_joins_the_answer_in_one_turn() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(710, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai
        .default_script(Script::new("And the spoken part.", "en"));
    bot.anthropic.hold_replies();
    let calls = bot.anthropic.count();
    bot.telegram.send_text(&ann, "The typed part.");
    eventually(bot.awaiting("the first call is in flight"), async || {
        bot.anthropic.count() > calls
    })
    .await;
    // While the note is transcribed the worker still answers presses at once.
    bot.aai.hold();
    bot.voice(&ann, "join-1", "voice-en.ogg", 3);
    eventually("1 transcript created", async || bot.aai.created() >= 1).await;
    let setup = bot.telegram.sent(ann.chat_id())[0].message_id;
    let query = bot
        .telegram
        .send_callback(&ann, ann.chat_id(), setup, "begin");
    assert!(
        bot.callback_answer(&query).await.text.is_some(),
        "answered at once, as a stale button"
    );
    bot.aai.release();
    let echo = bot.next(&ann).await;
    assert!(echo.plain().starts_with("🎤 And the spoken part."));
    eventually(bot.awaiting("one saved answer holds both"), async || {
        bot.answers(&ann)
            .first()
            .is_some_and(|(text, _)| text == "The typed part.\n\nAnd the spoken part.")
    })
    .await;
    bot.anthropic.release_replies();
    let reply = bot.next(&ann).await;
    assert!(reply.plain().contains("Could you tell me more"));
    // The next message is the reply to the next answer: one reply for both.
    let next = bot.say(&ann, "More.").await;
    assert!(next.plain().contains("Could you tell me more"));
    assert_eq!(
        bot.count(&ann),
        5,
        "setup, first question, echo, one reply, the next reply"
    );
    let blocks = bot.anthropic.turn_blocks_from_end(1);
    assert!(
        blocks
            .iter()
            .any(|b| b == "The typed part.\n\nAnd the spoken part."),
        "{blocks:?}"
    );
    assert_eq!(bot.answers(&ann)[0].1.len(), 1, "the voice clip is kept");
}

#[tokio::test]
async fn five_users_at_once_are_transcribed_three_at_a_time_and_the_waiting_are_told() {
    let bot = voice_bot(&[("VOICE_CONCURRENT_REQUESTS", "3")]).await;
    bot.aai.default_script(Script::new("My turn.", "en"));
    let users: Vec<TestUser> = (0..5)
        .map(|i| bot.telegram.user(720 + i, "User", Some("en")))
        .collect();
    for user in &users {
        bot.start_interview(user, "en", 0).await;
    }
    bot.aai.hold();
    for (i, user) in users.iter().enumerate() {
        bot.voice(user, &format!("five-{i}"), "voice-en.ogg", 3);
    }
    let queued = |user: &TestUser| {
        bot.telegram
            .sent(user.chat_id())
            .iter()
            .any(|m| m.plain().contains("in the queue"))
    };
    eventually(bot.awaiting("two users are told they wait"), async || {
        users.iter().filter(|u| queued(u)).count() == 2
    })
    .await;
    eventually("3 transcripts created", async || bot.aai.created() >= 3).await;
    assert_eq!(bot.aai.count(Call::Create), 3, "the others wait for a slot");
    assert_eq!(bot.aai.max_active(), 3);
    bot.aai.release();
    for user in &users {
        if queued(user) {
            assert!(bot.next(user).await.plain().contains("in the queue"));
        }
        assert!(bot.next(user).await.plain().starts_with("🎤 My turn."));
        assert!(
            bot.next(user)
                .await
                .plain()
                .contains("Could you tell me more")
        );
    }
    assert_eq!(bot.aai.count(Call::Create), 5);
    assert_eq!(bot.aai.max_active(), 3, "never more than three at once");
}

#[tokio::test]
async fn a_transcribed_note_and_a_failed_one_move_the_operators_counters() {
    let bot = voice_bot(&[]).await;
    let ann = bot.telegram.user(790, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    bot.aai
        .script(&audio("voice-en.ogg"), Script::new("Steel bridges.", "en"));
    bot.voice(&ann, "count-1", "voice-en.ogg", 3);
    bot.next(&ann).await; // the echo
    bot.next(&ann).await; // the next question
    bot.voice(&ann, "count-2", "corrupt.ogg", 3);
    bot.next(&ann).await; // the reply saying it could not be read
    let today = bot.metrics.snapshot().today;
    assert_eq!(today.transcriptions, 1);
    assert!(today.transcribed_audio_ms > 0);
    assert_eq!(today.answers(ai_interviewer::metrics::AnswerKind::Voice), 1);
    assert_eq!(
        today
            .transcription_failures
            .get(&ai_interviewer::metrics::TranscriptionFailure::Rejected),
        Some(&1)
    );
}
