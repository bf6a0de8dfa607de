//! The Claude client: one struct holding the HTTP client, base URL, key and limits, turning a
//! system prompt and a conversation into the JSON a schema asks for, checked by the caller's
//! rule. What the JSON means (an interview turn, a summary) is the caller's business.
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

use super::{ApiVersion, ClaudeConfig, Fallback};
use super::{
    generation::{self, Effort, Purpose, RequestRules},
    stream::{self, Partial},
    wire::{
        ChatMessage, ErrorBody, MessagesRequest, MessagesResponse, ModelInfo, OutputConfig,
        OutputFormat, ResponseBlock, TextBlock, Usage,
    },
};
use crate::retry::{self, RetryPolicy};

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
    /// The model declined to answer (`stop_reason: refusal`). Not asked again: a refusal comes
    /// from the model's safety classifier reading the conversation, and a repair request
    /// resends the same conversation with a note appended, which draws the same refusal while
    /// doubling the cost and the expert's wait.
    #[error("the model declined to answer (stop_reason refusal)")]
    Refused {
        /// The tokens the refused replies cost.
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
            LlmError::Decode(_)
            | LlmError::Unusable { .. }
            | LlmError::Refused { .. }
            | LlmError::RepairFailed { .. } => false,
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
            LlmError::Api { status, .. } => fallback_for_status(*status),
            LlmError::Timeout(_) | LlmError::Network(_) | LlmError::Decode(_) => {
                Fallback::UpstreamDown
            }
            LlmError::Unusable { .. } => Fallback::UnusableTurn,
            LlmError::Refused { .. } => Fallback::Refusal,
            LlmError::RepairFailed { source, .. } => source.fallback(),
        }
    }

    /// The tokens billed for the failed call (only unusable replies are billed).
    pub fn usage(&self) -> Usage {
        match self {
            LlmError::Unusable { usage, .. }
            | LlmError::Refused { usage }
            | LlmError::RepairFailed { usage, .. } => *usage,
            _ => Usage::default(),
        }
    }
}

/// The reason an HTTP status from the API gives a turn that falls back, after any retries: an
/// outage the retries could not outlast, or a refusal the operator has to fix.
fn fallback_for_status(status: u16) -> Fallback {
    if retry::retryable_status(status) {
        Fallback::UpstreamDown
    } else {
        Fallback::Configuration
    }
}

/// How a structured reply is waited for, which decides its budget and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Someone waits for the reply: the configured output budget (`CLAUDE_MAX_TOKENS`), the
    /// shape for latency, and the system prompt cached, since a conversation repeats it.
    Conversation,
    /// Written while nobody waits, where deliberation pays: `max_tokens` of answer, and on
    /// models that think a conversation's budget on top for the thinking.
    Deliberate {
        /// The output budget of the answer.
        max_tokens: u32,
    },
}

/// A request answered with JSON matching `schema`: a system prompt and a conversation.
#[derive(Debug, Clone)]
pub struct StructuredRequest<'a> {
    /// How the reply is waited for.
    pub pace: Pace,
    /// The instructions.
    pub system: &'a str,
    /// The conversation, ending with a user message.
    pub messages: Vec<ChatMessage>,
    /// The reply's JSON schema, within what structured outputs accept.
    pub schema: &'a Value,
    /// Checks the reply's JSON; an error (its text goes into the repair note) asks once more.
    pub check: fn(&Value) -> Result<(), String>,
    /// The note added to the last message when asking once more, given what was wrong with the
    /// reply (the caller's voice: the model reads it as part of the conversation).
    pub repair_note: fn(&str) -> String,
    /// Where the reply's text shows while it is written, if someone watches: the request is
    /// then streamed. Without it the reply comes in one piece.
    pub partial: Option<&'a Partial>,
}

/// The JSON a [`StructuredRequest`] came back with, and what it cost.
#[derive(Debug, Clone)]
pub struct Written {
    /// The reply's JSON, as checked.
    pub value: Value,
    /// Tokens over every request it took.
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
    /// The API key, sent as the version asks (`x-api-key` or a bearer token).
    api_key: SecretString,
    /// `anthropic-version`.
    api_version: ApiVersion,
    /// The model id.
    model: String,
    /// What the model accepts.
    rules: RequestRules,
    /// `CLAUDE_EFFORT`.
    effort: Effort,
    /// The output budget of a turn, thinking included.
    max_tokens: u32,
    /// The operator's temperature, sent only where the model and the API version take it.
    temperature: Option<f32>,
    /// The limit on one HTTP attempt.
    timeout: Duration,
    /// When and how long to wait before retrying.
    retry: RetryPolicy,
}

