//! The Messages API's request and response shapes, as far as this product uses them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// The expert and the engine's notes.
    User,
    /// The interviewer.
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

/// A tool the model may call.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// The tool's name.
    pub name: &'static str,
    /// What the tool is for.
    pub description: &'static str,
    /// The JSON schema of the tool's input.
    pub input_schema: Value,
}

/// Forces the model to call one tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolChoice {
    /// Always `tool`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The tool to call.
    pub name: &'static str,
}

/// A `POST /v1/messages` body.
#[derive(Debug, Clone, Serialize)]
pub struct MessagesRequest {
    /// The model id.
    pub model: String,
    /// The output budget.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// The system prompt.
    pub system: Vec<TextBlock>,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// A forced tool call, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
}

/// A block of the model's reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A tool call.
    ToolUse {
        /// The call's id.
        id: String,
        /// The tool called.
        name: String,
        /// The tool's input.
        input: Value,
    },
    /// Any block kind this product does not use.
    #[serde(other)]
    Other,
}

/// Token counts of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    /// Input tokens after the last cache breakpoint.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
    }
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// A successful `POST /v1/messages` response.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagesResponse {
    /// The reply's blocks.
    pub content: Vec<ResponseBlock>,
    /// Why generation stopped (`end_turn`, `tool_use`, `max_tokens`, `refusal`...).
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
