//! The operator's desk in a real browser: Chromium, driven headless, against the bot binary
//! with its desk on, the fake Telegram, and a sessions folder seeded with interviews in every
//! state. Two tests, one browser each: an admin's whole visit (sign in with a `/desk` link,
//! the list in every state, one interview and its report, the overview, the ZIP, sign out),
//! with the Content-Security-Policy and a phone's width checked in the browser and a
//! screenshot of every page; and everything that must be refused.
//!
//! The screenshots land in `target/desk-screenshots/` (desktop and phone width of each page)
//! for a reviewer to look at; `docs/desk/` keeps a few of them for the README.

use std::{
    process::Child,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ai_interviewer::{
    desk::{Index, State},
    i18n::Catalog,
    login::{Links, signin_url},
    model::Lang,
    store::{InterviewStore, SessionStore},
};

use crate::support::{
    binary,
    bot::WAIT,
    browser::{Chromium, DESKTOP, PHONE, Tab, screenshot_dir},
    eventually, seed,
    telegram::{FakeTelegram, TestUser},
};

/// The admin's Telegram id.
const ADMIN: u64 = 4_242;
/// Somebody else's.
const STRANGER: u64 = 777;

/// The generator writes what it says: the desk's index, reading the folder as the bot would,
/// finds every seeded interview in the state it was written for, in both languages, with
/// spoken and typed answers, and leaves out the one without consent.
#[tokio::test]
async fn the_seeded_interviews_are_in_every_desk_state() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let seeded = seed::seed(dir.path(), 28, now);
    let store = SessionStore::open(dir.path()).unwrap();
    let index = Index::read(&store).await.unwrap();
    assert_eq!(index.len(), 28, "every consented interview, and only those");
    assert!(index.of_user(seed::WITHOUT_CONSENT).is_empty());
    let idle_after = Duration::from_secs(180 * 60);
    for interview in seeded.iter().filter(|s| s.consent) {
        let row = index
            .get((interview.user, interview.id))
            .unwrap_or_else(|| panic!("{} is not on the desk", interview.user));
        assert_eq!(
            row.state(now, idle_after),
            interview.state,
            "{}",
            interview.user
        );
        assert_eq!(row.language, interview.language);
        assert_eq!(row.voice_answers as usize, interview.voice_answers);
        assert_eq!(row.answers() as usize, interview.answers);
        // Where the desk reads the report is the file the seed wrote it to.
        let report = row.report.map(|filed| store.name_of(filed, "md"));
        assert_eq!(report, interview.report, "{}", interview.user);
    }
    for state in State::ALL {
        for language in ai_interviewer::model::Lang::ALL {
            assert!(
                seeded
                    .iter()
                    .any(|s| s.state == state && s.language == language),
                "no {state:?} interview in {language}"
            );
        }
    }
    assert!(seeded.iter().any(|s| s.voice_answers > 0));
    assert!(seeded.iter().any(|s| s.voice_answers < s.answers));
    // A bot started over the folder finds no answer to give, so the states stay as seeded.
    for interview in &seeded {
        let session: ai_interviewer::model::Session =
            serde_json::from_slice(&std::fs::read(&interview.json).unwrap()).unwrap();
        assert!(
            session.pending().is_none(),
            "{} waits for an answer",
            interview.user
        );
    }
}

/// The bot binary with its desk on `127.0.0.1` (a port the system picks; the links name it),
/// talking to the fake Telegram, over `sessions`. Killed when dropped.
struct DeskBot {
    child: Child,
    telegram: FakeTelegram,
    /// Bot messages already read, per chat.
    seen: std::collections::HashMap<i64, usize>,
}

impl Drop for DeskBot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DeskBot {
    async fn start(sessions: &std::path::Path) -> DeskBot {
        let telegram = FakeTelegram::start().await;
        let child = binary(sessions)
            .env("TELEGRAM_BOT_TOKEN", telegram.token())
            .env("TELEGRAM_API_URL", telegram.api_url())
            .env("ADMIN_USER_IDS", ADMIN.to_string())
            .env("DESK_ADDR", "127.0.0.1:0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the bot starts");
        telegram
            .wait_until(WAIT, "the bot polls", |t| !t.calls("getUpdates").is_empty())
            .await;
        DeskBot {
            child,
            telegram,
            seen: Default::default(),
        }
    }

