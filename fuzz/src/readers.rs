//! The readers of what Claude and AssemblyAI answer, and of the audio users send.

use std::time::Duration;

use ai_interviewer::{
    i18n::Catalog,
    interview::{
        knowledge, report as report_reader,
        synthesis::{self, Material, Synthesis},
        turn::MAX_RESPONSE_CHARS,
    },
    llm::{
        Effort,
        generation::{self, Purpose},
        wire::{ErrorBody, MessagesResponse, ModelInfo},
    },
    model::{Lang, NewStudy, Session, Stage, Study, Style, UserId},
    voice::{
        assemblyai::{TranscriptState, read_transcript},
        probe::{self, GRACE},
    },
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// An interview with answers in two stages, for the readers that resolve references to them.
fn interview() -> Session {
    let mut s = Session::new(1, UserId(7), Lang::En, Style::default(), at(0));
    s.stage = Stage::Profiling;
    s.push_question("What is your role?".into(), at(0));
    s.push_answer("I have led a team of six welders for twelve years.", at(1));
    s.push_question("What does a good week look like?".into(), at(2));
    s.push_answer(
        "No rework. Every seam passes the X-ray on the first try.",
        at(3),
    );
    s.stage = Stage::Operations;
    s.push_question("Walk me through the last job.".into(), at(4));
    s.push_answer("First I read the drawing, then I check the gas.", at(5));
    s.finished_at = Some(at(6));
    s
}

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load().expect("the built-in catalog"))
}

/// Claude's turn: the strict fields refuse, the others are coerced; what is accepted has a
/// response the expert can read. The partial reader of a streamed turn takes any prefix.
pub fn turn(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ai_interviewer::interview::response_so_far(text);
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(turn) = ai_interviewer::interview::Turn::from_input(value) {
        assert!(!turn.response.is_empty(), "an empty response was accepted");
        assert_eq!(
            turn.response,
            turn.response.trim(),
            "the response is not trimmed"
        );
        assert!(turn.response.chars().count() <= MAX_RESPONSE_CHARS);
    }
}

/// A stage summary: every reference is resolved against the stage's answers or dropped.
pub fn stage_summary(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let session = interview();
    for stage in [Stage::Profiling, Stage::Operations, Stage::Mastery] {
        if let Ok(summary) = knowledge::read(&session, stage, value.clone(), at(7)) {
            serde_json::to_string(&summary).expect("a summary read is one that can be saved");
        }
    }
}

/// The report: checked, read (citations against the sources), then rendered as the expert and
/// the operator see it.
pub fn report(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = report_reader::check(&value);
    let mut session = interview();
    if let Ok(report) = report_reader::read(&session, value) {
        session.report.document = Some(report);
        session.report.version = 1;
        let _ = report_reader::render(&session, catalog());
        let _ = report_reader::screen(&session, catalog());
        serde_json::to_string(&session).expect("a report read is one that can be saved");
    }
}

/// The synthesis of a study: read against the material's items (none here, so every claim
/// citing one is dropped), then rendered.
pub fn synthesis(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = synthesis::check(&value);
    let study = Study::new(
        NewStudy {
            title: "Welding".into(),
            subject: "How seams are made to pass".into(),
            language: Lang::En,
            style: Style::default(),
            consent: None,
            experts_sought: 3,
        },
        at(0),
    )
    .expect("a valid study");
    let material = Material::gather(&study, &[interview()]);
    if let Ok(read) = synthesis::read(Synthesis::empty(&study, &material, at(9)), &material, value)
    {
        let _ = synthesis::render(&read);
    }
}

/// What Anthropic's API answers around the structured reply: a Messages response, an error
/// body, and the Models API's description of a model, whose capabilities then shape every
/// request (each effort and purpose is asked for its shape).
pub fn claude_wire(data: &[u8]) {
    let _ = serde_json::from_slice::<MessagesResponse>(data);
    let _ = serde_json::from_slice::<ErrorBody>(data);
    if let Ok(info) = serde_json::from_slice::<ModelInfo>(data)
        && let Some(capabilities) = &info.capabilities
    {
        if let Some(effort) = &capabilities.effort {
            let _ = effort.supported_levels();
        }
        let rules = generation::rules(&info.id).with_capabilities(capabilities);
        for effort in Effort::ALL {
            for purpose in [Purpose::Turn, Purpose::Summary] {
                let _ = rules.shape(purpose, effort, Some(0.5));
            }
        }
    }
}

/// AssemblyAI's transcript: a completed one has trimmed text and a confidence within 0-1.
pub fn transcript(data: &[u8]) {
    if let Ok(TranscriptState::Completed(done)) = read_transcript(data) {
        assert_eq!(done.text, done.text.trim());
        assert!(
            (0.0..=1.0).contains(&done.confidence),
            "{}",
            done.confidence
        );
    }
}

/// The hints a user's file may come with: none, or the extension its name or MIME type gives.
const HINTS: [(Option<&str>, Option<&str>); 8] = [
    (None, None),
    (Some("ogg"), Some("audio/ogg")),
    (Some("mp3"), Some("audio/mpeg")),
    (Some("m4a"), Some("audio/mp4")),
    (Some("wav"), None),
    (Some("flac"), None),
    (Some("webm"), Some("video/webm")),
    (None, Some("video/mp4")),
];

/// The audio probe (symphonia) on any bytes, the first byte choosing the hint: what it accepts
/// lasts no longer than the limit allows.
pub fn audio_probe(data: &[u8]) {
    let Some((&hint, bytes)) = data.split_first() else {
        return;
    };
    let (extension, mime) = HINTS[usize::from(hint) % HINTS.len()];
    let limit = Duration::from_secs(20 * 60);
    if let Ok(info) = probe::probe(bytes, extension, mime, limit) {
        assert!(info.duration <= limit + GRACE, "{:?}", info.duration);
    }
}
