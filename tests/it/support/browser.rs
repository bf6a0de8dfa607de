//! A real Chromium, driven headless over the DevTools protocol, for the desk's browser tests.
//!
//! `chromiumoxide` speaks the protocol from Rust on the tests' own tokio runtime: no driver
//! process to install beside the browser (as WebDriver needs chromedriver), and the protocol
//! has what the tests look at directly (full-page screenshots, cookies, downloads into a chosen
//! folder, device metrics for a phone's width). The browser is Debian's `chromium`
//! (`/usr/bin/chromium`, or `CHROMIUM`), started with a fresh profile in a temporary folder so
//! no cookie or cache survives from one test to the next.
//!
//! Every wait goes through [`super::eventually`]: a click that navigates is done once the page
//! the click left is gone and the new one has loaded; a download is done once its file is
//! complete in the download folder.

use std::path::{Path, PathBuf};

use chromiumoxide::{
    Browser, BrowserConfig, Page,
    cdp::browser_protocol::{
        browser::{SetDownloadBehaviorBehavior, SetDownloadBehaviorParams},
        emulation::SetDeviceMetricsOverrideParams,
        network::{Cookie, CookieParam},
    },
    page::ScreenshotParams,
};
use futures::StreamExt;

use super::eventually;

/// The browser the tests drive unless `CHROMIUM` names another.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// A desktop window, and a phone's width (an iPhone 12 to 15, in CSS pixels).
pub const DESKTOP: (u32, u32) = (1280, 900);
/// See [`DESKTOP`].
pub const PHONE: (u32, u32) = (390, 844);

/// A running headless Chromium with its own profile and download folder.
pub struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    downloads: tempfile::TempDir,
    /// The profile; removed once the browser is gone.
    _profile: tempfile::TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The browser process is killed when `Browser` drops; its event loop ends with it.
        self.handler.abort();
    }
}

impl Chromium {
    /// Starts the browser. Panics with what to install when there is none: the browser tests
    /// are part of the suite, and a machine without Chromium must not pass them by skipping.
    pub async fn launch() -> Chromium {
        let executable = std::env::var("CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.to_owned());
        assert!(
            Path::new(&executable).exists(),
            "no browser at {executable}: the desk's browser tests drive Chromium; install it \
             (`apt-get install chromium`, as .ci/run does) or point CHROMIUM at one"
        );
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let downloads = tempfile::tempdir().expect("a temporary download folder");
        let mut config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .user_data_dir(profile.path())
            .window_size(DESKTOP.0, DESKTOP.1)
            // The page keeps the window's size (the protocol's default viewport is 800x600).
            .viewport(None)
            .arg("--disable-gpu")
            .arg("--no-first-run")
            .arg("--disable-dev-shm-usage");
        // Chromium refuses to start its sandbox as root (containers, CI); elsewhere it keeps it.
        if running_as_root() {
            config = config.no_sandbox();
        }
        let config = config.build().expect("a browser configuration");
        let (browser, mut events) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("{executable} does not start: {e}"));
        // The protocol's messages are read by this loop; a message the crate cannot parse is
        // no reason to stop reading the next ones.
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        let downloads_path = downloads.path().display().to_string();
        browser
            .execute(SetDownloadBehaviorParams {
                behavior: SetDownloadBehaviorBehavior::Allow,
                browser_context_id: None,
                download_path: Some(downloads_path),
                events_enabled: Some(true),
            })
            .await
            .expect("downloads go to the temporary folder");
        Chromium {
            browser,
            handler,
            downloads,
            _profile: profile,
        }
    }

    /// Opens `url` in a new tab and waits until it has loaded.
    pub async fn open(&self, url: &str) -> Tab {
        let page = self
            .browser
            .new_page("about:blank")
            .await
            .expect("a new tab opens");
        let tab = Tab {
            page,
            downloads: self.downloads.path().to_path_buf(),
        };
        tab.goto(url).await;
        tab
    }

    /// Forgets every cookie, as a fresh browser would have none.
    pub async fn clear_cookies(&self) {
        self.browser
            .clear_cookies()
            .await
            .expect("the cookies are cleared");
    }

    /// Every cookie the browser holds, for any site.
    pub async fn cookies(&self) -> Vec<Cookie> {
        self.browser
            .get_cookies()
            .await
            .expect("the browser's cookies")
    }
}

/// Whether this process runs as root (the owner of `/proc/self`).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// One tab of the browser.
pub struct Tab {
    page: Page,
    downloads: PathBuf,
}

impl Tab {
    /// Loads `url` and waits until the new document has loaded.
    pub async fn goto(&self, url: &str) {
        self.navigating(async {
            self.page
                .evaluate(format!("location.href = {}", serde_json::json!(url)))
                .await
                .map(|_| ())
        })
        .await;
    }

    /// The address shown in the address bar.
    pub async fn url(&self) -> String {
        self.eval("location.href").await
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
    }

