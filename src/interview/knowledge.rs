//! Stage summaries: when a stage ends, one structured request distils its part of the
//! transcript into knowledge elements, each resting on the expert's own words.
//!
//! The model sees the stage's exchanges with the expert's answers numbered (`A12`) and cites
//! them. What comes back is checked here, not trusted: an element must cite an answer of that
//! stage, and its quote is kept only if those words really are in the answer (or in another
//! answer of the stage, which then becomes the reference). An element with no answer to rest
//! on is dropped. The report is later composed from these summaries, so its request stays
//! small however long the interview ran.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Role, Session, Stage};
pub use crate::model::summary::{Decision, Element, ElementKind, Evidence, StageSummary};

/// The output budget of a stage summary's answer: about twenty elements with their quotes in
/// Russian on the newer tokenizer, plus the JSON around them.
pub const STAGE_SUMMARY_MAX_TOKENS: u32 = 6_000;

/// The most bytes of a stage's exchanges sent in one request (about 50k tokens); past it,
/// each message is shortened evenly.
pub const STAGE_INPUT_BYTES: usize = 160_000;

/// The most elements and decision points kept per stage.
const MAX_ELEMENTS: usize = 30;
const MAX_DECISIONS: usize = 10;

/// The longest quote kept, in characters.
const MAX_QUOTE_CHARS: usize = 400;

/// The JSON schema of a stage summary, within what structured outputs accept.
pub fn schema() -> Value {
    let kinds: Vec<&str> = ElementKind::ALL.iter().map(|k| k.id()).collect();
    let answer = json!({
        "type": "integer",
        "description": "The number n of the expert's answer (An) this rests on."
    });
    let quote = json!({
        "type": "string",
        "description": "The expert's own words this rests on, copied exactly from that answer: a short phrase or sentence, up to about 25 words."
    });
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "summary": {
                "type": "string",
                "description": "Two to four sentences on what this stage found, in the session language."
            },
            "elements": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "kind": {"type": "string", "enum": kinds},
                        "text": {
                            "type": "string",
                            "description": "The knowledge as one self-contained sentence in the session language, in the third person."
                        },
                        "detail": {
                            "type": "string",
                            "description": "What goes with it: what a cue tells them, how a failure is prevented or caught, why an area matters, what they look at in a step. Empty when nothing was said."
                        },
                        "order": {
                            "type": "integer",
                            "description": "For a step: its position in the task, from 1. For an area: when to learn it, 1 first. Otherwise 0."
                        },
                        "hard": {
                            "type": "boolean",
                            "description": "For a step: one of the hard steps. For an area: an advanced one. Otherwise false."
                        },
                        "answer": answer,
                        "quote": quote
                    },
                    "required": ["kind", "text", "detail", "order", "hard", "answer", "quote"]
                }
            },
            "decisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "situation": {"type": "string", "description": "The moment in the incident and what was at stake."},
                        "cues": {"type": "string", "description": "What the expert saw, heard or knew that told them what was going on."},
                        "strategy": {"type": "string", "description": "What they did, and why."},
                        "novice_error": {"type": "string", "description": "What a newcomer would have done there, as the expert said; empty if they did not say."},
                        "answer": answer,
                        "quote": quote
                    },
                    "required": ["situation", "cues", "strategy", "novice_error", "answer", "quote"]
                }
            }
        },
        "required": ["summary", "elements", "decisions"]
    })
}

/// A stage summary as the model wrote it, before its references are checked.
#[derive(Debug, Deserialize)]
struct Raw {
    summary: String,
    elements: Vec<RawElement>,
    decisions: Vec<RawDecision>,
}

#[derive(Debug, Deserialize)]
struct RawElement {
    kind: ElementKind,
    text: String,
    detail: String,
    order: i64,
    hard: bool,
    answer: i64,
    quote: String,
}

#[derive(Debug, Deserialize)]
struct RawDecision {
    situation: String,
    cues: String,
    strategy: String,
    novice_error: String,
    answer: i64,
    quote: String,
}

/// Checks that a reply has the summary's shape (the client asks once more if not).
pub fn check(value: &Value) -> Result<(), String> {
    serde_json::from_value::<Raw>(value.clone())
        .map(|_| ())
        .map_err(|e| format!("the reply does not match the stage summary's schema: {e}"))
}