    /// Sends `text` from `user` and returns the bot's next message to them, as plain text
    /// with its buttons' addresses.
    async fn ask(&mut self, user: &TestUser, text: &str) -> String {
        let seen = *self.seen.get(&user.chat_id()).unwrap_or(&0);
        self.telegram.send_text(user, text);
        let sent = self
            .telegram
            .wait_for_count(user.chat_id(), seen + 1, WAIT)
            .await;
        self.seen.insert(user.chat_id(), seen + 1);
        let message = &sent[seen];
        let urls = message
            .buttons
            .iter()
            .flatten()
            .filter_map(|b| b.url.clone());
        std::iter::once(message.plain())
            .chain(urls)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// An admin's `/desk`: the sign-in link the bot sent back.
    async fn desk_link(&mut self, admin: &TestUser) -> String {
        let message = self.ask(admin, "/desk").await;
        link_in(&message).unwrap_or_else(|| panic!("no sign-in link in {message}"))
    }
}

/// The first sign-in link in `text`.
fn link_in(text: &str) -> Option<String> {
    let start = text.find("http://127.0.0.1:")?;
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>' | '\\' | ')'))
        .collect();
    link.contains("/signin?").then_some(link)
}

/// The desk's origin (`http://127.0.0.1:<port>`) of a sign-in link.
fn origin(link: &str) -> String {
    let path = link.find("/signin").expect("a sign-in link");
    link[..path].to_owned()
}

/// The text the desk shows for `id` in English.
fn words(id: &str) -> String {
    let catalog = Catalog::load().unwrap();
    catalog
        .lookup(Lang::En, id)
        .unwrap_or_else(|| panic!("no text {id}"))
}

/// Screenshots of the tab's page at a desktop's and a phone's width, after checking that at
/// the phone's width the body does not scroll sideways.
async fn shoot(tab: &Tab, name: &str) {
    let dir = screenshot_dir();
    tab.screenshot(&dir.join(format!("{name}-desktop.png")))
        .await;
    tab.resize(PHONE).await;
    assert!(
        !tab.scrolls_sideways().await,
        "{name} scrolls sideways at {} px",
        PHONE.0
    );
    tab.screenshot(&dir.join(format!("{name}-phone.png"))).await;
    tab.resize(DESKTOP).await;
}

/// Checks in the browser that the page ships no script and loaded nothing from elsewhere, and
/// that its Content-Security-Policy holds: a script added to the page does not run, and an image from another origin (a listener of the test's own,
/// which counts who connects) is not fetched. The browser's violation reports are the signal
/// the test waits for; the counters are read after them.
async fn csp_holds(tab: &Tab) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let counter = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(tab.count("script").await, 0, "the desk ships no script");
    let foreign: Vec<String> = tab
        .eval(
            "performance.getEntriesByType('resource').map(e => e.name) \
             .filter(url => !url.startsWith(location.origin + '/'))",
        )
        .await;
    assert!(foreign.is_empty(), "the page loaded {foreign:?}");
    let probe = format!(
        "(() => {{ window.__violations = []; \
         document.addEventListener('securitypolicyviolation', \
           e => window.__violations.push(e.effectiveDirective)); \
         const s = document.createElement('script'); s.className = 'csp-probe'; s.textContent = 'window.__ran = true'; \
         document.body.appendChild(s); \
         const i = document.createElement('img'); i.className = 'csp-probe'; i.src = 'http://127.0.0.1:{port}/probe.png'; \
         document.body.appendChild(i); return true; }})()"
    );
    tab.eval::<bool>(&probe).await;
    let violations: Vec<String> = eventually("the browser to report both violations", async || {
        let seen: Vec<String> = tab.eval("window.__violations").await;
        (seen.len() >= 2).then_some(seen)
    })
    .await;
    assert!(
        violations.iter().any(|d| d.starts_with("script-src")),
        "{violations:?}"
    );
    assert!(violations.iter().any(|d| d == "img-src"), "{violations:?}");
    assert!(
        !tab.eval::<bool>("window.__ran === true").await,
        "an inline script ran"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the page reached another origin"
    );
    counter.abort();
    // The probes leave the page as it was (the blocked image would show in the screenshots).
    tab.eval::<bool>("document.querySelectorAll('.csp-probe').forEach(e => e.remove()) || true")
        .await;
}

/// The names in a ZIP archive, read from its central directory.
fn zip_names(path: &std::path::Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let archive = zip::ZipArchive::new(file).expect("a ZIP archive");
    archive
        .file_names()
        .map(|name| name.expect("a readable name").into_owned())
        .collect()
}

