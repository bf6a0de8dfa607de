//! The turn contract: the JSON object every interviewer reply from the model must be, its
//! schema and its reading, and the interview's requests to the model (a turn, a stage
//! summary, the report) put in the generic shape the Claude client answers.
//!
//! The schema is given to the API as a structured output format, so it keeps within what
//! structured outputs accept: `additionalProperties: false` on every object, every property
//! required, and no numeric or length bounds (ranges are stated in the descriptions and applied
//! here). Reading is strict only where the engine needs it (the reply text and a stage id);
//! everything else only feeds statistics and is coerced to a sensible value, logged at debug,
//! never a reason to throw a good question away.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{
    llm::{
        BoxFuture, LlmError, Model, Pace, Partial, StructuredRequest, Written,
        wire::{ChatMessage, ChatRole, TextBlock, Usage},
    },
    model::Stage,
};

/// The most characters a reply may have; longer ones are treated as unusable.
pub const MAX_RESPONSE_CHARS: usize = 12_000;

/// How engaged the expert seems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engagement {
    /// Long, rich answers.
    High,
    /// Adequate answers; also what an unreadable value becomes.
    Medium,
    /// Short or reluctant answers.
    Low,
}

impl Engagement {
    /// The value as the schema spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Engagement::High => "high",
            Engagement::Medium => "medium",
            Engagement::Low => "low",
        }
    }
}

/// The model's reading of the turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnMetadata {
    /// 1 (surface) to 4 (tacit knowledge).
    pub question_depth: u8,
    /// 0 to 100: how fully the stage in `interview_stage` is covered; `None` when the model
    /// gave nothing readable (the stage keeps its completeness).
    pub completeness: Option<u8>,
    /// How engaged the expert seems.
    pub engagement_level: Engagement,
    /// A human phrase for the time left in the interview.
    pub estimated_time_remaining: String,
}

/// What the model tracks for the engine, never shown to the expert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternalTracking {
    /// New insights from the expert's latest answer.
    pub key_insights: Vec<String>,
    /// Concrete examples given in the stage so far; `None` when unreadable.
    pub examples_collected: Option<u32>,
    /// Threads worth returning to.
    pub follow_up_needed: Vec<String>,
    /// The current stage's goal is met.
    pub stage_transition_ready: bool,
    /// A short note on how the conversation goes.
    pub conversation_quality: String,
}

/// One interviewer turn, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The stage this reply belongs to, as the model proposes it.
    pub interview_stage: Stage,
    /// The text the expert reads.
    pub response: String,
    /// The model's reading of the turn.
    pub metadata: TurnMetadata,
    /// Tracking for the engine.
    pub internal_tracking: InternalTracking,
}

/// The turn's schema, built once.
static TURN_SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(schema);

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

/// What the interview asks a [`Model`]: its turns and its written pieces, each put as a
/// structured request with the interview's schema, check and repair note.
pub trait InterviewModel {
    /// Asks for the next interview turn. An unusable reply (truncated, not the JSON asked for,
    /// a refusal) is asked for once more with the reason, with a larger budget if it was cut
    /// off; transient failures are retried first.
    /// With `partial`, the reply is streamed and its JSON shows there as it is written
    /// ([`response_so_far`] reads the question out of it).
    fn turn<'a>(
        &'a self,
        request: &'a TurnRequest,
        partial: Option<&'a Partial>,
    ) -> BoxFuture<'a, Result<TurnReply, LlmError>>;

    /// Asks for a stage summary or the report within the request's `max_tokens` of answer; on
    /// models that think, a turn's budget is added for the thinking. An unusable reply is asked
    /// for once more, as for a turn.
    fn write<'a>(
        &'a self,
        request: &'a WriteRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>>;
}

