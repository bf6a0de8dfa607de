//! The knowledge report handed to the expert at the end.
//!
//! Claude composes it from the stage summaries (never from the whole transcript, so its
//! request stays small however long the interview ran) as structured JSON: the sections, each
//! item citing the knowledge elements it comes from by id. The engine checks every citation
//! and renders the Markdown itself: an item that cites nothing known is dropped, a quote that
//! is not the expert's exact words is dropped, and a section left empty says it had too
//! little material instead of being filled in. Every claim ends with its reference: the
//! stage and time of the answer, with the expert's words where there are some.
//!
//! When Claude cannot write it (down for a day, or no key), the report is the transcript
//! organised by stage with the insights and stage findings collected, under a note.

use std::{collections::HashMap, fmt::Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Role, Session, Stage,
    knowledge::{self, Evidence, contains_quote, cut, one_line},
};
use crate::i18n::{Catalog, Msg};

/// The output budget of the report's answer: nine sections of up to a dozen items in Russian
/// on the newer tokenizer, with their source ids and the JSON around them.
pub const REPORT_MAX_TOKENS: u32 = 12_000;

/// The most items kept per section, and quotes.
const MAX_ITEMS: usize = 12;
const MAX_QUOTES: usize = 8;

/// The most bytes of stage summaries sent in the report's request (about 30k tokens): past
/// it, fewer elements of each stage are sent, so the request stays bounded however long the
/// interview ran. Typical interviews send a fraction of it.
pub const REPORT_INPUT_BYTES: usize = 100_000;

/// The longest one-screen summary kept, in characters.
const MAX_SUMMARY_CHARS: usize = 1_500;

/// The id a claim cites to rest on the expert's correction.
pub const CORRECTION_ID: &str = "C";

/// The report's sections, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Who the expert is.
    Profile,
    /// The essence of the role.
    Essence,
    /// The central task in steps, the hard ones marked.
    TaskDiagram,
    /// What to learn, in what order.
    ExpertiseMap,
    /// Cues, strategies and typical errors from the incidents.
    Incidents,
    /// Failure modes and how to prevent them.
    FailureModes,
    /// What mastery adds to competence.
    Mastery,
    /// How they learned, and how they would teach it.
    GrowthPath,
    /// Memorable quotes.
    Quotes,
}

impl Section {
    /// Every section, in the report's order.
    pub const ALL: [Section; 9] = [
        Section::Profile,
        Section::Essence,
        Section::TaskDiagram,
        Section::ExpertiseMap,
        Section::Incidents,
        Section::FailureModes,
        Section::Mastery,
        Section::GrowthPath,
        Section::Quotes,
    ];

    /// The section's id, as the schema and the catalog spell it.
    pub fn id(self) -> &'static str {
        match self {
            Section::Profile => "profile",
            Section::Essence => "essence",
            Section::TaskDiagram => "task_diagram",
            Section::ExpertiseMap => "expertise_map",
            Section::Incidents => "incidents",
            Section::FailureModes => "failure_modes",
            Section::Mastery => "mastery",
            Section::GrowthPath => "growth_path",
            Section::Quotes => "quotes",
        }
    }
}

/// A finding and the ids of what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The finding.
    pub text: String,
    /// Element (`E3`), decision (`D1`) or correction (`C`) ids.
    pub sources: Vec<String>,
}

/// A step of the task diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What gets done.
    pub step: String,
    /// One of the hard steps.
    pub hard: bool,
    /// What it rests on.
    pub sources: Vec<String>,
}

/// An area of the expertise map, in learning order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// The area.
    pub area: String,
    /// Why it comes at this point.
    pub why: String,
    /// What it rests on.
    pub sources: Vec<String>,
}

/// A row of the table of cues, strategies and typical errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The situation.
    pub situation: String,
    /// What the expert notices.
    pub cues: String,
    /// What they do.
    pub strategy: String,
    /// What a newcomer gets wrong.
    pub typical_error: String,
    /// What it rests on.
    pub sources: Vec<String>,
}

