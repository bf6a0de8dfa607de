//! The report's request: its JSON schema and the material Claude composes it from.

use std::fmt::Write;

use serde_json::{Value, json};

use super::*;
use crate::interview::{
    Role, Session, Stage,
    knowledge::{self, Evidence, cut},
    offline::{corrects, shared_marks},
};

/// The JSON schema of the report, within what structured outputs accept.
pub fn schema() -> Value {
    let sources = json!({
        "type": "array",
        "items": {"type": "string"},
        "description": "The ids this rests on (E…, D…, or C for the expert's correction): at least one."
    });
    let object = |what: &str, fields: &[(&str, Value)]| {
        let mut properties = serde_json::Map::new();
        for (name, schema) in fields {
            properties.insert((*name).to_owned(), schema.clone());
        }
        properties.insert("sources".into(), sources.clone());
        let required: Vec<&str> = fields.iter().map(|(n, _)| *n).chain(["sources"]).collect();
        json!({
            "type": "array",
            "description": what,
            "items": {
                "type": "object",
                "additionalProperties": false,
                "properties": properties,
                "required": required
            }
        })
    };
    let text = json!({"type": "string"});
    let claims = |what: &str| object(what, &[("text", text.clone())]);
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "summary": {
                "type": "string",
                "description": "The one-screen summary sent with the report: plain text, 80 to 150 words, in the report language."
            },
            "profile": claims("Who the expert is: role, field, years, context, reputation."),
            "essence": claims("The essence of the role: what they do that others don't, the principles they work by."),
            "task_diagram": object(
                "The central task in 3 to 6 steps, in order.",
                &[("step", text.clone()), ("hard", json!({"type": "boolean"}))]
            ),
            "expertise_map": object(
                "The areas of the expertise in the order to learn them, foundations first.",
                &[("area", text.clone()), ("why", text.clone())]
            ),
            "incidents": object(
                "From the incidents: at each decision point, the cues, the strategy and the typical error.",
                &[("situation", text.clone()), ("cues", text.clone()), ("strategy", text.clone()), ("typical_error", text.clone())]
            ),
            "failure_modes": object(
                "What goes wrong and how to prevent or catch it.",
                &[("failure", text.clone()), ("prevention", text.clone())]
            ),
            "mastery": claims("What separates mastery from competence."),
            "growth_path": claims("How they learned, and how they would teach it in three months."),
            "quotes": {
                "type": "array",
                "description": "Memorable lines, copied exactly from the elements' words.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"quote": text, "source": {"type": "string"}},
                    "required": ["quote", "source"]
                }
            }
        },
        "required": ["summary", "profile", "essence", "task_diagram", "expertise_map", "incidents",
                     "failure_modes", "mastery", "growth_path", "quotes"]
    })
}

/// Checks that a reply has the report's shape (the client asks once more if not).
pub fn check(value: &Value) -> Result<(), String> {
    serde_json::from_value::<Report>(value.clone())
        .map(|_| ())
        .map_err(|e| format!("the reply does not match the report's schema: {e}"))
}

/// The request's material: the interview's facts and every stage summary with its ids,
/// within [`REPORT_INPUT_BYTES`] (the first elements of each stage when all would not fit;
/// the ids stay those of [`sources`]).
pub fn prompt(session: &Session) -> String {
    let mut text = String::new();
    for per_stage in [usize::MAX, 24, 16, 12, 8, 6, 4, 2] {
        text = prompt_within(session, per_stage);
        if text.len() <= REPORT_INPUT_BYTES {
            break;
        }
    }
    text
}

