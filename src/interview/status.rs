//! The /status view: where the interview stands against its plan.

use super::{Session, Stage};
use crate::i18n::{Catalog, Msg};

/// A bar of `width` cells, `filled` of them full.
pub fn progress_bar(filled: usize, width: usize) -> String {
    let filled = filled.min(width);
    format!("{}{}", "▰".repeat(filled), "▱".repeat(width - filled))
}

/// The status text (plain text; the Telegram layer escapes it).
pub fn render(session: &Session, catalog: &Catalog) -> String {
    let lang = session.language;
    let current = session.stage;
    let mut lines = vec![
        catalog.text(
            lang,
            &Msg::StatusHeader {
                number: current.number(),
                total: Stage::COUNT,
                stage: catalog.text(lang, &Msg::stage(current)),
            },
        ),
        progress_bar(current.number(), Stage::COUNT),
        catalog.text(
            lang,
            &Msg::StatusStyle {
                style: catalog.text(lang, &Msg::style(session.style)),
            },
        ),
        String::new(),
    ];
    for stage in Stage::ALL {
        let record = session.record(stage);
        let marker = if stage < current {
            "✅"
        } else if stage == current {
            "▶️"
        } else {
            "▫️"
        };
        let line = catalog.text(
            lang,
            &Msg::StatusStage {
                stage: catalog.text(lang, &Msg::stage(stage)),
                completeness: record.completeness,
                minutes: (record.active_secs / 60) as i64,
                budget: (stage.budget().as_secs() / 60) as i64,
            },
        );
        lines.push(format!("{marker} {line}"));
    }
    lines.push(String::new());
    lines.push(catalog.text(
        lang,
        &Msg::StatusTotals {
            minutes: (session.active_time().as_secs() / 60) as i64,
            planned: (Stage::total_budget().as_secs() / 60) as i64,
            answers: session.answers(),
            insights: session.insight_count(),
        },
    ));
    lines.join("\n")
}
