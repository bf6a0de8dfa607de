//! The report made without Claude: the expert's answers, in their own words, arranged under
//! the full report's sections by the bank's question-to-section map, each with a reference to
//! the answer it is taken from. Nothing is analysed: the header says so, and a section with
//! nothing under it, or with questions left unanswered, says what was not covered. A
//! correction (the wrap-up's "anything to correct", or the one given in the review) stands
//! next to the passage it corrects.

use std::fmt::Write;

use super::Section;
use crate::i18n::{Catalog, Msg};
use crate::interview::{
    QuestionBank, Role, Session, Stage,
    knowledge::one_line,
    offline::{read, sentences, shared_marks, vague, word_count},
};

/// Where an answer goes in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Small talk (the name, the hopes for the conversation): not reported.
    Skip,
    /// A plain item of a section.
    Item(Section),
    /// A labelled item of the task diagram or the expertise map.
    Labelled(Section, &'static str),
    /// A cell of the incident table: the incident row, or a row of its own.
    Incident(Cell),
    /// A correction of something said earlier (wrap-up).
    Correction,
    /// The one thing to pass on: a quote.
    Quote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Situation,
    Cues,
    Strategy,
    Error,
    /// A case of its own (what they noticed and what gave it away): a row.
    Case,
}

/// The bank's question-to-section map: question `index` (from 0) of `stage`, or the stage's
/// default for a question the model wrote.
fn slot(stage: Stage, index: Option<usize>) -> Slot {
    use Section as S;
    match (stage, index) {
        (Stage::Greeting, Some(1)) => Slot::Item(S::Profile),
        (Stage::Greeting, _) => Slot::Skip,
        (Stage::Profiling, _) => Slot::Item(S::Profile),
        (Stage::Essence, _) => Slot::Item(S::Essence),
        (Stage::Operations, Some(0)) => Slot::Labelled(S::TaskDiagram, "task"),
        (Stage::Operations, Some(1)) => Slot::Labelled(S::TaskDiagram, "steps"),
        (Stage::Operations, Some(2)) => Slot::Labelled(S::TaskDiagram, "hard"),
        (Stage::Operations, Some(3)) => Slot::Labelled(S::TaskDiagram, "watch"),
        (Stage::Operations, Some(4)) => Slot::Labelled(S::TaskDiagram, "tools"),
        (Stage::Operations, Some(_)) => Slot::Item(S::Mastery),
        (Stage::Operations, None) => Slot::Item(S::TaskDiagram),
        (Stage::ExpertiseMap, Some(0 | 1 | 3)) => Slot::Incident(Cell::Case),
        (Stage::ExpertiseMap, Some(2)) => Slot::Item(S::Mastery),
        (Stage::ExpertiseMap, Some(4)) => Slot::Incident(Cell::Error),
        (Stage::ExpertiseMap, Some(5)) => Slot::Labelled(S::ExpertiseMap, "areas"),
        (Stage::ExpertiseMap, _) => Slot::Labelled(S::ExpertiseMap, "order"),
        (Stage::FailureModes, Some(0 | 1)) => Slot::Incident(Cell::Situation),
        (Stage::FailureModes, Some(2)) => Slot::Incident(Cell::Cues),
        (Stage::FailureModes, Some(3 | 4)) => Slot::Incident(Cell::Strategy),
        (Stage::FailureModes, Some(6)) => Slot::Incident(Cell::Error),
        (Stage::FailureModes, _) => Slot::Item(S::FailureModes),
        (Stage::Mastery, _) => Slot::Item(S::Mastery),
        (Stage::GrowthPath, _) => Slot::Item(S::GrowthPath),
        (Stage::WrapUp, Some(1)) => Slot::Correction,
        (Stage::WrapUp, Some(2)) => Slot::Item(S::GrowthPath),
        (Stage::WrapUp, Some(3)) => Slot::Quote,
        (Stage::WrapUp, _) => Slot::Item(S::Essence),
    }
}

