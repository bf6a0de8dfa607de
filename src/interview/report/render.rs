//! The report's Markdown and its one-screen summary, rendered by the engine, with a reference
//! for every claim.

use std::{collections::HashMap, fmt::Write};

use super::*;
use crate::i18n::{Catalog, Msg};
use crate::interview::{
    Session,
    knowledge::{cut, one_line},
};

/// The report's Markdown, as the session stands: the structured report when Claude wrote one,
/// else the offline report; the expert's correction at the end when there is one.
pub fn render(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let finished = session.finished_at.unwrap_or(session.last_activity);
    let mut out = format!("# {}\n\n", catalog.text(lang, &Msg::ReportTitle));
    let meta = Msg::ReportMeta {
        date: finished.format("%Y-%m-%d").to_string(),
        minutes: (session.active_time().as_secs() / 60) as i64,
        answers: session.answers(),
    };
    let _ = writeln!(out, "{}\n", catalog.text(lang, &meta));
    let correction = session.report.correction.as_ref();
    if let Some(c) = correction.filter(|c| c.applied) {
        let note = Msg::ReportRevisedNote {
            date: c.at.format("%Y-%m-%d").to_string(),
        };
        let _ = writeln!(out, "*{}*\n", catalog.text(lang, &note));
    }
    match &session.report.document {
        Some(report) => structured(&mut out, session, report, catalog),
        None => {
            let _ = writeln!(out, "*{}*\n", catalog.text(lang, &Msg::ReportOfflineNote));
            out.push_str(&super::offline::body(session, catalog));
            out.push('\n');
        }
    }
    // The offline report places the correction next to what it corrects.
    if let Some(c) = correction.filter(|_| session.report.document.is_some()) {
        let _ = writeln!(out, "\n## {}\n", catalog.text(lang, &Msg::ReportCorrection));
        if !c.applied {
            let _ = writeln!(
                out,
                "*{}*\n",
                catalog.text(lang, &Msg::ReportCorrectionUnapplied)
            );
        }
        for line in c.text.lines() {
            let _ = writeln!(out, "> {line}");
        }
    }
    out
}

/// The sections of a structured report.
fn structured(out: &mut String, session: &Session, report: &Report, catalog: &Catalog) {
    let lang = session.language;
    let known = sources(session);
    let refs = |ids: &[String]| references(session, &known, ids, catalog);
    if !report.summary.is_empty() {
        let _ = writeln!(
            out,
            "## {}\n\n{}\n",
            catalog.text(lang, &Msg::ReportSummary),
            report.summary
        );
    }
    for (n, section) in Section::ALL.into_iter().enumerate() {
        let heading = catalog.text(
            lang,
            &Msg::ReportSection {
                section: section.id().to_owned(),
            },
        );
        let _ = writeln!(out, "## {}. {heading}\n", n + 1);
        if report.len(section) == 0 {
            let _ = writeln!(out, "*{}*\n", catalog.text(lang, &Msg::ReportTooLittle));
            continue;
        }
        match section {
            Section::Profile => claims(out, &report.profile, refs),
            Section::Essence => claims(out, &report.essence, refs),
            Section::Mastery => claims(out, &report.mastery, refs),
            Section::GrowthPath => claims(out, &report.growth_path, refs),
            Section::TaskDiagram => {
                let hard = catalog.text(lang, &Msg::ReportHard);
                for (i, step) in report.task_diagram.iter().enumerate() {
                    let text = if step.hard {
                        format!("**{}** ({hard})", step.step)
                    } else {
                        step.step.clone()
                    };
                    let _ = writeln!(out, "{}. {text} {}", i + 1, refs(&step.sources));
                }
            }
            Section::ExpertiseMap => {
                for (i, area) in report.expertise_map.iter().enumerate() {
                    let why = if area.why.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", area.why)
                    };
                    let _ = writeln!(
                        out,
                        "{}. **{}**{why} {}",
                        i + 1,
                        area.area,
                        refs(&area.sources)
                    );
                }
            }
            Section::Incidents => {
                incident_header(out, catalog, lang);
                for row in &report.incidents {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        cell(&row.situation),
                        cell(&row.cues),
                        cell(&row.strategy),
                        cell(&row.typical_error),
                        cell(&refs(&row.sources)),
                    );
                }
            }
            Section::FailureModes => {
                for failure in &report.failure_modes {
                    let prevention = if failure.prevention.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", failure.prevention)
                    };
                    let _ = writeln!(
                        out,
                        "- **{}**{prevention} {}",
                        failure.failure,
                        refs(&failure.sources)
                    );
                }
            }
            Section::Quotes => {
                for quote in &report.quotes {
                    let _ = writeln!(
                        out,
                        "> «{}»  \n> {}\n",
                        quote.quote,
                        where_said(session, &known, &quote.source, catalog)
                    );
                }
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "---\n\n*{}*",
        catalog.text(lang, &Msg::ReportReferences)
    );
}

fn claims(out: &mut String, items: &[Claim], refs: impl Fn(&[String]) -> String) {
    for claim in items {
        let _ = writeln!(out, "- {} {}", claim.text, refs(&claim.sources));
    }
}

