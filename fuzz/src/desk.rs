//! The operator's desk: any request, signed in or not, with or without its CSRF token.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use ai_interviewer::{
    app::{self, Overrides},
    desk::{self, Desk},
    login::Links,
    settings::Settings,
};
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use tower::ServiceExt;

use crate::runtime;

const API_TOKEN: &str = "fuzz-api-token";

/// The desk over an empty `SESSIONS_DIR`, and the signed-in session the fuzzer may borrow.
struct Served {
    router: Router,
    links: Links,
    signed: Mutex<Signed>,
}

#[derive(Clone, Default)]
struct Signed {
    cookie: String,
    csrf: String,
}

/// Where the fuzzer's requests come from, and where the sign-ins of this harness do: failed
/// sign-ins from the fuzzer's address must not lock the harness out.
fn fuzzer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn harness() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 2], 40000))
}

async fn send(
    router: &Router,
    mut request: Request<Body>,
    from: SocketAddr,
) -> (StatusCode, String, Option<String>) {
    request.extensions_mut().insert(ConnectInfo(from));
    let answer = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = answer.status();
    let cookie = answer
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body = axum::body::to_bytes(answer.into_body(), 64 << 20)
        .await
        .expect("the body is read");
    (status, String::from_utf8_lossy(&body).into_owned(), cookie)
}

/// Signs in as an admin does: a link issued into the folder, spent by the sign-in form; the
/// CSRF token is read from a page's form.
async fn sign_in(router: &Router, links: &Links) -> Signed {
    let token = links.issue(chrono::Utc::now()).expect("a link");
    let request = Request::post("/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}&lang=en")))
        .expect("a request");
    let (status, _, cookie) = send(router, request, harness()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the harness's sign-in");
    let cookie = cookie.expect("a session cookie");
    let request = Request::get("/studies")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .expect("a request");
    let (_, page, _) = send(router, request, harness()).await;
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with its token")
        + 19;
    let csrf = page[at..].split('"').next().unwrap_or_default().to_owned();
    Signed { cookie, csrf }
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = crate::scratch().keep();
        let vars = [("SESSIONS_DIR", dir.display().to_string())];
        let settings = Settings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("settings");
        runtime().block_on(async {
            let storage = app::storage(&settings).await.expect("the storage");
            let engine =
                app::build_engine(&settings, &storage, &Overrides::default()).expect("the engine");
            let config = desk::Config {
                addr: "127.0.0.1:0".parse().expect("an address"),
                public_url: "http://127.0.0.1:8090".parse().expect("a URL"),
                session_lifetime: Duration::from_secs(24 * 3600),
                api_token: Some(API_TOKEN.to_owned().into()),
            };
            let links = Links::open(&dir).expect("the links folder");
            let desk: Arc<Desk> = Desk::open(
                config,
                &engine,
                settings.claude.prices.clone(),
                &settings.claude.model,
                Arc::new(links.clone()),
            );
            let router = desk::router(desk);
            let signed = sign_in(&router, &links).await;
            Served {
                router,
                links,
                signed: Mutex::new(signed),
            }
        })
    })
}

/// The pages a visitor without the session cookie (or the API without its token) must not see.
const GUARDED: [&str; 5] = ["/interviews", "/studies", "/overview", "/export", "/api"];

/// One request as text: `METHOD TARGET` on the first line, then `Name: value` headers up to
/// an empty line, then the body. `{cookie}`, `{csrf}` and `{token}` stand for the signed-in
/// session's cookie, its CSRF token and the API's bearer token, so that the fuzzer reaches
/// what lies behind them. No request makes the desk fail (500), and without the cookie or
/// the token nothing behind them answers 200.
pub fn desk_request(data: &[u8]) {
    let served = served();
    let signed = served
        .signed
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let raw = String::from_utf8_lossy(data);
    let authorised = raw.contains("{cookie}") || raw.contains("{token}");
    let text = raw
        .replace(
            "{cookie}",
            &format!(
                "desk_session={}",
                signed.cookie.trim_start_matches("desk_session=")
            ),
        )
        .replace("{csrf}", &signed.csrf)
        .replace("{token}", API_TOKEN);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let Some((method, target)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let mut request = Request::builder().method(method).uri(target);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    let Ok(request) = request.body(Body::from(body.to_owned())) else {
        // What no HTTP request can carry never reaches the desk.
        return;
    };
    let path = request.uri().path().to_owned();
    let get = request.method() == axum::http::Method::GET;
    let (status, _, _) = runtime().block_on(send(&served.router, request, fuzzer()));
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {target}"
    );
    if !authorised && get && GUARDED.iter().any(|g| path.starts_with(g)) {
        assert_ne!(
            status,
            StatusCode::OK,
            "{path} answered without the sign-in"
        );
    }
    if raw.contains("{csrf}") {
        // The request may have signed the session out (or changed its language): sign in
        // anew so that the next inputs find the session they expect.
        let fresh = runtime().block_on(sign_in(&served.router, &served.links));
        *served
            .signed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
    }
}
