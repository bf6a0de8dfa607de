//! The bot binary as an operator runs it: start-up failures, a crash and restart mid-interview,
//! and no token in any output.

use std::{
    io::{BufRead, BufReader},
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::support::{
    FakeAnthropic, Reply, RunningBot,
    anthropic::API_KEY,
    assemblyai::{Call, FakeAssemblyAi, Script},
    audio, binary,
    bot::WAIT,
    eventually,
    telegram::{FakeTelegram, SentMessage, TestUser},
};

fn bot_command(sessions: &std::path::Path, vars: &[(&str, String)]) -> Command {
    let mut cmd = binary(sessions);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

async fn output(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_token_the_bot_stops_with_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = output(bot_command(dir.path(), &[])).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("ai-interviewer:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("TELEGRAM_BOT_TOKEN is not set"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_token_telegram_rejects_stops_the_bot_with_exit_code_2_and_is_never_printed() {
    let telegram = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "987654321:AAWrongTokenThatMustNeverBePrinted";
    let vars = [
        ("TELEGRAM_BOT_TOKEN", wrong.to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("LOG_LEVEL", "trace".into()),
    ];
    let out = output(bot_command(dir.path(), &vars)).await;
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("TELEGRAM_BOT_TOKEN was rejected"), "{all}");
    assert!(!all.contains("AAWrongToken"), "the token leaked:\n{all}");
}

#[tokio::test]
async fn while_telegram_is_unreachable_the_bot_waits_and_never_prints_its_token() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "123456789:AAUnreachableSecretToken";
    let vars = [
        ("TELEGRAM_BOT_TOKEN", token.to_owned()),
        ("TELEGRAM_API_URL", format!("http://127.0.0.1:{port}")),
        ("LOG_LEVEL", "trace".into()),
    ];
    let mut child = bot_command(dir.path(), &vars).spawn().unwrap();
    // The log, read as it is written: a second failed attempt shows that the bot went past the
    // first one, where it would have stopped, and waits on.
    let stderr = Arc::new(Mutex::new(String::new()));
    let reader = {
        let stderr = stderr.clone();
        let mut pipe = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            let mut line = String::new();
            while pipe.read_line(&mut line).unwrap_or(0) > 0 {
                stderr.lock().unwrap().push_str(&line);
                line.clear();
            }
        })
    };
    let attempts = || {
        stderr
            .lock()
            .unwrap()
            .matches("Telegram unreachable at start-up")
            .count()
    };
    eventually("a second attempt to reach Telegram", async || {
        attempts() >= 2
    })
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the bot keeps waiting for Telegram"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap();
    assert!(
        !stderr.contains("AAUnreachableSecretToken"),
        "the token leaked:\n{stderr}"
    );
}

/// /start, the language, the personality, 🚀 Begin (one message, edited), then the first
/// question.
pub async fn onboard(telegram: &FakeTelegram, user: &TestUser) {
    let seen = telegram.sent(user.chat_id()).len();
    telegram.send_text(user, "/start");
    let welcome = next_after(telegram, user, seen).await;
    for data in ["lang:en", "style:0", "begin"] {
        telegram
            .wait_until(WAIT, data, |t| {
                t.sent(user.chat_id()).iter().any(|m| {
                    m.message_id == welcome.message_id
                        && m.callback_datas().iter().any(|d| d == data)
                })
            })
            .await;
        telegram.press_button(user, welcome.message_id, data);
    }
    next_after(telegram, user, seen + 1).await;
}

async fn next_after(telegram: &FakeTelegram, user: &TestUser, seen: usize) -> SentMessage {
    telegram
        .wait_for_count(user.chat_id(), seen + 1, WAIT)
        .await[seen]
        .clone()
}

#[tokio::test]
async fn a_bot_killed_mid_call_answers_the_saved_message_after_the_restart() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", anthropic.url.clone()),
    ];
    let first = RunningBot(bot_command(dir.path(), &vars).spawn().unwrap());
    let ann = telegram.user(601, "Ann", Some("en"));
    onboard(&telegram, &ann).await;

    anthropic.script([Reply::Hang(Duration::from_secs(120))]);
    telegram.send_text(&ann, "I build bridges for a living.");
    eventually("the answer reached Claude", async || anthropic.count() >= 2).await;
    drop(first); // SIGKILL: no chance to clean up.
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        2,
        "no reply before the crash"
    );

    let _second = RunningBot(bot_command(dir.path(), &vars).spawn().unwrap());
    let reply = next_after(&telegram, &ann, 2).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    let blocks = anthropic.last_turn_blocks();
    assert_eq!(
        blocks[blocks.len() - 2],
        "I build bridges for a living.",
        "answered once, not joined with a copy"
    );
    // The interview goes on normally.
    telegram.send_text(&ann, "Mostly steel ones.");
    let next = next_after(&telegram, &ann, 3).await;
    assert!(next.plain().contains("Could you tell me more"));
}