impl<M: Model + ?Sized> InterviewModel for M {
    fn turn<'a>(
        &'a self,
        request: &'a TurnRequest,
        partial: Option<&'a Partial>,
    ) -> BoxFuture<'a, Result<TurnReply, LlmError>> {
        Box::pin(async move {
            let asked = StructuredRequest {
                pace: Pace::Conversation,
                system: &request.system,
                messages: request.messages.clone(),
                schema: &TURN_SCHEMA,
                check: |value| {
                    Turn::from_input(value.clone())
                        .map(drop)
                        .map_err(|InvalidTurn(reason)| reason)
                },
                repair_note: |reason| repair_note(reason, "; keep `response` concise"),
                partial,
            };
            let written = self.ask(&asked).await?;
            // The check passed on this very value, so it reads again; were it not to, the turn
            // counts as unusable like any other.
            let turn = Turn::from_input(written.value).map_err(|InvalidTurn(reason)| {
                LlmError::Unusable {
                    reason,
                    usage: written.usage,
                }
            })?;
            Ok(TurnReply {
                turn,
                usage: written.usage,
                repaired: written.repaired,
            })
        })
    }

    fn write<'a>(
        &'a self,
        request: &'a WriteRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>> {
        Box::pin(async move {
            let asked = StructuredRequest {
                pace: Pace::Deliberate {
                    max_tokens: request.max_tokens,
                },
                system: request.system,
                messages: vec![ChatMessage {
                    role: ChatRole::User,
                    content: vec![TextBlock::new(request.prompt)],
                }],
                schema: request.schema,
                check: request.check,
                repair_note: |reason| repair_note(reason, ""),
                partial: None,
            };
            self.ask(&asked).await
        })
    }
}

/// The question as far as a turn's JSON has been written: the `response` field of an object
/// that may stop anywhere, in the middle of the field included. `None` until the field has
/// begun (the stage comes before it) or when the text is not the start of a JSON object.
///
/// The text is parsed whole each time: a turn is a couple of kilobytes at most, and this is
/// called at the pace drafts are shown, a few times a second, not for every piece that arrives.
pub fn response_so_far(json: &str) -> Option<String> {
    let value = jiter::JsonValue::parse_with_config(
        json.as_bytes(),
        false,
        jiter::PartialMode::TrailingStrings,
    )
    .ok()?;
    let jiter::JsonValue::Object(fields) = value else {
        return None;
    };
    fields.iter().find_map(|(name, value)| match value {
        jiter::JsonValue::Str(text) if name == "response" => Some(text.trim().to_owned()),
        _ => None,
    })
}

/// The engine's note asking once more after an unusable reply.
fn repair_note(reason: &str, advice: &str) -> String {
    format!(
        "[Interview engine] Your previous reply could not be used: {reason}. Reply once more \
         with one complete JSON object matching the schema, and nothing else{advice}."
    )
}

/// The JSON schema of a turn, given to the API as the reply's structured output format.
pub fn schema() -> Value {
    let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.id()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "interview_stage": {
                "type": "string",
                "enum": stages,
                "description": "The stage this reply belongs to: the current stage, or the next one when moving on."
            },
            "response": {
                "type": "string",
                "description": "The message the expert reads, in the session language. Plain text."
            },
            "metadata": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "question_depth": {
                        "type": "integer",
                        "description": "Depth of the question in `response`, from 1 (surface) to 4 (tacit)."
                    },
                    "completeness": {
                        "type": "integer",
                        "description": "From 0 to 100: how fully the goal of the stage in `interview_stage` is covered."
                    },
                    "engagement_level": {"type": "string", "enum": ["high", "medium", "low"]},
                    "estimated_time_remaining": {
                        "type": "string",
                        "description": "A short phrase for the time left in the whole interview, such as \"about 80 minutes\"."
                    }
                },
                "required": ["question_depth", "completeness", "engagement_level", "estimated_time_remaining"]
            },
            "internal_tracking": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "key_insights": {"type": "array", "items": {"type": "string"}},
                    "examples_collected": {
                        "type": "integer",
                        "description": "Concrete examples the expert gave in this stage so far (0 or more)."
                    },
                    "follow_up_needed": {"type": "array", "items": {"type": "string"}},
                    "stage_transition_ready": {"type": "boolean"},
                    "conversation_quality": {"type": "string"}
                },
                "required": ["key_insights", "examples_collected", "follow_up_needed", "stage_transition_ready", "conversation_quality"]
            }
        },
        "required": ["interview_stage", "response", "metadata", "internal_tracking"]
    })
}