/// A table cell: one line, no column separators.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "/")
}

/// "*[Operations, 14:32: “first I read the drawing”; …]*" for up to two sources.
fn references(
    session: &Session,
    known: &HashMap<String, Cite>,
    ids: &[String],
    catalog: &Catalog,
) -> String {
    let parts: Vec<String> = ids
        .iter()
        .take(2)
        .filter_map(|id| {
            let cite = known.get(id)?;
            Some(match cite {
                Cite::Answer(evidence) => {
                    let mut text = where_said(session, known, id, catalog);
                    if let Some(quote) = &evidence.quote {
                        let _ = write!(text, ": “{}”", cut(quote, 90));
                    }
                    text
                }
                Cite::Correction => catalog.text(session.language, &Msg::ReportFromCorrection),
            })
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("*[{}]*", parts.join("; "))
}

/// "Operations, 14:32": the stage and time of the answer a source rests on.
fn where_said(
    session: &Session,
    known: &HashMap<String, Cite>,
    id: &str,
    catalog: &Catalog,
) -> String {
    match known.get(id) {
        Some(Cite::Answer(evidence)) => match session.transcript.get(evidence.entry) {
            Some(entry) => format!(
                "{}, {}",
                catalog.text(session.language, &Msg::stage(entry.stage)),
                entry.at.format("%H:%M")
            ),
            None => String::new(),
        },
        Some(Cite::Correction) => catalog.text(session.language, &Msg::ReportFromCorrection),
        None => String::new(),
    }
}

/// What is shown in-line of the version of the report in `markdown` (see
/// [`ReportReady::shown`](crate::interview::ReportReady::shown)): all of it, except for a
/// revision made without Claude, where the correction was only placed next to what it
/// corrects: then the corrected passages under their headings, the rest being unchanged.
pub fn shown(session: &Session, markdown: &str) -> String {
    if session.report.version < 2 || session.report.document.is_some() {
        return markdown.to_owned();
    }
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut heading = None;
    // The offline report's sections are numbered; the list of corrections that matched no
    // passage is the one heading that is not.
    let mut unplaced = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some(title) = line.strip_prefix("## ") {
            heading = Some(*line);
            unplaced = !title.starts_with(|c: char| c.is_ascii_digit());
            continue;
        }
        if line.starts_with("---") {
            unplaced = false;
        }
        let marked = line.contains("✏️");
        if !(marked || (unplaced && !line.trim().is_empty())) {
            continue;
        }
        if let Some(h) = heading.take() {
            out.extend([String::new(), h.to_owned(), String::new()]);
        }
        // What the correction stands next to: the item above it, or, for a row of the
        // incident table (which holds its correction in the cell), the table's header.
        let above: Vec<&str> = if line.starts_with('|') {
            match lines[..i].iter().rposition(|l| l.starts_with("|---")) {
                Some(rule) if rule > 0 => vec![lines[rule - 1], lines[rule]],
                _ => Vec::new(),
            }
        } else {
            lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.contains("✏️"))
                .into_iter()
                .copied()
                .collect()
        };
        for item in above.into_iter().filter(|_| marked) {
            if !out.iter().any(|o| o == item) {
                out.push(item.to_owned());
            }
        }
        out.push((*line).to_owned());
    }
    out.join("\n").trim().to_owned()
}

/// The one-screen message that comes with the report's document.
pub fn screen(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let state = &session.report;
    let revised = state.version >= 2;
    let head = match (&state.document, revised, &state.correction) {
        (_, true, Some(c)) if c.applied => Msg::ReportRevised,
        (_, true, _) => Msg::ReportCorrectionKept,
        (Some(_), false, _) => Msg::ReportReady,
        (None, false, _) => Msg::ReportReadyOffline,
    };
    let mut out = catalog.text(lang, &head);
    if let Some(report) = &state.document {
        if !report.summary.is_empty() {
            let _ = write!(out, "\n\n{}", report.summary);
        }
        let thin = report.thin();
        if !thin.is_empty() {
            let names: Vec<String> = thin
                .iter()
                .map(|s| {
                    catalog.text(
                        lang,
                        &Msg::ReportSection {
                            section: s.id().to_owned(),
                        },
                    )
                })
                .collect();
            let _ = write!(
                out,
                "\n\n{}",
                catalog.text(
                    lang,
                    &Msg::ReportThin {
                        sections: names.join(", ")
                    }
                )
            );
        }
    }
    if !revised {
        let _ = write!(out, "\n\n{}", catalog.text(lang, &Msg::ReportCheck));
    }
    out
}

/// The incidents table's header in `lang`: situation, cues, strategy, typical error, source.
/// The full report and the offline one share it.
pub(super) fn incident_header(out: &mut String, catalog: &Catalog, lang: crate::model::Lang) {
    let column = |c: &str| {
        catalog.text(
            lang,
            &Msg::ReportColumn {
                column: c.to_owned(),
            },
        )
    };
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|",
        column("situation"),
        column("cues"),
        column("strategy"),
        column("typical_error"),
        column("source"),
    );
}