impl Slot {
    fn section(self) -> Option<Section> {
        match self {
            Slot::Item(s) | Slot::Labelled(s, _) => Some(s),
            Slot::Incident(_) => Some(Section::Incidents),
            Slot::Quote => Some(Section::Quotes),
            Slot::Skip | Slot::Correction => None,
        }
    }
}

/// One answer, placed.
struct Answer {
    slot: Slot,
    stage: Stage,
    index: Option<usize>,
    /// The transcript entry it is.
    entry: usize,
    text: String,
}

/// A correction and where it was given.
struct Fix {
    text: String,
    at: String,
}

/// The offline report's sections, as Markdown.
pub fn body(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let bank = QuestionBank::from_catalog(catalog).ok();
    let answers = place(session, bank.as_ref());
    let mut fixes: Vec<Fix> = answers
        .iter()
        // "No", "nothing to add": not a correction.
        .filter(|a| a.slot == Slot::Correction && word_count(&a.text) > 3)
        .map(|a| Fix {
            text: one_line(&a.text),
            at: where_said(session, a.entry, catalog),
        })
        .collect();
    if let Some(c) = session.report.correction.as_ref().filter(|c| !c.applied) {
        fixes.push(Fix {
            text: one_line(&c.text),
            at: catalog.text(lang, &Msg::ReportFromCorrection),
        });
    }
    // Each correction goes next to the answer it shares the most marks with (times, numbers,
    // longer words); one that matches nothing is listed at the end.
    let reported: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.slot.section().is_some())
        .collect();
    let mut next_to: Vec<Vec<&Fix>> = vec![Vec::new(); reported.len()];
    let mut unplaced = Vec::new();
    for fix in &fixes {
        let best = reported
            .iter()
            .enumerate()
            .map(|(i, a)| (shared_marks(&fix.text, &a.text), i))
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, i)| (*n, std::cmp::Reverse(*i)));
        match best {
            Some((_, i)) => next_to[i].push(fix),
            None => unplaced.push(fix),
        }
    }
    let refs = |a: &Answer| format!("*[{}]*", where_said(session, a.entry, catalog));
    let quote = |text: &str| match lang {
        crate::i18n::Lang::Ru => format!("«{text}»"),
        crate::i18n::Lang::En => format!("“{text}”"),
    };
    let corrections = |i: usize| -> String {
        next_to[i]
            .iter()
            .map(|f| {
                let head = catalog.text(lang, &Msg::ReportCorrectedHere { at: f.at.clone() });
                format!("\n  - ✏️ *{head}:* {}", quote(&f.text))
            })
            .collect()
    };
    let mut out = String::new();
    for (n, section) in Section::ALL.into_iter().enumerate() {
        let heading = catalog.text(
            lang,
            &Msg::ReportSection {
                section: section.id().to_owned(),
            },
        );
        let _ = writeln!(out, "## {}. {heading}\n", n + 1);
        let items: Vec<(usize, &Answer)> = reported
            .iter()
            .enumerate()
            .filter(|(_, a)| a.slot.section() == Some(section))
            .map(|(i, a)| (i, *a))
            .collect();
        match section {
            Section::Incidents if !items.is_empty() => {
                incidents(&mut out, session, &items, catalog, &refs, &corrections);
            }
            Section::Quotes => {
                for (i, a) in &items {
                    let first = sentences(&a.text)
                        .first()
                        .map_or(String::new(), |s| one_line(s));
                    let _ = writeln!(
                        out,
                        "> {}  \n> {}{}\n",
                        quote(&first),
                        where_said(session, a.entry, catalog),
                        corrections(*i)
                    );
                }
            }
            _ => {
                let mut label = None;
                for (i, a) in &items {
                    if let Slot::Labelled(_, l) = a.slot
                        && label != Some(l)
                    {
                        label = Some(l);
                        let text = catalog.text(lang, &Msg::ReportLabel { label: l.into() });
                        let _ = writeln!(out, "**{text}**\n");
                    }
                    let parts = steps(&a.text);
                    if matches!(a.slot, Slot::Labelled(_, "steps" | "order")) && parts.len() > 1 {
                        for (k, part) in parts.iter().enumerate() {
                            let _ = writeln!(out, "{}. {} {}", k + 1, quote(part), refs(a));
                        }
                        let _ = writeln!(out, "{}", corrections(*i).trim_start_matches('\n'));
                    } else {
                        let _ = writeln!(
                            out,
                            "- {} {}{}",
                            quote(&one_line(&a.text)),
                            refs(a),
                            corrections(*i)
                        );
                    }
                }
            }
        }
        let gaps = gaps(session, bank.as_ref(), &answers, section, catalog);
        if !gaps.is_empty() {
            if !items.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "*{}*",
                catalog.text(
                    lang,
                    &Msg::ReportNotCovered {
                        gaps: gaps.join("; ")
                    }
                )
            );
        } else if items.is_empty() {
            let _ = writeln!(out, "*{}*", catalog.text(lang, &Msg::ReportTooLittle));
        }
        out.push('\n');
    }
    if !unplaced.is_empty() {
        let _ = writeln!(out, "## {}\n", catalog.text(lang, &Msg::ReportCorrection));
        for fix in unplaced {
            let _ = writeln!(out, "- {} *[{}]*", quote(&fix.text), fix.at);
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "---\n\n*{}*",
        catalog.text(lang, &Msg::ReportOfflineReferences)
    );
    out
}