/// Why a reply is not a usable turn; the text is sent back to the model once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTurn(pub String);

impl Turn {
    /// Reads a turn from the model's JSON.
    ///
    /// Strict: the reply must be an object with a non-empty `response` of at most
    /// [`MAX_RESPONSE_CHARS`] characters and an `interview_stage` naming a stage (case, spaces
    /// and hyphens aside). Everything else is coerced: numbers sent as strings and strings sent
    /// as numbers are read, numbers are clamped to their ranges, unknown enum values become the
    /// neutral one, missing lists become empty, nested objects sent as JSON strings are parsed.
    pub fn from_input(input: Value) -> Result<Turn, InvalidTurn> {
        let mut coerced = Vec::new();
        let Value::Object(mut root) = parse_nested(input) else {
            return Err(InvalidTurn("the reply is not a JSON object".into()));
        };
        let interview_stage = match root.get("interview_stage") {
            Some(Value::String(raw)) => stage(raw).ok_or_else(|| {
                InvalidTurn(format!(
                    "`interview_stage`: {raw:?} is not one of the stage ids"
                ))
            })?,
            Some(_) => return Err(InvalidTurn("`interview_stage` must be a stage id".into())),
            None => return Err(InvalidTurn("`interview_stage` is missing".into())),
        };
        let response = match root.get("response") {
            Some(Value::String(text)) => text.trim().to_owned(),
            Some(_) => return Err(InvalidTurn("`response` must be text".into())),
            None => return Err(InvalidTurn("`response` is missing".into())),
        };
        if response.is_empty() {
            return Err(InvalidTurn("`response` is empty".into()));
        }
        if response.chars().count() > MAX_RESPONSE_CHARS {
            return Err(InvalidTurn(format!(
                "`response` is longer than {MAX_RESPONSE_CHARS} characters"
            )));
        }
        let metadata = section(&mut root, "metadata", &mut coerced);
        let tracking = section(&mut root, "internal_tracking", &mut coerced);
        let mut fields = Fields {
            coerced: &mut coerced,
        };
        let turn = Turn {
            interview_stage,
            response,
            metadata: TurnMetadata {
                question_depth: fields
                    .integer(&metadata, "metadata.question_depth", 1, 4)
                    .unwrap_or(2) as u8,
                completeness: fields
                    .integer(&metadata, "metadata.completeness", 0, 100)
                    .map(|n| n as u8),
                engagement_level: fields.engagement(&metadata),
                estimated_time_remaining: fields.time_remaining(&metadata).unwrap_or_default(),
            },
            internal_tracking: InternalTracking {
                key_insights: fields.list(&tracking, "internal_tracking.key_insights"),
                examples_collected: fields
                    .integer(
                        &tracking,
                        "internal_tracking.examples_collected",
                        0,
                        i64::from(u32::MAX),
                    )
                    .map(|n| n as u32),
                follow_up_needed: fields.list(&tracking, "internal_tracking.follow_up_needed"),
                stage_transition_ready: fields.boolean(&tracking),
                conversation_quality: fields
                    .text(&tracking, "internal_tracking.conversation_quality")
                    .unwrap_or_default(),
            },
        };
        if !coerced.is_empty() {
            tracing::debug!(?coerced, "turn fields coerced");
        }
        Ok(turn)
    }
}

/// A stage id read leniently: `Expertise map` and `expertise-map` are `expertise_map`.
fn stage(raw: &str) -> Option<Stage> {
    let id: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    Stage::from_id(&id)
}

/// An object sent as a JSON string is parsed; anything else is kept as it is.
fn parse_nested(value: Value) -> Value {
    match &value {
        Value::String(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => value,
        },
        _ => value,
    }
}

/// The object under `key`, or an empty one (noted) when it is missing or not an object.
fn section(
    root: &mut Map<String, Value>,
    key: &str,
    coerced: &mut Vec<String>,
) -> Map<String, Value> {
    match root.remove(key).map(parse_nested) {
        Some(Value::Object(map)) => map,
        Some(other) => {
            coerced.push(format!("{key}: {other} is not an object; defaults used"));
            Map::new()
        }
        None => {
            coerced.push(format!("{key}: missing; defaults used"));
            Map::new()
        }
    }
}