/// The expert's answers in `stage`: their number over the whole interview (from 1) and their
/// transcript index.
pub fn answers_in(session: &Session, stage: Stage) -> Vec<(usize, usize)> {
    session
        .transcript
        .iter()
        .enumerate()
        .filter(|(_, e)| e.role == Role::Expert)
        .enumerate()
        .filter(|(_, (_, e))| e.stage == stage)
        .map(|(n, (index, _))| (n + 1, index))
        .collect()
}

/// The stages that have ended, hold at least one answer of the expert, and have no summary
/// yet, in plan order.
pub fn due(session: &Session) -> Vec<Stage> {
    Stage::ALL
        .into_iter()
        .filter(|stage| session.finished_at.is_some() || *stage < session.stage)
        .filter(|stage| !session.summaries.contains_key(stage))
        .filter(|stage| {
            session
                .transcript
                .iter()
                .any(|e| e.role == Role::Expert && e.stage == *stage)
        })
        .collect()
}

/// The request's material: the stage, the language, and its exchanges with the expert's
/// answers numbered.
pub fn prompt(session: &Session, stage: Stage) -> String {
    let entries: Vec<(usize, &super::Entry)> = session
        .transcript
        .iter()
        .enumerate()
        .filter(|(_, e)| e.stage == stage)
        .collect();
    let numbers: std::collections::HashMap<usize, usize> = answers_in(session, stage)
        .into_iter()
        .map(|(n, index)| (index, n))
        .collect();
    let total: usize = entries.iter().map(|(_, e)| e.text.len()).sum();
    let cap = if total > STAGE_INPUT_BYTES {
        Some((STAGE_INPUT_BYTES / entries.len().max(1)).max(200))
    } else {
        None
    };
    let mut out = format!(
        "[Interview engine] Summarise one stage of the interview.\nStage: {stage} ({} of {}): \
         {}.\nSession language: {}.\n\nThe stage's exchanges follow. The interviewer's messages \
         are marked Q; the expert's answers are numbered A1, A2... over the whole interview: \
         cite them by that number.\n",
        stage.number(),
        Stage::COUNT,
        stage.goal(),
        session.language.english_name(),
    );
    for (index, entry) in entries {
        let text = match cap {
            Some(cap) => cut(&entry.text, cap),
            None => entry.text.trim().to_owned(),
        };
        match entry.role {
            Role::Interviewer => {
                let _ = write!(out, "\nQ: {text}\n");
            }
            Role::Expert => {
                let _ = write!(out, "\nA{}: {text}\n", numbers[&index]);
            }
        }
    }
    out
}

/// Reads a checked reply into the stage's summary: references are resolved against the
/// stage's answers, and anything that rests on nothing is dropped.
pub fn read(
    session: &Session,
    stage: Stage,
    value: Value,
    now: DateTime<Utc>,
) -> Result<StageSummary, String> {
    let raw: Raw = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let answers = answers_in(session, stage);
    let resolve = |answer: i64, quote: &str| evidence(session, &answers, answer, quote);
    let mut elements = Vec::new();
    for e in raw.elements {
        let text = one_line(&e.text);
        if text.is_empty() {
            continue;
        }
        let Some(evidence) = resolve(e.answer, &e.quote) else {
            tracing::debug!(user = %session.user, %stage, text, "element without a reference dropped");
            continue;
        };
        elements.push(Element {
            kind: e.kind,
            text,
            detail: one_line(&e.detail),
            order: u32::try_from(e.order).unwrap_or(0),
            hard: e.hard,
            evidence,
        });
    }
    elements.truncate(MAX_ELEMENTS);
    let mut decisions = Vec::new();
    for d in raw.decisions {
        let (situation, strategy) = (one_line(&d.situation), one_line(&d.strategy));
        if situation.is_empty() || strategy.is_empty() {
            continue;
        }
        let Some(evidence) = resolve(d.answer, &d.quote) else {
            continue;
        };
        decisions.push(Decision {
            situation,
            cues: one_line(&d.cues),
            strategy,
            novice_error: one_line(&d.novice_error),
            evidence,
        });
    }
    decisions.truncate(MAX_DECISIONS);
    Ok(StageSummary {
        summary: raw.summary.trim().to_owned(),
        elements,
        decisions,
        written_at: now,
    })
}

