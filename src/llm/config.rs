//! What the Claude client is configured with (read from `ANTHROPIC_*` and `CLAUDE_*`).

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::{Effort, PriceTable};

/// Everything the Anthropic client needs.
#[derive(Debug, Clone)]
pub struct ClaudeConfig {
    /// `ANTHROPIC_API_KEY`; without it the interview runs on the offline question bank.
    pub api_key: Option<SecretString>,
    /// `ANTHROPIC_BASE_URL`: where the Messages API lives.
    pub base_url: Url,
    /// `CLAUDE_MODEL`: the model id sent with every request.
    pub model: String,
    /// `CLAUDE_EFFORT`: how much the model deliberates, on models that take an effort.
    pub effort: Effort,
    /// `CLAUDE_MAX_TOKENS`: the output budget of one interview turn, thinking included;
    /// unset, [`Effort::default_max_tokens`] of the effort.
    pub max_tokens: Option<u32>,
    /// `CLAUDE_TEMPERATURE`: sampling temperature, 0 to 1; unset, none is sent (the only
    /// choice on models from generation 5 on, which refuse sampling parameters).
    pub temperature: Option<f32>,
    /// `CLAUDE_PRICES` over the published prices: what tokens cost, per model.
    pub prices: PriceTable,
    /// `CLAUDE_TIMEOUT_SECONDS`: the limit on one HTTP attempt.
    pub timeout: Duration,
    /// `CLAUDE_MAX_RETRIES`: retries after the first attempt on retryable failures.
    pub max_retries: u32,
}

/// The model used when `CLAUDE_MODEL` is not set.
pub const DEFAULT_MODEL: &str = "claude-sonnet-5-5";

impl ClaudeConfig {
    /// The output budget of one turn: `CLAUDE_MAX_TOKENS`, or the effort's default.
    pub fn turn_max_tokens(&self) -> u32 {
        self.max_tokens
            .unwrap_or_else(|| self.effort.default_max_tokens())
    }
}