/// Reads the lenient fields, noting every value it had to change.
struct Fields<'a> {
    coerced: &'a mut Vec<String>,
}

impl Fields<'_> {
    fn note(&mut self, path: &str, what: impl std::fmt::Display) {
        self.coerced.push(format!("{path}: {what}"));
    }

    fn field<'m>(map: &'m Map<String, Value>, path: &str) -> Option<&'m Value> {
        let key = path.rsplit('.').next().unwrap_or(path);
        map.get(key).filter(|v| !v.is_null())
    }

    /// An integer within `min..=max`: numbers are rounded and clamped, numeric strings
    /// ("40", "40%", "about 40") read.
    fn integer(&mut self, map: &Map<String, Value>, path: &str, min: i64, max: i64) -> Option<i64> {
        let value = Self::field(map, path);
        let number = match value {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => first_number(s),
            _ => None,
        };
        let Some(number) = number.filter(|n| n.is_finite()) else {
            self.note(
                path,
                format_args!("{} is not a number; left unset", shown(value)),
            );
            return None;
        };
        let rounded = number.round().clamp(min as f64, max as f64) as i64;
        if !matches!(value, Some(Value::Number(_))) || rounded as f64 != number {
            self.note(path, format_args!("{} read as {rounded}", shown(value)));
        }
        Some(rounded)
    }

    /// Free text: numbers and booleans are written out, lists joined.
    fn text(&mut self, map: &Map<String, Value>, path: &str) -> Option<String> {
        let value = Self::field(map, path);
        match value {
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(Value::Number(_) | Value::Bool(_)) => {
                self.note(path, "not text; written out");
                Some(value.map(Value::to_string).unwrap_or_default())
            }
            Some(Value::Array(items)) => {
                self.note(path, "a list; joined");
                Some(
                    items
                        .iter()
                        .filter_map(item_text)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
            other => {
                self.note(
                    path,
                    format_args!("{} is not text; left empty", shown(other)),
                );
                None
            }
        }
    }

    /// `estimated_time_remaining`: a phrase; a bare number is taken as minutes.
    fn time_remaining(&mut self, map: &Map<String, Value>) -> Option<String> {
        let path = "metadata.estimated_time_remaining";
        match Self::field(map, path) {
            Some(Value::Number(n)) => {
                self.note(path, format_args!("{n} read as minutes"));
                Some(format!("{n} minutes"))
            }
            _ => self.text(map, path),
        }
    }

    /// `engagement_level`: high, medium or low; anything else is medium.
    fn engagement(&mut self, map: &Map<String, Value>) -> Engagement {
        let path = "metadata.engagement_level";
        let value = Self::field(map, path);
        let level = value
            .and_then(Value::as_str)
            .map(|s| s.trim().to_lowercase());
        match level.as_deref() {
            Some("high") => Engagement::High,
            Some("medium") => Engagement::Medium,
            Some("low") => Engagement::Low,
            _ => {
                self.note(path, format_args!("{} read as medium", shown(value)));
                Engagement::Medium
            }
        }
    }

    /// A list of short texts: a single text becomes a one-item list, empty items are dropped,
    /// anything unreadable is an empty list.
    fn list(&mut self, map: &Map<String, Value>, path: &str) -> Vec<String> {
        match Self::field(map, path) {
            Some(Value::Array(items)) => {
                let list: Vec<String> = items.iter().filter_map(item_text).collect();
                if list.len() != items.len() {
                    self.note(path, "items that were not text dropped");
                }
                list
            }
            Some(Value::String(s)) => {
                if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(s) {
                    self.note(path, "a list sent as a string; parsed");
                    return items.iter().filter_map(item_text).collect();
                }
                self.note(path, "one text; made a list");
                let s = s.trim();
                if s.is_empty() {
                    Vec::new()
                } else {
                    vec![s.to_owned()]
                }
            }
            other => {
                self.note(path, format_args!("{} is not a list; empty", shown(other)));
                Vec::new()
            }
        }
    }

    /// `stage_transition_ready`: booleans, "true"/"yes", 1/0; anything else is false.
    fn boolean(&mut self, map: &Map<String, Value>) -> bool {
        let path = "internal_tracking.stage_transition_ready";
        let value = Self::field(map, path);
        match value {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => {
                self.note(path, format_args!("{s:?} read as a boolean"));
                matches!(s.trim().to_lowercase().as_str(), "true" | "yes" | "1")
            }
            Some(Value::Number(n)) => {
                self.note(path, format_args!("{n} read as a boolean"));
                n.as_f64().is_some_and(|n| n != 0.0)
            }
            other => {
                self.note(path, format_args!("{} read as false", shown(other)));
                false
            }
        }
    }
}

/// The text of a list item, if it has any.
fn item_text(item: &Value) -> Option<String> {
    let text = match item {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// The first number in a text, such as 40 in "40%" or "about 40 minutes".
fn first_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit() || c == '-')?;
    let rest = &text[start..];
    let end = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "missing".to_owned(), Value::to_string)
}

