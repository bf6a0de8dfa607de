//! What the Telegram front end is configured with (read from `TELEGRAM_*`, the rate limit,
//! the allow lists and the shutdown grace).

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::consent::ConsentConfig;

/// Everything the Telegram front end needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TELEGRAM_BOT_TOKEN`: required to run the bot, not for the console.
    pub bot_token: Option<SecretString>,
    /// `TELEGRAM_API_URL`: the Bot API server.
    pub api_url: Url,
    /// `RATE_LIMIT_MESSAGES`: answers a user may have taken per window (each one a model
    /// turn); answers over it wait, they are not dropped.
    pub rate_limit_messages: u32,
    /// `RATE_LIMIT_WINDOW_SECONDS`: the length of the rate-limit window.
    pub rate_limit_window: Duration,
    /// `ALLOWED_USER_IDS`: who may use the bot; empty means everyone.
    pub allowed_user_ids: Vec<u64>,
    /// `ADMIN_USER_IDS`: operators, allowed even when not listed in `ALLOWED_USER_IDS`.
    pub admin_user_ids: Vec<u64>,
    /// `SHUTDOWN_GRACE_SECONDS`: how long work in hand may take to finish on shutdown.
    pub shutdown_grace: Duration,
    /// The notice the expert accepts before the first question.
    pub consent: ConsentConfig,
    /// `DRAFTS`: the next question is shown while Claude writes it, in private chats
    /// ([`super::drafts`]); off, the chat shows "typing…" until it is sent.
    pub drafts: bool,
    /// `WEBHOOK_URL`, `WEBHOOK_SECRET`, `WEBHOOK_ADDR`: updates pushed by Telegram instead of
    /// polled ([`super::webhook`]); `None` polls.
    pub webhook: Option<super::webhook::WebhookConfig>,
}