    /// The visible text of the first element matching `selector`.
    pub async fn text_of(&self, selector: &str) -> String {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({s}); \
             if (!e) throw new Error('nothing matches ' + {s}); return e.innerText; }})()",
            s = serde_json::json!(selector)
        ))
        .await
    }

    /// How many elements match `selector`.
    pub async fn count(&self, selector: &str) -> usize {
        self.eval(&format!(
            "document.querySelectorAll({}).length",
            serde_json::json!(selector)
        ))
        .await
    }

    /// Clicks the first element matching `selector` (as a person would: the mouse, at the
    /// element's centre) and waits for the page it leads to.
    pub async fn click(&self, selector: &str) {
        let element = self
            .page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("no {selector} to click: {e}"));
        self.navigating(async { element.click().await.map(|_| ()) })
            .await;
    }

    /// Submits the form matching `selector` through its submit button, as a click would, and
    /// waits for the page the server answers with.
    pub async fn submit(&self, selector: &str) {
        let script = format!(
            "(() => {{ const f = document.querySelector({s}); \
             if (!f) throw new Error('no form ' + {s}); f.requestSubmit(); }})()",
            s = serde_json::json!(selector)
        );
        self.navigating(async { self.page.evaluate(script).await.map(|_| ()) })
            .await;
    }

    /// Runs `action`, which makes the tab navigate, and waits until the document it left is
    /// gone and the new one has loaded. The old document is marked first: a new document has
    /// no mark, so "unmarked and complete" can only be the page the action led to.
    async fn navigating(
        &self,
        action: impl std::future::Future<Output = Result<(), chromiumoxide::error::CdpError>>,
    ) {
        self.eval::<bool>("window.__leaving = true").await;
        action.await.expect("the tab navigates");
        eventually("the tab to load the next page", async || {
            self.page
                .evaluate("!window.__leaving && document.readyState === 'complete'")
                .await
                .ok()
                .and_then(|r| r.into_value::<bool>().ok())
                .unwrap_or(false)
        })
        .await;
    }

    /// Evaluates `expression` in the page and returns its value. The protocol's evaluation
    /// runs outside the page's Content-Security-Policy: it reads the page, it does not test
    /// what the page itself may run.
    pub async fn eval<T: serde::de::DeserializeOwned>(&self, expression: &str) -> T {
        self.page
            .evaluate(expression)
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// The cookies the browser would send to this tab's address.
    pub async fn cookies(&self) -> Vec<Cookie> {
        self.page.get_cookies().await.expect("the tab's cookies")
    }

    /// Sets a cookie for this tab's address, as a forger with the browser would.
    pub async fn set_cookie(&self, name: &str, value: &str) {
        let url = self.url().await;
        let mut cookie = CookieParam::new(name, value);
        cookie.url = Some(url);
        self.page
            .set_cookie(cookie)
            .await
            .expect("the cookie is set");
    }

    /// Resizes the page to `width` x `height` CSS pixels; below 600 px as a phone (mobile
    /// viewport rules). One device pixel per CSS pixel keeps the screenshots small.
    pub async fn resize(&self, (width, height): (u32, u32)) {
        let mobile = width < 600;
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width, height, 1.0, mobile,
            ))
            .await
            .expect("the page resizes");
    }

    /// Whether the body scrolls sideways (content wider than the window).
    pub async fn scrolls_sideways(&self) -> bool {
        self.eval("document.documentElement.scrollWidth > window.innerWidth")
            .await
    }

    /// Writes a screenshot of the whole page (not only the window) to `path` as PNG.
    pub async fn screenshot(&self, path: &Path) {
        self.capture(path, true).await;
    }

    /// Writes a screenshot of what the window shows (the top of a long page) to `path`.
    pub async fn screenshot_window(&self, path: &Path) {
        self.capture(path, false).await;
    }

    async fn capture(&self, path: &Path, whole: bool) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot folder is created");
        }
        let png = self
            .page
            .screenshot(ScreenshotParams::builder().full_page(whole).build())
            .await
            .expect("a screenshot");
        std::fs::write(path, png).expect("the screenshot is written");
    }

    /// Clicks the link matching `selector`, which downloads a file, and returns the file once
    /// the download has finished (Chromium writes `<name>.crdownload` until then).
    pub async fn download(&self, selector: &str) -> PathBuf {
        let before = files(&self.downloads);
        let element = self
            .page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("no {selector} to download from: {e}"));
        element.click().await.expect("the link is clicked");
        eventually(format_args!("a download from {selector}"), async || {
            files(&self.downloads).into_iter().find(|path| {
                !before.contains(path) && path.extension().is_none_or(|ext| ext != "crdownload")
            })
        })
        .await
    }
}

/// The files in `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Where the screenshots go: `target/desk-screenshots/` (or under `CARGO_TARGET_DIR`), so a
/// reviewer finds them beside the build.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("desk-screenshots")
}
