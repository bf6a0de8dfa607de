//! The synthesis of a study: what its experts know together, from their settled reports.
//!
//! Claude is asked once, over the reports' structured data (never the transcripts, so the
//! request stays bounded however many experts there are), for what the experts share, where
//! they differ, what only one of them knows and what nobody covered. Every report item has an
//! id naming the expert and the item (`X2.I3`: expert 2's third incident row); every claim of
//! the answer cites such ids, and the engine checks each one: a claim left with no id it knows
//! is dropped, as the report drops a quote that is not the expert's. The counts (k of n
//! experts) are the engine's, from the ids that held, not the model's.
//!
//! Without Claude (not configured, or failing) the synthesis is the reports' items merged by
//! section with the same ids, under a note saying it was not analysed.
//!
//! `material` gathers the experts and their items and writes the request's text, `request`
//! holds the schema, `read` checks the answer, `render` writes the Markdown. The engine runs
//! it ([`crate::interview::Engine::synthesize`]) and keeps the latest in the study's folder.

mod material;
mod read;
mod render;
mod request;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use material::{Item, Material, item_id};
pub use read::read;
pub use render::render;
pub use request::{check, schema};

use crate::model::{Lang, Stage, StudyId, Usage, UserId};

/// The output budget of the synthesis's answer: eight lists of up to fifteen claims each
/// with their ids, in Russian on the newer tokenizer.
pub const SYNTHESIS_MAX_TOKENS: u32 = 16_000;

/// The most bytes of report items sent (about 30k tokens): past it, fewer items of each
/// section of each report are sent.
pub const SYNTHESIS_INPUT_BYTES: usize = 100_000;

/// The most claims kept per list.
const MAX_CLAIMS: usize = 15;

/// One expert of the synthesis: whose settled report it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    /// The label the ids start with: `X1`, `X2`…, in the order the interviews began.
    pub label: String,
    /// The expert's user id (the operators' view: never shown to other experts).
    pub user: UserId,
    /// The interview's id.
    pub session: u32,
    /// When the interview ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A claim that held: its text, the ids it rests on (each known) and how many experts they
/// name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The claim.
    pub text: String,
    /// The report items it rests on.
    pub sources: Vec<String>,
    /// How many experts those items come from (k of n).
    pub experts: usize,
}

/// One side of a disagreement, quoted from the item it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The position.
    pub position: String,
    /// The items it rests on.
    pub sources: Vec<String>,
    /// The first of those items, word for word as the expert's report has it.
    pub quote: String,
}

/// Where the experts differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disagreement {
    /// What they differ on.
    pub topic: String,
    /// Two sides or more, each from other experts.
    pub sides: Vec<Side>,
}

/// A question for the next experts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextQuestion {
    /// The stage it is asked in.
    pub stage: Stage,
    /// The question, as it would be asked.
    pub question: String,
    /// The items that raised it.
    pub sources: Vec<String>,
}

/// The items of one report section, merged across the experts (the synthesis without Claude).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// The report section's id (`task_diagram`, `incidents`…).
    pub section: String,
    /// The ids of its items, expert by expert.
    pub items: Vec<String>,
}

/// A synthesis, as kept (`<id>.synthesis.json`) and rendered (`<id>.synthesis.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synthesis {
    /// The study.
    pub study: StudyId,
    /// Its title.
    pub title: String,
    /// The language it is written in (the study's).
    pub language: Lang,
    /// When it was written.
    pub written_at: DateTime<Utc>,
    /// Claude analysed the reports; `false`: merged by section without analysis.
    pub analysed: bool,
    /// The experts whose settled reports it rests on.
    pub experts: Vec<Expert>,
    /// Settled reports left out: made without Claude, they have no structured items.
    #[serde(default)]
    pub left_out: usize,
    /// A few sentences on what the experts know together (empty when not analysed).
    #[serde(default)]
    pub summary: String,
    /// The shared task diagram, step by step.
    #[serde(default)]
    pub task_diagram: Vec<Finding>,
    /// The cues experts notice.
    #[serde(default)]
    pub cues: Vec<Finding>,
    /// What they do.
    #[serde(default)]
    pub strategies: Vec<Finding>,
    /// What newcomers get wrong.
    #[serde(default)]
    pub typical_errors: Vec<Finding>,
    /// Where they differ.
    #[serde(default)]
    pub disagreements: Vec<Disagreement>,
    /// What goes wrong.
    #[serde(default)]
    pub failure_modes: Vec<Finding>,
    /// What only one expert knows.
    #[serde(default)]
    pub unique: Vec<Finding>,
    /// What nobody covered, or covered too thinly.
    #[serde(default)]
    pub gaps: Vec<Finding>,
    /// Questions for the next experts.
    #[serde(default)]
    pub questions: Vec<NextQuestion>,
    /// Without analysis: the items by section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<Merged>,
    /// Every id cited above, with the item's text, so each reference resolves in the
    /// document itself.
    pub references: BTreeMap<String, Item>,
    /// Claims dropped because none of their ids named an item.
    #[serde(default)]
    pub dropped: usize,
    /// The tokens the request took (zero without Claude).
    #[serde(default)]
    pub usage: Usage,
    /// What they cost, when the model's price is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The model that analysed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Synthesis {
    /// The questions for the next experts, by stage, as a study adds them.
    pub fn questions_by_stage(&self) -> BTreeMap<Stage, Vec<String>> {
        let mut out: BTreeMap<Stage, Vec<String>> = BTreeMap::new();
        for q in &self.questions {
            out.entry(q.stage).or_default().push(q.question.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests;
