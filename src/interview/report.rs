//! The knowledge report handed to the expert at the end: per stage, the insights drawn from
//! their answers and their answers themselves, opened by a summary Claude writes when it can.

use std::fmt::Write;

use super::{Role, Session, Stage};
use crate::i18n::{Catalog, Msg};

/// The most bytes of report body sent to Claude for the summary (about 75k tokens).
pub const SUMMARY_INPUT_BYTES: usize = 300_000;

/// The output budget of the summary's answer: up to 600 words, which in Russian on the newer
/// tokenizer come to about 2,000 tokens, plus the JSON around them. Models that think get a
/// turn's budget on top for the thinking.
pub const SUMMARY_MAX_TOKENS: u32 = 3000;

/// The report's body: every stage that holds something, with its insights and the expert's
/// words. This is also what Claude summarises.
pub fn body(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let mut out = String::new();
    for stage in Stage::ALL {
        let record = session.record(stage);
        let exchanges: Vec<_> = session
            .transcript
            .iter()
            .filter(|e| e.stage == stage)
            .collect();
        if record.insights.is_empty() && !exchanges.iter().any(|e| e.role == Role::Expert) {
            continue;
        }
        let _ = writeln!(
            out,
            "## {}. {}\n",
            stage.number(),
            catalog.text(lang, &Msg::stage(stage))
        );
        if !record.insights.is_empty() {
            let _ = writeln!(out, "### {}\n", catalog.text(lang, &Msg::ReportInsights));
            for insight in &record.insights {
                let _ = writeln!(out, "- {}", one_line(insight));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "### {}\n", catalog.text(lang, &Msg::ReportInWords));
        for entry in exchanges {
            match entry.role {
                Role::Interviewer => {
                    let _ = writeln!(out, "**{}**\n", one_line(&entry.text));
                }
                Role::Expert => {
                    for line in entry.text.lines() {
                        let _ = writeln!(out, "> {line}");
                    }
                    out.push('\n');
                }
            }
        }
    }
    out.trim_end().to_owned()
}

/// The whole report: title, the interview's facts, the summary if there is one, the body.
pub fn compose(session: &Session, catalog: &Catalog, summary: Option<&str>) -> String {
    let lang = session.language;
    let finished = session.finished_at.unwrap_or(session.last_activity);
    let mut out = format!("# {}\n\n", catalog.text(lang, &Msg::ReportTitle));
    let meta = Msg::ReportMeta {
        date: finished.format("%Y-%m-%d").to_string(),
        minutes: (session.active_time().as_secs() / 60) as i64,
        answers: session.answers(),
    };
    let _ = writeln!(out, "{}\n", catalog.text(lang, &meta));
    if let Some(summary) = summary {
        let _ = writeln!(
            out,
            "## {}\n\n{}\n",
            catalog.text(lang, &Msg::ReportSummary),
            summary.trim()
        );
    }
    out.push_str(&body(session, catalog));
    out.push('\n');
    out
}

/// The report body cut to what the summary request may carry, keeping the beginning.
pub fn summary_input(body: &str) -> &str {
    if body.len() <= SUMMARY_INPUT_BYTES {
        return body;
    }
    let mut end = SUMMARY_INPUT_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        i18n::Lang,
        interview::{Style, UserId},
    };

    #[test]
    fn the_report_groups_insights_and_answers_by_stage() {
        let catalog = Catalog::load().unwrap();
        let now = Utc::now();
        let mut s = Session::new(1, UserId(1), Lang::En, Style::default(), now);
        s.push_question("How should I call you?".into(), false, now);
        s.push_answer("Call me Ann.\nI weld pipelines.", now);
        s.stage = Stage::Profiling;
        s.push_question("What is your role?".into(), false, now);
        s.push_answer("Lead welder.", now);
        s.record_mut(Stage::Profiling)
            .insights
            .push("Leads a team of six".into());
        let report = compose(&s, &catalog, Some("Ann is a lead welder."));
        let greeting = report.find("## 1.").unwrap();
        let profiling = report.find("## 2.").unwrap();
        assert!(greeting < profiling);
        assert!(report.contains("> Call me Ann.\n> I weld pipelines."));
        assert!(report[profiling..].contains("- Leads a team of six"));
        assert!(report.contains("Ann is a lead welder."));
        assert!(!report.contains("## 3."));
    }

    #[test]
    fn the_summary_input_is_cut_on_a_character_boundary() {
        let long = "я".repeat(SUMMARY_INPUT_BYTES);
        let cut = summary_input(&long);
        assert!(cut.len() <= SUMMARY_INPUT_BYTES && cut.len() > SUMMARY_INPUT_BYTES - 4);
    }
}