/// A failure mode and its prevention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What goes wrong.
    pub failure: String,
    /// How it is prevented or caught early.
    pub prevention: String,
    /// What it rests on.
    pub sources: Vec<String>,
}

/// A memorable line of the expert's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Their exact words.
    pub quote: String,
    /// The element whose answer holds them.
    pub source: String,
}

/// The structured report, as Claude wrote it and the engine checked it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The one-screen summary sent with the document (plain text).
    pub summary: String,
    /// The expert's profile.
    pub profile: Vec<Claim>,
    /// The essence of the role.
    pub essence: Vec<Claim>,
    /// The task diagram.
    pub task_diagram: Vec<Step>,
    /// The expertise map, in learning order.
    pub expertise_map: Vec<Area>,
    /// Cues, strategies and typical errors from the incidents.
    pub incidents: Vec<Row>,
    /// Failure modes and their prevention.
    pub failure_modes: Vec<Failure>,
    /// Mastery.
    pub mastery: Vec<Claim>,
    /// The growth path and the teach-back plan.
    pub growth_path: Vec<Claim>,
    /// Memorable quotes.
    pub quotes: Vec<Quote>,
}

impl Report {
    /// How many items `section` holds.
    pub fn len(&self, section: Section) -> usize {
        match section {
            Section::Profile => self.profile.len(),
            Section::Essence => self.essence.len(),
            Section::TaskDiagram => self.task_diagram.len(),
            Section::ExpertiseMap => self.expertise_map.len(),
            Section::Incidents => self.incidents.len(),
            Section::FailureModes => self.failure_modes.len(),
            Section::Mastery => self.mastery.len(),
            Section::GrowthPath => self.growth_path.len(),
            Section::Quotes => self.quotes.len(),
        }
    }

    /// The sections with nothing left after the checks.
    pub fn thin(&self) -> Vec<Section> {
        Section::ALL
            .into_iter()
            .filter(|s| self.len(*s) == 0)
            .collect()
    }
}

/// The expert's correction of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Claude worked it into the report (else it is attached as written).
    #[serde(default)]
    pub applied: bool,
}

/// Where the expert's check of the report stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Waiting for the expert to confirm or correct it.
    #[default]
    Open,
    /// The expert confirmed it.
    Confirmed,
    /// The revised report after their correction is written: the review is over.
    Corrected,
}

/// Where the report of an ended interview stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportState {
    /// The structured report Claude last wrote (the revised one after a correction); `None`
    /// while none is written, or when the report had to be made without Claude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Report>,
    /// Versions written: 0 none yet, 1 the first, 2 the one after the correction.
    #[serde(default)]
    pub version: u32,
    /// Attempts that failed since the last version was written.
    #[serde(default)]
    pub failures: u32,
    /// When the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<DateTime<Utc>>,
    /// The expert's correction, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
    /// The expert's check.
    #[serde(default)]
    pub review: Review,
}

impl ReportState {
    /// Whether nothing has happened yet (an interview not ended, or ended by an older version).
    pub fn is_empty(&self) -> bool {
        *self == ReportState::default()
    }
}

/// The JSON schema of the report, within what structured outputs accept.
pub fn schema() -> Value {
    let sources = json!({
        "type": "array",
        "items": {"type": "string"},
        "description": "The ids this rests on (E…, D…, or C for the expert's correction): at least one."
    });
    let claims = |what: &str| {
        json!({
            "type": "array",
            "description": what,
            "items": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"text": {"type": "string"}, "sources": sources},
                "required": ["text", "sources"]
            }
        })
    };
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

/// What a source id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cite {
    /// An answer of the expert's, in a stage.
    Answer {
        /// The stage of the summary it came from.
        stage: Stage,
        /// The answer and the words.
        evidence: Evidence,
    },
    /// The expert's correction of the report.
    Correction,
}

