//! The JSON API for programs the operator already runs:
//!
//! - `GET /api/sessions`: every interview (user, session, state, stage, progress, duration,
//!   answers);
//! - `GET /api/sessions/{user}/status`: the user's latest interview, with its cost by kind of
//!   work (turns, stage summaries, report; `null` for an interview older than the split);
//! - `GET /api/sessions/{user}/report`: the user's latest confirmed (or corrected) report.
//!
//! Each request carries `Authorization: Bearer <DESK_API_TOKEN>`, compared in constant time.
//! Without the setting the API does not exist (404), so an unset token never means "open".

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{Desk, index::Row, plain};
use crate::model::{UserId, Work};

/// The API's routes.
pub fn routes() -> Router<Arc<Desk>> {
    Router::new()
        .route("/api/sessions", get(sessions))
        .route("/api/sessions/{user}/status", get(status))
        .route("/api/sessions/{user}/report", get(report))
}

/// Lets the request through, or answers it: 404 with the API off, 401 without the token.
fn authorized(desk: &Desk, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(expected) = &desk.config.api_token else {
        return Err(Box::new(plain(StatusCode::NOT_FOUND, "not found")));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(expected.expose_secret().as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        let mut answer = plain(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        Err(Box::new(answer))
    }
}

/// One interview as the API shows it: ids, the expert's name, numbers and times, nothing
/// the expert said.
fn summary(desk: &Desk, row: &Row) -> Value {
    let now = desk.now();
    json!({
        "user": row.user,
        "name": row.expert.as_ref().map(|e| &e.name),
        "username": row.expert.as_ref().and_then(|e| e.username.as_ref()),
        "session": row.session,
        "state": row.state(now, desk.idle_after).id(),
        "language": row.language,
        "style": row.style,
        "stage": row.stage.id(),
        "stage_number": row.stage.number(),
        "stages": crate::model::Stage::ALL.len(),
        "completeness": row.completeness,
        "answers": { "text": row.text_answers, "voice": row.voice_answers },
        "started_at": row.started_at,
        "last_activity": row.last_activity,
        "finished_at": row.finished_at,
        "active_seconds": row.active.as_secs(),
        "cost_usd": desk.cost(&row.tokens),
        "offline_turns": row.offline_turns,
        "report_version": row.report_version,
    })
}

async fn sessions(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorized(&desk, &headers) {
        return *refused;
    }
    let list: Vec<Value> = desk
        .index
        .with_rows(|rows| rows.values().map(|row| summary(&desk, row)).collect());
    Json(json!({ "sessions": list })).into_response()
}

/// The user's latest interview (by last activity).
fn latest(desk: &Desk, user: u64, wanted: impl Fn(&Row) -> bool) -> Option<Row> {
    desk.index
        .of_user(UserId(user))
        .into_iter()
        .filter(|r| wanted(r))
        .max_by_key(|r| r.last_activity)
}

/// The interview of `row` from the store, or the answer when the store cannot be read.
async fn read(desk: &Desk, row: &Row) -> Result<Option<crate::model::Session>, Box<Response>> {
    super::export::read_session(desk.store.as_ref(), row)
        .await
        .map_err(|error| {
            tracing::error!(user = %row.user, %error, "an interview cannot be read");
            Box::new(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the interview cannot be read",
            ))
        })
}

async fn status(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(user): Path<u64>,
) -> Response {
    if let Err(refused) = authorized(&desk, &headers) {
        return *refused;
    }
    let Some(row) = latest(&desk, user, |_| true) else {
        return plain(StatusCode::NOT_FOUND, "no such interview");
    };
    let mut answer = summary(&desk, &row);
    // The split is in the interview, not the index: read for this one interview only.
    let split = match read(&desk, &row).await {
        Ok(session) => session,
        Err(unreadable) => return *unreadable,
    }
    .filter(|s| (s.user, s.id) == (row.user, row.session))
    .and_then(|s| s.usage.by_work);
    answer["cost_usd_by_kind"] = match split {
        Some(split) => json!({
            "turns": desk.cost(&split.of(Work::Turns)),
            "summaries": desk.cost(&split.of(Work::Summaries)),
            "report": desk.cost(&split.of(Work::Report)),
        }),
        // An interview begun before the split was kept.
        None => Value::Null,
    };
    Json(answer).into_response()
}

async fn report(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(user): Path<u64>,
) -> Response {
    if let Err(refused) = authorized(&desk, &headers) {
        return *refused;
    }
    let now = desk.now();
    let settled = latest(&desk, user, |r| r.state(now, desk.idle_after).is_settled());
    let Some(row) = settled else {
        return plain(StatusCode::NOT_FOUND, "no confirmed report");
    };
    let session = match read(&desk, &row).await {
        Ok(session) => session,
        Err(unreadable) => return *unreadable,
    };
    let read = match session {
        Some(session) => {
            let store = desk.store.as_ref();
            let markdown = super::export::report_markdown(store, &row, &session, &desk.catalog);
            Some((markdown.await, session))
        }
        None => None,
    };
    match read {
        Some((markdown, session)) => Json(json!({
            "user": row.user,
            "session": row.session,
            "version": session.report.version,
            "review": session.report.review,
            "markdown": markdown,
            "document": session.report.document,
        }))
        .into_response(),
        None => plain(StatusCode::NOT_FOUND, "no confirmed report"),
    }
}
