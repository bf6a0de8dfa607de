//! Load figures for the Telegram bot, printed (not asserted).
//!
//! The release binary runs as its own process against the fake Bot API and the fake Messages
//! API on loopback, the latter answering every turn after exactly 1 s. 100 users go through the
//! setup buttons, then answer questions concurrently. For each reply, the bot-added latency is
//! the time from the user's message to the bot's `sendMessage` arriving at the fake, minus the
//! fake's 1 s. Two patterns:
//!
//! - steady: each user thinks 3-8 s before answering (about 15 answers a second overall,
//!   within Telegram's 30 messages a second, which the bot honours);
//! - burst: all 100 answer at the same instant, so Telegram's flood limit queues replies.
//!
//! Peak RSS is the bot process's VmHWM. Run with `cargo bench --bench telegram_load`.

#[path = "../tests/it/support/anthropic.rs"]
#[allow(dead_code)]
mod anthropic;
#[path = "../tests/it/support/telegram.rs"]
mod telegram;

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anthropic::FakeAnthropic;
use rand::Rng;
use telegram::{FakeTelegram, TestUser};

const USERS: u64 = 100;
const ANSWERS: usize = 10;
const CLAUDE_LATENCY: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(60);

struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Bot {
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

async fn answer_once(tg: &FakeTelegram, user: &TestUser, text: &str) -> Duration {
    let chat = user.chat_id();
    let before = tg.bot_send_count(chat);
    let sent_at = Instant::now();
    tg.send_text(user, text);
    let reply_at = tg.wait_for_bot_send(chat, before + 1, WAIT).await;
    (reply_at - sent_at).saturating_sub(CLAUDE_LATENCY)
}

async fn set_up(tg: &FakeTelegram, user: &TestUser) {
    let chat = user.chat_id();
    let step = |n: usize| async move { tg.wait_for_count(chat, n, WAIT).await[n - 1].clone() };
    tg.send_text(user, "/start");
    let welcome = step(1).await;
    tg.press_button(user, welcome.message_id, "lang:en");
    let styles = step(2).await;
    tg.press_button(user, styles.message_id, "style:1");
    let briefing = step(3).await;
    tg.press_button(user, briefing.message_id, "begin");
    step(4).await;
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at =
        |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "  {label:<34} p50 {:>8.1} ms   p90 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms   (n={})",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        samples.len()
    );
}

#[tokio::main]
async fn main() {
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = FakeAnthropic::start().await;
    claude.set_latency(CLAUDE_LATENCY);
    claude.set_step(5);
    let sessions = match std::env::var("LOAD_SESSIONS_IN") {
        Ok(dir) => tempfile::tempdir_in(dir).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let bot = Bot(Command::new(env!("CARGO_BIN_EXE_ai-interviewer"))
        .arg("bot")
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", tg.token())
        .env("TELEGRAM_API_URL", tg.api_url())
        .env("ANTHROPIC_API_KEY", anthropic::API_KEY)
        .env("ANTHROPIC_BASE_URL", &claude.url)
        .env("SESSIONS_DIR", sessions.path())
        .env(
            "PROMPTS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/prompts"),
        )
        .env("RATE_LIMIT_MESSAGES", "1000")
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("the bot binary starts"));
    tg.wait_for_calls("getUpdates", 1, WAIT).await;

    let users: Vec<TestUser> = (0..USERS)
        .map(|i| tg.user(10_000 + i, "Load", Some("en")))
        .collect();
    let started = Instant::now();
    let setups: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let tg = tg.clone();
            tokio::spawn(async move { set_up(&tg, &u).await })
        })
        .collect();
    for s in setups {
        s.await.unwrap();
    }
    println!(
        "{USERS} users set up (buttons and first question) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    println!("\nbot-added latency per reply (reply time minus the fake Claude's 1 s)");
    let started = Instant::now();
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let tg = tg.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                for i in 0..ANSWERS {
                    let think = rand::rng().random_range(3_000..8_000);
                    tokio::time::sleep(Duration::from_millis(think)).await;
                    samples.push(
                        answer_once(
                            &tg,
                            &u,
                            &format!("Answer {i}: a concrete story from my work."),
                        )
                        .await,
                    );
                }
                samples
            })
        })
        .collect();
    let mut steady = Vec::new();
    for t in tasks {
        steady.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    report("steady, 100 users, think 3-8 s", steady);
    println!(
        "  ({} answers in {elapsed:.0} s: {:.1} answers/s)",
        USERS as usize * ANSWERS,
        (USERS as usize * ANSWERS) as f64 / elapsed
    );

    // Every chat has been quiet for over a second, so only the overall limit applies.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let tg = tg.clone();
            tokio::spawn(async move { answer_once(&tg, &u, "All at once.").await })
        })
        .collect();
    let mut burst = Vec::new();
    for t in tasks {
        burst.push(t.await.unwrap());
    }
    report("burst, 100 answers at one instant", burst);
    println!(
        "  (Telegram allows about 30 messages a second per bot: past the first 30, replies go out ~33 ms apart by design)"
    );

    match bot.peak_rss_kib() {
        Some(kib) => println!(
            "\npeak RSS of the bot process: {:.1} MB",
            kib as f64 / 1024.0
        ),
        None => println!("\npeak RSS unavailable (no /proc)"),
    }
}
