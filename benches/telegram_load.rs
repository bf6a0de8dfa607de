//! Load and crash figures for the Telegram bot, printed (not asserted).
//!
//! The release binary runs as its own process against the fake Bot API and the fake Messages
//! API on loopback. Run one scenario at a time:
//!
//! ```text
//! cargo bench --bench telegram_load -- spread [users]   # onboarding over 5 min, answers every 30-90 s
//! cargo bench --bench telegram_load -- burst [users]    # everyone starts within one minute
//! cargo bench --bench telegram_load -- soak [kills]     # kill -9 at random moments during live interviews
//! cargo bench --bench telegram_load -- startup [sessions]  # start-up time with many stored sessions
//! cargo bench --bench telegram_load -- firstwords [users]  # time to the question's first words
//! ```
//!
//! - spread: each user goes through the setup buttons (one message, edited) and answers eight
//!   questions, thinking 30-90 s each time; the fake Claude answers every turn after 2 s.
//!   Bot-added latency is the time from the user's message to the bot's reply reaching the fake,
//!   minus the fake's 2 s. A button press is late when its answerCallbackQuery comes after
//!   Telegram's 15 s (the fake refuses it, as Telegram does). RSS is sampled every 5 s during
//!   the run and for 11 minutes after it (workers of quiet chats end after 10 minutes).
//! - burst: the same users start within one minute; the longest wait for the first question
//!   is set against the queue's theoretical minimum (every message the bot had to send before
//!   it, at Telegram's 30 a second).
//! - soak: 25 live interviews; the bot is killed with SIGKILL at random moments and restarted;
//!   at the end every answer sent must be in its transcript exactly once, no reply may have
//!   reached a chat twice, and every stored file must parse.
//! - startup: sessions are written to disk, then the time from spawning the binary to its
//!   first getUpdates is measured.
//! - firstwords: the fake Claude starts writing 0.6 s after a request and writes 60 tokens a
//!   second, replies of a realistic length; each user answers six questions. Per turn, the time
//!   from the answer to the question's first words on screen (the first non-empty draft) and to
//!   the question itself, with drafts on, then the same with `DRAFTS=false` (the question only).

use interviewer_fakes::{anthropic, telegram};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anthropic::FakeAnthropic;
use rand::Rng;
use telegram::{FakeTelegram, SentMessage, TestUser};

const WAIT: Duration = Duration::from_secs(600);

