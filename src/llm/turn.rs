//! The interview turn: the JSON every model reply must be, its schema and its validation.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::interview::Stage;

/// The name of the tool the model is forced to call with each turn.
pub const TOOL_NAME: &str = "record_turn";

/// The most characters a reply may have; longer ones are treated as unusable.
pub const MAX_RESPONSE_CHARS: usize = 12_000;

/// How engaged the expert seems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engagement {
    /// Long, rich answers.
    High,
    /// Adequate answers.
    Medium,
    /// Short or reluctant answers.
    Low,
}

/// The model's reading of the turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnMetadata {
    /// 1 (surface) to 4 (tacit knowledge).
    pub question_depth: u8,
    /// 0 to 100: how fully the stage in `interview_stage` is covered.
    pub completeness: u8,
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
    /// Concrete examples given in the stage so far.
    pub examples_collected: u32,
    /// Threads worth returning to.
    pub follow_up_needed: Vec<String>,
    /// The current stage's goal is met.
    pub stage_transition_ready: bool,
    /// A short note on how the conversation goes.
    pub conversation_quality: String,
}

/// One validated interviewer turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The stage this reply belongs to: the current one or the next.
    pub interview_stage: Stage,
    /// The text the expert reads.
    pub response: String,
    /// The model's reading of the turn.
    pub metadata: TurnMetadata,
    /// Tracking for the engine.
    pub internal_tracking: InternalTracking,
}

/// The JSON schema of a turn, given to the model as the tool's input schema.
pub fn schema() -> Value {
    let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.id()).collect();
    json!({
        "type": "object",
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
                "properties": {
                    "question_depth": {"type": "integer", "minimum": 1, "maximum": 4},
                    "completeness": {"type": "integer", "minimum": 0, "maximum": 100},
                    "engagement_level": {"type": "string", "enum": ["high", "medium", "low"]},
                    "estimated_time_remaining": {"type": "string"}
                },
                "required": ["question_depth", "completeness", "engagement_level", "estimated_time_remaining"]
            },
            "internal_tracking": {
                "type": "object",
                "properties": {
                    "key_insights": {"type": "array", "items": {"type": "string"}},
                    "examples_collected": {"type": "integer", "minimum": 0},
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

/// Why a tool input is not a usable turn; the text is sent back to the model once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTurn(pub String);

impl Turn {
    /// Validates a tool input as a turn.
    ///
    /// Nested objects the model sent as JSON strings are accepted, a known quirk of tool use;
    /// everything else must match the schema and its ranges.
    pub fn from_input(mut input: Value) -> Result<Turn, InvalidTurn> {
        for key in ["metadata", "internal_tracking"] {
            if let Some(Value::String(raw)) = input.get(key)
                && let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(raw)
            {
                input[key] = parsed;
            }
        }
        let turn: Turn = serde_path_to_error::deserialize(input).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                InvalidTurn(inner.to_string())
            } else {
                InvalidTurn(format!("`{path}`: {inner}"))
            }
        })?;
        let response = turn.response.trim();
        if response.is_empty() {
            return Err(InvalidTurn("`response` is empty".into()));
        }
        if response.chars().count() > MAX_RESPONSE_CHARS {
            return Err(InvalidTurn(format!(
                "`response` is longer than {MAX_RESPONSE_CHARS} characters"
            )));
        }
        if !(1..=4).contains(&turn.metadata.question_depth) {
            return Err(InvalidTurn(
                "`metadata.question_depth` must be 1 to 4".into(),
            ));
        }
        if turn.metadata.completeness > 100 {
            return Err(InvalidTurn(
                "`metadata.completeness` must be 0 to 100".into(),
            ));
        }
        Ok(Turn {
            response: response.to_owned(),
            ..turn
        })
    }
}

#[cfg(test)]
mod tests {
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
    fn a_valid_turn_is_accepted_and_its_response_trimmed() {
        let turn = Turn::from_input(valid()).unwrap();
        assert_eq!(turn.interview_stage, Stage::Operations);
        assert_eq!(turn.response, "Walk me through last Tuesday.");
        assert_eq!(turn.metadata.engagement_level, Engagement::High);
    }

    #[test]
    fn nested_objects_sent_as_strings_are_accepted() {
        let mut input = valid();
        input["metadata"] = Value::String(input["metadata"].to_string());
        assert!(Turn::from_input(input).is_ok());
    }

    #[test]
    fn out_of_range_or_missing_fields_are_refused_with_a_reason() {
        type Spoil = fn(&mut Value);
        let cases: [(&str, Spoil); 7] = [
            ("question_depth", |v| {
                v["metadata"]["question_depth"] = json!(7)
            }),
            ("completeness", |v| {
                v["metadata"]["completeness"] = json!(140)
            }),
            ("`interview_stage`: unknown variant", |v| {
                v["interview_stage"] = json!("lunch")
            }),
            ("response", |v| v["response"] = json!("   ")),
            ("internal_tracking", |v| {
                v.as_object_mut().unwrap().remove("internal_tracking");
            }),
            ("`metadata.engagement_level`", |v| {
                v["metadata"]["engagement_level"] = json!("very")
            }),
            ("`internal_tracking.key_insights`", |v| {
                v["internal_tracking"]["key_insights"] = json!("one")
            }),
        ];
        for (needle, spoil) in cases {
            let mut input = valid();
            spoil(&mut input);
            let err = Turn::from_input(input).unwrap_err().to_string();
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        }
    }

    #[test]
    fn the_schema_lists_every_stage_and_requires_every_field() {
        let schema = schema();
        assert_eq!(
            schema["properties"]["interview_stage"]["enum"]
                .as_array()
                .unwrap()
                .len(),
            9
        );
        assert_eq!(schema["required"].as_array().unwrap().len(), 4);
    }
}