/// The bot binary against the fakes, with `crash_at` naming a crash point (or none).
fn crashing_bot(
    dir: &std::path::Path,
    telegram: &FakeTelegram,
    anthropic: &FakeAnthropic,
    crash_at: Option<&str>,
) -> RunningBot {
    let mut vars = vec![
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", anthropic.url.clone()),
    ];
    if let Some(point) = crash_at {
        vars.push((ai_interviewer::faults::CRASH_AT, point.to_owned()));
    }
    RunningBot(bot_command(dir, &vars).spawn().unwrap())
}

impl RunningBot {
    /// Waits for the process to end by itself (a crash point), and returns how it ended.
    async fn crashed(mut self) -> std::process::ExitStatus {
        eventually("the bot reaches its crash point", async || {
            self.0.try_wait().unwrap()
        })
        .await
    }
}

#[tokio::test]
async fn a_kill_right_after_updates_are_fetched_loses_nothing() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(602, "Ann", Some("en"));
    let first = crashing_bot(dir.path(), &telegram, &anthropic, Some("updates-fetched"));
    telegram.send_text(&ann, "/start");
    let status = first.crashed().await;
    assert!(!status.success(), "killed before saving the update");
    assert!(telegram.sent(ann.chat_id()).is_empty());
    assert_eq!(
        telegram.pending_updates(),
        1,
        "the offset was never confirmed"
    );

    let _second = crashing_bot(dir.path(), &telegram, &anthropic, None);
    let welcome = next_after(&telegram, &ann, 0).await;
    assert!(
        welcome.plain().starts_with("Hello, Ann!"),
        "{}",
        welcome.plain()
    );
    // Answered once: the next message is the first question, after the setup.
    for data in ["lang:en", "style:0", "begin"] {
        telegram
            .wait_until(WAIT, data, |t| {
                t.sent(ann.chat_id())[0]
                    .callback_datas()
                    .iter()
                    .any(|d| d == data)
            })
            .await;
        telegram.press_button(&ann, welcome.message_id, data);
    }
    let question = next_after(&telegram, &ann, 1).await;
    assert!(
        question.plain().starts_with("Stage 1/9"),
        "{}",
        question.plain()
    );
}

#[tokio::test]
async fn a_kill_after_a_reply_is_saved_and_before_it_is_sent_delivers_it_once_after_the_restart() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(603, "Ann", Some("en"));
    let first = crashing_bot(dir.path(), &telegram, &anthropic, Some("reply-saved"));
    onboard(&telegram, &ann).await;
    telegram.send_text(&ann, "I build bridges.");
    first.crashed().await;
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        2,
        "the reply was not sent"
    );
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("603.json")).unwrap()).unwrap();
    let transcript = session["transcript"].as_array().unwrap();
    assert_eq!(transcript.len(), 3, "the reply was saved");
    assert_eq!(transcript[2]["delivered"], false);

    let _second = crashing_bot(dir.path(), &telegram, &anthropic, None);
    let reply = next_after(&telegram, &ann, 2).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    let calls = anthropic.turn_count();
    // Once: the next message is the reply to the next answer.
    telegram.send_text(&ann, "Steel ones.");
    let next = next_after(&telegram, &ann, 3).await;
    assert!(next.plain().contains("Could you tell me more"));
    assert_eq!(
        anthropic.turn_count(),
        calls + 1,
        "the saved reply was not asked for again"
    );
    assert_eq!(telegram.sent(ann.chat_id()).len(), 4);
}

#[tokio::test]
async fn a_kill_while_the_question_shows_as_a_draft_sends_it_once_after_the_restart() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(606, "Ann", Some("en"));
    let setup = crashing_bot(dir.path(), &telegram, &anthropic, None);
    onboard(&telegram, &ann).await;
    let session = dir.path().join("606.json");
    eventually("the first question is marked delivered", async || {
        std::fs::read_to_string(&session).is_ok_and(|s| !s.contains("\"delivered\":false"))
    })
    .await;
    drop(setup);
    let before = telegram.sent(ann.chat_id()).len();
    let sends = telegram.bot_send_count(ann.chat_id());

    // The reply stops halfway while Claude writes it: its beginning shows as a draft, and the
    // process dies right after Telegram took that draft.
    anthropic.hold_streams_after(50);
    let first = crashing_bot(dir.path(), &telegram, &anthropic, Some("draft-shown"));
    telegram.send_text(&ann, "I build bridges.");
    first.crashed().await;
    let drafts = telegram.drafts(ann.chat_id());
    assert!(
        drafts
            .iter()
            .any(|d| d.messages_before == sends && !d.text.is_empty()),
        "{drafts:?}"
    );
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        before,
        "no question yet"
    );

    anthropic.release_replies();
    let _second = crashing_bot(dir.path(), &telegram, &anthropic, None);
    let question = next_after(&telegram, &ann, before).await;
    assert!(
        question.plain().contains("Could you tell me more"),
        "{}",
        question.plain()
    );
    let blocks = anthropic.last_turn_blocks();
    assert_eq!(
        blocks[blocks.len() - 2],
        "I build bridges.",
        "the answer was asked about once, not joined with a copy"
    );
    telegram.send_text(&ann, "Steel ones.");
    next_after(&telegram, &ann, before + 1).await;
    let sent = telegram.sent(ann.chat_id());
    let questions = sent[before..]
        .iter()
        .filter(|m| m.plain().contains("Could you tell me more"))
        .count();
    assert_eq!(questions, 2, "every question reached the chat once");
}

