use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::model::{
    Lang, NewStudy, Session, Study, Style,
    report::{Claim, Report, Review, Row, Step},
};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn study() -> Study {
    Study::new(
        NewStudy {
            title: "Night shift".into(),
            subject: "How the furnace is kept stable at night".into(),
            language: Lang::En,
            style: Style::MasterInterviewer,
            consent: None,
            experts_sought: 3,
        },
        now(),
    )
    .unwrap()
}

/// A settled interview of `study` whose report has the given steps and incident rows.
fn expert(study: &Study, user: u64, steps: &[&str], cues: &[&str]) -> Session {
    let start = now() + chrono::Duration::minutes(user as i64);
    let mut s = Session::new(
        user as u32,
        UserId(user),
        Lang::En,
        Style::MasterInterviewer,
        start,
    );
    s.join(study);
    s.consent = Some(crate::model::Consent {
        version: "0123456789abcdef".into(),
        at: start,
    });
    s.finished_at = Some(start + chrono::Duration::hours(2));
    s.report.version = 1;
    s.report.review = Review::Confirmed;
    s.report.document = Some(Report {
        summary: "summary".into(),
        profile: vec![Claim {
            text: format!("Operator {user}"),
            sources: vec!["E1".into()],
        }],
        task_diagram: steps
            .iter()
            .map(|step| Step {
                step: (*step).into(),
                hard: false,
                sources: vec!["E2".into()],
            })
            .collect(),
        incidents: cues
            .iter()
            .map(|cue| Row {
                situation: "the melt cools".into(),
                cues: (*cue).into(),
                strategy: "raise the power".into(),
                typical_error: "waiting".into(),
                sources: vec!["D1".into()],
            })
            .collect(),
        ..Report::default()
    });
    s
}

fn three(study: &Study) -> Vec<Session> {
    vec![
        expert(
            study,
            1,
            &["Check the gauges", "Log the readings"],
            &["a hum"],
        ),
        expert(study, 2, &["Check the gauges"], &["a hum", "smoke"]),
        expert(study, 3, &["Walk the floor"], &["a dull colour"]),
    ]
}

#[test]
fn items_get_ids_naming_the_expert_and_the_item_and_only_settled_reports_count() {
    let study = study();
    let mut sessions = three(&study);
    let mut open = expert(&study, 4, &["x"], &[]);
    open.report.review = Review::Open;
    let mut offline = expert(&study, 5, &["x"], &[]);
    offline.report.document = None;
    let mut other = expert(&study, 6, &["x"], &[]);
    other.study = None;
    let mut unconsented = expert(&study, 7, &["x"], &[]);
    unconsented.consent = None;
    sessions.extend([open, offline, other, unconsented]);
    let material = Material::gather(&study, &sessions);
    assert_eq!(material.experts.len(), 3);
    assert_eq!(material.left_out, 1);
    assert_eq!(material.item("X1.T2").unwrap().text, "Log the readings");
    assert_eq!(material.item("X2.I2").unwrap().expert, "X2");
    assert!(material.item("X3.T2").is_none());
    let prompt = material.prompt("English");
    assert!(
        prompt.contains("How the furnace is kept stable"),
        "{prompt}"
    );
    assert!(
        prompt.contains("X2.I2 [incidents] situation: the melt cools | cues: smoke"),
        "{prompt}"
    );
}