/// The evidence for a citation of answer `answer` with `quote`: the quote is looked for in
/// the cited answer, then in the stage's other answers; without it, the cited answer alone
/// stands as the reference if it is one of the stage's.
fn evidence(
    session: &Session,
    answers: &[(usize, usize)],
    answer: i64,
    quote: &str,
) -> Option<Evidence> {
    let cited = answers
        .iter()
        .find(|(n, _)| i64::try_from(*n).is_ok_and(|n| n == answer))
        .map(|(_, index)| *index);
    let quote = trim_quote(quote);
    if !quote.is_empty() && quote.chars().count() <= MAX_QUOTE_CHARS {
        let order = cited
            .into_iter()
            .chain(answers.iter().map(|(_, index)| *index));
        for index in order {
            if contains_quote(&session.transcript[index].text, &quote) {
                return Some(Evidence {
                    entry: index,
                    quote: Some(quote),
                });
            }
        }
    }
    cited.map(|entry| Evidence { entry, quote: None })
}

/// A quote without the quotation marks and spaces the model may have put around it.
fn trim_quote(quote: &str) -> String {
    quote
        .trim()
        .trim_matches(|c: char| "\"'«»“”„‘’`".contains(c) || c.is_whitespace())
        .to_owned()
}

/// Whether `text` holds `quote` word for word: case, spacing, typographic quotes and ё aside,
/// and an ellipsis in the quote standing for words left out.
pub fn contains_quote(text: &str, quote: &str) -> bool {
    let text = normalise(text);
    let mut from = 0;
    let mut any = false;
    for part in quote.split(['…']).flat_map(|p| p.split("...")) {
        let part = normalise(part);
        let part = part.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
        if part.is_empty() {
            continue;
        }
        match text[from..].find(part) {
            Some(at) => {
                from += at + part.len();
                any = true;
            }
            None => return false,
        }
    }
    any
}

