//! One interview: its stages against their budgets, the cost, every report version and the
//! expert's correction, the stage summaries and the transcript (voice answers marked with
//! their confidence); and its downloads. The one page that reads an interview from the store.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{Path, State as Shared},
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::{
    Frame, Role, Session, Stage, UserId, attachment, dollars, html, interview_href, shown,
};
use crate::{
    desk::{Desk, auth::Signed, export, index::Row},
    model::{Review, Work},
};

struct StageLine {
    number: usize,
    name: String,
    minutes: u64,
    budget: u64,
    completeness: u8,
    current: bool,
    over: bool,
}

struct EntryLine {
    role: &'static str,
    at: String,
    stage: String,
    text: String,
    /// For a spoken answer: how many notes, and the lowest confidence.
    voice: Option<String>,
    offline: bool,
    /// For an offline question: why Claude did not write it.
    cause: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/interview.html")]
struct InterviewPage {
    frame: Frame,
    who: String,
    base: String,
    state: String,
    state_id: &'static str,
    language: &'static str,
    style: String,
    started: String,
    has_report: bool,
    stages: Vec<StageLine>,
    cost: Vec<(String, String)>,
    versions: Vec<String>,
    correction: Option<String>,
    first: Option<String>,
    report: Option<String>,
    summaries: Vec<(String, String)>,
    entries: Vec<EntryLine>,
}

/// The row and session of `/interviews/{user}/{session}`, or the answer to give instead:
/// 401 when signed out, 404 when the index does not list it (no consent, deleted, unknown).
async fn find(
    desk: &Arc<Desk>,
    headers: &HeaderMap,
    (user, session): (u64, u32),
) -> Result<(Signed, Row, Session), Response> {
    let signed = desk.signed(headers).map_err(|r| *r)?;
    let not_found =
        || super::signed_message(desk, &signed, StatusCode::NOT_FOUND, "desk-not-found");
    let Some(row) = desk.index.get((UserId(user), session)) else {
        return Err(not_found());
    };
    let session = match export::read_session(desk.store.as_ref(), &row).await {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(user = %row.user, session = row.session, %error,
                "an interview cannot be read");
            return Err(super::signed_message(
                desk,
                &signed,
                StatusCode::SERVICE_UNAVAILABLE,
                "desk-unreadable",
            ));
        }
    }
    // The interview changed under the row: only the same interview, with consent, is shown.
    .filter(|s| s.id == row.session && s.user == row.user && s.consent.is_some());
    match session {
        Some(session) => Ok((signed, row, session)),
        None => Err(not_found()),
    }
}

