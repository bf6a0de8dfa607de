//! Reading Claude's answer into a synthesis: every id checked against the reports' items, a
//! claim with none left dropped, the k of n counted from the ids that held. And the synthesis
//! without Claude: the items merged by section.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    Disagreement, Finding, MAX_CLAIMS, Material, Merged, NextQuestion, Side, Synthesis,
    request::{Raw, RawClaim},
};
use crate::model::{Stage, Study, report::Section};

impl Synthesis {
    /// A synthesis of `study` over `material` at `now`, with nothing in it yet.
    pub fn empty(study: &Study, material: &Material, now: DateTime<Utc>) -> Synthesis {
        Synthesis {
            study: study.id.clone(),
            title: study.title.clone(),
            language: study.language,
            written_at: now,
            analysed: false,
            experts: material.experts.clone(),
            left_out: material.left_out,
            summary: String::new(),
            task_diagram: Vec::new(),
            cues: Vec::new(),
            strategies: Vec::new(),
            typical_errors: Vec::new(),
            disagreements: Vec::new(),
            failure_modes: Vec::new(),
            unique: Vec::new(),
            gaps: Vec::new(),
            questions: Vec::new(),
            merged: Vec::new(),
            references: Default::default(),
            dropped: 0,
            usage: Default::default(),
            cost_usd: None,
            model: None,
        }
    }

    /// The synthesis without Claude: every item of the reports under its section, expert by
    /// expert, each with its id; no counts, no analysis.
    pub fn merged(study: &Study, material: &Material, now: DateTime<Utc>) -> Synthesis {
        let mut synthesis = Synthesis::empty(study, material, now);
        for section in Section::ALL {
            let items: Vec<String> = material
                .items
                .iter()
                .filter(|(_, item)| item.section == section.id())
                .map(|(id, _)| id.clone())
                .collect();
            if items.is_empty() {
                continue;
            }
            for id in &items {
                if let Some(item) = material.item(id) {
                    synthesis.references.insert(id.clone(), item.clone());
                }
            }
            synthesis.merged.push(Merged {
                section: section.id().to_owned(),
                items,
            });
        }
        synthesis
    }
}

/// Reads Claude's answer `value` into `synthesis` (made by [`Synthesis::empty`]): the ids are
/// checked against `material`'s items, a claim, side or question left with none is dropped
/// (and counted), what only one expert knows must cite that one expert only, and a
/// disagreement needs two sides from different experts. Fails only when the answer does not
/// have the schema's shape.
pub fn read(
    mut synthesis: Synthesis,
    material: &Material,
    value: Value,
) -> Result<Synthesis, String> {
    let raw: Raw = serde_json::from_value(value)
        .map_err(|e| format!("the reply does not match the synthesis's schema: {e}"))?;
    let mut dropped = 0;
    let mut cited = BTreeSet::new();
    // The ids of `sources` that name an item, once each, in the order given.
    let mut known = |sources: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for source in sources {
            let id = source.trim().to_uppercase();
            if material.item(&id).is_some() && !out.contains(&id) {
                cited.insert(id.clone());
                out.push(id);
            }
        }
        out
    };
    let experts = |ids: &[String]| -> BTreeSet<String> {
        ids.iter()
            .filter_map(|id| material.item(id).map(|i| i.expert.clone()))
            .collect()
    };
    let mut findings = |claims: Vec<RawClaim>, single: bool, dropped: &mut usize| {
        let mut out = Vec::new();
        for claim in claims {
            let sources = known(&claim.sources);
            let who = experts(&sources).len();
            if sources.is_empty() || claim.text.trim().is_empty() || (single && who != 1) {
                *dropped += 1;
                continue;
            }
            if out.len() < MAX_CLAIMS {
                out.push(Finding {
                    text: claim.text.trim().to_owned(),
                    sources,
                    experts: who,
                });
            }
        }
        out
    };
    synthesis.task_diagram = findings(raw.task_diagram, false, &mut dropped);
    synthesis.cues = findings(raw.cues, false, &mut dropped);
    synthesis.strategies = findings(raw.strategies, false, &mut dropped);
    synthesis.typical_errors = findings(raw.typical_errors, false, &mut dropped);
    synthesis.failure_modes = findings(raw.failure_modes, false, &mut dropped);
    synthesis.unique = findings(raw.unique, true, &mut dropped);
    synthesis.gaps = findings(raw.gaps, false, &mut dropped);
    for disagreement in raw.disagreements {
        let mut sides = Vec::new();
        let mut holders = BTreeSet::new();
        for side in disagreement.sides {
            let sources = known(&side.sources);
            let Some(quote) = sources.first().and_then(|id| material.item(id)) else {
                dropped += 1;
                continue;
            };
            holders.extend(experts(&sources));
            sides.push(Side {
                position: side.position.trim().to_owned(),
                quote: quote.text.clone(),
                sources,
            });
        }
        if sides.len() < 2 || holders.len() < 2 {
            dropped += 1;
            continue;
        }
        if synthesis.disagreements.len() < MAX_CLAIMS {
            synthesis.disagreements.push(Disagreement {
                topic: disagreement.topic.trim().to_owned(),
                sides,
            });
        }
    }
    for question in raw.questions {
        let sources = known(&question.sources);
        let stage = Stage::from_id(question.stage.trim());
        match stage {
            Some(stage) if !sources.is_empty() && !question.question.trim().is_empty() => {
                if synthesis.questions.len() < MAX_CLAIMS {
                    synthesis.questions.push(NextQuestion {
                        stage,
                        question: question.question.trim().to_owned(),
                        sources,
                    });
                }
            }
            _ => dropped += 1,
        }
    }
    for id in cited {
        if let Some(item) = material.item(&id) {
            synthesis.references.insert(id, item.clone());
        }
    }
    synthesis.summary = raw.summary.trim().to_owned();
    synthesis.analysed = true;
    synthesis.dropped = dropped;
    Ok(synthesis)
}