/// The bot process, killed on drop.
struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Bot {
    fn start(tg: &FakeTelegram, claude: &FakeAnthropic, sessions: &Path) -> Bot {
        Bot::spawn(tg, claude, sessions, "error", Stdio::null())
    }

    /// The bot with the store's debug lines appended to `log` (the soak counts session saves).
    fn start_logged(tg: &FakeTelegram, claude: &FakeAnthropic, sessions: &Path, log: &Path) -> Bot {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("the soak's log file opens");
        Bot::spawn(
            tg,
            claude,
            sessions,
            "error,ai_interviewer::store=debug",
            file.into(),
        )
    }

    fn spawn(
        tg: &FakeTelegram,
        claude: &FakeAnthropic,
        sessions: &Path,
        level: &str,
        stderr: Stdio,
    ) -> Bot {
        Bot::spawn_with(tg, claude, sessions, level, stderr, &[])
    }

    fn spawn_with(
        tg: &FakeTelegram,
        claude: &FakeAnthropic,
        sessions: &Path,
        level: &str,
        stderr: Stdio,
        vars: &[(&str, &str)],
    ) -> Bot {
        Bot(Command::new(env!("CARGO_BIN_EXE_ai-interviewer"))
            .arg("bot")
            .env_clear()
            .envs(vars.iter().copied())
            .env("TELEGRAM_BOT_TOKEN", tg.token())
            .env("TELEGRAM_API_URL", tg.api_url())
            .env("ANTHROPIC_API_KEY", anthropic::API_KEY)
            .env("ANTHROPIC_BASE_URL", &claude.url)
            .env("SESSIONS_DIR", sessions)
            .env("RATE_LIMIT_MESSAGES", "1000")
            .env("LOG_LEVEL", level)
            .current_dir(sessions)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the bot binary starts"))
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    fn rss_mb(&self) -> f64 {
        self.status_kib("VmRSS:").unwrap_or(0) as f64 / 1024.0
    }

    fn peak_mb(&self) -> f64 {
        self.status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
    }
}

async fn polling(tg: &FakeTelegram, calls_before: usize) {
    tg.wait_until(WAIT, "the bot polls", |t| {
        t.calls("getUpdates").len() > calls_before
    })
    .await;
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    if samples.is_empty() {
        println!("  {label}: no samples");
        return;
    }
    samples.sort();
    let at =
        |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "  {label:<40} p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms   (n={})",
        at(0.5),
        at(0.99),
        at(1.0),
        samples.len()
    );
}

/// Waits until message `id` in the user's chat offers the button `data`.
async fn offers(tg: &FakeTelegram, user: &TestUser, id: i32, data: &str) {
    let chat = user.chat_id();
    tg.wait_until(WAIT, data, |t| {
        t.sent(chat)
            .iter()
            .any(|m| m.message_id == id && m.callback_datas().iter().any(|d| d == data))
    })
    .await;
}

/// /start, language, interviewer, Begin; returns when the first question arrived, and when
/// the first message (the welcome) did.
async fn onboard(tg: &FakeTelegram, user: &TestUser) -> (Instant, Instant) {
    let chat = user.chat_id();
    let started = Instant::now();
    tg.send_text(user, "/start");
    let welcome_at = tg.wait_for_bot_send(chat, 1, WAIT).await;
    let welcome: SentMessage = tg.sent(chat)[0].clone();
    for data in ["lang:en", "style:1", "begin"] {
        offers(tg, user, welcome.message_id, data).await;
        tg.press_button(user, welcome.message_id, data);
    }
    let first_at = tg.wait_for_bot_send(chat, 2, WAIT).await;
    let _ = started;
    (welcome_at, first_at)
}

/// Sends an answer and returns the time until the bot's next message reached the fake.
async fn answer(tg: &FakeTelegram, user: &TestUser, text: &str) -> Duration {
    let chat = user.chat_id();
    let before = tg.bot_send_count(chat);
    let sent = Instant::now();
    tg.send_text(user, text);
    tg.wait_for_bot_send(chat, before + 1, WAIT).await - sent
}

fn late_callback_answers(tg: &FakeTelegram) -> (usize, usize) {
    let calls = tg.calls("answerCallbackQuery");
    let late = calls.iter().filter(|c| c.status != 200).count();
    (late, calls.len())
}

/// The most bot messages (sends and edits) in any one-second window, overall and per chat.
fn busiest_second(tg: &FakeTelegram) -> (usize, usize) {
    let sends: Vec<(Instant, i64)> = tg
        .all_calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.method.as_str(),
                "sendMessage" | "editMessageText" | "sendDocument"
            ) && c.status == 200
        })
        .map(|c| {
            let chat = c.params["chat_id"]
                .as_i64()
                .or_else(|| c.params["chat_id"].as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0);
            (c.received_at, chat)
        })
        .collect();
    let mut overall = 0;
    let mut per_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
    for (i, (at, chat)) in sends.iter().enumerate() {
        let n = sends[i..]
            .iter()
            .take_while(|(t, _)| *t < *at + Duration::from_secs(1))
            .count();
        overall = overall.max(n);
        per_chat.entry(*chat).or_default().push(*at);
    }
    let chat_max = per_chat
        .values()
        .map(|times| {
            (0..times.len())
                .map(|i| {
                    times[i..]
                        .iter()
                        .take_while(|t| **t < times[i] + Duration::from_secs(1))
                        .count()
                })
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    (overall, chat_max)
}

async fn spread(users: u64) {
    const CLAUDE: Duration = Duration::from_secs(2);
    const ANSWERS: usize = 8;
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = FakeAnthropic::start().await;
    claude.set_latency(CLAUDE);
    claude.set_step(10);
    let dir = tempfile::tempdir().unwrap();
    let bot = Arc::new(Bot::start(&tg, &claude, dir.path()));
    polling(&tg, 0).await;
    println!(
        "spread: {users} users, onboarding over 5 minutes, {ANSWERS} answers each, thinking 30-90 s, Claude 2 s"
    );

    let running = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampler = {
        let (bot, running, peak) = (bot.clone(), running.clone(), peak.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let rss = bot.rss_mb();
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(rss);
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..users)
        .map(|i| {
            let tg = tg.clone();
            tokio::spawn(async move {
                let user = tg.user(100_000 + i, "Load", Some("en"));
                let offset = rand::rng().random_range(0..300_000);
                tokio::time::sleep(Duration::from_millis(offset)).await;
                onboard(&tg, &user).await;
                let mut latencies = Vec::new();
                for n in 0..ANSWERS {
                    let think = rand::rng().random_range(30_000..90_000);
                    tokio::time::sleep(Duration::from_millis(think)).await;
                    let took = answer(
                        &tg,
                        &user,
                        &format!("Answer {n}: a concrete case from my work."),
                    )
                    .await;
                    latencies.push(took.saturating_sub(CLAUDE));
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut completed = 0;
    for task in tasks {
        if let Ok(samples) = task.await {
            completed += 1;
            latencies.extend(samples);
        }
    }
    let took = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    println!(
        "  users who finished: {completed} of {users} in {:.0} s",
        took.as_secs_f64()
    );
    percentiles("bot-added latency per answer", latencies);
    let (late, total) = late_callback_answers(&tg);
    println!("  button presses answered after 15 s: {late} of {total}");
    let (overall, chat) = busiest_second(&tg);
    println!("  busiest second: {overall} messages overall (limit ~30), {chat} in one chat");
    println!("  RSS: peak during the run {:.1} MB", *peak.lock().unwrap());
    for minute in 1..=11 {
        tokio::time::sleep(Duration::from_secs(60)).await;
        println!("  RSS {minute} min after the load: {:.1} MB", bot.rss_mb());
    }
    println!("  VmHWM (the process's peak): {:.1} MB", bot.peak_mb());
}

async fn burst(users: u64) {
    const CLAUDE: Duration = Duration::from_secs(2);
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = FakeAnthropic::start().await;
    claude.set_latency(CLAUDE);
    let dir = tempfile::tempdir().unwrap();
    let bot = Bot::start(&tg, &claude, dir.path());
    polling(&tg, 0).await;
    println!("burst: {users} users starting within one minute, Claude 2 s");
    let started = Instant::now();
    let tasks: Vec<_> = (0..users)
        .map(|i| {
            let tg = tg.clone();
            tokio::spawn(async move {
                let user = tg.user(200_000 + i, "Load", Some("en"));
                let offset = rand::rng().random_range(0..60_000);
                tokio::time::sleep(Duration::from_millis(offset)).await;
                let start = Instant::now();
                let (welcome, first) = onboard(&tg, &user).await;
                (start, welcome - start, first - start)
            })
        })
        .collect();
    let mut welcomes = Vec::new();
    let mut firsts = Vec::new();
    let mut last_start = Duration::ZERO;
    for task in tasks {
        let (start, welcome, first) = task.await.unwrap();
        last_start = last_start.max(start - started);
        welcomes.push(welcome);
        firsts.push(first);
    }
    let drained = started.elapsed();
    percentiles("wait for the welcome", welcomes.clone());
    percentiles("setup to the first question", firsts.clone());
    let sends = tg
        .all_calls()
        .iter()
        .filter(|c| {
            matches!(c.method.as_str(), "sendMessage" | "editMessageText") && c.status == 200
        })
        .count();
    let minimum = Duration::from_secs_f64(sends as f64 / 30.0).saturating_sub(last_start);
    println!(
        "  {sends} messages and edits in {:.0} s; at 30 a second they need {:.0} s, so the last user \
         to start could not have been served less than {:.1} s after starting",
        drained.as_secs_f64(),
        sends as f64 / 30.0,
        minimum.as_secs_f64()
    );
    println!(
        "  longest wait: welcome {:.1} s, first question {:.1} s (Claude adds 2 s)",
        welcomes.iter().max().unwrap().as_secs_f64(),
        firsts.iter().max().unwrap().as_secs_f64()
    );
    let (late, total) = late_callback_answers(&tg);
    println!("  button presses answered after 15 s: {late} of {total}");
    let (overall, chat) = busiest_second(&tg);
    println!("  busiest second: {overall} messages overall (limit ~30), {chat} in one chat");
    println!("  peak RSS {:.1} MB", bot.peak_mb());
}

async fn soak(kills: usize) {
    const USERS: u64 = 25;
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = Arc::new(FakeAnthropic::start().await);
    claude.set_step(4);
    claude.set_latency(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("bot.log");
    println!("soak: {USERS} live interviews, {kills} kill -9 at random moments");
    let bot = Arc::new(Mutex::new(Some(Bot::start_logged(
        &tg,
        &claude,
        dir.path(),
        &log,
    ))));
    polling(&tg, 0).await;
    let sent: Arc<Mutex<BTreeMap<u64, Vec<String>>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let counter = Arc::new(AtomicU64::new(0));
    let users: Vec<_> = (0..USERS)
        .map(|i| {
            let (tg, sent, running, counter) =
                (tg.clone(), sent.clone(), running.clone(), counter.clone());
            tokio::spawn(async move {
                let user = tg.user(300_000 + i, "Soak", Some("en"));
                onboard(&tg, &user).await;
                while running.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let text = format!("answer-{n}");
                    sent.lock()
                        .unwrap()
                        .entry(user.id)
                        .or_default()
                        .push(text.clone());
                    let chat = user.chat_id();
                    let before = tg.bot_send_count(chat);
                    tg.send_text(&user, &text);
                    // Wait for a reply, or give up after a while (the bot may be down).
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while tg.bot_send_count(chat) <= before && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    let pause = rand::rng().random_range(100..1500);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            })
        })
        .collect();
    for kill in 0..kills {
        let wait = rand::rng().random_range(500..5000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        drop(bot.lock().unwrap().take()); // SIGKILL
        let calls = tg.calls("getUpdates").len();
        *bot.lock().unwrap() = Some(Bot::start_logged(&tg, &claude, dir.path(), &log));
        polling(&tg, calls).await;
        if kill % 10 == 9 {
            println!("  {} kills", kill + 1);
        }
    }
    running.store(false, Ordering::Relaxed);
    for user in users {
        let _ = user.await;
    }
    // Let the last bot finish everything in hand.
    tokio::time::sleep(Duration::from_secs(20)).await;
    drop(bot.lock().unwrap().take());

    let sent = sent.lock().unwrap().clone();
    let mut lost = 0;
    let mut doubled = 0;
    let mut duplicated_replies = 0;
    let mut answers = 0;
    let mut taken_total = 0;
    for (user, texts) in &sent {
        answers += texts.len();
        let taken = taken_answers(dir.path(), *user);
        taken_total += taken.len();
        for text in texts {
            match taken.iter().filter(|t| *t == text).count() {
                0 => lost += 1,
                1 => {}
                _ => doubled += 1,
            }
        }
        let mut seen = HashMap::new();
        for message in tg.sent(*user as i64) {
            if message.document.is_some() || message.buttons.iter().flatten().next().is_some() {
                continue;
            }
            *seen.entry(message.plain()).or_insert(0) += 1;
        }
        duplicated_replies += seen
            .iter()
            .filter(|(text, n)| **n > 1 && text.contains("(turn at"))
            .map(|(_, n)| n - 1)
            .sum::<usize>();
    }
    let corrupt = corrupt_files(dir.path());
    println!("  answers sent {answers}: lost {lost}, taken twice {doubled}");
    println!("  replies that reached a chat twice: {duplicated_replies}");
    println!("  stored files that do not parse: {corrupt}");
    let saves = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("session saved")
        .count();
    println!(
        "  session saves: {saves} for {taken_total} answers taken ({:.2} per answer)",
        saves as f64 / taken_total.max(1) as f64
    );
}

/// Every answer text taken into the user's transcripts (active, completed, archived).
fn taken_answers(dir: &Path, user: u64) -> Vec<String> {
    let mut files = vec![dir.join(format!("{user}.json"))];
    for folder in ["completed", "archive"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(folder)) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{user}-"))
            }));
        }
    }
    let mut out = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let session: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        for entry in session["transcript"].as_array().into_iter().flatten() {
            if entry["role"] == "expert" {
                out.extend(
                    entry["text"]
                        .as_str()
                        .unwrap_or_default()
                        .split("\n\n")
                        .map(str::to_owned),
                );
            }
        }
    }
    out
}

/// Stored JSON files (and journal lines) that do not parse, and files set aside.
fn corrupt_files(dir: &Path) -> usize {
    let mut bad = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.ends_with("quarantine") {
                    bad += std::fs::read_dir(&path).map(|d| d.count()).unwrap_or(0);
                } else {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
                    bad += 1;
                }
            }
        }
    }
    bad
}

