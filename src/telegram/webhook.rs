//! Updates pushed by Telegram to `WEBHOOK_URL` instead of polled: the other way in, for a bot
//! behind a reverse proxy with TLS.
//!
//! Telegram sends each update as a POST with the secret given to `setWebhook` in the
//! `X-Telegram-Bot-Api-Secret-Token` header, and sends it again until it gets a 2xx. So the
//! handler answers 200 only once the update is saved in the [`Inbox`] (fsync'd), exactly as the
//! poller confirms an offset only after the batch is saved: a crash before the answer means
//! Telegram sends the update again, and the inbox knows it if it was saved. A request without
//! the secret is not Telegram's and is refused before its body is read.
//!
//! The webhook is set once, from outside the bot (`ai-interviewer webhook set`), with
//! `max_connections` 1: Telegram then sends updates one at a time, in order, which is what the
//! inbox's offset expects. The bot never removes the webhook when it stops (teloxide's own
//! webhook listener does, which with several replicas would stop every one of them).

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use teloxide::{prelude::*, types::Update};
use tokio::sync::{mpsc, watch};

use super::inbox::Inbox;

/// The header Telegram puts the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Where Telegram pushes updates (`WEBHOOK_URL`, `WEBHOOK_SECRET`, `WEBHOOK_ADDR`).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The public https address Telegram calls; its path is the one served.
    pub url: Url,
    /// The secret Telegram sends back with every update (1-256 of `A-Z a-z 0-9 _ -`).
    pub secret: SecretString,
    /// Where the bot listens (behind the proxy that holds the certificate).
    pub addr: SocketAddr,
}

/// What the handler needs.
struct Hook {
    secret: SecretString,
    inbox: Inbox,
    out: mpsc::UnboundedSender<Update>,
}

/// Serves the webhook until `stop` turns true, handing each new update to `out` once saved.
/// Returns the address it listens on (the port is chosen when `addr` names port 0).
pub async fn serve(
    config: &WebhookConfig,
    inbox: Inbox,
    out: mpsc::UnboundedSender<Update>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let app = router(config, inbox, out);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(%error, "the webhook server failed");
        }
    });
    Ok((addr, task))
}

/// The webhook's one route: a POST to `config.url`'s path, answered as [`serve`] describes.
pub fn router(config: &WebhookConfig, inbox: Inbox, out: mpsc::UnboundedSender<Update>) -> Router {
    let hook = Arc::new(Hook {
        secret: config.secret.clone(),
        inbox,
        out,
    });
    Router::new()
        .route(config.url.path(), post(receive))
        .with_state(hook)
}

/// One update from Telegram: refused without the secret, saved, handed on, then answered 200.
async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(hook.secret.expose_secret().as_bytes())) {
        tracing::warn!("a webhook request without the secret was refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            // Not an update at all: sending it again would not help. The error's position
            // only: its text could quote what the body says.
            tracing::warn!(
                kind = ?error.classify(),
                line = error.line(),
                column = error.column(),
                "the webhook received a body that is not an update"
            );
            return StatusCode::BAD_REQUEST;
        }
    };
    let (fresh, error) = hook.inbox.save(vec![update]).await;
    if let Some(error) = error {
        tracing::error!(%error, "an update could not be saved: it is handled, but a crash now would lose it");
    }
    crate::faults::crash_point("webhook-saved");
    for update in fresh {
        tracing::debug!(update = update.id.0, "update saved");
        let _ = hook.out.send(update);
    }
    StatusCode::OK
}

/// `ai-interviewer webhook set`: points Telegram at `config.url` with the secret, one
/// connection at a time, for messages and button presses; updates waiting are kept.
pub async fn set(bot: &Bot, config: &WebhookConfig) -> Result<(), teloxide::RequestError> {
    bot.set_webhook(config.url.clone())
        .secret_token(config.secret.expose_secret().to_owned())
        .max_connections(1)
        .allowed_updates(vec![
            teloxide::types::AllowedUpdate::Message,
            teloxide::types::AllowedUpdate::CallbackQuery,
        ])
        .await?;
    Ok(())
}

/// `ai-interviewer webhook delete`: back to polling; updates waiting are kept.
pub async fn delete(bot: &Bot) -> Result<(), teloxide::RequestError> {
    bot.delete_webhook().await?;
    Ok(())
}

/// At start in webhook mode: whether Telegram's webhook is the configured one, with one
/// connection; a line for the operator when it is not.
pub async fn check(bot: &Bot, config: &WebhookConfig) -> Option<String> {
    match bot.get_webhook_info().await {
        Ok(info) if info.url.as_ref() != Some(&config.url) => Some(format!(
            "Telegram's webhook is {:?}, not WEBHOOK_URL: run `ai-interviewer webhook set`",
            info.url.map(|u| u.to_string()).unwrap_or_default()
        )),
        Ok(info) if info.max_connections.is_some_and(|n| n != 1) => Some(
            "the webhook takes more than one connection, so updates could come out of order: \
             run `ai-interviewer webhook set`"
                .to_owned(),
        ),
        Ok(_) => None,
        Err(error) => Some(format!(
            "getWebhookInfo failed ({}): is the webhook set?",
            super::sender::describe(&error)
        )),
    }
}