/// An admin's whole visit, in a real browser: the `/desk` link signs in (an HttpOnly,
/// SameSite=Strict cookie), the list shows the interviews in every state and never the one
/// without consent, one interview shows its report and spoken answers, the ZIP holds every
/// confirmed and corrected report, and signing out closes the session. Every page holds its
/// Content-Security-Policy, fits a phone's width, and is photographed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_with_a_desk_link_follows_the_interviews_and_signs_out() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = seed::seed(dir.path(), 14, chrono::Utc::now());
    let mut bot = DeskBot::start(dir.path()).await;
    let admin = bot.telegram.user(ADMIN, "Olga", Some("en"));
    let link = bot.desk_link(&admin).await;
    let desk = origin(&link);

    let chromium = Chromium::launch().await;
    let tab = chromium.open(&link).await;
    assert!(tab.text().await.contains(&words("desk-signin-explain")));
    shoot(&tab, "signin").await;
    tab.submit("#signin").await;
    assert_eq!(tab.url().await, format!("{desk}/interviews"));
    let cookies = tab.cookies().await;
    let session = cookies
        .iter()
        .find(|c| c.name == "desk_session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert!(session.http_only, "the session cookie is HttpOnly");
    assert_eq!(
        session.same_site.as_ref().map(|s| s.as_ref()),
        Some("Strict"),
        "{session:?}"
    );

    // Every interview with consent, in its state; none without.
    for interview in seeded.iter().filter(|s| s.consent) {
        let row = format!(
            "tr[data-user=\"{}\"][data-session=\"{}\"]",
            interview.user, interview.id
        );
        assert_eq!(
            tab.count(&row).await,
            1,
            "{} is not listed once",
            interview.user
        );
        let state: String = tab
            .eval(&format!(
                "document.querySelector({}).dataset.state",
                serde_json::json!(row)
            ))
            .await;
        assert_eq!(state, interview.state.id(), "{}", interview.user);
    }
    assert_eq!(
        tab.count(&format!("tr[data-user=\"{}\"]", seed::WITHOUT_CONSENT))
            .await,
        0
    );
    for state in State::ALL {
        assert!(
            tab.count(&format!("tr[data-state=\"{}\"]", state.id()))
                .await
                > 0,
            "{state:?}"
        );
    }
    csp_holds(&tab).await;
    shoot(&tab, "interviews").await;

    // The filter by state.
    tab.click("#states a[href*=\"state=confirmed\"]").await;
    let confirmed = seeded
        .iter()
        .filter(|s| s.consent && s.state == State::Confirmed)
        .count();
    assert_eq!(tab.count("#interviews tbody tr").await, confirmed);
    assert_eq!(
        tab.count("#interviews tbody tr[data-state=\"confirmed\"]")
            .await,
        confirmed
    );
    shoot(&tab, "interviews-confirmed").await;

    // One confirmed interview with spoken answers: its report and its voice notes.
    let spoken = seeded
        .iter()
        .find(|s| s.state == State::Confirmed && s.voice_answers > 0)
        .expect("a confirmed interview with voice answers");
    tab.click(&format!("tr[data-user=\"{}\"] a.interview", spoken.user))
        .await;
    assert_eq!(
        tab.url().await,
        format!("{desk}/interviews/{}/{}", spoken.user, spoken.id)
    );
    let report = std::fs::read_to_string(spoken.report.as_ref().unwrap()).unwrap();
    let title = report.lines().next().unwrap().trim_start_matches("# ");
    let shown = tab.text_of("#report").await;
    assert!(shown.contains(title), "the report is not shown: {shown}");
    assert_eq!(
        tab.count("#transcript li.voice").await,
        spoken.voice_answers
    );
    csp_holds(&tab).await;
    shoot(&tab, "interview").await;
    // The page is long (the whole transcript): its top, for the README.
    tab.screenshot_window(&screenshot_dir().join("interview-top-desktop.png"))
        .await;

    // The overview.
    tab.click("#menu a[href=\"/overview\"]").await;
    csp_holds(&tab).await;
    shoot(&tab, "overview").await;

    // The export: the ZIP holds every settled report, as Markdown and JSON.
    tab.click("#menu a[href=\"/export\"]").await;
    shoot(&tab, "export").await;
    let zip = tab.download("#zip").await;
    let names = zip_names(&zip);
    let settled: Vec<_> = seeded
        .iter()
        .filter(|s| s.consent && s.state.is_settled())
        .collect();
    assert_eq!(names.len(), 2 * settled.len(), "{names:?}");
    for interview in settled {
        for ext in ["md", "json"] {
            let name = format!("{}-{}.{ext}", interview.user, interview.id);
            assert!(names.contains(&name), "{name} is not in the ZIP: {names:?}");
        }
    }

    // Signing out closes the session: the next page asks to sign in again.
    tab.submit("#logout").await;
    assert!(tab.text().await.contains(&words("desk-signed-out-text")));
    shoot(&tab, "signed-out").await;
    tab.goto(&format!("{desk}/interviews")).await;
    assert!(tab.text().await.contains(&words("desk-signed-out-text")));
    assert_eq!(tab.count("#interviews").await, 0);
}

