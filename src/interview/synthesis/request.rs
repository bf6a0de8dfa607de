//! The synthesis's request: its JSON schema and the check of the answer's shape.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::Stage;

/// A claim as Claude writes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RawClaim {
    pub text: String,
    pub sources: Vec<String>,
}

/// A side of a disagreement as Claude writes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RawSide {
    pub position: String,
    pub sources: Vec<String>,
}

/// A disagreement as Claude writes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RawDisagreement {
    pub topic: String,
    pub sides: Vec<RawSide>,
}

/// A question as Claude writes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RawQuestion {
    pub stage: String,
    pub question: String,
    pub sources: Vec<String>,
}

/// The answer as Claude writes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Raw {
    pub summary: String,
    pub task_diagram: Vec<RawClaim>,
    pub cues: Vec<RawClaim>,
    pub strategies: Vec<RawClaim>,
    pub typical_errors: Vec<RawClaim>,
    pub disagreements: Vec<RawDisagreement>,
    pub failure_modes: Vec<RawClaim>,
    pub unique: Vec<RawClaim>,
    pub gaps: Vec<RawClaim>,
    pub questions: Vec<RawQuestion>,
}

/// The JSON schema of the synthesis, within what structured outputs accept.
pub fn schema() -> Value {
    let sources = json!({
        "type": "array",
        "items": {"type": "string"},
        "description": "The ids of the report items this rests on (X1.I3…): at least one; every expert it speaks for."
    });
    let text = json!({"type": "string"});
    let claims = |what: &str| {
        json!({
            "type": "array",
            "description": what,
            "items": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"text": text, "sources": sources},
                "required": ["text", "sources"]
            }
        })
    };
    let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.id()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "summary": {
                "type": "string",
                "description": "What the experts know together, where they agree and differ: plain text, 60 to 150 words."
            },
            "task_diagram": claims("The shared task diagram: the central task's steps in order, each citing every expert who describes it."),
            "cues": claims("What the experts notice (cues), each citing every expert who gives it."),
            "strategies": claims("What the experts do (strategies), each citing every expert who gives it."),
            "typical_errors": claims("What newcomers get wrong, each citing every expert who names it."),
            "disagreements": {
                "type": "array",
                "description": "Where experts differ: each side citing the items of the experts who hold it.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "topic": text,
                        "sides": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "properties": {"position": text, "sources": sources},
                                "required": ["position", "sources"]
                            }
                        }
                    },
                    "required": ["topic", "sides"]
                }
            },
            "failure_modes": claims("Failure modes and how they are prevented, each citing every expert who names it."),
            "unique": claims("What only one expert knows: each citing items of that one expert only."),
            "gaps": claims("What the reports leave open or cover thinly, each citing the items that show the gap."),
            "questions": {
                "type": "array",
                "description": "Questions for the next experts, to close the gaps and settle the disagreements.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "stage": {"type": "string", "enum": stages},
                        "question": text,
                        "sources": sources
                    },
                    "required": ["stage", "question", "sources"]
                }
            }
        },
        "required": ["summary", "task_diagram", "cues", "strategies", "typical_errors",
                     "disagreements", "failure_modes", "unique", "gaps", "questions"]
    })
}

/// Checks that a reply has the synthesis's shape (the client asks once more if not).
pub fn check(value: &Value) -> Result<(), String> {
    serde_json::from_value::<Raw>(value.clone())
        .map(|_| ())
        .map_err(|e| format!("the reply does not match the synthesis's schema: {e}"))
}