/// The request's material with at most `per_stage` elements and decision points per stage.
fn prompt_within(session: &Session, per_stage: usize) -> String {
    let finished = session.finished_at.unwrap_or(session.last_activity);
    let mut out = format!(
        "[Interview engine] Write the knowledge report from the stage summaries below.\n\
         Interview of {}: {} minutes, {} answers. Report language: {}.\n\
         Cite sources by their ids: E… for knowledge elements, D… for decision points.\n",
        finished.format("%Y-%m-%d"),
        session.active_time().as_secs() / 60,
        session.answers(),
        session.language.english_name(),
    );
    let (mut e, mut d) = (0, 0);
    for stage in Stage::ALL {
        let _ = write!(
            out,
            "\n## Stage {} of {}: {stage}\n",
            stage.number(),
            Stage::COUNT
        );
        let Some(summary) = session.summaries.get(&stage) else {
            let answered = session
                .transcript
                .iter()
                .any(|e| e.role == Role::Expert && e.stage == stage);
            out.push_str(if answered {
                "(not summarised: use nothing from this stage)\n"
            } else {
                "(no answers in this stage: nothing to report from it)\n"
            });
            continue;
        };
        let _ = writeln!(out, "Summary: {}", cut(&summary.summary, 1_200));
        for (i, element) in summary.elements.iter().enumerate() {
            e += 1;
            if i >= per_stage {
                continue;
            }
            let mut tags = vec![element.kind.id().to_owned()];
            if element.order > 0 {
                tags.push(format!("order {}", element.order));
            }
            if element.hard {
                tags.push(
                    match element.kind {
                        knowledge::ElementKind::Area => "advanced",
                        _ => "hard",
                    }
                    .to_owned(),
                );
            }
            let _ = write!(
                out,
                "E{e} [{}] {}",
                tags.join(", "),
                cut(&element.text, 300)
            );
            if !element.detail.is_empty() {
                let _ = write!(out, " | {}", cut(&element.detail, 200));
            }
            words(
                &mut out,
                &element.evidence,
                &later(session, &element.evidence, &element.text),
            );
        }
        for (i, decision) in summary.decisions.iter().enumerate() {
            d += 1;
            if i >= per_stage {
                continue;
            }
            let _ = write!(
                out,
                "D{d} [decision] situation: {} | cues: {} | strategy: {} | novice error: {}",
                cut(&decision.situation, 200),
                cut(&decision.cues, 200),
                cut(&decision.strategy, 200),
                cut(&decision.novice_error, 200),
            );
            let said = format!("{} {}", decision.situation, decision.strategy);
            words(
                &mut out,
                &decision.evidence,
                &later(session, &decision.evidence, &said),
            );
        }
    }
    out
}

/// The end of an element's or decision's line: what the expert said later about it, then
/// their words, last (a quote runs to the end of the line).
fn words(out: &mut String, evidence: &Evidence, later: &[String]) {
    for note in later {
        let _ = write!(out, " | {note}");
    }
    if let Some(quote) = &evidence.quote {
        let _ = write!(out, " | words: \"{}\"", cut(quote, 160));
    }
    out.push('\n');
}

/// What the expert said later that touches an element or decision: a wrap-up answer that
/// reads as a correction ("20:05, not 20:07"), or the correction of the report, sharing its times, numbers or longer words with the answer it
/// rests on. Each goes with every summary item it touches, so that the report (or its
/// revision) is written with the correction in place rather than beside it.
fn later(session: &Session, evidence: &Evidence, text: &str) -> Vec<String> {
    let answer = session
        .transcript
        .get(evidence.entry)
        .map_or(text.to_owned(), |e| format!("{text} {}", e.text));
    let touches = |said: &str| shared_marks(said, &answer) > 0;
    let mut out: Vec<String> = session
        .transcript
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            *i > evidence.entry
                && e.role == Role::Expert
                && e.stage == Stage::WrapUp
                && corrects(&e.text)
                && touches(&e.text)
        })
        .map(|(_, e)| format!("later, at the wrap-up: \"{}\"", cut(&e.text, 200)))
        .collect();
    if let Some(c) = session
        .report
        .correction
        .as_ref()
        .filter(|c| touches(&c.text))
    {
        out.push(format!(
            "corrected by the expert ({CORRECTION_ID}): \"{}\"",
            cut(&c.text, 300)
        ));
    }
    out
}

/// The request's material for the revision: the same summaries, the report as it stands and
/// the expert's correction.
pub fn revision_prompt(session: &Session, report: &Report, correction: &str) -> String {
    let current = serde_json::to_string(report).expect("a report serialises");
    format!(
        "{}\n## The report as it stands (JSON)\n{current}\n\n## The expert's correction (cite it \
         as {CORRECTION_ID})\n{}\n\nRevise the report so that it says what the expert says in \
         their correction: change, move or remove what they point at, keep everything else as \
         it is, and cite {CORRECTION_ID} for whatever now rests on the correction. Rewrite the \
         summary for the revised report.\n",
        prompt(session),
        correction.trim()
    )
}