/// What must not open the desk: a link used once already, a link past its ten minutes, a
/// session cookie nobody issued, and `/desk` from someone who is not an admin (they get the
/// reply to any unknown command, and no link).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_and_expired_links_a_forged_cookie_and_a_strangers_desk_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    seed::seed(dir.path(), 7, chrono::Utc::now());
    let mut bot = DeskBot::start(dir.path()).await;
    let stranger = bot.telegram.user(STRANGER, "Mallory", Some("en"));
    let unknown = bot.ask(&stranger, "/frobnicate").await;
    let answer = bot.ask(&stranger, "/desk").await;
    assert!(
        link_in(&answer).is_none(),
        "a stranger got a link: {answer}"
    );
    assert!(answer.contains(&words("unknown-command")), "{answer}");
    assert!(unknown.contains(&words("unknown-command")), "{unknown}");

    let admin = bot.telegram.user(ADMIN, "Olga", Some("en"));
    let link = bot.desk_link(&admin).await;
    let desk = origin(&link);
    let chromium = Chromium::launch().await;

    // The link signs in once.
    let tab = chromium.open(&link).await;
    tab.submit("#signin").await;
    assert_eq!(tab.url().await, format!("{desk}/interviews"));
    chromium.clear_cookies().await;
    tab.goto(&link).await;
    tab.submit("#signin").await;
    assert!(tab.text().await.contains(&words("desk-link-refused-text")));
    assert!(tab.cookies().await.iter().all(|c| c.name != "desk_session"));
    shoot(&tab, "link-refused").await;

    // A link past its lifetime, issued as the bot issues them but already expired.
    let links = Links::open(dir.path()).unwrap();
    let token = links
        .issue_until(chrono::Utc::now() - chrono::Duration::minutes(1))
        .unwrap();
    let public: reqwest::Url = desk.parse().unwrap();
    tab.goto(signin_url(&public, &token, Lang::En).as_str())
        .await;
    tab.submit("#signin").await;
    assert!(tab.text().await.contains(&words("desk-link-expired-text")));
    assert!(tab.cookies().await.iter().all(|c| c.name != "desk_session"));

    // A cookie nobody issued.
    tab.set_cookie("desk_session", "forged-0123456789abcdef")
        .await;
    tab.goto(&format!("{desk}/interviews")).await;
    assert!(tab.text().await.contains(&words("desk-signed-out-text")));
    assert_eq!(tab.count("#interviews").await, 0);
    for user in (0..7).map(seed::user_of) {
        assert!(!tab.text().await.contains(&user.to_string()));
    }
}

/// A study on the desk in the browser: the admin creates one with the form (its page shows the
/// invite link in Telegram's deep-link form), opens a study with three settled reports, sees
/// its interviews, and has its synthesis written (without Claude here: the merged document,
/// labelled as not analysed), all under the same policy and at a phone's width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_study_and_has_the_synthesis_of_another_written_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let store = ai_interviewer::store::SessionStore::open(dir.path()).unwrap();
    let studies = ai_interviewer::store::StudyStore::new(dir.path());
    let night = crate::studies::three_reports_in(&studies, &store).await;
    let mut bot = DeskBot::start(dir.path()).await;
    let admin = bot.telegram.user(ADMIN, "Olga", Some("en"));
    let link = bot.desk_link(&admin).await;
    let desk = origin(&link);
    let chromium = Chromium::launch().await;
    let tab = chromium.open(&link).await;
    tab.submit("#signin").await;

    tab.goto(&format!("{desk}/studies")).await;
    assert_eq!(
        tab.count(&format!("tr[data-study=\"{}\"]", night.id)).await,
        1
    );
    tab.eval::<bool>(
        "(() => { const f = document.querySelector('#create'); \
         f.querySelector('[name=title]').value = 'Welding inspection'; \
         f.querySelector('[name=subject]').value = 'What inspectors look at first'; \
         f.querySelector('[name=experts]').value = '4'; return true; })()",
    )
    .await;
    shoot(&tab, "studies").await;
    tab.submit("#create").await;
    assert!(
        tab.url().await.starts_with(&format!("{desk}/studies/")),
        "{}",
        tab.url().await
    );
    let invite = tab.text_of("#invite-link").await;
    assert!(
        invite.starts_with("https://t.me/") && invite.contains("?start="),
        "{invite}"
    );
    assert!(tab.text().await.contains("Welding inspection"));

    tab.goto(&format!("{desk}/studies/{}", night.id)).await;
    assert!(tab.text().await.contains("Night shift"));
    tab.submit("#synthesize").await;
    let document: String = eventually("the synthesis to be written", async || {
        tab.goto(&format!("{desk}/studies/{}", night.id)).await;
        if tab.count("#synthesis-document").await == 1 {
            Some(tab.text_of("#synthesis-document").await)
        } else {
            None
        }
    })
    .await;
    assert!(document.contains("Check the gauges"), "{document}");
    assert!(
        document.contains("X1"),
        "references name the experts: {document}"
    );
    csp_holds(&tab).await;
    shoot(&tab, "study").await;
}