impl ClaudeClient {
    /// A client for the configured endpoint and model with `api_key`.
    pub fn new(settings: &ClaudeConfig, api_key: SecretString) -> Self {
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
            api_version: settings.api_version,
            model: settings.model.clone(),
            rules,
            effort: settings.effort,
            max_tokens: settings.turn_max_tokens(),
            temperature: settings
                .temperature
                .filter(|_| settings.api_version.takes_sampling_parameters()),
            timeout: settings.timeout,
            retry: RetryPolicy::new(settings.max_retries),
        }
    }

    /// The client with `rules` in place of the table's: the start-up check's, read from the
    /// model's capabilities ([`RequestRules::with_capabilities`]).
    pub fn with_rules(mut self, rules: RequestRules) -> Self {
        self.rules = rules;
        self
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

    /// The output budget of a [`Pace::Conversation`] reply.
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
            .authorised(self.http.get(url))
            .timeout(self.timeout.min(CHECK_TIMEOUT))
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        self.read(response).await
    }

    /// Asks for a structured reply. An unusable reply (truncated, not the JSON asked for,
    /// refused by the request's check) is asked for once more with the reason, with a larger
    /// budget if it was cut off; transient failures are retried first. A refusal by the model
    /// is not asked again ([`LlmError::Refused`]).
    pub async fn ask(&self, request: &StructuredRequest<'_>) -> Result<Written, LlmError> {
        let (purpose, system, max_tokens) = match request.pace {
            Pace::Conversation => (
                Purpose::Turn,
                TextBlock::cached(request.system.to_owned()),
                self.max_tokens,
            ),
            Pace::Deliberate { max_tokens } => {
                let shape = self.rules.shape(Purpose::Summary, self.effort, None);
                let budget = if self.rules.thinks(&shape) {
                    max_tokens
                        .saturating_add(self.max_tokens)
                        .min(MAX_BUDGET_TOKENS)
                } else {
                    max_tokens
                };
                (Purpose::Summary, TextBlock::new(request.system), budget)
            }
        };
        let system = vec![system];
        let first = self
            .send(
                &self.body(
                    purpose,
                    system.clone(),
                    request.messages.clone(),
                    request.schema,
                    max_tokens,
                ),
                request.partial,
            )
            .await?;
        let mut usage = first.usage;
        let read = |response: &MessagesResponse| {
            extract(response).and_then(|value| match (request.check)(&value) {
                Ok(()) => Ok(value),
                Err(reason) => Err(Problem::invalid(reason)),
            })
        };
        let problem = match read(&first) {
            Ok(value) => {
                return Ok(Written {
                    value,
                    usage,
                    repaired: false,
                });
            }
            Err(problem) => problem,
        };
        if !problem.repairable {
            return Err(problem.into_error(usage));
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
        let mut messages = request.messages.clone();
        if let Some(last) = messages.last_mut() {
            last.content
                .push(TextBlock::new((request.repair_note)(&problem.reason)));
        }
        // The unusable reply was billed: a failed repair still reports its tokens.
        let second = self
            .send(
                &self.body(purpose, system, messages, request.schema, max_tokens),
                request.partial,
            )
            .await
            .map_err(|source| LlmError::RepairFailed {
                source: Box::new(source),
                usage,
            })?;
        usage += second.usage;
        let value = read(&second).map_err(|p| p.into_error(usage))?;
        Ok(Written {
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
            stream: false,
        }
    }

    /// Sends a request, retrying transient failures with backoff. A refusal of the request
    /// itself (400, 401, 403, 404...) is a configuration problem: logged at error level with
    /// the API's message and the setting to look at. With `partial` the reply is streamed
    /// into it.
    async fn send(
        &self,
        body: &MessagesRequest,
        partial: Option<&Partial>,
    ) -> Result<MessagesResponse, LlmError> {
        let mut retry = 0;
        loop {
            let error = match self.attempt(body, partial).await {
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

    /// One request. Streamed, the limit on the attempt covers the whole stream, as it covers
    /// the whole body of a reply that comes in one piece.
    async fn attempt(
        &self,
        body: &MessagesRequest,
        partial: Option<&Partial>,
    ) -> Result<MessagesResponse, LlmError> {
        let streamed;
        let body = match partial {
            Some(_) => {
                streamed = MessagesRequest {
                    stream: true,
                    ..body.clone()
                };
                &streamed
            }
            None => body,
        };
        let url = self.api.join("messages").expect("a relative path joins");
        let response = self
            .authorised(self.http.post(url))
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        match partial {
            Some(partial) if response.status().is_success() => {
                stream::read(response, partial, |e| self.transport_error(e)).await
            }
            _ => self.read(response).await,
        }
    }

    /// The request with the key and `anthropic-version` as the version wants them: `x-api-key`
    /// under 2023-06-01, `Authorization: Bearer` under 2026-10-21 (as the new SDKs send it).
    /// Every request to the API goes through here.
    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = if self.api_version.bearer_auth() {
            request.bearer_auth(self.api_key.expose_secret())
        } else {
            request.header("x-api-key", self.api_key.expose_secret())
        };
        request.header("anthropic-version", self.api_version.as_str())
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
    /// The model declined to answer.
    refused: bool,
}

impl Problem {
    fn invalid(reason: String) -> Problem {
        Problem {
            reason,
            truncated: false,
            repairable: true,
            refused: false,
        }
    }

    /// The error a turn with this problem ends with, having cost `usage`.
    fn into_error(self, usage: Usage) -> LlmError {
        if self.refused {
            LlmError::Refused { usage }
        } else {
            LlmError::Unusable {
                reason: self.reason,
                usage,
            }
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
                refused: false,
            });
        }
        Some("refusal") => {
            return Err(Problem {
                reason: "the model declined to answer".into(),
                truncated: false,
                repairable: false,
                refused: true,
            });
        }
        Some("model_context_window_exceeded") => {
            return Err(Problem {
                reason: "the conversation exceeds the model's context window".into(),
                truncated: false,
                repairable: false,
                refused: false,
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
    fn statuses_split_into_outages_and_configuration_problems() {
        for status in [408, 409, 429, 500, 502, 503, 529] {
            assert_eq!(
                fallback_for_status(status),
                Fallback::UpstreamDown,
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert_eq!(
                fallback_for_status(status),
                Fallback::Configuration,
                "{status}"
            );
        }
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
