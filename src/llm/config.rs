//! What the Claude client is configured with (read from `ANTHROPIC_*` and `CLAUDE_*`).

use std::{fmt, str::FromStr, time::Duration};

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
    /// `ANTHROPIC_VERSION`: the API version requests are made under.
    pub api_version: ApiVersion,
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

/// The Messages API version sent as `anthropic-version` (`ANTHROPIC_VERSION`).
///
/// `2023-06-01` is what every SDK sent for years and still works, with no end date announced.
/// `2026-10-21` (opt-in, what the new SDK majors send) refuses `temperature`, `top_p` and
/// `top_k` even at their defaults, and takes the key as `Authorization: Bearer`: under it the
/// client never sends a sampling parameter and authenticates as the new SDKs do. Nothing
/// else the bot sends differs between the two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiVersion {
    /// `2023-06-01`, with the key in `x-api-key`.
    #[default]
    V2023_06_01,
    /// `2026-10-21`, with the key as a bearer token and no sampling parameters.
    V2026_10_21,
}

impl ApiVersion {
    /// Every version the client speaks.
    pub const ALL: [ApiVersion; 2] = [ApiVersion::V2023_06_01, ApiVersion::V2026_10_21];

    /// The header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2023_06_01 => "2023-06-01",
            ApiVersion::V2026_10_21 => "2026-10-21",
        }
    }

    /// Whether `temperature`, `top_p` and `top_k` may be sent at all under this version
    /// (the model may refuse them still).
    pub fn takes_sampling_parameters(self) -> bool {
        self == ApiVersion::V2023_06_01
    }

    /// Whether the key goes as `Authorization: Bearer` rather than `x-api-key`.
    pub fn bearer_auth(self) -> bool {
        self == ApiVersion::V2026_10_21
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApiVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        ApiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or(())
    }
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
