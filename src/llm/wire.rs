//! The Messages API's request and response shapes, as far as this product uses them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::generation::{Effort, ThinkingMode};
pub use crate::model::Usage;

/// Marks the end of a prefix the API should cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheControl {
    /// Always `ephemeral`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl CacheControl {
    /// The five-minute cache.
    pub const EPHEMERAL: CacheControl = CacheControl { kind: "ephemeral" };
}

/// A text content block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextBlock {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The text.
    pub text: String,
    /// Set on the last block of a prefix to cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl TextBlock {
    /// A plain text block.
    pub fn new(text: impl Into<String>) -> Self {
        TextBlock {
            kind: "text",
            text: text.into(),
            cache_control: None,
        }
    }

    /// A text block that ends a cached prefix.
    pub fn cached(text: impl Into<String>) -> Self {
        TextBlock {
            cache_control: Some(CacheControl::EPHEMERAL),
            ..TextBlock::new(text)
        }
    }
}

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The caller's side (in the interview: the expert and the engine's notes).
    User,
    /// The model's side (in the interview: the interviewer).
    Assistant,
}

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: ChatRole,
    /// What is said.
    pub content: Vec<TextBlock>,
}

/// `output_config`: the format of the reply and how much the model deliberates.
#[derive(Debug, Clone, Serialize)]
pub struct OutputConfig {
    /// The reply's format (structured outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat>,
    /// The effort, on models that take it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
}

/// A reply constrained to JSON matching a schema, in the text block.
#[derive(Debug, Clone, Serialize)]
pub struct OutputFormat {
    /// Always `json_schema`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The JSON schema, within what structured outputs accept.
    pub schema: Value,
}

impl OutputFormat {
    /// Structured output matching `schema`.
    pub fn json_schema(schema: Value) -> Self {
        OutputFormat {
            kind: "json_schema",
            schema,
        }
    }
}

/// A `POST /v1/messages` body. Optional fields are left out unless the model's rules
/// ([`crate::llm::generation`]) allow them and the request needs them.
#[derive(Debug, Clone, Serialize)]
pub struct MessagesRequest {
    /// The model id.
    pub model: String,
    /// The output budget (thinking included, on models that think).
    pub max_tokens: u32,
    /// Sampling temperature: only when the operator set one and the model accepts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// The system prompt.
    pub system: Vec<TextBlock>,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// How the model thinks, when the request changes its default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingMode>,
    /// The reply's format and the effort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// The reply comes as server-sent events ([`crate::llm::stream`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// A block of the model's reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseBlock {
    /// Text: with structured outputs, the JSON asked for.
    Text {
        /// The text.
        text: String,
    },
    /// The model's thinking, which comes before the answer on models that think.
    Thinking {
        /// The thinking text (may be empty or summarised).
        #[serde(default)]
        thinking: String,
    },
    /// Any block kind this product does not use.
    #[serde(other)]
    Other,
}

/// A successful `POST /v1/messages` response.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagesResponse {
    /// The reply's blocks.
    pub content: Vec<ResponseBlock>,
    /// Why generation stopped (`end_turn`, `max_tokens`, `refusal`...).
    pub stop_reason: Option<String>,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
}

/// The body of an API error.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// The type and message of an API error.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    /// Such as `rate_limit_error` or `overloaded_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A human-readable explanation.
    pub message: String,
}

/// A `GET /v1/models/{model_id}` response: what the start-up check logs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelInfo {
    /// The model id.
    pub id: String,
    /// A human-readable name, such as "Claude Sonnet 5.5".
    #[serde(default)]
    pub display_name: String,
    /// The longest prompt the model takes, in tokens.
    #[serde(default)]
    pub max_input_tokens: Option<u64>,
    /// The largest `max_tokens` the model takes.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}
