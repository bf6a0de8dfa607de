//! The report: citations, quotes, the request's bounds and the rendering.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::{
    i18n::{Catalog, Lang},
    interview::{
        Session, Stage, Style, UserId,
        knowledge::{Element, ElementKind, Evidence, StageSummary},
    },
};

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
}

/// An ended interview with one summarised stage: Ann, a welder.
fn session(lang: Lang) -> Session {
    let mut s = Session::new(1, UserId(1), lang, Style::default(), at(0));
    s.stage = Stage::Profiling;
    s.push_question("What is your role?".into(), at(0));
    s.push_answer("I have led a team of six welders for twelve years.", at(1));
    s.stage = Stage::Operations;
    s.push_question("Walk me through the last job.".into(), at(2));
    s.push_answer("First I read the drawing, then I check the gas.", at(3));
    s.finished_at = Some(at(4));
    let element = |kind, text: &str, entry, quote: &str| Element {
        kind,
        text: text.into(),
        detail: String::new(),
        order: 0,
        hard: false,
        evidence: Evidence {
            entry,
            quote: Some(quote.into()),
        },
    };
    s.summaries.insert(
        Stage::Profiling,
        StageSummary {
            summary: "Ann leads welders.".into(),
            elements: vec![element(
                ElementKind::Profile,
                "Ann has led six welders for twelve years.",
                1,
                "led a team of six welders",
            )],
            decisions: vec![],
            written_at: at(4),
        },
    );
    s.summaries.insert(
        Stage::Operations,
        StageSummary {
            summary: "Two steps.".into(),
            elements: vec![element(
                ElementKind::Step,
                "Reads the drawing.",
                3,
                "First I read the drawing",
            )],
            decisions: vec![],
            written_at: at(4),
        },
    );
    s
}

fn reply() -> Value {
    json!({
        "summary": "Ann, a lead welder, works from the drawing.",
        "profile": [{"text": "Leads six welders.", "sources": ["E1"]},
                    {"text": "Invented.", "sources": ["E9"]},
                    {"text": "No source.", "sources": []}],
        "essence": [],
        "task_diagram": [{"step": "Read the drawing", "hard": false, "sources": ["e2"]},
                         {"step": "Check the gas", "hard": true, "sources": ["E2", "E2"]}],
        "expertise_map": [],
        "incidents": [],
        "failure_modes": [],
        "mastery": [],
        "growth_path": [],
        "quotes": [{"quote": "«First I read the drawing»", "source": "E1"},
                   {"quote": "I never said this", "source": "E2"}]
    })
}

#[test]
fn only_claims_resting_on_known_sources_and_exact_quotes_are_kept() {
    let s = session(Lang::En);
    assert!(check(&reply()).is_ok());
    let report = read(&s, reply()).unwrap();
    assert_eq!(report.profile.len(), 1, "{:?}", report.profile);
    assert_eq!(report.task_diagram[0].sources, vec!["E2"]);
    assert_eq!(report.task_diagram[1].sources, vec!["E2"]);
    assert_eq!(report.quotes.len(), 1);
    assert_eq!(report.quotes[0].quote, "First I read the drawing");
    assert_eq!(
        report.quotes[0].source, "E2",
        "moved to the answer that holds it"
    );
    assert_eq!(
        report.thin(),
        vec![
            Section::Essence,
            Section::ExpertiseMap,
            Section::Incidents,
            Section::FailureModes,
            Section::Mastery,
            Section::GrowthPath
        ]
    );
}

#[test]
fn the_markdown_cites_every_claim_and_says_when_a_section_is_thin() {
    let catalog = Catalog::load().unwrap();
    let mut s = session(Lang::En);
    s.report.document = Some(read(&s, reply()).unwrap());
    let md = render(&s, &catalog);
    assert!(md.starts_with("# Knowledge report"), "{md}");
    assert!(
        md.contains("- Leads six welders. *[Profile, 08:01: “led a team of six welders”]*"),
        "{md}"
    );
    assert!(md.contains("2. **Check the gas** (hard)"), "{md}");
    let failures = md
        .find("## 6. Failure modes and how to prevent them")
        .unwrap();
    let mastery = md.find("## 7.").unwrap();
    assert!(
        md[failures..mastery].contains("Too little material"),
        "{md}"
    );
    assert!(md.contains("«First I read the drawing»"), "{md}");
    let screen = screen(&s, &catalog);
    assert!(screen.contains("Ann, a lead welder"), "{screen}");
    assert!(screen.contains("Failure modes"), "{screen}");
}

#[test]
fn a_russian_report_is_written_in_russian() {
    let catalog = Catalog::load().unwrap();
    let mut s = session(Lang::Ru);
    s.report.document = Some(read(&s, reply()).unwrap());
    let md = render(&s, &catalog);
    assert!(md.starts_with("# Отчёт о профессиональном опыте"), "{md}");
    assert!(md.contains("Профиль, 08:01"), "{md}");
    assert!(md.contains("Слишком мало материала"), "{md}");
}