fn normalise(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            '’' | '‘' | '`' => '\'',
            '“' | '”' | '«' | '»' | '„' => '"',
            '–' | '—' => '-',
            'ё' => 'е',
            'Ё' => 'Е',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line, trimmed.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line, shortened to at most `max` characters at a word boundary, with `…`.
pub fn cut(text: &str, max: usize) -> String {
    let flat = one_line(text);
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
    if let Some(space) = out.rfind(' ')
        && space > out.len() / 2
    {
        out.truncate(space);
    }
    out.push('…');
    out
}

/// What the finished stages found, for the summary that stands for the folded part of the
/// transcript: each summarised stage's summary and its first elements, clipped.
pub fn digest(session: &Session, max_per_stage: usize, max_chars: usize) -> String {
    let mut out = String::new();
    for (stage, summary) in &session.summaries {
        let _ = writeln!(out, "[{stage}] {}", cut(&summary.summary, max_chars * 2));
        for element in summary.elements.iter().take(max_per_stage) {
            let mut line = element.text.clone();
            if !element.detail.is_empty() {
                let _ = write!(line, " ({})", element.detail);
            }
            let _ = writeln!(out, "- {}: {}", element.kind.id(), cut(&line, max_chars));
        }
        for decision in summary.decisions.iter().take(max_per_stage / 2) {
            let line = format!(
                "{}: noticing {}, they {}",
                decision.situation, decision.cues, decision.strategy
            );
            let _ = writeln!(out, "- decision: {}", cut(&line, max_chars));
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::Lang,
        interview::{Style, UserId},
    };

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    fn session() -> Session {
        let mut s = Session::new(1, UserId(1), Lang::En, Style::default(), at(0));
        s.push_question("How should I call you?".into(), at(0));
        s.push_answer("Call me Ann. I weld pipelines.", at(1));
        s.stage = Stage::Operations;
        s.push_question("Walk me through the last job.".into(), at(2));
        s.push_answer(
            "First I read the drawing. Then I check the gas, because a wrong mix ruins the \
             root pass.",
            at(3),
        );
        s.push_question("What comes next?".into(), at(4));
        s.push_answer("I tack the joint and look at the colour.", at(5));
        s
    }

    #[test]
    fn the_prompt_numbers_answers_over_the_whole_interview() {
        let s = session();
        let text = prompt(&s, Stage::Operations);
        assert!(text.contains("Stage: operations (4 of 9)"), "{text}");
        assert!(text.contains("\nA2: First I read the drawing."), "{text}");
        assert!(text.contains("\nA3: I tack the joint"), "{text}");
        assert!(!text.contains("Call me Ann"), "other stages stay out");
        assert_eq!(answers_in(&s, Stage::Operations), vec![(2, 3), (3, 5)]);
    }

    #[test]
    fn references_are_checked_against_the_stages_answers() {
        let s = session();
        let reply = json!({
            "summary": "Ann's welding job in three steps.",
            "elements": [
                // Right answer, exact words (case and spacing aside).
                {"kind": "step", "text": "Reads the drawing first.", "detail": "", "order": 1,
                 "hard": false, "answer": 2, "quote": "first I read  the drawing"},
                // Wrong number, but the words are in another answer of the stage.
                {"kind": "cue", "text": "Looks at the colour.", "detail": "", "order": 0,
                 "hard": false, "answer": 2, "quote": "“look at the colour”"},
                // Words not said: the cited answer alone is the reference.
                {"kind": "step", "text": "Checks the gas.", "detail": "", "order": 2,
                 "hard": true, "answer": 2, "quote": "I always test the gas"},
                // An answer of another stage, words not found: nothing to rest on.
                {"kind": "profile", "text": "Ann welds.", "detail": "", "order": 0,
                 "hard": false, "answer": 1, "quote": "I am a welder"},
                // An ellipsis stands for words left out.
                {"kind": "failure", "text": "A wrong mix ruins the root pass.", "detail": "",
                 "order": 0, "hard": false, "answer": 2, "quote": "a wrong mix … root pass"}
            ],
            "decisions": [
                {"situation": "", "cues": "", "strategy": "x", "novice_error": "", "answer": 2,
                 "quote": ""}
            ]
        });
        assert!(check(&reply).is_ok());
        let summary = read(&s, Stage::Operations, reply, at(9)).unwrap();
        let refs: Vec<_> = summary
            .elements
            .iter()
            .map(|e| {
                (
                    e.text.as_str(),
                    e.evidence.entry,
                    e.evidence.quote.is_some(),
                )
            })
            .collect();
        assert_eq!(
            refs,
            vec![
                ("Reads the drawing first.", 3, true),
                ("Looks at the colour.", 5, true),
                ("Checks the gas.", 3, false),
                ("A wrong mix ruins the root pass.", 3, true),
            ]
        );
        assert_eq!(
            summary.elements[1].evidence.quote.as_deref(),
            Some("look at the colour")
        );
        assert!(
            summary.decisions.is_empty(),
            "a decision without a situation"
        );
    }

    #[test]
    fn a_reply_of_another_shape_is_refused_for_a_repair() {
        assert!(check(&json!({"summary": "x"})).is_err());
        assert!(
            check(&json!({"summary": "x", "elements": [{"kind": "gossip"}], "decisions": []}))
                .is_err()
        );
    }

    #[test]
    fn due_stages_are_the_ended_ones_with_answers_and_no_summary() {
        let mut s = session();
        assert_eq!(due(&s), vec![Stage::Greeting]);
        s.summaries.insert(
            Stage::Greeting,
            StageSummary {
                summary: "x".into(),
                elements: vec![],
                decisions: vec![],
                written_at: at(6),
            },
        );
        assert!(due(&s).is_empty());
        s.finished_at = Some(at(7));
        assert_eq!(due(&s), vec![Stage::Operations]);
    }

    #[test]
    fn russian_quotes_match_whatever_the_letter_yo_and_the_quote_marks() {
        assert!(contains_quote(
            "Всё решает ещё до начала смены.",
            "«все решает еще до начала»"
        ));
        assert!(!contains_quote("Всё решает опыт.", "решает время"));
        assert!(!contains_quote("text", "..."));
    }

    #[test]
    fn the_schema_keeps_within_what_structured_outputs_accept() {
        crate::interview::turn::check_structured_output_limits(&schema(), "stage summary");
    }
}