/// The table of the incident: the walked incident as one row (situation, cues, strategy,
/// typical error as the expert told them), each case of their own as a row.
fn incidents(
    out: &mut String,
    session: &Session,
    items: &[(usize, &Answer)],
    catalog: &Catalog,
    refs: &dyn Fn(&Answer) -> String,
    corrections: &dyn Fn(usize) -> String,
) {
    super::render::incident_header(out, catalog, session.language);
    let cell = |cell: Cell, stage: Stage| -> Vec<(usize, &Answer)> {
        items
            .iter()
            .copied()
            .filter(|(_, a)| a.slot == Slot::Incident(cell) && a.stage == stage)
            .collect()
    };
    // A table row holds one line: the corrections go into the cell of the passage they correct.
    let join = |list: &[(usize, &Answer)]| -> String {
        if list.is_empty() {
            return "—".into();
        }
        list.iter()
            .map(|(i, a)| {
                let fixes = corrections(*i).replace("\n  - ", " ");
                format!("{}{}", one_line(&a.text), fixes).replace('|', "/")
            })
            .collect::<Vec<_>>()
            .join(" … ")
    };
    let sources = |list: &[&[(usize, &Answer)]]| -> String {
        list.iter()
            .flat_map(|l| l.iter())
            .map(|(_, a)| refs(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let incident = Stage::FailureModes;
    let (situation, cues, strategy, error) = (
        cell(Cell::Situation, incident),
        cell(Cell::Cues, incident),
        cell(Cell::Strategy, incident),
        cell(Cell::Error, incident),
    );
    if !(situation.is_empty() && cues.is_empty() && strategy.is_empty() && error.is_empty()) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            join(&situation),
            join(&cues),
            join(&strategy),
            join(&error),
            sources(&[&situation, &cues, &strategy, &error])
        );
    }
    let cases = cell(Cell::Case, Stage::ExpertiseMap);
    let errors = cell(Cell::Error, Stage::ExpertiseMap);
    for (k, case) in cases.iter().enumerate() {
        let error: &[(usize, &Answer)] = if k + 1 == cases.len() { &errors } else { &[] };
        let _ = writeln!(
            out,
            "| {} | — | — | {} | {} |",
            join(std::slice::from_ref(case)),
            join(error),
            sources(&[std::slice::from_ref(case), error])
        );
    }
    if cases.is_empty() && !errors.is_empty() {
        let _ = writeln!(
            out,
            "| — | — | — | {} | {} |",
            join(&errors),
            sources(&[&errors])
        );
    }
}

/// The expert's answers in order, each placed by the question it answers: an answer to a
/// follow-up (a probe, a read-back) belongs to the bank question before it; a bare yes to a
/// read-back adds nothing and is left out, and so are a skipped question and an answer that
/// only says there is no answer ("hard to say"): the question counts as not answered.
fn place(session: &Session, bank: Option<&QuestionBank>) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut asked: Option<(Stage, Option<usize>)> = None;
    let mut read_back = false;
    for (entry, e) in session.transcript.iter().enumerate() {
        match e.role {
            Role::Interviewer => {
                let index = if e.offline {
                    bank.and_then(|b| b.identify(e.stage, &e.text))
                } else {
                    None
                };
                read_back = bank.is_some_and(|b| b.is_read_back(&e.text));
                let follow_up = e.offline && index.is_none();
                asked = match asked {
                    Some((stage, previous)) if follow_up && stage == e.stage => {
                        Some((stage, previous))
                    }
                    _ => Some((e.stage, index)),
                };
            }
            Role::Expert => {
                let text = e.text.trim();
                if text.is_empty()
                    || session.is_skipped(entry)
                    || vague(text)
                    || (read_back && read(text).thin)
                {
                    continue;
                }
                let (stage, index) = asked.unwrap_or((e.stage, None));
                out.push(Answer {
                    slot: slot(stage, index),
                    stage,
                    index,
                    entry,
                    text: text.to_owned(),
                });
            }
        }
    }
    out
}

