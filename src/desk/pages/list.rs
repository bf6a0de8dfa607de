//! The interviews: a filter by state, sortable columns, pages of [`PAGE_SIZE`]. It answers
//! from the index under its read lock: with ten thousand rows, a filter and a sort of
//! references, then fifty rows turned into text.

use std::{cmp::Reverse, sync::Arc};

use askama::Template;
use axum::{
    extract::{Query, State as Shared},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{Frame, dollars, html, interview_href, shown};
use crate::desk::{
    Desk,
    index::{Row, State},
};

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// The sortable columns, by their id in the URL; the first is the default.
const SORTS: [&str; 7] = [
    "last", "started", "user", "stage", "progress", "cost", "offline",
];

#[derive(Deserialize)]
pub(super) struct ListQuery {
    state: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

struct Filter {
    name: String,
    href: String,
    current: bool,
    count: usize,
}

struct Column {
    name: String,
    href: Option<String>,
    current: bool,
}

struct ListRow {
    user: String,
    session: u32,
    href: String,
    language: &'static str,
    style: String,
    stage: String,
    stage_number: usize,
    completeness: u8,
    text_answers: u32,
    voice_answers: u32,
    last_activity: String,
    last_activity_iso: String,
    state: String,
    state_id: &'static str,
    cost: String,
    offline_turns: u32,
}

#[derive(Template)]
#[template(path = "desk/interviews.html")]
struct ListPage {
    frame: Frame,
    filters: Vec<Filter>,
    columns: Vec<Column>,
    rows: Vec<ListRow>,
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
}

fn href(state: Option<State>, sort: &str, page: usize) -> String {
    let mut query = vec![];
    if let Some(state) = state {
        query.push(format!("state={}", state.id()));
    }
    if sort != SORTS[0] {
        query.push(format!("sort={sort}"));
    }
    if page > 1 {
        query.push(format!("page={page}"));
    }
    if query.is_empty() {
        "/interviews".to_owned()
    } else {
        format!("/interviews?{}", query.join("&"))
    }
}

pub(super) async fn page(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let state = q.state.as_deref().and_then(State::from_id);
    let sort = q
        .sort
        .as_deref()
        .filter(|s| SORTS.contains(s))
        .unwrap_or(SORTS[0]);
    let now = desk.now();
    let idle_after = desk.idle_after;
    let back = href(state, sort, q.page.unwrap_or(1));
    let frame = Frame::signed(&desk, &signed, "desk-nav-interviews", &back);
    let t = &frame.t;
    let cost = |row: &Row| desk.cost(&row.tokens).unwrap_or(0.0);
    let (counts, total, chosen, rows) = desk.index.with_rows(|all| {
        let mut counts = [0usize; State::ALL.len()];
        let mut chosen: Vec<&Row> = Vec::new();
        for row in all.values() {
            let s = row.state(now, idle_after);
            counts[State::ALL.iter().position(|x| *x == s).unwrap_or(0)] += 1;
            if state.is_none_or(|wanted| wanted == s) {
                chosen.push(row);
            }
        }
        match sort {
            "started" => chosen.sort_by_key(|r| Reverse(r.started_at)),
            "user" => chosen.sort_by_key(|r| (r.user, r.session)),
            "stage" => chosen.sort_by_key(|r| Reverse((r.stage, r.completeness))),
            "progress" => chosen.sort_by_key(|r| Reverse(r.completeness)),
            "cost" => chosen.sort_by(|a, b| cost(b).total_cmp(&cost(a))),
            "offline" => chosen.sort_by_key(|r| Reverse(r.offline_turns)),
            _ => chosen.sort_by_key(|r| Reverse(r.last_activity)),
        }
        let pages = chosen.len().div_ceil(PAGE_SIZE).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        let shown_rows: Vec<ListRow> = chosen
            .iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|row| {
                let s = row.state(now, idle_after);
                ListRow {
                    user: row.user.to_string(),
                    session: row.session,
                    href: interview_href(row.user, row.session),
                    language: row.language.code(),
                    style: t.style(row.style),
                    stage: t.stage(row.stage),
                    stage_number: row.stage.number(),
                    completeness: row.completeness,
                    text_answers: row.text_answers,
                    voice_answers: row.voice_answers,
                    last_activity: shown(row.last_activity),
                    last_activity_iso: row.last_activity.to_rfc3339(),
                    state: t.state(s),
                    state_id: s.id(),
                    cost: dollars(desk.cost(&row.tokens)),
                    offline_turns: row.offline_turns,
                }
            })
            .collect();
        (counts, all.len(), (chosen.len(), page, pages), shown_rows)
    });
    let (_, page, pages) = chosen;
    let mut filters = vec![Filter {
        name: t.get("desk-state-all"),
        href: href(None, sort, 1),
        current: state.is_none(),
        count: total,
    }];
    filters.extend(State::ALL.iter().zip(counts).map(|(s, count)| Filter {
        name: t.state(*s),
        href: href(Some(*s), sort, 1),
        current: state == Some(*s),
        count,
    }));
    let column = |id: &str, sort_id: Option<&str>| Column {
        name: t.get(id),
        href: sort_id.map(|s| href(state, s, 1)),
        current: sort_id == Some(sort),
    };
    let columns = vec![
        column("desk-col-expert", Some("user")),
        column("desk-col-language", None),
        column("desk-col-interviewer", None),
        column("desk-col-stage", Some("stage")),
        column("desk-col-completeness", Some("progress")),
        column("desk-col-answers", None),
        column("desk-col-last-activity", Some("last")),
        column("desk-col-state", None),
        column("desk-col-cost", Some("cost")),
        column("desk-col-offline", Some("offline")),
    ];
    let previous = (page > 1).then(|| href(state, sort, page - 1));
    let next = (page < pages).then(|| href(state, sort, page + 1));
    html(
        StatusCode::OK,
        ListPage {
            frame,
            filters,
            columns,
            rows,
            page,
            pages,
            previous,
            next,
        },
    )
}
