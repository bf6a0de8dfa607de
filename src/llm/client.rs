//! The Claude client: one struct holding the HTTP client, base URL, key and limits, turning a
//! conversation into one validated interview turn, and the material of a stage summary or of
//! the report into the JSON asked for.
//!
//! Every request is shaped by the model's rules ([`super::generation`]): the reply is a
//! structured output (`output_config.format`, JSON matching a schema, read from the text
//! block), with no tools and no prefill; sampling parameters only where the model takes them;
//! the effort where the model takes it. Responses are read by block type, never by position,
//! since thinking blocks come first on models that think.

use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{
    fallback::Fallback,
    generation::{self, Effort, Purpose, RequestRules},
    turn::{self, InvalidTurn, Turn},
    wire::{
        ChatMessage, ChatRole, ErrorBody, MessagesRequest, MessagesResponse, ModelInfo,
        OutputConfig, OutputFormat, ResponseBlock, TextBlock, Usage,
    },
};
use crate::{
    retry::{self, RetryPolicy},
    settings::ClaudeSettings,
};

/// The API version header value this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// The largest `max_tokens` the client asks for (repairs, summaries and the report included):
/// the output limit of the current models.
pub const MAX_BUDGET_TOKENS: u32 = 64_000;

/// The limit on the start-up check's one request.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

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
    #[error("unusable reply: {reason}")]
    Unusable {
        /// What was wrong with the last reply.
        reason: String,
        /// The tokens the unusable replies cost.
        usage: Usage,
    },
    /// The repair request after an unusable (and billed) reply failed.
    #[error("{source} (the repair of an unusable reply)")]
    RepairFailed {
        /// Why the repair request failed.
        source: Box<LlmError>,
        /// The tokens the unusable reply cost.
        usage: Usage,
    },
}