/// What `section` lacks: the stages feeding it that the interview never reached, and those
/// with questions feeding it left unanswered.
fn gaps(
    session: &Session,
    bank: Option<&QuestionBank>,
    answers: &[Answer],
    section: Section,
    catalog: &Catalog,
) -> Vec<String> {
    let lang = session.language;
    let mut out = Vec::new();
    for stage in Stage::ALL {
        let feeding: Vec<usize> = match bank {
            Some(bank) => (0..bank.len(lang, stage))
                .filter(|&i| slot(stage, Some(i)).section() == Some(section))
                .collect(),
            None => Vec::new(),
        };
        if feeding.is_empty() {
            continue;
        }
        let name = catalog.text(lang, &Msg::stage(stage));
        let reached = session.transcript.iter().any(|e| e.stage == stage);
        if !reached {
            out.push(catalog.text(lang, &Msg::ReportStageSkipped { stage: name }));
            continue;
        }
        // A stage the model led is covered as it was; the bank's questions were not its.
        if answers
            .iter()
            .any(|a| a.stage == stage && a.index.is_none())
        {
            continue;
        }
        let missing = feeding
            .iter()
            .filter(|&&i| {
                !answers
                    .iter()
                    .any(|a| a.stage == stage && a.index == Some(i))
            })
            .count();
        if missing > 0 {
            out.push(catalog.text(
                lang,
                &Msg::ReportUnanswered {
                    stage: name,
                    count: missing,
                },
            ));
        }
    }
    out
}

/// The parts of an answer that lists steps or areas: its lines, else its sentences, else its
/// semicolon- or comma-separated parts when there are three or more.
fn steps(text: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches(|c: char| c.is_ascii_digit() || "-•*.) ".contains(c))
        })
        .filter(|l| !l.is_empty())
        .map(one_line)
        .collect();
    if lines.len() > 1 {
        return lines;
    }
    let said = sentences(text);
    if said.len() > 1 {
        return said.into_iter().map(one_line).collect();
    }
    for mark in [';', ','] {
        let parts: Vec<String> = text
            .split(mark)
            .map(|p| one_line(p.trim().trim_end_matches('.')))
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() >= 3 {
            return parts;
        }
    }
    vec![one_line(text)]
}

/// "Operations, 14:32": the stage and time of a transcript entry.
fn where_said(session: &Session, entry: usize, catalog: &Catalog) -> String {
    session
        .transcript
        .get(entry)
        .map(|e| {
            format!(
                "{}, {}",
                catalog.text(session.language, &Msg::stage(e.stage)),
                e.at.format("%H:%M")
            )
        })
        .unwrap_or_default()
}