/// Walks a schema and checks what structured outputs require of it (for the tests of every
/// schema sent to Claude).
#[cfg(test)]
pub(crate) fn check_structured_output_limits(schema: &Value, path: &str) {
    for banned in ["minimum", "maximum", "minLength", "maxLength", "maxItems"] {
        assert!(schema.get(banned).is_none(), "{path} has {banned}");
    }
    if schema["type"] == "object" {
        assert_eq!(schema["additionalProperties"], false, "{path}");
        let properties = schema["properties"].as_object().unwrap();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        required.sort();
        names.sort();
        assert_eq!(required, names, "{path}: every property is required");
        for (name, child) in properties {
            check_structured_output_limits(child, &format!("{path}.{name}"));
        }
    }
    if let Some(items) = schema.get("items") {
        check_structured_output_limits(items, &format!("{path}[]"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_question_is_read_from_a_turn_cut_anywhere() {
        let whole = json!({
            "interview_stage": "operations",
            "response": "Walk me through \"last\" Tuesday — step by step.",
            "metadata": {"question_depth": 2}
        })
        .to_string();
        let mut previous = String::new();
        for (cut, _) in whole.char_indices() {
            let shown = response_so_far(&whole[..cut]).unwrap_or_default();
            assert!(
                shown.starts_with(previous.trim_end()) || previous.is_empty(),
                "{previous:?} then {shown:?} at {cut}"
            );
            assert!("Walk me through \"last\" Tuesday — step by step.".starts_with(&shown));
            previous = shown;
        }
        assert_eq!(
            response_so_far(&whole).as_deref(),
            Some("Walk me through \"last\" Tuesday — step by step.")
        );
        assert_eq!(response_so_far("{\"interview_stage\": \"oper"), None);
        assert_eq!(response_so_far("Sure! Here is"), None);
        assert_eq!(response_so_far("{\"response\": 42"), None);
    }

    use super::*;

    fn valid() -> Value {
        json!({
            "interview_stage": "operations",
            "response": "  Walk me through last Tuesday.  ",
            "metadata": {"question_depth": 2, "completeness": 40, "engagement_level": "high",
                         "estimated_time_remaining": "about 70 minutes"},
            "internal_tracking": {"key_insights": ["Plans the week on Monday"], "examples_collected": 2,
                                  "follow_up_needed": [], "stage_transition_ready": false,
                                  "conversation_quality": "good"}
        })
    }

    #[test]
    fn a_valid_turn_is_read_and_its_response_trimmed() {
        let turn = Turn::from_input(valid()).unwrap();
        assert_eq!(turn.interview_stage, Stage::Operations);
        assert_eq!(turn.response, "Walk me through last Tuesday.");
        assert_eq!(turn.metadata.engagement_level, Engagement::High);
        assert_eq!(turn.metadata.completeness, Some(40));
        assert_eq!(turn.internal_tracking.examples_collected, Some(2));
    }

    #[test]
    fn nested_objects_and_the_whole_turn_sent_as_strings_are_read() {
        let mut input = valid();
        input["metadata"] = Value::String(input["metadata"].to_string());
        assert!(Turn::from_input(input).is_ok());
        assert!(Turn::from_input(Value::String(valid().to_string())).is_ok());
    }

    #[test]
    fn integer_minutes_and_out_of_range_numbers_are_accepted_and_clamped() {
        let mut input = valid();
        input["metadata"]["estimated_time_remaining"] = json!(36);
        input["metadata"]["completeness"] = json!(140);
        input["metadata"]["question_depth"] = json!(7);
        input["internal_tracking"]["examples_collected"] = json!(-3);
        let turn = Turn::from_input(input).unwrap();
        assert_eq!(turn.metadata.estimated_time_remaining, "36 minutes");
        assert_eq!(turn.metadata.completeness, Some(100));
        assert_eq!(turn.metadata.question_depth, 4);
        assert_eq!(turn.internal_tracking.examples_collected, Some(0));
    }

    #[test]
    fn numbers_sent_as_strings_and_odd_values_are_coerced() {
        let mut input = valid();
        input["metadata"]["completeness"] = json!("55%");
        input["metadata"]["question_depth"] = json!("3");
        input["metadata"]["engagement_level"] = json!("Very High!");
        input["internal_tracking"]["key_insights"] = json!("One insight");
        input["internal_tracking"]["follow_up_needed"] = json!(["a", 7, null, " "]);
        input["internal_tracking"]["stage_transition_ready"] = json!("yes");
        input["internal_tracking"]["examples_collected"] = json!(2.6);
        input["internal_tracking"]["conversation_quality"] = json!(4);
        let turn = Turn::from_input(input).unwrap();
        assert_eq!(turn.metadata.completeness, Some(55));
        assert_eq!(turn.metadata.question_depth, 3);
        assert_eq!(turn.metadata.engagement_level, Engagement::Medium);
        assert_eq!(turn.internal_tracking.key_insights, vec!["One insight"]);
        assert_eq!(turn.internal_tracking.follow_up_needed, vec!["a", "7"]);
        assert!(turn.internal_tracking.stage_transition_ready);
        assert_eq!(turn.internal_tracking.examples_collected, Some(3));
        assert_eq!(turn.internal_tracking.conversation_quality, "4");
    }

    #[test]
    fn missing_statistics_get_defaults_and_leave_completeness_unset() {
        let input = json!({"interview_stage": "Expertise Map", "response": "Which areas?"});
        let turn = Turn::from_input(input).unwrap();
        assert_eq!(turn.interview_stage, Stage::ExpertiseMap);
        assert_eq!(turn.metadata.completeness, None);
        assert_eq!(turn.metadata.question_depth, 2);
        assert!(turn.internal_tracking.key_insights.is_empty());
        assert!(!turn.internal_tracking.stage_transition_ready);
    }

    #[test]
    fn only_the_reply_text_and_the_stage_are_strict() {
        type Spoil = fn(&mut Value);
        let cases: [(&str, Spoil); 5] = [
            ("`interview_stage`", |v| {
                v["interview_stage"] = json!("lunch")
            }),
            ("`interview_stage` is missing", |v| {
                v.as_object_mut().unwrap().remove("interview_stage");
            }),
            ("`response` is empty", |v| v["response"] = json!("   ")),
            ("`response` must be text", |v| v["response"] = json!(42)),
            ("longer than", |v| {
                v["response"] = json!("x".repeat(MAX_RESPONSE_CHARS + 1))
            }),
        ];
        for (needle, spoil) in cases {
            let mut input = valid();
            spoil(&mut input);
            let err = Turn::from_input(input).unwrap_err().to_string();
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        }
        assert!(Turn::from_input(json!(["not", "an", "object"])).is_err());
    }

    #[test]
    fn the_schema_keeps_within_structured_output_limits_and_lists_every_stage() {
        let schema = schema();
        check_structured_output_limits(&schema, "turn");
        assert_eq!(
            schema["properties"]["interview_stage"]["enum"]
                .as_array()
                .unwrap()
                .len(),
            9
        );
    }

    #[test]
    fn a_number_is_found_inside_a_phrase() {
        assert_eq!(first_number("about 40 minutes"), Some(40.0));
        assert_eq!(first_number("40%"), Some(40.0));
        assert_eq!(first_number("-3"), Some(-3.0));
        assert_eq!(first_number("none"), None);
    }
}