#[test]
fn the_engine_counts_k_of_n_from_the_ids_and_drops_what_rests_on_nothing() {
    let study = study();
    let material = Material::gather(&study, &three(&study));
    let answer = json!({
        "summary": "They agree on the gauges.",
        "task_diagram": [
            {"text": "Check the gauges first", "sources": ["X1.T1", "x2.t1", "X1.T1"]},
            {"text": "Invented step", "sources": ["X9.T1"]}
        ],
        "cues": [{"text": "A hum warns of trouble", "sources": ["X1.I1", "X2.I1"]}],
        "strategies": [{"text": "Raise the power", "sources": ["X1.I1", "X2.I1", "X3.I1"]}],
        "typical_errors": [{"text": "Waiting too long", "sources": []}],
        "disagreements": [
            {"topic": "What to do first", "sides": [
                {"position": "Gauges first", "sources": ["X1.T1"]},
                {"position": "Walk the floor first", "sources": ["X3.T1"]}
            ]},
            {"topic": "One-sided", "sides": [
                {"position": "Gauges", "sources": ["X1.T1"]},
                {"position": "Readings", "sources": ["X1.T2"]}
            ]}
        ],
        "failure_modes": [],
        "unique": [
            {"text": "Only expert 2 watches for smoke", "sources": ["X2.I2"]},
            {"text": "Not unique at all", "sources": ["X1.I1", "X2.I1"]}
        ],
        "gaps": [{"text": "Nobody says who is called at night", "sources": ["X3.I1"]}],
        "questions": [
            {"stage": "operations", "question": "Who do you call at night?", "sources": ["X3.I1"]},
            {"stage": "operations", "question": "Unfounded?", "sources": ["Z1"]}
        ]
    });
    let synthesis = read(
        Synthesis::empty(&study, &material, now()),
        &material,
        answer,
    )
    .unwrap();
    assert!(synthesis.analysed);
    assert_eq!(synthesis.task_diagram.len(), 1);
    assert_eq!(synthesis.task_diagram[0].sources, ["X1.T1", "X2.T1"]);
    assert_eq!(synthesis.task_diagram[0].experts, 2);
    assert_eq!(synthesis.strategies[0].experts, 3);
    assert!(synthesis.typical_errors.is_empty());
    assert_eq!(synthesis.unique.len(), 1);
    assert_eq!(synthesis.disagreements.len(), 1);
    let sides = &synthesis.disagreements[0].sides;
    assert_eq!(sides[0].quote, "Check the gauges");
    assert_eq!(sides[1].quote, "Walk the floor");
    assert_eq!(synthesis.questions.len(), 1);
    // The invented step, the error with no source, the unique claim of two experts, the
    // one-sided disagreement and the unfounded question.
    assert_eq!(synthesis.dropped, 5);
    // Every id cited resolves to its item.
    for finding in synthesis.task_diagram.iter().chain(&synthesis.cues) {
        for id in &finding.sources {
            assert!(synthesis.references.contains_key(id), "{id}");
        }
    }
    let doc = render(&synthesis);
    assert!(
        doc.contains("Check the gauges first — **2 of 3** (X1.T1, X2.T1)"),
        "{doc}"
    );
    assert!(doc.contains("Raise the power — **3 of 3**"), "{doc}");
    assert!(doc.contains("> Walk the floor"), "{doc}");
    assert!(
        doc.contains("- **X2.I2** (incidents): situation: the melt cools | cues: smoke"),
        "{doc}"
    );
    assert!(!doc.contains("Invented step"), "{doc}");
    assert!(!doc.contains("Not analysed"), "{doc}");
    assert_eq!(
        synthesis.questions_by_stage()[&crate::model::Stage::Operations],
        ["Who do you call at night?"]
    );
}

#[test]
fn without_claude_the_items_are_merged_by_section_with_their_ids_and_labelled() {
    let study = study();
    let material = Material::gather(&study, &three(&study));
    let synthesis = Synthesis::merged(&study, &material, now());
    assert!(!synthesis.analysed);
    assert!(synthesis.questions.is_empty());
    let doc = render(&synthesis);
    assert!(
        doc.contains("Not analysed: Claude was not available"),
        "{doc}"
    );
    assert!(
        doc.contains("## Task diagram\n\n- Check the gauges (X1.T1)"),
        "{doc}"
    );
    assert!(doc.contains("- Walk the floor (X3.T1)"), "{doc}");
    assert!(
        !doc.contains(" of 3**"),
        "no counts without analysis: {doc}"
    );
}

#[test]
fn the_request_stays_within_its_bound_however_many_experts() {
    let study = study();
    let steps: Vec<String> = (0..12)
        .map(|i| format!("{i}: {}", "a long step ".repeat(20)))
        .collect();
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let many: Vec<Session> = (1..=300)
        .map(|u| expert(&study, u, &steps, &["a hum"]))
        .collect();
    let material = Material::gather(&study, &many);
    assert_eq!(material.experts.len(), 300);
    let prompt = material.prompt("English");
    assert!(prompt.len() <= SYNTHESIS_INPUT_BYTES, "{}", prompt.len());
    assert!(prompt.ends_with('\n'));
    // The first experts keep their first items.
    assert!(
        prompt.contains("X1.T1 [task_diagram]"),
        "{}",
        &prompt[..400]
    );
    assert!(!prompt.contains("X1.T2 [task_diagram]"));
}
