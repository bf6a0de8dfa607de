//! The downloads: one ZIP of every settled report (Markdown and JSON), and a CSV of the
//! interviews. The CSV comes from a copy of the index's rows alone; the ZIP reads the
//! interviews and their reports through the store (one full read, not one per interview) and
//! is packed on a blocking thread.

use std::io::{Cursor, Write};

use chrono::{DateTime, Utc};
use zip::{ZipWriter, write::SimpleFileOptions};

use super::index::Row;
use crate::{
    i18n::Catalog,
    interview::report,
    llm::Price,
    model::Session,
    store::{InterviewStore, Scanned, StoreError},
};

/// Whether `scanned` is the interview `row` sums up: the same user, interview and place.
fn is_row(scanned: &Scanned, row: &Row) -> bool {
    scanned.filed == row.filed
        && scanned.session.user == row.user
        && scanned.session.id == row.session
}

/// The session behind `row`, read from the store (`None` if it is not there any more).
pub async fn read_session(
    store: &dyn InterviewStore,
    row: &Row,
) -> Result<Option<Session>, StoreError> {
    let found = store.scan(Some(row.user)).await?;
    Ok(found
        .into_iter()
        .find(|scanned| is_row(scanned, row))
        .map(|scanned| scanned.session))
}

/// The report of `session` as Markdown: what the bot kept, else rendered again.
pub async fn report_markdown(
    store: &dyn InterviewStore,
    row: &Row,
    session: &Session,
    catalog: &Catalog,
) -> String {
    let kept = match row.report {
        Some(filed) => store
            .attachment(filed, "md")
            .await
            .inspect_err(|error| {
                tracing::warn!(user = %row.user, session = row.session, %error,
                    "a report cannot be read; it is rendered again");
            })
            .ok()
            .flatten(),
        None => None,
    };
    kept.unwrap_or_else(|| report::render(session, catalog))
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
/// report among `rows`, as `store` holds them.
pub async fn reports_zip(
    store: &dyn InterviewStore,
    rows: &[Row],
    now: DateTime<Utc>,
    idle_after: std::time::Duration,
    catalog: &Catalog,
) -> Result<Vec<u8>, ZipError> {
    let settled: Vec<&Row> = rows
        .iter()
        .filter(|r| r.state(now, idle_after).is_settled())
        .collect();
    let mut files = Vec::with_capacity(settled.len() * 2);
    if !settled.is_empty() {
        // By key, then by place: one look-up per row however many interviews there are.
        let mut found: std::collections::BTreeMap<super::index::Key, Vec<Scanned>> =
            Default::default();
        for scanned in store.scan(None).await? {
            let key = (scanned.session.user, scanned.session.id);
            found.entry(key).or_default().push(scanned);
        }
        for row in settled {
            let Some(places) = found.get_mut(&(row.user, row.session)) else {
                continue;
            };
            let Some(at) = places.iter().position(|scanned| is_row(scanned, row)) else {
                continue;
            };
            let session = places.swap_remove(at).session;
            let name = format!("{}-{}", row.user, row.session);
            let markdown = report_markdown(store, row, &session, catalog).await;
            files.push((format!("{name}.md"), markdown));
            files.push((format!("{name}.json"), report_json(&session)));
        }
    }
    let zip = tokio::task::spawn_blocking(move || -> zip::result::ZipResult<Vec<u8>> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default();
        for (name, text) in files {
            zip.start_file(name, options)?;
            zip.write_all(text.as_bytes())?;
        }
        Ok(zip.finish()?.into_inner())
    });
    Ok(zip.await.map_err(StoreError::from)??)
}

/// Why the ZIP could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// The interviews or their reports could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be written.
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
}

/// The CSV's header, which names its columns.
pub const CSV_HEADER: [&str; 18] = [
    "user",
    "name",
    "username",
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
            row.expert
                .as_ref()
                .map(|e| e.name.clone())
                .unwrap_or_default(),
            row.expert
                .as_ref()
                .and_then(|e| e.username.clone())
                .unwrap_or_default(),
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
