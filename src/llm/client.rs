//! The Claude client: one struct holding the HTTP client, base URL, key and limits, turning a
//! conversation into one validated interview turn.

use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::{
    retry::{self, RetryPolicy},
    turn::{self, InvalidTurn, Turn},
    wire::{
        ChatMessage, ChatRole, ErrorBody, MessagesRequest, MessagesResponse, ResponseBlock,
        TextBlock, Tool, ToolChoice, Usage,
    },
};
use crate::settings::ClaudeSettings;

/// The API version header value this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// Why a call to Claude failed. The text is for logs only; users never see it.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The API answered with an error status.
    #[error("HTTP {status} {kind}: {message} (request id {request_id:?})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error type from the body, such as `overloaded_error`.
        kind: String,
        /// The error message from the body.
        message: String,
        /// The `request-id` header, for support requests.
        request_id: Option<String>,
        /// The wait the server asked for.
        retry_after: Option<Duration>,
    },
    /// No response arrived in time.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The connection failed.
    #[error("connection failed: {0}")]
    Network(String),
    /// The response was not the documented shape.
    #[error("undecodable response: {0}")]
    Decode(String),
    /// The model's reply was still unusable after one repair request.
    #[error("unusable turn: {0}")]
    Unusable(String),
}

impl LlmError {
    fn retryable(&self) -> bool {
        match self {
            LlmError::Api { status, .. } => retry::retryable_status(*status),
            LlmError::Timeout(_) | LlmError::Network(_) => true,
            LlmError::Decode(_) | LlmError::Unusable(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The conversation for one turn: a system prompt and the messages.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRequest {
    /// The system prompt (cached).
    pub system: String,
    /// The conversation, ending with a user message.
    pub messages: Vec<ChatMessage>,
}

/// A validated turn and what it cost.
#[derive(Debug, Clone)]
pub struct TurnReply {
    /// The turn.
    pub turn: Turn,
    /// Tokens over every request the turn took.
    pub usage: Usage,
    /// The first reply was unusable and a repair request was needed.
    pub repaired: bool,
}

/// A client of the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct ClaudeClient {
    /// The HTTP client (connection pool).
    http: reqwest::Client,
    /// `<base>/v1/messages`.
    endpoint: Url,
    /// The API key, sent as `x-api-key`.
    api_key: SecretString,
    /// The model id.
    model: String,
    /// The output budget of a turn.
    max_tokens: u32,
    /// Sampling temperature.
    temperature: f32,
    /// The limit on one HTTP attempt.
    timeout: Duration,
    /// When and how long to wait before retrying.
    retry: RetryPolicy,
    /// The `record_turn` tool, built once.
    tool: Tool,
}

impl ClaudeClient {
    /// A client for the settings' endpoint with `api_key`.
    pub fn new(settings: &ClaudeSettings, api_key: SecretString) -> Self {
        let mut base = settings.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        ClaudeClient {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .expect("the TLS backend initialises"),
            endpoint: base.join("v1/messages").expect("a relative path joins"),
            api_key,
            model: settings.model.clone(),
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
            timeout: settings.timeout,
            retry: RetryPolicy::new(settings.max_retries),
            tool: Tool {
                name: turn::TOOL_NAME,
                description: "Record the interviewer's next message and its reading of the interview.",
                input_schema: turn::schema(),
            },
        }
    }

    /// Replaces the retry policy (tests shorten the waits).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Asks for the next interview turn. An unusable reply (truncated, invalid, no tool call)
    /// is asked for once more with the reason; transient failures are retried first.
    pub async fn turn(&self, request: &TurnRequest) -> Result<TurnReply, LlmError> {
        let first = self
            .send(&self.turn_body(request, self.max_tokens, None))
            .await?;
        let mut usage = first.usage;
        let problem = match extract_turn(&first) {
            Ok(turn) => {
                return Ok(TurnReply {
                    turn,
                    usage,
                    repaired: false,
                });
            }
            Err(problem) => problem,
        };
        tracing::warn!(%problem, "unusable turn; asking once more");
        // A truncated turn gets more room the second time.
        let max_tokens = if problem.truncated {
            self.max_tokens.saturating_mul(3) / 2
        } else {
            self.max_tokens
        };
        let second = self
            .send(&self.turn_body(request, max_tokens, Some(&problem.reason)))
            .await?;
        usage += second.usage;
        let turn = extract_turn(&second).map_err(|p| LlmError::Unusable(p.reason))?;
        Ok(TurnReply {
            turn,
            usage,
            repaired: true,
        })
    }

    /// Asks for free text (used for the report's summary).
    pub async fn write(
        &self,
        system: &str,
        prompt: &str,
        max_tokens: u32,
    ) -> Result<(String, Usage), LlmError> {
        let body = MessagesRequest {
            model: self.model.clone(),
            max_tokens,
            temperature: self.temperature,
            system: vec![TextBlock::new(system)],
            messages: vec![ChatMessage {
                role: ChatRole::User,
                content: vec![TextBlock::new(prompt)],
            }],
            tools: Vec::new(),
            tool_choice: None,
        };
        let response = self.send(&body).await?;
        if response.stop_reason.as_deref() == Some("max_tokens") {
            return Err(LlmError::Unusable("text truncated at max_tokens".into()));
        }
        let text: String = response
            .content
            .iter()
            .filter_map(|b| match b {
                ResponseBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        if text.trim().is_empty() {
            return Err(LlmError::Unusable("no text in the reply".into()));
        }
        Ok((text.trim().to_owned(), response.usage))
    }

    fn turn_body(
        &self,
        request: &TurnRequest,
        max_tokens: u32,
        repair: Option<&str>,
    ) -> MessagesRequest {
        let mut messages = request.messages.clone();
        if let Some(reason) = repair
            && let Some(last) = messages.last_mut()
        {
            last.content.push(TextBlock::new(format!(
                "[Interview engine] Your previous reply could not be used: {reason}. \
                 Call `{}` once more with a complete, valid turn, and keep `response` concise.",
                turn::TOOL_NAME
            )));
        }
        MessagesRequest {
            model: self.model.clone(),
            max_tokens,
            temperature: self.temperature,
            system: vec![TextBlock::cached(request.system.clone())],
            messages,
            tools: vec![self.tool.clone()],
            tool_choice: Some(ToolChoice {
                kind: "tool",
                name: turn::TOOL_NAME,
            }),
        }
    }

    /// Sends a request, retrying transient failures with backoff.
    async fn send(&self, body: &MessagesRequest) -> Result<MessagesResponse, LlmError> {
        let mut retry = 0;
        loop {
            match self.attempt(body).await {
                Ok(response) => return Ok(response),
                Err(error) if error.retryable() => {
                    let Some(wait) = self.retry.delay(retry, error.retry_after()) else {
                        return Err(error);
                    };
                    tracing::warn!(%error, ?wait, retry = retry + 1, "Claude call failed; retrying");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn attempt(&self, body: &MessagesRequest) -> Result<MessagesResponse, LlmError> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .timeout(self.timeout)
            .header("x-api-key", self.api_key.expose_secret())
            .header("anthropic-version", API_VERSION)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| LlmError::Decode(e.to_string()));
        }
        let (kind, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => (body.error.kind, body.error.message),
            Err(_) => (
                "unknown".to_owned(),
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ),
        };
        Err(LlmError::Api {
            status: status.as_u16(),
            kind,
            message,
            request_id: headers
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            retry_after: retry::retry_after(&headers),
        })
    }

    fn transport_error(&self, error: reqwest::Error) -> LlmError {
        if error.is_timeout() {
            LlmError::Timeout(self.timeout)
        } else if error.is_decode() || error.is_body() {
            LlmError::Decode(error.without_url().to_string())
        } else {
            LlmError::Network(error.without_url().to_string())
        }
    }
}

/// Why a successful response is not a usable turn.
struct Problem {
    reason: String,
    truncated: bool,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

fn extract_turn(response: &MessagesResponse) -> Result<Turn, Problem> {
    let problem = |reason: String| Problem {
        reason,
        truncated: false,
    };
    match response.stop_reason.as_deref() {
        Some("max_tokens") => {
            return Err(Problem {
                reason: "the reply was cut off at the token limit".into(),
                truncated: true,
            });
        }
        Some("refusal") => return Err(problem("the reply was a refusal".into())),
        _ => {}
    }
    let input = response
        .content
        .iter()
        .find_map(|block| match block {
            ResponseBlock::ToolUse { name, input, .. } if name == turn::TOOL_NAME => {
                Some(input.clone())
            }
            _ => None,
        })
        .ok_or_else(|| problem(format!("the reply did not call `{}`", turn::TOOL_NAME)))?;
    Turn::from_input(input)
        .map_err(|InvalidTurn(reason)| problem(format!("invalid turn: {reason}")))
}