/// Kills the bot at `point`, just after its reply to an answer reached Telegram, restarts
/// it, and checks that nothing is sent or taken twice: the next message is the reply to the
/// next answer, and every question reached the chat once.
async fn a_reply_reaches_the_chat_once_despite_a_kill_at(point: &str, user: u64) {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(user, "Ann", Some("en"));
    let setup = crashing_bot(dir.path(), &telegram, &anthropic, None);
    onboard(&telegram, &ann).await;
    let session = dir.path().join(format!("{user}.json"));
    eventually("the first question is marked delivered", async || {
        std::fs::read_to_string(&session).is_ok_and(|s| !s.contains("\"delivered\":false"))
    })
    .await;
    drop(setup);
    let first = crashing_bot(dir.path(), &telegram, &anthropic, Some(point));
    telegram.send_text(&ann, "I build bridges.");
    first.crashed().await;
    assert_eq!(telegram.sent(ann.chat_id()).len(), 3, "the reply went out");

    let _second = crashing_bot(dir.path(), &telegram, &anthropic, None);
    telegram.send_text(&ann, "Steel ones.");
    let next = next_after(&telegram, &ann, 3).await;
    assert!(next.plain().contains("Could you tell me more"));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&session).unwrap()).unwrap();
    let transcript = saved["transcript"].as_array().unwrap();
    let questions = transcript
        .iter()
        .filter(|e| e["role"] == "interviewer")
        .count();
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        questions + 1,
        "every question reached the chat once (plus the setup message)"
    );
    let answers: Vec<_> = transcript
        .iter()
        .filter(|e| e["role"] == "expert")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(answers, vec!["I build bridges.", "Steel ones."]);
}

#[tokio::test]
async fn a_kill_after_a_reply_is_delivered_and_before_its_update_is_marked_sends_nothing_twice() {
    a_reply_reaches_the_chat_once_despite_a_kill_at("reply-delivered", 604).await;
}

#[tokio::test]
async fn a_kill_right_after_telegram_accepts_a_reply_does_not_send_it_again() {
    // Killed before the session recorded the delivery: only the log of sent messages knows.
    a_reply_reaches_the_chat_once_despite_a_kill_at("reply-accepted", 607).await;
}

impl RunningBot {
    /// Sends SIGTERM, as `docker stop` does.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// The bot binary against the fakes with `SHUTDOWN_GRACE_SECONDS=grace`.
fn bot_with_grace(
    dir: &std::path::Path,
    telegram: &FakeTelegram,
    anthropic: &FakeAnthropic,
    grace: u64,
) -> RunningBot {
    let vars = [
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", anthropic.url.clone()),
        ("SHUTDOWN_GRACE_SECONDS", grace.to_string()),
    ];
    RunningBot(bot_command(dir, &vars).spawn().unwrap())
}

#[tokio::test]
async fn sigterm_in_the_middle_of_a_turn_lets_it_finish_within_the_grace_and_exits_0() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(605, "Ann", Some("en"));
    let bot = bot_with_grace(dir.path(), &telegram, &anthropic, 60);
    onboard(&telegram, &ann).await;
    anthropic.hold_replies();
    let calls = anthropic.count();
    telegram.send_text(&ann, "I build bridges.");
    eventually("the answer reached Claude", async || {
        anthropic.count() > calls
    })
    .await;
    bot.terminate();
    anthropic.release_replies();
    let reply = next_after(&telegram, &ann, 2).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    let status = bot.crashed().await;
    assert_eq!(status.code(), Some(0), "a clean exit");
    assert_eq!(
        telegram.pending_updates(),
        0,
        "the handled updates were confirmed"
    );
}