impl LlmError {
    fn retryable(&self) -> bool {
        match self {
            LlmError::Api { status, .. } => retry::retryable_status(*status),
            LlmError::Timeout(_) | LlmError::Network(_) => true,
            LlmError::Decode(_) | LlmError::Unusable { .. } | LlmError::RepairFailed { .. } => {
                false
            }
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Why a turn that failed with this error falls back to the offline bank.
    pub fn fallback(&self) -> Fallback {
        match self {
            LlmError::Api { status, .. } => Fallback::from_status(*status),
            LlmError::Timeout(_) | LlmError::Network(_) | LlmError::Decode(_) => {
                Fallback::UpstreamDown
            }
            LlmError::Unusable { .. } => Fallback::UnusableTurn,
            LlmError::RepairFailed { source, .. } => source.fallback(),
        }
    }

    /// The tokens billed for the failed call (only unusable replies are billed).
    pub fn usage(&self) -> Usage {
        match self {
            LlmError::Unusable { usage, .. } | LlmError::RepairFailed { usage, .. } => *usage,
            _ => Usage::default(),
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

/// A structured request beyond the interview's turns (a stage summary, the report): one user
/// message under a system prompt, answered with JSON matching `schema`.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    /// The instructions.
    pub system: &'a str,
    /// The material, as one user message.
    pub prompt: &'a str,
    /// The reply's JSON schema, within what structured outputs accept.
    pub schema: &'a Value,
    /// The output budget of the answer; models that think get a turn's budget on top.
    pub max_tokens: u32,
    /// Checks the reply's JSON; an error (its text is sent back) asks for it once more.
    pub check: fn(&Value) -> Result<(), String>,
}

/// The JSON a [`WriteRequest`] came back with, and what it cost.
#[derive(Debug, Clone)]
pub struct Written {
    /// The reply's JSON, as checked.
    pub value: Value,
    /// Tokens over every request it took.
    pub usage: Usage,
    /// The first reply was unusable and a repair request was needed.
    pub repaired: bool,
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
    /// `<base>/v1/`.
    api: Url,
    /// The API key, sent as `x-api-key`.
    api_key: SecretString,
    /// The model id.
    model: String,
    /// What the model accepts.
    rules: RequestRules,
    /// `CLAUDE_EFFORT`.
    effort: Effort,
    /// The output budget of a turn, thinking included.
    max_tokens: u32,
    /// The operator's temperature, sent only where the model takes it.
    temperature: Option<f32>,
    /// The limit on one HTTP attempt.
    timeout: Duration,
    /// When and how long to wait before retrying.
    retry: RetryPolicy,
    /// The turn's schema, built once.
    turn_schema: Value,
}

/// What a structured request came back with.
struct Structured<T> {
    value: T,
    usage: Usage,
    repaired: bool,
}

impl ClaudeClient {
    /// A client for the settings' endpoint and model with `api_key`.
    pub fn new(settings: &ClaudeSettings, api_key: SecretString) -> Self {
        let mut base = settings.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let rules = generation::rules(&settings.model);
        ClaudeClient {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .expect("the TLS backend initialises"),
            api: base.join("v1/").expect("a relative path joins"),
            api_key,
            model: settings.model.clone(),
            rules,
            effort: settings.effort,
            max_tokens: settings.turn_max_tokens(),
            temperature: settings.temperature,
            timeout: settings.timeout,
            retry: RetryPolicy::new(settings.max_retries),
            turn_schema: turn::schema(),
        }
    }

    /// Replaces the retry policy (tests shorten the waits).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The model id.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// What the model accepts.
    pub fn rules(&self) -> &RequestRules {
        &self.rules
    }

    /// The output budget of a turn.
    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    /// `GET /v1/models/{model}`: checks the key and the model id in one request, without
    /// retries (the start-up check decides what a failure means).
    pub async fn model_info(&self) -> Result<ModelInfo, LlmError> {
        let mut url = self.api.join("models/").expect("a relative path joins");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .pop_if_empty()
            .push(&self.model);
        let response = self
            .http
            .get(url)
            .timeout(self.timeout.min(CHECK_TIMEOUT))
            .header("x-api-key", self.api_key.expose_secret())
            .header("anthropic-version", API_VERSION)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        self.read(response).await
    }

    /// Asks for the next interview turn. An unusable reply (truncated, not the JSON asked for,
    /// a refusal) is asked for once more with the reason, with a larger budget if it was cut
    /// off; transient failures are retried first.
    pub async fn turn(&self, request: &TurnRequest) -> Result<TurnReply, LlmError> {
        let system = vec![TextBlock::cached(request.system.clone())];
        let done = self
            .structured(
                Purpose::Turn,
                system,
                request.messages.clone(),
                &self.turn_schema,
                self.max_tokens,
                |value| Turn::from_input(value).map_err(|InvalidTurn(reason)| reason),
            )
            .await?;
        Ok(TurnReply {
            turn: done.value,
            usage: done.usage,
            repaired: done.repaired,
        })
    }

    /// Asks for a structured reply beyond a turn (a stage summary, the report) within the
    /// request's `max_tokens` of answer; on models that think, a turn's budget is added for
    /// the thinking. An unusable reply is asked for once more, as for a turn.
    pub async fn write(&self, request: &WriteRequest<'_>) -> Result<Written, LlmError> {
        let shape = self.rules.shape(Purpose::Summary, self.effort, None);
        let budget = if self.rules.thinks(&shape) {
            request
                .max_tokens
                .saturating_add(self.max_tokens)
                .min(MAX_BUDGET_TOKENS)
        } else {
            request.max_tokens
        };
        let messages = vec![ChatMessage {
            role: ChatRole::User,
            content: vec![TextBlock::new(request.prompt)],
        }];
        let check = request.check;
        let done = self
            .structured(
                Purpose::Summary,
                vec![TextBlock::new(request.system)],
                messages,
                request.schema,
                budget,
                |value| check(&value).map(|()| value),
            )
            .await?;
        Ok(Written {
            value: done.value,
            usage: done.usage,
            repaired: done.repaired,
        })
    }

    /// Sends a structured request and reads its JSON with `read`; one repair on a problem.
    async fn structured<T>(
        &self,
        purpose: Purpose,
        system: Vec<TextBlock>,
        messages: Vec<ChatMessage>,
        schema: &Value,
        max_tokens: u32,
        read: impl Fn(Value) -> Result<T, String>,
    ) -> Result<Structured<T>, LlmError> {
        let first = self
            .send(&self.body(
                purpose,
                system.clone(),
                messages.clone(),
                schema,
                max_tokens,
            ))
            .await?;
        let mut usage = first.usage;
        let problem = match extract(&first).and_then(|v| read(v).map_err(Problem::invalid)) {
            Ok(value) => {
                return Ok(Structured {
                    value,
                    usage,
                    repaired: false,
                });
            }
            Err(problem) => problem,
        };
        if !problem.repairable {
            return Err(LlmError::Unusable {
                reason: problem.reason,
                usage,
            });
        }
        tracing::warn!(%problem, ?purpose, "unusable reply; asking once more");
        let max_tokens = if problem.truncated {
            max_tokens
                .saturating_mul(2)
                .min(MAX_BUDGET_TOKENS)
                .max(max_tokens)
        } else {
            max_tokens
        };
        let mut messages = messages;
        if let Some(last) = messages.last_mut() {
            last.content.push(TextBlock::new(format!(
                "[Interview engine] Your previous reply could not be used: {}. Reply once more \
                 with one complete JSON object matching the schema, and nothing else{}.",
                problem.reason,
                if purpose == Purpose::Turn {
                    "; keep `response` concise"
                } else {
                    ""
                }
            )));
        }
        // The unusable reply was billed: a failed repair still reports its tokens.
        let second = self
            .send(&self.body(purpose, system, messages, schema, max_tokens))
            .await
            .map_err(|source| LlmError::RepairFailed {
                source: Box::new(source),
                usage,
            })?;
        usage += second.usage;
        let value = extract(&second)
            .and_then(|v| read(v).map_err(Problem::invalid))
            .map_err(|p| LlmError::Unusable {
                reason: p.reason,
                usage,
            })?;
        Ok(Structured {
            value,
            usage,
            repaired: true,
        })
    }

    /// The request body, shaped by the model's rules.
    fn body(
        &self,
        purpose: Purpose,
        system: Vec<TextBlock>,
        messages: Vec<ChatMessage>,
        schema: &Value,
        max_tokens: u32,
    ) -> MessagesRequest {
        let shape = self.rules.shape(purpose, self.effort, self.temperature);
        MessagesRequest {
            model: self.model.clone(),
            max_tokens,
            temperature: shape.temperature,
            system,
            messages,
            thinking: shape.thinking,
            output_config: Some(OutputConfig {
                format: Some(OutputFormat::json_schema(schema.clone())),
                effort: shape.effort,
            }),
        }
    }

    /// Sends a request, retrying transient failures with backoff. A refusal of the request
    /// itself (400, 401, 403, 404...) is a configuration problem: logged at error level with
    /// the API's message and the setting to look at.
    async fn send(&self, body: &MessagesRequest) -> Result<MessagesResponse, LlmError> {
        let mut retry = 0;
        loop {
            let error = match self.attempt(body).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            if error.retryable()
                && let Some(wait) = self.retry.delay(retry, error.retry_after())
            {
                tracing::warn!(%error, ?wait, retry = retry + 1, "Claude call failed; retrying");
                tokio::time::sleep(wait).await;
                retry += 1;
                continue;
            }
            if let LlmError::Api {
                status,
                kind,
                message,
                request_id,
                ..
            } = &error
                && error.fallback() == Fallback::Configuration
            {
                tracing::error!(
                    status,
                    kind = %kind,
                    message = %message,
                    request_id = request_id.as_deref().unwrap_or("-"),
                    model = %self.model,
                    fix = %self.hint(*status, message),
                    "Claude refused the request: a configuration problem, not the expert's"
                );
            }
            return Err(error);
        }
    }

    /// What the operator should look at for a refused request.
    fn hint(&self, status: u16, message: &str) -> String {
        let lower = message.to_lowercase();
        let sampling = ["temperature", "top_p", "top_k"]
            .into_iter()
            .find(|p| lower.contains(p));
        match status {
            401 => "ANTHROPIC_API_KEY was rejected: set a valid key".to_owned(),
            403 => format!(
                "ANTHROPIC_API_KEY may not use CLAUDE_MODEL {:?}: check the key's permissions",
                self.model
            ),
            404 => format!(
                "CLAUDE_MODEL {:?} was not found: set a current model id",
                self.model
            ),
            400 if sampling.is_some() && self.temperature.is_some() => format!(
                "the model refuses `{}`: remove CLAUDE_TEMPERATURE from the settings",
                sampling.unwrap_or("temperature")
            ),
            400 if lower.contains("effort") => {
                "the model refuses this effort: change or remove CLAUDE_EFFORT".to_owned()
            }
            400 if lower.contains("max_tokens") => {
                "the model refuses this budget: lower CLAUDE_MAX_TOKENS".to_owned()
            }
            _ => format!(
                "the request does not suit CLAUDE_MODEL {:?}: check CLAUDE_MODEL and the \
                 CLAUDE_* settings",
                self.model
            ),
        }
    }

    async fn attempt(&self, body: &MessagesRequest) -> Result<MessagesResponse, LlmError> {
        let response = self
            .http
            .post(self.api.join("messages").expect("a relative path joins"))
            .timeout(self.timeout)
            .header("x-api-key", self.api_key.expose_secret())
            .header("anthropic-version", API_VERSION)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        self.read(response).await
    }

    /// Reads a response: the documented body on success, the error shape otherwise.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, LlmError> {
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

/// Why a successful response is not usable.
struct Problem {
    reason: String,
    /// Cut off at `max_tokens`: the repair gets a larger budget.
    truncated: bool,
    /// Worth asking again.
    repairable: bool,
}

impl Problem {
    fn invalid(reason: String) -> Problem {
        Problem {
            reason,
            truncated: false,
            repairable: true,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The JSON of a structured reply: the text blocks, whatever thinking came before them.
fn extract(response: &MessagesResponse) -> Result<Value, Problem> {
    match response.stop_reason.as_deref() {
        Some("max_tokens") => {
            let thinking_only = !response
                .content
                .iter()
                .any(|b| matches!(b, ResponseBlock::Text { .. }));
            return Err(Problem {
                reason: if thinking_only {
                    "the token limit was reached while thinking, before any answer".into()
                } else {
                    "the reply was cut off at the token limit".into()
                },
                truncated: true,
                repairable: true,
            });
        }
        Some("refusal") => return Err(Problem::invalid("the reply was a refusal".into())),
        Some("model_context_window_exceeded") => {
            return Err(Problem {
                reason: "the conversation exceeds the model's context window".into(),
                truncated: false,
                repairable: false,
            });
        }
        _ => {}
    }
    let text: String = response
        .content
        .iter()
        .filter_map(|block| match block {
            ResponseBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Err(Problem::invalid("the reply had no text".into()));
    }
    parse_json(text).ok_or_else(|| Problem::invalid("the reply was not one JSON object".into()))
}

/// Parses the reply's JSON; a fenced block or words around the object are tolerated.
fn parse_json(text: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (start < end)
        .then(|| serde_json::from_str::<Value>(&text[start..=end]).ok())
        .flatten()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn response(stop: &str, blocks: Value) -> MessagesResponse {
        serde_json::from_value(json!({"content": blocks, "stop_reason": stop})).unwrap()
    }

    #[test]
    fn the_json_is_read_from_the_text_block_after_any_thinking() {
        let r = response(
            "end_turn",
            json!([
                {"type": "thinking", "thinking": "Let me see.", "signature": "x"},
                {"type": "redacted_thinking", "data": "..."},
                {"type": "text", "text": "{\"summary\": \"ok\"}"}
            ]),
        );
        assert_eq!(extract(&r).ok(), Some(json!({"summary": "ok"})));
    }

    #[test]
    fn a_cut_off_reply_is_truncated_and_says_whether_it_had_begun() {
        let thinking = response(
            "max_tokens",
            json!([{"type": "thinking", "thinking": "Long"}]),
        );
        let p = extract(&thinking).unwrap_err();
        assert!(p.truncated && p.reason.contains("while thinking"));
        let cut = response("max_tokens", json!([{"type": "text", "text": "{\"a\":"}]));
        assert!(extract(&cut).unwrap_err().truncated);
    }

    #[test]
    fn fenced_json_is_tolerated_and_prose_is_not() {
        assert_eq!(
            parse_json("```json\n{\"a\": 1}\n```"),
            Some(json!({"a": 1}))
        );
        assert_eq!(parse_json("Sure! Here is my question."), None);
    }
}