/// The ids the report may cite: `E1…` for the elements and `D1…` for the decision points of
/// the stage summaries, numbered in plan order, and `C` for the correction.
pub fn sources(session: &Session) -> HashMap<String, Cite> {
    let mut out = HashMap::new();
    let (mut e, mut d) = (0, 0);
    for (stage, summary) in &session.summaries {
        for element in &summary.elements {
            e += 1;
            out.insert(
                format!("E{e}"),
                Cite::Answer {
                    stage: *stage,
                    evidence: element.evidence.clone(),
                },
            );
        }
        for decision in &summary.decisions {
            d += 1;
            out.insert(
                format!("D{d}"),
                Cite::Answer {
                    stage: *stage,
                    evidence: decision.evidence.clone(),
                },
            );
        }
    }
    if session.report.correction.is_some() {
        out.insert(CORRECTION_ID.to_owned(), Cite::Correction);
    }
    out
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
            words(&mut out, &element.evidence);
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
            words(&mut out, &decision.evidence);
        }
    }
    out
}

fn words(out: &mut String, evidence: &Evidence) {
    match &evidence.quote {
        Some(quote) => {
            let _ = writeln!(out, " | words: \"{}\"", cut(quote, 160));
        }
        None => out.push('\n'),
    }
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
        Cite::Answer { evidence, .. } => session
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
            out.push_str(&body(session, catalog));
            out.push('\n');
        }
    }
    if let Some(c) = correction {
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
                Cite::Answer { evidence, .. } => {
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
        Some(Cite::Answer { evidence, .. }) => match session.transcript.get(evidence.entry) {
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

/// The offline report's body: every stage that holds something, with what its summary found
/// (when one was written), the insights noted during the interview and the expert's words.
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
        if let Some(summary) = session.summaries.get(&stage) {
            let _ = writeln!(out, "### {}\n", catalog.text(lang, &Msg::ReportFindings));
            if !summary.summary.is_empty() {
                let _ = writeln!(out, "{}\n", one_line(&summary.summary));
            }
            for element in &summary.elements {
                let _ = writeln!(out, "- {}", element.text);
            }
            for decision in &summary.decisions {
                let _ = writeln!(
                    out,
                    "- {} — {} → {}",
                    decision.situation, decision.cues, decision.strategy
                );
            }
            out.push('\n');
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::Lang,
        interview::{
            Style, UserId,
            knowledge::{Element, ElementKind, StageSummary},
        },
    };

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    /// An ended interview with one summarised stage: Ann, a welder.
    fn session(lang: Lang) -> Session {
        let mut s = Session::new(1, UserId(1), lang, Style::default(), at(0));
        s.stage = Stage::Profiling;
        s.push_question("What is your role?".into(), false, at(0));
        s.push_answer("I have led a team of six welders for twelve years.", at(1));
        s.stage = Stage::Operations;
        s.push_question("Walk me through the last job.".into(), false, at(2));
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
        assert!(md.starts_with("# Отчёт об экспертизе"), "{md}");
        assert!(md.contains("Профиль, 08:01"), "{md}");
        assert!(md.contains("Слишком мало материала"), "{md}");
    }

    #[test]
    fn without_claude_the_report_is_the_transcript_by_stage_with_a_note() {
        let catalog = Catalog::load().unwrap();
        let mut s = session(Lang::En);
        s.record_mut(Stage::Operations)
            .insights
            .push("Checks the gas every time".into());
        let md = render(&s, &catalog);
        assert!(md.contains("without the language model"), "{md}");
        let ops = md.find("## 4. How the work gets done").unwrap();
        assert!(md[ops..].contains("- Reads the drawing."), "{md}");
        assert!(md[ops..].contains("- Checks the gas every time"), "{md}");
        assert!(md[ops..].contains("> First I read the drawing"), "{md}");
        assert!(!md.contains("## 3."), "a stage with nothing stays out");
        s.report.version = 2;
        s.report.correction = Some(Correction {
            text: "We check the gas first.".into(),
            at: at(5),
            applied: false,
        });
        let md = render(&s, &catalog);
        assert!(md.contains("> We check the gas first."), "{md}");
        assert!(md.contains("attached as written"), "{md}");
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
}