pub(in crate::desk) async fn page(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path(key): Path<(u64, u32)>,
) -> Response {
    let (signed, row, session) = match find(&desk, &headers, key).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let base = interview_href(row.user, row.session);
    let mut frame = Frame::signed(&desk, &signed, "desk-interview", &base);
    // "Anna Petrova (@anna_p, 4242)": the expert as their messenger names them, and the id.
    let who = match &row.expert {
        Some(expert) => match &expert.username {
            Some(username) => format!("{} (@{username}, {})", expert.name, row.user),
            None => format!("{} ({})", expert.name, row.user),
        },
        None => row.user.to_string(),
    };
    frame.title = format!("{} · {who}", frame.title);
    let t = &frame.t;
    let state = row.state(desk.now(), desk.idle_after);
    let stages = Stage::ALL
        .iter()
        .map(|stage| {
            let record = session.record(*stage);
            let minutes = record.active_secs / 60;
            let budget = stage.budget().as_secs() / 60;
            StageLine {
                number: stage.number(),
                name: t.stage(*stage),
                minutes,
                budget,
                completeness: record.completeness,
                current: *stage == session.stage && session.finished_at.is_none(),
                over: minutes > budget,
            }
        })
        .collect();
    let usage = &session.usage;
    // The total comes from the index (as on the list); the split from the file, which an
    // interview begun before the split was kept does not have.
    let by_kind = match usage.by_work {
        Some(split) => [
            ("desk-cost-turns", Work::Turns),
            ("desk-cost-summaries", Work::Summaries),
            ("desk-cost-report", Work::Report),
        ]
        .into_iter()
        .map(|(id, work)| (t.get(id), dollars(desk.cost(&split.of(work)))))
        .collect(),
        None => vec![(t.get("desk-cost-by-kind"), t.get("desk-cost-not-split"))],
    };
    let mut cost = vec![(t.get("desk-cost-total"), dollars(desk.cost(&row.tokens)))];
    cost.extend(by_kind);
    cost.extend([
        (
            t.get("desk-cost-online-turns"),
            usage.online_turns.to_string(),
        ),
        (
            t.get("desk-cost-offline-turns"),
            usage.offline_turns.to_string(),
        ),
        (t.get("desk-cost-input"), usage.input_tokens.to_string()),
        (t.get("desk-cost-output"), usage.output_tokens.to_string()),
        (
            t.get("desk-cost-cache-write"),
            usage.cache_creation_input_tokens.to_string(),
        ),
        (
            t.get("desk-cost-cache-read"),
            usage.cache_read_input_tokens.to_string(),
        ),
    ]);
    let report = &session.report;
    let versions = (1..=report.version)
        .map(|v| {
            let id = match (v, report.review) {
                (1, _) if report.version > 1 => "desk-version-first",
                (_, Review::Confirmed) => "desk-version-confirmed",
                (_, Review::Corrected) => "desk-version-corrected",
                _ => "desk-version-open",
            };
            format!("v{v}: {}", t.get(id))
        })
        .collect();
    let correction = report.correction.as_ref().map(|c| {
        let applied = if c.applied {
            t.get("desk-correction-applied")
        } else {
            t.get("desk-correction-attached")
        };
        format!("{} ({applied}, {})", c.text, shown(c.at))
    });
    let has_report = report.version > 0 || row.report.is_some();
    let markdown = if has_report {
        Some(export::report_markdown(desk.store.as_ref(), &row, &session, &desk.catalog).await)
    } else {
        None
    };
    // The first version as the expert was shown it, when a correction followed.
    let first = if report.version > 1 {
        let (session_copy, catalog) = (session.clone(), desk.catalog.clone());
        tokio::task::spawn_blocking(move || first_version(session_copy, &catalog))
            .await
            .ok()
    } else {
        None
    };
    let summaries = session
        .summaries
        .iter()
        .map(|(stage, summary)| (t.stage(*stage), summary.summary.clone()))
        .collect();
    let entries = session
        .transcript
        .iter()
        .map(|entry| EntryLine {
            role: match entry.role {
                Role::Expert => "expert",
                Role::Interviewer => "interviewer",
            },
            at: shown(entry.at),
            stage: t.stage(entry.stage),
            text: entry.text.clone(),
            voice: (!entry.voice.is_empty()).then(|| {
                let lowest = entry
                    .voice
                    .iter()
                    .map(|clip| clip.confidence)
                    .fold(1.0_f64, f64::min);
                format!("×{} · {:.0}%", entry.voice.len(), lowest * 100.0)
            }),
            offline: entry.offline,
            cause: entry.fallback.map(|reason| t.fallback(reason)),
        })
        .collect();
    let page = InterviewPage {
        who,
        base,
        state: t.state(state),
        state_id: state.id(),
        language: row.language.code(),
        style: t.style(row.style),
        started: shown(row.started_at),
        has_report,
        stages,
        cost,
        versions,
        correction,
        first,
        report: markdown,
        summaries,
        entries,
        frame,
    };
    html(StatusCode::OK, page)
}

/// The report as first written: the structured report a revision replaced (or the same
/// one, when the correction was only attached or the report was made without Claude),
/// rendered without the correction.
fn first_version(mut session: Session, catalog: &crate::i18n::Catalog) -> String {
    let report = &mut session.report;
    if !report.earlier.is_empty() {
        report.document = Some(report.earlier.remove(0));
    }
    report.correction = None;
    report.version = 1;
    crate::interview::report::render(&session, catalog)
}

/// `report.md`, `report.json` or `transcript.json` of one interview.
pub(in crate::desk) async fn download(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path((user, session, file)): Path<(u64, u32, String)>,
) -> Response {
    let (signed, row, session) = match find(&desk, &headers, (user, session)).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let name = format!("{}-{}", row.user, row.session);
    let has_report = session.report.version > 0 || row.report.is_some();
    match file.as_str() {
        "report.md" if has_report => {
            let markdown =
                export::report_markdown(desk.store.as_ref(), &row, &session, &desk.catalog).await;
            attachment(
                "text/markdown; charset=utf-8",
                &format!("{name}.md"),
                markdown.into_bytes(),
            )
        }
        "report.json" if has_report => attachment(
            "application/json",
            &format!("{name}-report.json"),
            export::report_json(&session).into_bytes(),
        ),
        "transcript.json" => attachment(
            "application/json",
            &format!("{name}-transcript.json"),
            super::transcript::json(&session).into_bytes(),
        ),
        _ => super::signed_message(&desk, &signed, StatusCode::NOT_FOUND, "desk-not-found"),
    }
}