async fn startup(sessions: u64) {
    let tg = FakeTelegram::start().await;
    let claude = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A realistic mid-interview session: 60 exchanges.
    let mut transcript = Vec::new();
    for i in 0..60 {
        transcript.push(serde_json::json!({"role": "interviewer", "text": format!("Question {i}: what did you check first, and why that before anything else?"), "at": "2026-11-01T10:00:00Z", "stage": "operations"}));
        transcript.push(serde_json::json!({"role": "expert", "text": "A long, concrete answer about a real case. ".repeat(12), "at": "2026-11-01T10:01:00Z", "stage": "operations"}));
    }
    let started = Instant::now();
    for user in 1..=sessions {
        let session = serde_json::json!({
            "version": 1, "id": user, "user": user, "language": "en", "style": "master_interviewer",
            "started_at": "2026-11-01T10:00:00Z", "last_activity": "2026-11-01T11:00:00Z",
            "finished_at": null, "stage": "operations", "stages": {}, "transcript": transcript,
            "context": {"folded": 0, "summary": ""}
        });
        std::fs::write(
            dir.path().join(format!("{user}.json")),
            serde_json::to_vec(&session).unwrap(),
        )
        .unwrap();
    }
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "startup: {sessions} stored sessions ({:.0} MB) written in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    // A journal from this version exists, as on any machine that ran it before.
    std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
    std::fs::write(dir.path().join("inbox/journal.jsonl"), b"{\"seen\":1}\n").unwrap();
    let spawned = Instant::now();
    let _bot = Bot::start(&tg, &claude, dir.path());
    polling(&tg, 0).await;
    println!(
        "  from spawning the binary to its first getUpdates: {:.0} ms",
        spawned.elapsed().as_secs_f64() * 1e3
    );
}

