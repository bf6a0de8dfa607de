//! Voice notes through the whole bot, printed (not asserted): the time the bot adds to a voice
//! note, from the user's message to the "🎤 …" echo reaching Telegram, then to the next
//! question.
//!
//! The release binary runs as its own process with its product settings against the fake Bot
//! API, the fake Messages API (answering at once) and the fake AssemblyAI (every transcript
//! completed at the first poll, so none of the time is AssemblyAI's processing). What remains
//! is the bot's own work: getUpdates, the record saved, getFile and the download, the probe
//! (and ffmpeg for an MP3), the upload and transcript request, the wait before the first poll
//! (1 s: the product's polling policy, there for a real service), the poll, the echo sent.
//! Each note goes from a different user in turn, so Telegram's one-message-a-second pace per
//! chat never holds an echo back. Run with `cargo bench --bench voice_chat`; ffmpeg must be
//! installed.

use interviewer_fakes::{anthropic, assemblyai, telegram};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use telegram::{FakeTelegram, TestUser};

const USERS: u64 = 5;
const NOTES: usize = 20;
const WAIT: Duration = Duration::from_secs(60);
/// The product's wait before the first poll of a transcript.
const FIRST_POLL: Duration = Duration::from_secs(1);

struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/audio/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn set_up(tg: &FakeTelegram, user: &TestUser) {
    let chat = user.chat_id();
    let step = |n: usize| async move { tg.wait_for_count(chat, n, WAIT).await[n - 1].clone() };
    tg.send_text(user, "/start");
    let welcome = step(1).await;
    for data in ["lang:en", "style:1", "begin"] {
        tg.wait_until(WAIT, data, |t| {
            t.sent(chat).iter().any(|m| {
                m.message_id == welcome.message_id && m.callback_datas().iter().any(|d| d == data)
            })
        })
        .await;
        tg.press_button(user, welcome.message_id, data);
    }
    step(2).await;
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at =
        |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "  {label:<44} p50 {:>7.1} ms   p90 {:>7.1} ms   max {:>7.1} ms   (n={})",
        at(0.5),
        at(0.9),
        at(1.0),
        samples.len()
    );
}

#[tokio::main]
async fn main() {
    let tg = FakeTelegram::start().await;
    let claude = anthropic::FakeAnthropic::start().await;
    let aai = assemblyai::FakeAssemblyAi::start().await;
    aai.set_polls_to_complete(1);
    aai.default_script(assemblyai::Script::new(
        "I check the valves before every shift.",
        "en",
    ));
    let sessions = tempfile::tempdir().unwrap();
    let _bot = Bot(Command::new(env!("CARGO_BIN_EXE_ai-interviewer"))
        .arg("bot")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TELEGRAM_BOT_TOKEN", tg.token())
        .env("TELEGRAM_API_URL", tg.api_url())
        .env("ANTHROPIC_API_KEY", anthropic::API_KEY)
        .env("ANTHROPIC_BASE_URL", &claude.url)
        .env("ASSEMBLYAI_API_KEY", assemblyai::API_KEY)
        .env("ASSEMBLYAI_BASE_URL", &aai.url)
        .env("SESSIONS_DIR", sessions.path())
        .env("RATE_LIMIT_MESSAGES", "1000")
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("the bot binary starts"));
    tg.wait_for_calls("getUpdates", 1, WAIT).await;
    let users: Vec<TestUser> = (0..USERS)
        .map(|i| tg.user(30_000 + i, "Voice", Some("en")))
        .collect();
    for user in &users {
        set_up(&tg, user).await;
    }

    println!(
        "bot-added time per voice note, AssemblyAI and Claude answering at once \
         (the echo includes the {} s wait before the first poll)",
        FIRST_POLL.as_secs()
    );
    for (label, name, audio_file) in [
        (
            "2.5-s voice note (OGG/Opus, sent as it is)",
            "voice-en.ogg",
            false,
        ),
        (
            "2.6-s MP3 audio file (converted by ffmpeg)",
            "speech-en.mp3",
            true,
        ),
    ] {
        let bytes = fixture(name);
        let mut echoes = Vec::new();
        let mut replies = Vec::new();
        let mut without_wait = Vec::new();
        for n in 0..NOTES {
            let user = &users[n % users.len()];
            let chat = user.chat_id();
            let file_id = format!("{name}-{n}");
            tg.register_file(&file_id, bytes.clone());
            let before = tg.bot_send_count(chat);
            let sent = Instant::now();
            if audio_file {
                tg.send_audio(user, &file_id, 3, Some("talk.mp3"), Some("audio/mpeg"));
            } else {
                tg.send_voice(
                    user,
                    &file_id,
                    3,
                    Some("audio/ogg"),
                    Some(bytes.len() as u64),
                );
            }
            let echo = tg.wait_for_bot_send(chat, before + 1, WAIT).await;
            let reply = tg.wait_for_bot_send(chat, before + 2, WAIT).await;
            echoes.push(echo - sent);
            without_wait.push((echo - sent).saturating_sub(FIRST_POLL));
            replies.push(reply - sent);
            // Each chat is quiet again before its next note (one message a second per chat).
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        println!("{label}");
        report("to the echo", echoes);
        report("to the echo, less the first-poll wait", without_wait);
        report("to the next question", replies);
    }
}