#[test]
fn without_claude_the_report_is_the_experts_answers_under_the_reports_sections() {
    let catalog = Catalog::load().unwrap();
    let mut s = session(Lang::En);
    let md = render(&s, &catalog);
    assert!(md.contains("without the language model"), "{md}");
    assert!(md.contains("nothing in it is analysed"), "{md}");
    // Questions the model wrote are placed by their stage: the operations answer is the task's.
    let task = md.find("## 3. The task diagram").unwrap();
    let map = md.find("## 4. ").unwrap();
    assert!(
        md[task..map].contains(
            "- “First I read the drawing, then I check the gas.” *[How the work gets done, 08:03]*"
        ),
        "{md}"
    );
    assert!(md.contains("“I have led a team of six welders for twelve years.” *[Profile, 08:01]*"));
    assert!(
        !md.contains("Walk me through the last job"),
        "no question as a finding"
    );
    assert!(
        md.contains("Mastery (the interview ended before this stage)"),
        "{md}"
    );
    s.report.version = 2;
    s.report.correction = Some(Correction {
        text: "We verify the drawing revision before anything else.".into(),
        at: at(5),
        applied: false,
    });
    let md = render(&s, &catalog);
    // The correction stands under the answer it corrects, and nowhere else.
    let lines: Vec<&str> = md.lines().collect();
    let fix = lines
        .iter()
        .position(|l| l.contains("We verify the drawing"))
        .unwrap();
    assert!(lines[fix].contains("✏️") && lines[fix].contains("the expert's correction"));
    assert!(lines[fix - 1].contains("First I read the drawing"), "{md}");
    assert_eq!(md.matches("We verify the drawing").count(), 1, "{md}");
    // Shown once more, it is only the corrected passage.
    let shown = shown(&s, &md);
    assert!(shown.contains("First I read the drawing") && shown.contains("We verify"));
    assert!(!shown.contains("six welders"), "{shown}");
}

#[test]
fn the_request_stays_within_its_bound_and_keeps_the_ids() {
    let mut s = session(Lang::En);
    let element = s.summaries[&Stage::Operations].elements[0].clone();
    for stage in Stage::ALL {
        s.summaries.insert(
            stage,
            StageSummary {
                summary: "x".into(),
                elements: vec![
                    Element {
                        text: "a long finding ".repeat(30),
                        detail: "and why it matters ".repeat(20),
                        ..element.clone()
                    };
                    30
                ],
                decisions: vec![],
                written_at: at(4),
            },
        );
    }
    let text = prompt(&s);
    assert!(text.len() <= REPORT_INPUT_BYTES, "{}", text.len());
    assert!(
        text.contains("\nE1 [step]") && text.contains("\nE31 [step]"),
        "{text}"
    );
    assert!(
        !text.contains("\nE30 ["),
        "the last of the first stage's is left out"
    );
    assert_eq!(sources(&s).len(), 9 * 30, "every id still resolves");
}

#[test]
fn the_revision_can_cite_the_correction() {
    let mut s = session(Lang::En);
    s.report.correction = Some(Correction {
        text: "We check the gas first.".into(),
        at: at(5),
        applied: false,
    });
    let mut revised = reply();
    revised["task_diagram"] =
        json!([{"step": "Check the gas", "hard": true, "sources": ["C", "E2"]}]);
    let report = read(&s, revised).unwrap();
    assert_eq!(report.task_diagram[0].sources, vec!["C", "E2"]);
    let prompt = revision_prompt(&s, &report, "We check the gas first.");
    assert!(
        prompt.contains("E1 [profile]") && prompt.contains("E2 [step]"),
        "{prompt}"
    );
    assert!(prompt.contains("We check the gas first."));
    assert!(prompt.contains("(no answers in this stage"), "{prompt}");
}

#[test]
fn the_schema_keeps_within_what_structured_outputs_accept() {
    crate::interview::turn::check_structured_output_limits(&schema(), "report");
}

#[test]
fn a_later_correction_goes_with_every_summary_item_it_touches_in_the_request() {
    let mut s = session(Lang::En);
    s.stage = Stage::WrapUp;
    s.push_question("Anything to correct?".into(), at(4));
    s.push_answer(
        "The drawing comes second, not first: the gas is checked before it.",
        at(5),
    );
    s.push_question("Who should read it?".into(), at(5));
    s.push_answer("Apprentices who read the drawing too late.", at(5));
    s.report.correction = Some(Correction {
        text: "It was eleven years leading the team, not twelve welders.".into(),
        at: at(6),
        applied: false,
    });
    let text = prompt(&s);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing: {text}"))
    };
    assert!(
        line("E2 ").contains("later, at the wrap-up: \"The drawing comes second"),
        "{text}"
    );
    assert!(!line("E2 ").contains("corrected by the expert"), "{text}");
    assert!(
        !line("E2 ").contains("Apprentices"),
        "not a correction: {text}"
    );
    assert!(
        line("E1 ").contains("corrected by the expert (C): \"It was eleven years"),
        "{text}"
    );
    assert!(!line("E1 ").contains("wrap-up"), "{text}");
}
