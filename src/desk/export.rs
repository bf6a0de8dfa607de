//! The downloads: one ZIP of every settled report (Markdown and JSON), and a CSV of the
//! interviews. Both are built on a blocking thread from a copy of the index's rows; the ZIP
//! reads each report's files, nothing else.

use std::io::{Cursor, Write};

use chrono::{DateTime, Utc};
use zip::{ZipWriter, write::SimpleFileOptions};

use super::index::Row;
use crate::{i18n::Catalog, interview::report, llm::Price, model::Session, store::decode_session};

/// The session behind `row`, read from its file (`None` if it cannot be read any more).
pub fn read_session(row: &Row) -> Option<Session> {
    let bytes = std::fs::read(&row.file).ok()?;
    decode_session(&bytes).ok()
}

/// The report of `session` as Markdown: the file the bot wrote, else rendered again.
pub fn report_markdown(row: &Row, session: &Session, catalog: &Catalog) -> String {
    row.report
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_else(|| report::render(session, catalog))
}

/// The report of `session` as JSON: where it stands (version, the expert's check and
/// correction) and the structured document.
pub fn report_json(session: &Session) -> String {
    let value = serde_json::json!({
        "user": session.user,
        "session": session.id,
        "language": session.language,
        "finished_at": session.finished_at,
        "report": session.report,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// A ZIP with `<user>-<session>.md` and `.json` for every settled (confirmed or corrected)
/// report among `rows`.
pub fn reports_zip(
    rows: &[Row],
    now: DateTime<Utc>,
    idle_after: std::time::Duration,
    catalog: &Catalog,
) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    for row in rows
        .iter()
        .filter(|r| r.state(now, idle_after).is_settled())
    {
        let Some(session) = read_session(row) else {
            continue;
        };
        let name = format!("{}-{}", row.user, row.session);
        zip.start_file(format!("{name}.md"), options)?;
        zip.write_all(report_markdown(row, &session, catalog).as_bytes())?;
        zip.start_file(format!("{name}.json"), options)?;
        zip.write_all(report_json(&session).as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The CSV's header, which names its columns.
pub const CSV_HEADER: [&str; 16] = [
    "user",
    "session",
    "state",
    "language",
    "style",
    "stage",
    "stage_number",
    "completeness",
    "text_answers",
    "voice_answers",
    "started_at",
    "last_activity",
    "finished_at",
    "active_minutes",
    "cost_usd",
    "offline_turns",
];

/// One line per interview of `rows`, with a header.
pub fn interviews_csv(
    rows: &[Row],
    now: DateTime<Utc>,
    idle_after: std::time::Duration,
    price: Option<Price>,
) -> csv::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    for row in rows {
        let cost = price
            .map(|p| format!("{:.4}", p.cost(&row.tokens)))
            .unwrap_or_default();
        out.write_record([
            row.user.to_string(),
            row.session.to_string(),
            row.state(now, idle_after).id().to_owned(),
            row.language.code().to_owned(),
            row.style.id().to_owned(),
            row.stage.id().to_owned(),
            row.stage.number().to_string(),
            row.completeness.to_string(),
            row.text_answers.to_string(),
            row.voice_answers.to_string(),
            row.started_at.to_rfc3339(),
            row.last_activity.to_rfc3339(),
            row.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            (row.active.as_secs() / 60).to_string(),
            cost,
            row.offline_turns.to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
