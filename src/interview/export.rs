//! The transcript export: the interview so far as Markdown (for reading) and JSON (the
//! session itself, for tools).

use std::fmt::Write;

use super::{Role, Session, Stage};
use crate::i18n::{Catalog, Msg};

/// The transcript as Markdown, with a heading at each stage change.
pub fn markdown(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let mut out = format!("# {}\n\n", catalog.text(lang, &Msg::TranscriptTitle));
    let interviewer = catalog.text(lang, &Msg::SpeakerInterviewer);
    let expert = catalog.text(lang, &Msg::SpeakerExpert);
    let mut stage: Option<Stage> = None;
    for entry in &session.transcript {
        if stage != Some(entry.stage) {
            stage = Some(entry.stage);
            let name = catalog.text(lang, &Msg::stage(entry.stage));
            let _ = writeln!(out, "## {}. {name}\n", entry.stage.number());
        }
        let who = match entry.role {
            Role::Interviewer => &interviewer,
            Role::Expert => &expert,
        };
        let _ = writeln!(
            out,
            "**{who}** ({}):\n\n{}\n",
            entry.at.format("%Y-%m-%d %H:%M"),
            entry.text.trim()
        );
    }
    out
}

/// The session as pretty-printed JSON.
pub fn json(session: &Session) -> String {
    serde_json::to_string_pretty(session).expect("a session always serialises")
}
