//! The overview: the `/metrics` figures, small charts, and the "Needs attention" list.
//!
//! The counters keep no history per day, so the per-day charts are drawn from the index:
//! interviews started and completed on each of the last [`DAYS`] days, and the cost of the
//! interviews by the day they started. Latency, offline turns and transcriptions come from
//! the counters.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use askama::Template;
use axum::{
    extract::State as Shared,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{Frame, dollars, html, interview_href};
use crate::{
    desk::{Desk, charts, index::State},
    metrics::kinds::{AnswerKind, FallbackReason},
};

/// How many days the per-day charts cover.
pub const DAYS: u64 = 14;

/// The most interviews the "Needs attention" list names; the rest are counted, and the
/// interviews page filtered by state lists them all. Ten thousand idle interviews must not
/// make the overview a page of half a megabyte.
const ATTENTION_SHOWN: usize = 50;

/// A report waiting for the expert longer than this needs attention.
pub const WAITING_TOO_LONG: Duration = Duration::from_secs(2 * 24 * 3600);

struct Chart {
    id: &'static str,
    title: String,
    svg: String,
}

struct Attention {
    user: String,
    href: String,
    why: String,
    why_id: &'static str,
}

#[derive(Template)]
#[template(path = "desk/overview.html")]
struct OverviewPage {
    frame: Frame,
    figures: Vec<(String, String)>,
    charts: Vec<Chart>,
    attention: Vec<Attention>,
    /// "And N more", when the list was cut at [`ATTENTION_SHOWN`].
    more: Option<String>,
}

/// What the index says per day.
#[derive(Default, Clone, Copy)]
struct Day {
    started: f64,
    completed: f64,
    cost: f64,
}

pub(in crate::desk) async fn page(Shared(desk): Shared<Arc<Desk>>, headers: HeaderMap) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let frame = Frame::signed(&desk, &signed, "desk-nav-overview", "/overview");
    let t = &frame.t;
    let now = desk.now();
    let snapshot = desk.metrics.snapshot();
    let all = &snapshot.all_time;
    let today = &snapshot.today;
    let cost = all.cost(&desk.prices);
    let mut figures = vec![
        (
            t.get("desk-fig-started"),
            all.interviews_started.to_string(),
        ),
        (
            t.get("desk-fig-completed"),
            all.interviews_completed.to_string(),
        ),
        (
            t.get("desk-fig-abandoned"),
            all.interviews_abandoned.to_string(),
        ),
        (
            t.get("desk-fig-active"),
            snapshot.active_interviews.to_string(),
        ),
        (
            t.get("desk-fig-today-started"),
            today.interviews_started.to_string(),
        ),
        (
            t.get("desk-fig-answers"),
            format!(
                "{} / {}",
                all.answers(AnswerKind::Text),
                all.answers(AnswerKind::Voice)
            ),
        ),
        (t.get("desk-fig-cost"), dollars(Some(cost.dollars))),
        (
            t.get("desk-fig-cost-per-completed"),
            dollars(all.cost_per_completed(&desk.prices)),
        ),
        (
            t.get("desk-fig-transcriptions"),
            all.transcriptions.to_string(),
        ),
        (
            t.get("desk-fig-transcriptions-failed"),
            all.transcriptions_failed().to_string(),
        ),
    ];
    if let Some(latency) = snapshot.latency {
        figures.push((
            t.get("desk-fig-latency"),
            format!(
                "{:.1} s / {:.1} s",
                latency.p50.as_secs_f64(),
                latency.p95.as_secs_f64()
            ),
        ));
    }

    // The per-day figures and the attention list, in one pass over the index.
    let first = now.date_naive() - Days::new(DAYS - 1);
    let mut days: BTreeMap<NaiveDate, Day> = (0..DAYS)
        .map(|d| (first + Days::new(d), Day::default()))
        .collect();
    let mut attention = Vec::new();
    let mut more = 0usize;
    desk.index.with_rows(|rows| {
        for row in rows.values() {
            if let Some(day) = days.get_mut(&row.started_at.date_naive()) {
                day.started += 1.0;
                day.cost += desk.cost(&row.tokens).unwrap_or(0.0);
            }
            if let Some(day) = row
                .finished_at
                .and_then(|at| days.get_mut(&at.date_naive()))
            {
                day.completed += 1.0;
            }
            let state = row.state(now, desk.idle_after);
            let waited = |since: Option<DateTime<Utc>>| {
                since.is_some_and(|at| (now - at).to_std().unwrap_or_default() > WAITING_TOO_LONG)
            };
            let why = if row.report_failures > 0 {
                Some("failing")
            } else if state == State::Idle {
                Some("idle")
            } else if state == State::ReportWaiting && waited(row.finished_at) {
                Some("waiting")
            } else {
                None
            };
            if let Some(why_id) = why {
                if attention.len() == ATTENTION_SHOWN {
                    more += 1;
                    continue;
                }
                attention.push(Attention {
                    user: row.user.to_string(),
                    href: interview_href(row.user, row.session),
                    why: t.get(&format!("desk-attention-{why_id}")),
                    why_id,
                });
            }
        }
    });
    let label = |day: &NaiveDate| day.format("%d.%m").to_string();
    let series = |pick: fn(&Day) -> f64| -> Vec<(String, f64)> {
        days.iter().map(|(d, v)| (label(d), pick(v))).collect()
    };
    let count = |v: f64| format!("{v:.0}");
    let mut charts = vec![
        Chart {
            id: "started",
            title: t.get("desk-chart-started"),
            svg: charts::bars(&t.get("desk-chart-started"), &series(|d| d.started), count),
        },
        Chart {
            id: "completed",
            title: t.get("desk-chart-completed"),
            svg: charts::bars(
                &t.get("desk-chart-completed"),
                &series(|d| d.completed),
                count,
            ),
        },
        Chart {
            id: "cost",
            title: t.get("desk-chart-cost"),
            svg: charts::bars(&t.get("desk-chart-cost"), &series(|d| d.cost), |v| {
                format!("${v:.2}")
            }),
        },
    ];
    let fallbacks: Vec<(String, f64)> = FallbackReason::ALL
        .iter()
        .map(|r| (t.fallback_reason(*r), all.fallbacks(*r) as f64))
        .collect();
    charts.push(Chart {
        id: "offline",
        title: t.get("desk-chart-offline"),
        svg: charts::bars(&t.get("desk-chart-offline"), &fallbacks, count),
    });
    let transcriptions = vec![
        (t.get("desk-chart-transcribed"), all.transcriptions as f64),
        (
            t.get("desk-chart-transcription-failed"),
            all.transcriptions_failed() as f64,
        ),
    ];
    charts.push(Chart {
        id: "transcriptions",
        title: t.get("desk-chart-transcriptions"),
        svg: charts::bars(&t.get("desk-chart-transcriptions"), &transcriptions, count),
    });
    if let Some(latency) = snapshot.latency {
        let bars = vec![
            ("p50".to_owned(), latency.p50.as_secs_f64()),
            ("p95".to_owned(), latency.p95.as_secs_f64()),
        ];
        charts.push(Chart {
            id: "latency",
            title: t.get("desk-chart-latency"),
            svg: charts::bars(&t.get("desk-chart-latency"), &bars, |v| format!("{v:.1} s")),
        });
    }
    html(
        StatusCode::OK,
        OverviewPage {
            figures,
            charts,
            attention,
            more: (more > 0).then(|| format!("{} {more}", t.get("desk-attention-more"))),
            frame,
        },
    )
}
