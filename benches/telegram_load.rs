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
//! cargo bench --bench telegram_load -- turns [users] [replicas]  # turns a second, files or DATABASE_URL
//! cargo bench --bench telegram_load -- failover [rounds]   # kill -9 of the poller / a chat's replica (DATABASE_URL)
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
//! - turns: every user answers eight questions, each 3 s after the last one arrives (time for
//!   the stage summaries written in the background, which a faster answer would wait for);
//!   Claude answers after 2 s. Turns a second over the run, and bot-added latency per answer
//!   (the time to the reply minus Claude's 2 s). On files, or, with `DATABASE_URL` set in the bench's
//!   environment (an empty database), on PostgreSQL with `replicas` processes sharing it.
//! - failover (needs `DATABASE_URL`): three replicas; each round kills the poller with
//!   SIGKILL and times until another replica polls, then kills the replica running a chat
//!   while an answer waits on Claude and times until the reply arrives, starting a fresh
//!   replica after each kill.

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

    /// The bot with the store's debug lines appended to `log` (the soak counts session saves),
    /// and `vars` set.
    fn start_logged_with(
        tg: &FakeTelegram,
        claude: &FakeAnthropic,
        sessions: &Path,
        log: &Path,
        vars: &[(&str, &str)],
    ) -> Bot {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("the soak's log file opens");
        Bot::spawn_with(
            tg,
            claude,
            sessions,
            "error,ai_interviewer::store=debug",
            file.into(),
            vars,
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
    let url = database_url();
    // On PostgreSQL three replicas share the work, and each kill takes a random one.
    let replicas = if url.is_some() { 3 } else { 1 };
    let vars: Vec<(&str, String)> = url.iter().map(|u| ("DATABASE_URL", u.clone())).collect();
    let place = if url.is_some() {
        "three replicas on PostgreSQL"
    } else {
        "one process on files"
    };
    println!("soak: {USERS} live interviews, {kills} kill -9 at random moments, {place}");
    let started = AtomicU64::new(0);
    let start = || {
        let n = started.fetch_add(1, Ordering::Relaxed);
        let sessions = if url.is_some() {
            // Each replica its own SESSIONS_DIR (the counters); the rest is in the database.
            let sessions = dir.path().join(format!("replica-{n}"));
            std::fs::create_dir_all(&sessions).unwrap();
            sessions
        } else {
            dir.path().to_path_buf()
        };
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Bot::start_logged_with(&tg, &claude, &sessions, &log, &vars)
    };
    let bots = Arc::new(Mutex::new(
        (0..replicas).map(|_| start()).collect::<Vec<_>>(),
    ));
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
        let victim = rand::rng().random_range(0..replicas);
        drop(bots.lock().unwrap().remove(victim)); // SIGKILL
        let calls = tg.calls("getUpdates").len();
        let fresh = start();
        bots.lock().unwrap().push(fresh);
        if replicas == 1 {
            polling(&tg, calls).await;
        }
        if kill % 10 == 9 {
            println!("  {} kills", kill + 1);
        }
    }
    running.store(false, Ordering::Relaxed);
    for user in users {
        let _ = user.await;
    }
    // Let the last bots finish everything in hand.
    tokio::time::sleep(Duration::from_secs(20)).await;
    bots.lock().unwrap().clear();
    let database = match &url {
        Some(url) => Some(
            ai_interviewer::store::PgStore::connect(url)
                .await
                .expect("the soak's database"),
        ),
        None => None,
    };

    let sent = sent.lock().unwrap().clone();
    let mut lost = 0;
    let mut doubled = 0;
    let mut duplicated_replies = 0;
    let mut answers = 0;
    let mut taken_total = 0;
    for (user, texts) in &sent {
        answers += texts.len();
        let taken = match &database {
            Some(database) => taken_from_database(database, *user).await,
            None => taken_answers(dir.path(), *user),
        };
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
    let corrupt = match &url {
        Some(url) => quarantined(url).await,
        None => corrupt_files(dir.path()),
    };
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

/// Every answer text taken into the user's interviews in the database (any folder).
async fn taken_from_database(database: &ai_interviewer::store::PgStore, user: u64) -> Vec<String> {
    use ai_interviewer::{model::Role, store::InterviewStore};
    let scanned = database
        .scan(Some(ai_interviewer::model::UserId(user)))
        .await
        .expect("the soak's database scans");
    scanned
        .iter()
        .flat_map(|s| s.session.transcript.iter())
        .filter(|e| e.role == Role::Expert)
        .flat_map(|e| e.text.split("\n\n").map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Documents the database set aside as unreadable.
async fn quarantined(url: &str) -> usize {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the soak's database");
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT count(*) FROM quarantine", &[])
        .await
        .expect("the quarantine counts");
    usize::try_from(row.get::<_, i64>(0)).unwrap_or(usize::MAX)
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

/// The database the replicas share, from the bench's environment.
fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

async fn turns(users: u64, replicas: usize) {
    const CLAUDE: Duration = Duration::from_secs(2);
    const THINK: Duration = Duration::from_secs(3);
    let url = database_url();
    let replicas = if url.is_some() { replicas.max(1) } else { 1 };
    let place = match &url {
        Some(_) => format!("PostgreSQL, {replicas} replica(s)"),
        None => "files, one process".to_owned(),
    };
    println!(
        "turns: {users} users, eight answers each, 3 s after each question; Claude 2 s; {place}"
    );
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = FakeAnthropic::start().await;
    claude.set_latency(CLAUDE);
    let dirs: Vec<_> = (0..replicas)
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let vars: Vec<(&str, &str)> = url.iter().map(|u| ("DATABASE_URL", u.as_str())).collect();
    let bots: Vec<Bot> = dirs
        .iter()
        .map(|dir| Bot::spawn_with(&tg, &claude, dir.path(), "error", Stdio::null(), &vars))
        .collect();
    polling(&tg, 0).await;
    if let Some(url) = &url {
        // Every replica up, and each has counted the others (once a second) to take its share.
        let store = ai_interviewer::store::PgStore::connect(url)
            .await
            .expect("the bench's database");
        while store.replicas_alive().await.expect("the replicas count") < replicas {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let tasks: Vec<_> = (0..users)
        .map(|i| {
            let tg = tg.clone();
            tokio::spawn(async move {
                let user = tg.user(700_000 + i, "Expert", Some("en"));
                onboard(&tg, &user).await;
                let mut added = Vec::new();
                let started = Instant::now();
                for turn in 0..8 {
                    tokio::time::sleep(THINK).await;
                    let chat = user.chat_id();
                    let before = tg.bot_send_count(chat);
                    let sent = Instant::now();
                    tg.send_text(&user, &format!("Answer {turn}: I check the seal first."));
                    let at = tg.wait_for_bot_send(chat, before + 1, WAIT).await;
                    added.push((at - sent).saturating_sub(CLAUDE));
                }
                (started, Instant::now(), added)
            })
        })
        .collect();
    let mut added = Vec::new();
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for task in tasks {
        let (started, ended, a) = task.await.unwrap();
        first = Some(first.map_or(started, |f| f.min(started)));
        last = Some(last.map_or(ended, |l| l.max(ended)));
        added.extend(a);
    }
    let span = last.unwrap() - first.unwrap();
    println!(
        "  {} turns in {:.1} s: {:.1} turns a second",
        added.len(),
        span.as_secs_f64(),
        added.len() as f64 / span.as_secs_f64()
    );
    percentiles("bot-added latency per answer", added);
    let (overall, chat) = busiest_second(&tg);
    println!("  busiest second: {overall} messages overall (limit ~30), {chat} in one chat");
    let peak: f64 = bots.iter().map(Bot::peak_mb).sum();
    println!("  peak RSS over the replicas {peak:.1} MB");
}

async fn failover(rounds: u64) {
    const CLAUDE: Duration = Duration::from_millis(500);
    let Some(url) = database_url() else {
        println!("failover: set DATABASE_URL to an empty PostgreSQL database");
        return;
    };
    println!("failover: three replicas on PostgreSQL, {rounds} rounds");
    let tg = Arc::new(FakeTelegram::start().await);
    let claude = FakeAnthropic::start().await;
    claude.set_latency(CLAUDE);
    let vars = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let start = |n: usize| {
        let sessions = dir.path().join(n.to_string());
        std::fs::create_dir_all(&sessions).unwrap();
        Bot::spawn_with(&tg, &claude, &sessions, "error", Stdio::null(), &vars)
    };
    let mut started = 0;
    let mut bots: Vec<Bot> = Vec::new();
    for _ in 0..3 {
        bots.push(start(started));
        started += 1;
        if started == 1 {
            polling(&tg, 0).await;
        }
    }
    let user = tg.user(800_000, "Expert", Some("en"));
    onboard(&tg, &user).await;
    let chat = user.chat_id();
    let (mut polls, mut takeovers) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // A random moment: the replicas' retries tick every second, and rounds of a steady
        // length would otherwise always land on the same phase of them.
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..2000))).await;
        let poller = replica_where(&url, POLLER, &[]).await;
        let index = bots
            .iter()
            .position(|b| b.0.id() == poller)
            .expect("the poller is one of ours");
        let before = tg.calls("getUpdates").len();
        let killed = Instant::now();
        drop(bots.remove(index));
        tg.wait_until(WAIT, "another replica polls", |t| {
            t.calls("getUpdates").len() > before
        })
        .await;
        polls.push(killed.elapsed());
        bots.push(start(started));
        started += 1;

        // A chat's replica dies while the answer waits on Claude.
        claude.set_latency(Duration::from_secs(30));
        let sends = tg.bot_send_count(chat);
        let asked = claude.count();
        tg.send_text(&user, &format!("Answer {round}: I check the seal first."));
        tg.wait_until(WAIT, "the answer reaches Claude", |_| {
            claude.count() > asked
        })
        .await;
        claude.set_latency(CLAUDE);
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..2000))).await;
        let owner = replica_where(&url, RUNNING, &[&chat]).await;
        let killed = Instant::now();
        let index = bots
            .iter()
            .position(|b| b.0.id() == owner)
            .expect("the owner is one of ours");
        drop(bots.remove(index));
        tg.wait_for_bot_send(chat, sends + 1, WAIT).await;
        takeovers.push(killed.elapsed().saturating_sub(CLAUDE));
        bots.push(start(started));
        started += 1;
    }
    percentiles("kill -9 of the poller → another polls", polls);
    percentiles("kill -9 of a chat's replica → its reply", takeovers);
}

