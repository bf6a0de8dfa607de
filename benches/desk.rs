//! The operator's desk with 10,000 stored interviews: figures printed, not asserted.
//!
//! The interviews come from the integration tests' generator (`tests/it/support/seed.rs`,
//! included below): every desk state, both languages, typed and spoken answers, stage
//! summaries and reports, as the bot leaves them on disk. Printed:
//!
//! - the time to open the desk (its index built from the folder), and the resident memory it
//!   adds (`VmRSS` of this process before and after);
//! - p50/p95 latency of each desk page over HTTP on 127.0.0.1 (the list unfiltered,
//!   filtered, sorted and paged; one interview; the overview; the CSV);
//! - the time and size of the ZIP export of 1,000 confirmed reports.
//!
//! Run with `cargo bench --bench desk` (release).

#[path = "../tests/it/support/seed.rs"]
#[allow(dead_code)]
mod seed;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use ai_interviewer::{
    app::{self, Overrides},
    desk::{self, Desk},
    login::Links,
    settings::Settings,
};

/// Interviews in the folder the pages read.
const INTERVIEWS: usize = 10_000;
/// Confirmed reports in the export's folder.
const EXPORTED: usize = 1_000;
/// Requests per page (the CSV and the ZIP are larger: fewer).
const REQUESTS: usize = 200;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let now = chrono::Utc::now();
    let dir = tempfile::tempdir().expect("a temporary sessions folder");
    let clock = Instant::now();
    let seeded = seed::seed(dir.path(), INTERVIEWS, now);
    println!(
        "seeded {INTERVIEWS} interviews (+1 without consent) in {:.1} s, {:.0} MiB on disk",
        clock.elapsed().as_secs_f64(),
        folder_size(dir.path()) as f64 / (1 << 20) as f64
    );

    let served = Served::start(dir.path()).await;
    println!(
        "desk opened (index of {} interviews) in {:.2} s; RSS {:.1} MiB -> {:.1} MiB: +{:.1} MiB",
        served.desk.index().len(),
        served.opened.as_secs_f64(),
        served.rss_kib.0 as f64 / 1024.0,
        served.rss_kib.1 as f64 / 1024.0,
        served.rss_kib.1.saturating_sub(served.rss_kib.0) as f64 / 1024.0
    );

    let one = seeded
        .iter()
        .find(|s| s.consent && s.state == desk::State::Confirmed)
        .expect("a confirmed interview");
    let pages = [
        ("list", "/interviews".to_owned(), REQUESTS),
        (
            "list, filtered",
            "/interviews?state=confirmed".to_owned(),
            REQUESTS,
        ),
        (
            "list, sorted by cost",
            "/interviews?sort=cost".to_owned(),
            REQUESTS,
        ),
        (
            "list, page 100",
            "/interviews?page=100".to_owned(),
            REQUESTS,
        ),
        (
            "list, filtered, sorted, page 10",
            "/interviews?state=idle&sort=progress&page=10".to_owned(),
            REQUESTS,
        ),
        (
            "one interview (confirmed, report)",
            format!("/interviews/{}/{}", one.user, one.id),
            REQUESTS,
        ),
        ("overview", "/overview".to_owned(), REQUESTS),
        (
            "CSV of all interviews",
            "/export/interviews.csv".to_owned(),
            50,
        ),
    ];
    println!(
        "\n{:<36} {:>9} {:>9} {:>11}",
        "page", "p50 ms", "p95 ms", "bytes"
    );
    for (name, path, count) in pages {
        let (p50, p95, bytes) = served.time(&path, count).await;
        println!(
            "{name:<36} {:>9.2} {:>9.2} {bytes:>11}",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
    drop(served);

    let exports = tempfile::tempdir().expect("a temporary export folder");
    seed::seed_states(exports.path(), EXPORTED, &[desk::State::Confirmed], now);
    let served = Served::start(exports.path()).await;
    let clock = Instant::now();
    let (status, zip) = served.get("/export/reports.zip").await;
    let took = clock.elapsed();
    assert_eq!(status, 200, "the ZIP is served");
    println!(
        "\nZIP of {EXPORTED} confirmed reports (Markdown and JSON): {:.2} s, {:.1} MiB",
        took.as_secs_f64(),
        zip.len() as f64 / (1 << 20) as f64
    );
}

/// The desk over a sessions folder, served on 127.0.0.1 as the bot serves it, with a signed-in
/// admin's cookie.
struct Served {
    desk: Arc<Desk>,
    /// How long the desk took to open (its index built).
    opened: Duration,
    /// This process's RSS just before and just after the desk opened, in KiB.
    rss_kib: (u64, u64),
    base: String,
    cookie: String,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Served {
    async fn start(sessions: &Path) -> Served {
        let vars = [("SESSIONS_DIR", sessions.display().to_string())];
        let settings = Settings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("settings");
        let storage = app::storage(&settings).await.expect("the storage");
        let engine =
            app::build_engine(&settings, &storage, &Overrides::default()).expect("the engine");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let base = format!("http://{addr}");
        let config = desk::Config {
            addr,
            public_url: base.parse().expect("a URL"),
            session_lifetime: Duration::from_secs(3600),
            api_token: None,
        };
        // The engine exists before: what is measured is the desk alone.
        let before = rss_kib();
        let clock = Instant::now();
        let links = Links::open(sessions).expect("the links folder");
        let desk = Desk::open(
            config,
            &engine,
            settings.claude.prices.clone(),
            &settings.claude.model,
            Arc::new(links.clone()),
        );
        // The first scan runs in the background; the desk is open once it is done.
        desk.index().scanned().await;
        let opened = clock.elapsed();
        let rss_kib = (before, rss_kib());
        let server = tokio::spawn({
            let desk = desk.clone();
            async move {
                let _ = desk::serve(listener, desk).await;
            }
        });
        // Signed in as an admin is: a link issued into the folder, spent by the sign-in form.
        let token = links.issue(chrono::Utc::now()).expect("a link");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        let answer = http
            .post(format!("{base}/signin"))
            .form(&[("token", token.as_str()), ("lang", "en")])
            .send()
            .await
            .expect("the sign-in answers");
        let cookie = answer
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        Served {
            desk,
            opened,
            rss_kib,
            base,
            cookie,
            http,
            server,
        }
    }

    async fn get(&self, path: &str) -> (u16, bytes::Bytes) {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("the desk answers");
        let status = answer.status().as_u16();
        (status, answer.bytes().await.expect("the body"))
    }

    /// The p50 and p95 of `count` requests of `path` one after another, and its size.
    async fn time(&self, path: &str, count: usize) -> (Duration, Duration, usize) {
        let mut samples = Vec::with_capacity(count);
        let mut size = 0;
        for _ in 0..count {
            let clock = Instant::now();
            let (status, body) = self.get(path).await;
            samples.push(clock.elapsed());
            assert_eq!(status, 200, "{path}");
            size = body.len();
        }
        let (p50, p95) = percentiles(samples);
        (p50, p95, size)
    }
}

/// This process's resident memory, in KiB (`VmRSS` of `/proc/self/status`).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// The bytes of every file under `dir`.
fn folder_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// The p50 and p95 of `samples`.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.95))
}
