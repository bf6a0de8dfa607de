//! The Messages API's request and response shapes, as far as this product uses them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};
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
    /// The reply comes as server-sent events, read as they arrive.
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

/// A `GET /v1/models/{model_id}` response: what the start-up check logs, and the model's
/// capabilities, which shape the requests when present.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// What the model accepts, when the API describes it (absent from older answers and from
    /// proxies; unreadable counts as absent).
    #[serde(default, deserialize_with = "lenient")]
    pub capabilities: Option<Capabilities>,
}

/// The `capabilities` of a model object, as far as the bot reads them:
///
/// ```json
/// "capabilities": {
///   "effort": {"supported": true, "default": "high",
///              "low": {"supported": true}, "medium": {"supported": true}, ...},
///   "structured_outputs": {"supported": true},
///   "thinking": {"supported": true, "default": "adaptive",
///                "types": {"adaptive": {"supported": true}, "disabled": {"supported": false},
///                          "between_tools": {"supported": true,
///                                            "efforts": ["low", "medium", "high"]}}},
///   "sampling_parameters": {"supported": false}
/// }
/// ```
///
/// Every part is optional and read leniently: a capability left out, or in a shape this build
/// cannot read, leaves that part of the request shape to the table of generations
/// ([`super::generation::rules`]); unknown capabilities, effort levels and thinking types are
/// ignored. The Models API's exact shape for each field is not published in full; this is the
/// shape the bot reads, and the fake Anthropic serves.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Capabilities {
    /// `output_config.effort`: whether it is taken, at which levels, and the default.
    #[serde(default, deserialize_with = "lenient")]
    pub effort: Option<EffortCapability>,
    /// `output_config.format` (JSON matching a schema): the bot cannot work without it.
    #[serde(default, deserialize_with = "lenient")]
    pub structured_outputs: Option<Support>,
    /// `thinking`: the model's default and the types the field takes.
    #[serde(default, deserialize_with = "lenient")]
    pub thinking: Option<ThinkingCapability>,
    /// `temperature`, `top_p`, `top_k`.
    #[serde(default, deserialize_with = "lenient")]
    pub sampling_parameters: Option<Support>,
}

/// Whether something is supported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Support {
    /// Supported.
    #[serde(default)]
    pub supported: bool,
}

/// The effort capability: `supported`, `default`, and one `{"supported": ...}` per level.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EffortCapability {
    /// Whether `output_config.effort` is taken at all.
    #[serde(default)]
    pub supported: Option<bool>,
    /// The level used when none is sent.
    #[serde(default)]
    pub default: Option<String>,
    /// The levels by name (`low`, `medium`...), each `{"supported": bool}`.
    #[serde(flatten)]
    pub levels: BTreeMap<String, Value>,
}

impl EffortCapability {
    /// The levels marked supported that this build knows; `None` when none is listed (the
    /// levels are then the table's).
    pub fn supported_levels(&self) -> Option<Vec<Effort>> {
        // Each level is judged by its own entry: a name is read leniently (`LOW` is `low`), so
        // looking the entry up again by the level's canonical name could find none.
        let listed: Vec<(Effort, &Value)> = self
            .levels
            .iter()
            .filter(|(_, v)| v.is_object())
            .filter_map(|(name, v)| Some((name.parse().ok()?, v)))
            .collect();
        if listed.is_empty() {
            return None;
        }
        let mut supported = Vec::new();
        for (effort, entry) in listed {
            if entry["supported"] == Value::Bool(true) && !supported.contains(&effort) {
                supported.push(effort);
            }
        }
        Some(supported)
    }

    /// The default level, if named and known.
    pub fn default_level(&self) -> Option<Effort> {
        self.default.as_deref().and_then(|d| d.parse().ok())
    }
}

/// The thinking capability: the default type and the types the `thinking` field takes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ThinkingCapability {
    /// Whether the model thinks at all.
    #[serde(default)]
    pub supported: Option<bool>,
    /// The type in effect when the request sends none (`adaptive`, `disabled`...).
    #[serde(default)]
    pub default: Option<String>,
    /// The types by name (`adaptive`, `enabled`, `disabled`, `between_tools`), each
    /// `{"supported": bool}`, `between_tools` with the `efforts` it combines with.
    #[serde(default)]
    pub types: BTreeMap<String, Value>,
}

impl ThinkingCapability {
    /// Whether the type is stated, and supported: `None` when the type is not listed.
    pub fn takes(&self, kind: &str) -> Option<bool> {
        let entry = self.types.get(kind)?;
        Some(entry["supported"] == Value::Bool(true))
    }

    /// The efforts a type combines with, when listed.
    pub fn efforts_of(&self, kind: &str) -> Option<Vec<Effort>> {
        let list = self.types.get(kind)?.get("efforts")?.as_array()?;
        Some(
            list.iter()
                .filter_map(|e| e.as_str()?.parse().ok())
                .collect(),
        )
    }
}

/// A field that is `None` when its value is not the expected shape, rather than an error that
/// would make the whole answer unreadable.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_effort_level_named_in_another_case_is_read_by_its_own_entry() {
        // Found by fuzzing the Models API's answer: `"LOW"` parsed as `low`, then the entry was
        // looked up as `low`, which was not there, and the start-up check panicked.
        let capability: EffortCapability = serde_json::from_value(serde_json::json!({
            "supported": true,
            "LOW": {"supported": true},
            "medium": {"supported": false},
            "High": {"supported": true},
            "high": {"supported": true},
            "turbo": {"supported": true},
        }))
        .unwrap();
        assert_eq!(
            capability.supported_levels(),
            Some(vec![Effort::High, Effort::Low])
        );
    }
}
