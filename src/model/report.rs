//! The knowledge report's data: its sections and items as Claude wrote them and the engine
//! checked them, the expert's correction and review, and where the report of an ended
//! interview stands. Composing, checking and rendering it live in
//! [`interview::report`](crate::interview::report).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// The structured reports a revision replaced, oldest first, so that the operators can
    /// read what the expert was shown before they corrected it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Report>,
}

impl ReportState {
    /// Whether nothing has happened yet (an interview not ended, or ended by an older version).
    pub fn is_empty(&self) -> bool {
        *self == ReportState::default()
    }
}