#[tokio::test]
async fn a_turn_cut_off_by_the_grace_stays_pending_and_is_answered_after_the_restart() {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(606, "Ann", Some("en"));
    let bot = bot_with_grace(dir.path(), &telegram, &anthropic, 1);
    onboard(&telegram, &ann).await;
    anthropic.hold_replies();
    let calls = anthropic.count();
    telegram.send_text(&ann, "I build bridges.");
    eventually("the answer reached Claude", async || {
        anthropic.count() > calls
    })
    .await;
    bot.terminate();
    let status = bot.crashed().await;
    assert_eq!(status.code(), Some(0), "a clean exit after the grace");
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        2,
        "no reply before the stop"
    );
    anthropic.release_replies();
    let _second = bot_with_grace(dir.path(), &telegram, &anthropic, 1);
    let reply = next_after(&telegram, &ann, 2).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    let blocks = anthropic.last_turn_blocks();
    assert_eq!(
        blocks[blocks.len() - 2],
        "I build bridges.",
        "answered once, not joined with a copy"
    );
}

/// The bot binary with voice notes transcribed by `aai`, crashing at `crash_at` if given.
fn voice_bot(
    dir: &std::path::Path,
    telegram: &FakeTelegram,
    anthropic: &FakeAnthropic,
    aai: &FakeAssemblyAi,
    crash_at: Option<&str>,
) -> RunningBot {
    let mut vars = vec![
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("ANTHROPIC_BASE_URL", anthropic.url.clone()),
    ];
    vars.extend(aai.vars());
    if let Some(point) = crash_at {
        vars.push((ai_interviewer::faults::CRASH_AT, point.to_owned()));
    }
    RunningBot(bot_command(dir, &vars).spawn().unwrap())
}

/// Kills the bot at `crash_at` while a voice note is being transcribed, restarts it, and
/// checks the note is finished once: echoed, answered, saved as one voice turn. Returns the
/// fakes, to check what reached them.
async fn voice_note_survives_a_kill_at(
    crash_at: &str,
    user: u64,
) -> (FakeTelegram, FakeAssemblyAi) {
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let aai = FakeAssemblyAi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ann = telegram.user(user, "Ann", Some("en"));
    let first = voice_bot(dir.path(), &telegram, &anthropic, &aai, Some(crash_at));
    onboard(&telegram, &ann).await;
    let said = "Steel bridges, mostly.";
    aai.script(&audio("voice-en.ogg"), Script::new(said, "en"));
    telegram.register_file("crash-1", audio("voice-en.ogg"));
    telegram.send_voice(&ann, "crash-1", 3, Some("audio/ogg"), Some(16_000));
    let mut child = first;
    let status = eventually(format!("the bot reaches {crash_at}"), async || {
        child.0.try_wait().unwrap()
    })
    .await;
    assert!(!status.success(), "killed at {crash_at}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let secret = telegram.token().split_once(':').unwrap().1;
    assert!(!stderr.contains(secret), "the token leaked:\n{stderr}");
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        2,
        "no echo before the kill"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("chats/{user}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["voice"]["file_id"], "crash-1",
        "the note was saved first"
    );

    let _second = voice_bot(dir.path(), &telegram, &anthropic, &aai, None);
    let echo = next_after(&telegram, &ann, 2).await;
    assert_eq!(echo.plain(), format!("🎤 {said}\n\n🟢 Heard clearly (93%)"));
    let reply = next_after(&telegram, &ann, 3).await;
    assert!(
        reply.plain().contains("Could you tell me more"),
        "{}",
        reply.plain()
    );
    // Once: the next message is the reply to the next answer.
    telegram.send_text(&ann, "And some concrete.");
    let next = next_after(&telegram, &ann, 4).await;
    assert!(next.plain().contains("Could you tell me more"));
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(format!("{user}.json"))).unwrap())
            .unwrap();
    let answers: Vec<_> = session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == "expert")
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["text"], said);
    assert_eq!(answers[0]["voice"].as_array().unwrap().len(), 1);
    assert_eq!(answers[1]["text"], "And some concrete.");
    (telegram, aai)
}

#[tokio::test]
async fn a_bot_killed_while_a_voice_note_is_transcribed_finishes_the_job_after_the_restart() {
    let (telegram, aai) = voice_note_survives_a_kill_at("voice-submitted", 605).await;
    assert_eq!(telegram.downloads().len(), 1, "not downloaded again");
    assert_eq!(aai.count(Call::Upload), 1, "not uploaded again");
    assert_eq!(
        aai.count(Call::Create),
        1,
        "the saved job was polled to its end"
    );
}

#[tokio::test]
async fn a_bot_killed_before_a_voice_note_is_downloaded_downloads_it_after_the_restart() {
    let (telegram, aai) = voice_note_survives_a_kill_at("voice-accepted", 606).await;
    assert_eq!(
        telegram.downloads().len(),
        1,
        "downloaded after the restart only"
    );
    assert_eq!(aai.count(Call::Create), 1, "transcribed once");
}
