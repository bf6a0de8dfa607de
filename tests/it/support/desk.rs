//! The operator's desk from a test's side: a browser that carries its cookie by hand and sees
//! redirects, the sign-in links, and the CSRF token of a page's forms.

use ai_interviewer::{i18n::Lang, model::Clock};
use reqwest::{StatusCode, redirect::Policy};

use super::bot::TestBot;

/// A browser without a cookie jar: the test carries the cookie by hand and sees redirects.
pub struct Browser {
    /// The HTTP client, which follows no redirect.
    pub client: reqwest::Client,
    /// `http://<the desk's address>`.
    pub base: String,
    /// The session cookie (`name=value`), once signed in.
    pub cookie: Option<String>,
}

impl Browser {
    /// A browser pointed at `bot`'s desk, not signed in.
    pub fn new(bot: &TestBot) -> Browser {
        let (addr, _) = bot.desk.as_ref().expect("the desk is served");
        Browser {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            cookie: None,
        }
    }

    /// Gets `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// Gets `path`: its status and its text.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// Posts `form` to `path`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// Opens a sign-in link and presses its button; returns the answer to the press.
    pub async fn open_link(&mut self, link: &str) -> reqwest::Response {
        let url = reqwest::Url::parse(link).unwrap();
        let path = format!("{}?{}", url.path(), url.query().unwrap());
        let (status, page) = self.page(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains(r#"<form id="signin" method="post" action="/signin">"#),
            "{page}"
        );
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let answer = self
            .post("/signin", &[("token", &token), ("lang", "en")])
            .await;
        if let Some(cookie) = answer.headers().get("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        answer
    }

    /// Signs in with a fresh link.
    pub async fn signed_in(bot: &TestBot) -> Browser {
        let mut browser = Browser::new(bot);
        let answer = browser.open_link(&link(bot).await).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        browser
    }
}

/// A fresh sign-in link, as `/desk` and `desk-link` issue them.
pub async fn link(bot: &TestBot) -> String {
    let (_, issuer) = bot.desk.as_ref().expect("the desk is served");
    issuer
        .link(bot.clock.now(), Lang::En)
        .await
        .unwrap()
        .to_string()
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with its token")
        + 19;
    page[start..].split('"').next().unwrap().to_owned()
}
