//! What the synthesis rests on: the experts with a settled report, each report's items with
//! their ids, and the request's text made of them within [`SYNTHESIS_INPUT_BYTES`].

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{Expert, SYNTHESIS_INPUT_BYTES};
use crate::{
    interview::knowledge::cut,
    model::{
        Session, Study,
        report::{Report, Review, Section},
    },
};

/// One item of an expert's report, as cited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The expert's label (`X2`).
    pub expert: String,
    /// The report section's id.
    pub section: String,
    /// The item's text as the report has it.
    pub text: String,
}

/// The letter of a section in an item's id.
fn letter(section: Section) -> char {
    match section {
        Section::Profile => 'P',
        Section::Essence => 'E',
        Section::TaskDiagram => 'T',
        Section::ExpertiseMap => 'M',
        Section::Incidents => 'I',
        Section::FailureModes => 'F',
        Section::Mastery => 'Y',
        Section::GrowthPath => 'G',
        Section::Quotes => 'Q',
    }
}

/// The id of item `n` (from 1) of `section` in expert `label`'s report: `X2.I3`.
pub fn item_id(label: &str, section: Section, n: usize) -> String {
    format!("{label}.{}{n}", letter(section))
}

/// The items of `section` in `report`, as text, in order.
fn texts(report: &Report, section: Section) -> Vec<String> {
    let joined = |parts: &[(&str, &str)]| {
        parts
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| {
                if k.is_empty() {
                    v.trim().to_owned()
                } else {
                    format!("{k}: {}", v.trim())
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    match section {
        Section::Profile => report.profile.iter().map(|c| c.text.clone()).collect(),
        Section::Essence => report.essence.iter().map(|c| c.text.clone()).collect(),
        Section::Mastery => report.mastery.iter().map(|c| c.text.clone()).collect(),
        Section::GrowthPath => report.growth_path.iter().map(|c| c.text.clone()).collect(),
        Section::TaskDiagram => report
            .task_diagram
            .iter()
            .map(|s| {
                if s.hard {
                    format!("{} (hard)", s.step)
                } else {
                    s.step.clone()
                }
            })
            .collect(),
        Section::ExpertiseMap => report
            .expertise_map
            .iter()
            .map(|a| joined(&[("", &a.area), ("why", &a.why)]))
            .collect(),
        Section::Incidents => report
            .incidents
            .iter()
            .map(|r| {
                joined(&[
                    ("situation", &r.situation),
                    ("cues", &r.cues),
                    ("strategy", &r.strategy),
                    ("typical error", &r.typical_error),
                ])
            })
            .collect(),
        Section::FailureModes => report
            .failure_modes
            .iter()
            .map(|f| joined(&[("", &f.failure), ("prevention", &f.prevention)]))
            .collect(),
        Section::Quotes => report.quotes.iter().map(|q| q.quote.clone()).collect(),
    }
}

/// The experts of a study with a settled report, and their items.
#[derive(Debug, Clone, Default)]
pub struct Material {
    /// The study's title.
    pub title: String,
    /// What the organisation wants to learn.
    pub subject: String,
    /// The experts, in the order their interviews began.
    pub experts: Vec<Expert>,
    /// Every item of their reports, by id, expert by expert and section by section.
    pub items: Vec<(String, Item)>,
    /// Settled reports with no structured items (made without Claude).
    pub left_out: usize,
}

impl Material {
    /// The experts of `study` among `sessions` whose report they confirmed, or corrected and
    /// got revised, with their reports' items. An interview without the expert's consent (none
    /// is begun so in Telegram; a file edited by hand could be) is left out unseen: the
    /// synthesis quotes its experts to the operators.
    pub fn gather(study: &Study, sessions: &[Session]) -> Material {
        let mut material = Material {
            title: study.title.clone(),
            subject: study.subject.clone(),
            ..Material::default()
        };
        let settled = sessions.iter().filter(|s| {
            s.study.as_ref() == Some(&study.id)
                && s.consent.is_some()
                && s.finished_at.is_some()
                && matches!(s.report.review, Review::Confirmed | Review::Corrected)
                && s.report.version > 0
        });
        for session in settled {
            let Some(report) = &session.report.document else {
                material.left_out += 1;
                continue;
            };
            let label = format!("X{}", material.experts.len() + 1);
            for section in Section::ALL {
                for (i, text) in texts(report, section).into_iter().enumerate() {
                    let item = Item {
                        expert: label.clone(),
                        section: section.id().to_owned(),
                        text,
                    };
                    material.items.push((item_id(&label, section, i + 1), item));
                }
            }
            material.experts.push(Expert {
                label,
                user: session.user,
                session: session.id,
                finished_at: session.finished_at,
            });
        }
        material
    }

    /// The item `id` names, if any.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, item)| item)
    }

    /// The request's text: the study, then each expert's items with their ids, within
    /// [`SYNTHESIS_INPUT_BYTES`] (the first items of each section when all would not fit; the
    /// ids stay the same).
    pub fn prompt(&self, language: &str) -> String {
        let mut text = String::new();
        for per_section in [usize::MAX, 12, 8, 6, 4, 3, 2, 1] {
            text = self.prompt_within(language, per_section);
            if text.len() <= SYNTHESIS_INPUT_BYTES {
                return text;
            }
        }
        // So many experts that one item per section is still too much: the last experts' items
        // are left out at a line's end (the ids stay, and the experts are still counted).
        let mut end = SYNTHESIS_INPUT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
        text.truncate(end);
        text
    }

    fn prompt_within(&self, language: &str, per_section: usize) -> String {
        let mut out = format!(
            "[Interview engine] Write the synthesis of the study \"{}\" from the reports below.\n\
             What the organisation wants to learn: {}\n\
             {} experts. Synthesis language: {language}.\n\
             Cite report items by their ids: X<expert>.<section letter><number> (P profile, E \
             essence, T task step, M expertise area, I incident row, F failure mode, Y mastery, \
             G growth path, Q quote).\n",
            cut(&self.title, 200),
            cut(&self.subject, 2_000),
            self.experts.len(),
        );
        for expert in &self.experts {
            let _ = writeln!(out, "\n## Expert {}", expert.label);
            let mut shown: Vec<(&str, usize)> = Vec::new();
            for (id, item) in self.items.iter().filter(|(_, i)| i.expert == expert.label) {
                let count = match shown.iter_mut().find(|(s, _)| *s == item.section) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        shown.push((&item.section, 1));
                        1
                    }
                };
                if count > per_section {
                    continue;
                }
                let limit = if item.section == "incidents" {
                    700
                } else {
                    300
                };
                let _ = writeln!(out, "{id} [{}] {}", item.section, cut(&item.text, limit));
            }
        }
        out
    }
}