/// firstwords: see the module's comment.
async fn first_words(users: u64) {
    println!("firstwords: {users} users, six answers each; Claude starts after 0.6 s, 60 tokens/s");
    for drafts in ["true", "false"] {
        let tg = Arc::new(FakeTelegram::start().await);
        let claude = FakeAnthropic::start().await;
        claude.set_verbose(true);
        claude.set_latency(Duration::from_millis(600));
        claude.set_output_rate(60);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let _bot = Bot::spawn_with(
            &tg,
            &claude,
            dir.path(),
            "error",
            Stdio::null(),
            &[("DRAFTS", drafts)],
        );
        polling(&tg, 0).await;
        let mut tasks = Vec::new();
        for i in 0..users {
            let tg = tg.clone();
            tasks.push(tokio::spawn(async move {
                let user = tg.user(900_000 + i, "Expert", Some("en"));
                onboard(&tg, &user).await;
                let (mut words, mut questions) = (Vec::new(), Vec::new());
                for turn in 0..6 {
                    let chat = user.chat_id();
                    let before = tg.bot_send_count(chat);
                    let sent = Instant::now();
                    tg.send_text(&user, &format!("Answer {turn}: I check the seal first."));
                    questions.push(tg.wait_for_bot_send(chat, before + 1, WAIT).await - sent);
                    let first = tg
                        .drafts(chat)
                        .into_iter()
                        .find(|d| d.messages_before == before && !d.text.is_empty());
                    if let Some(draft) = first {
                        words.push(draft.at - sent);
                    }
                }
                (words, questions)
            }));
        }
        let (mut words, mut questions) = (Vec::new(), Vec::new());
        for task in tasks {
            let (w, q) = task.await.expect("a user's task");
            words.extend(w);
            questions.extend(q);
        }
        println!("DRAFTS={drafts}:");
        percentiles("answer → first words of the question", words);
        percentiles("answer → the question as a message", questions);
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let number = |default: u64| args.get(1).and_then(|n| n.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("spread") => spread(number(1000)).await,
        Some("burst") => burst(number(1000)).await,
        Some("soak") => soak(number(50) as usize).await,
        Some("startup") => startup(number(10_000)).await,
        Some("firstwords") => first_words(number(20)).await,
        _ => {
            println!(
                "usage: cargo bench --bench telegram_load -- spread [users] | burst [users] | soak [kills] | startup [sessions] | firstwords [users]"
            );
            println!("running the short checks: burst with 100 users, startup with 1000 sessions");
            burst(100).await;
            startup(1000).await;
        }
    }
}