/// The replica that polls: the one whose connection holds both the poller's lock ("AI-L", 1)
/// and its own liveness lock ("AI-R", its id).
const POLLER: &str = "SELECT r.host FROM pg_locks l JOIN pg_locks m ON m.pid = l.pid \
     JOIN replicas r ON r.id = m.objid::bigint::int \
     WHERE l.locktype = 'advisory' AND l.classid = 1095314764 AND l.objid = 1 \
     AND m.locktype = 'advisory' AND m.classid = 1095314770";

/// The replica whose claim holds the chat `$1`.
const RUNNING: &str =
    "SELECT r.host FROM claims c JOIN replicas r ON r.id = c.replica WHERE c.chat_id = $1";

/// The process id of the replica `query` finds: a replica is named `<host> pid <pid>`.
async fn replica_where(
    url: &str,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> u32 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the bench's database");
    tokio::spawn(connection);
    let row = client
        .query_one(query, params)
        .await
        .expect("the replica is found");
    let host: String = row.get(0);
    host.rsplit(' ')
        .next()
        .and_then(|pid| pid.parse().ok())
        .expect("a replica is named with its pid")
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
        Some("turns") => {
            let replicas = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
            turns(number(40), replicas).await
        }
        Some("failover") => failover(number(10)).await,
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
