//! The webhook: Telegram's POSTs, or anyone's.

use std::sync::OnceLock;

use ai_interviewer::telegram::{
    inbox::Inbox,
    webhook::{self, SECRET_HEADER, WebhookConfig},
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use teloxide::types::Update;
use tower::ServiceExt;

use crate::runtime;

const SECRET: &str = "fuzz-secret_0123456789";
const PATH: &str = "/telegram/hook";

/// The webhook's router over an inbox in a folder of its own, made once per process.
fn hook() -> &'static Router {
    static HOOK: OnceLock<Router> = OnceLock::new();
    HOOK.get_or_init(|| {
        let dir = crate::scratch().keep();
        let (inbox, _) = Inbox::open(&dir).expect("the inbox opens");
        // The updates handed on are not handled here: the channel's far end is dropped, which
        // the handler tolerates (a stopping bot's does the same).
        let (out, _) = tokio::sync::mpsc::unbounded_channel();
        let config = WebhookConfig {
            url: format!("https://bot.example{PATH}").parse().expect("a URL"),
            secret: SECRET.to_owned().into(),
            addr: "127.0.0.1:0".parse().expect("an address"),
        };
        let _guard = runtime().enter();
        webhook::router(&config, inbox, out)
    })
}

/// One request: the first line is the secret header's value (`{secret}` stands for the real
/// one; an empty line sends none), the rest the body. Without the secret the answer is 401
/// whatever the body; with it, 200 for an update (saved) and 400 for anything else.
pub fn webhook(data: &[u8]) {
    let (line, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let secret: &[u8] = if line == b"{secret}" {
        SECRET.as_bytes()
    } else {
        line
    };
    let mut request = Request::post(PATH);
    if !secret.is_empty() {
        request = request.header(SECRET_HEADER, secret);
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        // Bytes no HTTP header can carry never reach the bot.
        return;
    };
    let status = runtime().block_on(async {
        hook()
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers")
            .status()
    });
    let expected = if secret != SECRET.as_bytes() {
        StatusCode::UNAUTHORIZED
    } else if serde_json::from_slice::<Update>(body).is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    assert_eq!(status, expected);
}
