//! What a finished stage yielded: the knowledge elements and decision points its summary
//! holds, each resting on the expert's own words. Writing and checking a summary lives in
//! `interview::knowledge`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of knowledge an element holds; it decides where the report uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    /// A fact about the expert: role, field, years, context, reputation.
    Profile,
    /// A principle they work by, or the core of what they do.
    Principle,
    /// A step of their central task (`order`; `hard` marks the hard ones).
    Step,
    /// An area of their knowledge (`order` is when to learn it; `hard` marks advanced ones).
    Area,
    /// Something they notice, and what it tells them.
    Cue,
    /// What they do in a situation: a rule of thumb, a job trick.
    Strategy,
    /// A typical error, of novices above all.
    Error,
    /// A way the work goes wrong (`detail`: how they prevent or catch it).
    Failure,
    /// What separates mastery from competence.
    Mastery,
    /// How they learned, or how they would teach it.
    Learning,
    /// The one thing they want passed on, or advice in their own words.
    Advice,
    /// A memorable line worth quoting.
    Quote,
}

impl ElementKind {
    /// Every kind, in the schema's order.
    pub const ALL: [ElementKind; 12] = [
        ElementKind::Profile,
        ElementKind::Principle,
        ElementKind::Step,
        ElementKind::Area,
        ElementKind::Cue,
        ElementKind::Strategy,
        ElementKind::Error,
        ElementKind::Failure,
        ElementKind::Mastery,
        ElementKind::Learning,
        ElementKind::Advice,
        ElementKind::Quote,
    ];

    /// The kind as the schema spells it.
    pub fn id(self) -> &'static str {
        match self {
            ElementKind::Profile => "profile",
            ElementKind::Principle => "principle",
            ElementKind::Step => "step",
            ElementKind::Area => "area",
            ElementKind::Cue => "cue",
            ElementKind::Strategy => "strategy",
            ElementKind::Error => "error",
            ElementKind::Failure => "failure",
            ElementKind::Mastery => "mastery",
            ElementKind::Learning => "learning",
            ElementKind::Advice => "advice",
            ElementKind::Quote => "quote",
        }
    }
}

/// The expert's words a piece of knowledge rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The transcript index of the expert's answer.
    pub entry: usize,
    /// Their words, exactly as in that answer; `None` when the words the model gave were not
    /// found there (the reference is then the answer's stage and time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

/// One piece of knowledge a stage yielded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element {
    /// What kind of knowledge it is.
    pub kind: ElementKind,
    /// The knowledge, as one self-contained sentence in the session language.
    pub text: String,
    /// What goes with it: what a cue tells them, how a failure is prevented, why an area
    /// matters; may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// A step's position in the task, or when to learn an area (1 first); 0 otherwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order: u32,
    /// A hard step, or an advanced area.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hard: bool,
    /// What it rests on.
    pub evidence: Evidence,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A decision point from an incident the expert walked through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The moment and what was at stake.
    pub situation: String,
    /// What the expert noticed.
    pub cues: String,
    /// What they did, and why.
    pub strategy: String,
    /// What a newcomer would have done there; may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub novice_error: String,
    /// What it rests on.
    pub evidence: Evidence,
}

/// What one finished stage yielded, as written by the model and checked by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageSummary {
    /// A few sentences on what the stage found, in the session language.
    pub summary: String,
    /// The knowledge elements.
    #[serde(default)]
    pub elements: Vec<Element>,
    /// Decision points from incidents: cues, strategy, typical error.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// When it was written.
    pub written_at: DateTime<Utc>,
}
