//! Reading Claude's report: every citation checked against the stage summaries, every quote
//! against the expert's answers.

use std::collections::HashMap;

use serde_json::Value;

use super::*;
use crate::interview::{
    Session,
    knowledge::{Evidence, contains_quote, cut, one_line},
};

/// What a source id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cite {
    /// An answer of the expert's: the answer and the words.
    Answer(Evidence),
    /// The expert's correction of the report.
    Correction,
}

/// The ids the report may cite: `E1…` for the elements and `D1…` for the decision points of
/// the stage summaries, numbered in plan order, and `C` for the correction.
pub fn sources(session: &Session) -> HashMap<String, Cite> {
    let mut out = HashMap::new();
    let (mut e, mut d) = (0, 0);
    for summary in session.summaries.values() {
        for element in &summary.elements {
            e += 1;
            out.insert(format!("E{e}"), Cite::Answer(element.evidence.clone()));
        }
        for decision in &summary.decisions {
            d += 1;
            out.insert(format!("D{d}"), Cite::Answer(decision.evidence.clone()));
        }
    }
    if session.report.correction.is_some() {
        out.insert(CORRECTION_ID.to_owned(), Cite::Correction);
    }
    out
}

/// Reads a checked reply into the report: citations are kept only if they name a known
/// source, items citing nothing are dropped, quotes must be the expert's exact words, and
/// every list is capped.
pub fn read(session: &Session, value: Value) -> Result<Report, String> {
    let raw: Report = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let known = sources(session);
    let valid = |ids: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ids {
            let id = id.trim().trim_matches(['[', ']']).to_ascii_uppercase();
            if known.contains_key(&id) && !out.contains(&id) {
                out.push(id);
            }
        }
        out
    };
    fn keep<T>(items: Vec<T>, mut fix: impl FnMut(T) -> Option<T>) -> Vec<T> {
        items
            .into_iter()
            .filter_map(&mut fix)
            .take(MAX_ITEMS)
            .collect()
    }
    let claim = |c: Claim| {
        let sources = valid(c.sources);
        let text = one_line(&c.text);
        (!text.is_empty() && !sources.is_empty()).then_some(Claim { text, sources })
    };
    let mut quotes = Vec::new();
    for q in raw.quotes {
        let quote = one_line(&q.quote)
            .trim_matches(|c: char| "\"«»“”„".contains(c))
            .trim()
            .to_owned();
        if quote.is_empty() || quotes.len() >= MAX_QUOTES {
            continue;
        }
        if let Some(source) = quote_source(session, &known, &q.source, &quote) {
            quotes.push(Quote { quote, source });
        }
    }
    Ok(Report {
        summary: cut(&raw.summary, MAX_SUMMARY_CHARS),
        profile: keep(raw.profile, claim),
        essence: keep(raw.essence, claim),
        task_diagram: keep(raw.task_diagram, |s| {
            let sources = valid(s.sources);
            let step = one_line(&s.step);
            (!step.is_empty() && !sources.is_empty()).then_some(Step {
                step,
                hard: s.hard,
                sources,
            })
        }),
        expertise_map: keep(raw.expertise_map, |a| {
            let sources = valid(a.sources);
            let area = one_line(&a.area);
            (!area.is_empty() && !sources.is_empty()).then_some(Area {
                area,
                why: one_line(&a.why),
                sources,
            })
        }),
        incidents: keep(raw.incidents, |r| {
            let sources = valid(r.sources);
            let situation = one_line(&r.situation);
            (!situation.is_empty() && !sources.is_empty()).then_some(Row {
                situation,
                cues: one_line(&r.cues),
                strategy: one_line(&r.strategy),
                typical_error: one_line(&r.typical_error),
                sources,
            })
        }),
        failure_modes: keep(raw.failure_modes, |f| {
            let sources = valid(f.sources);
            let failure = one_line(&f.failure);
            (!failure.is_empty() && !sources.is_empty()).then_some(Failure {
                failure,
                prevention: one_line(&f.prevention),
                sources,
            })
        }),
        mastery: keep(raw.mastery, claim),
        growth_path: keep(raw.growth_path, claim),
        quotes,
    })
}

/// The source a quote may stand on: the one it cites if that answer holds the words, else the
/// first known source whose answer does; `None` if the expert never said them.
fn quote_source(
    session: &Session,
    known: &HashMap<String, Cite>,
    cited: &str,
    quote: &str,
) -> Option<String> {
    let holds = |cite: &Cite| match cite {
        Cite::Answer(evidence) => session
            .transcript
            .get(evidence.entry)
            .is_some_and(|e| contains_quote(&e.text, quote)),
        Cite::Correction => false,
    };
    let cited = cited.trim().to_ascii_uppercase();
    if known.get(&cited).is_some_and(holds) {
        return Some(cited);
    }
    let mut ids: Vec<&String> = known.keys().collect();
    ids.sort_by_key(|id| (id.chars().next(), id[1..].parse::<u32>().unwrap_or(0)));
    ids.into_iter().find(|id| holds(&known[*id])).cloned()
}
