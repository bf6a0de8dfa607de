//! The pages and their routes. Every private page first finds the signed-in session (else
//! 401); every form posts the session's CSRF token (else 403). A page reads the index, never
//! every interview; only one interview's page (and its downloads) reads that interview from
//! the store, and the ZIP the settled ones.

use std::{net::SocketAddr, sync::Arc};

use askama::Template;
use axum::{
    Form, Router,
    extract::{ConnectInfo, Query, State as Shared, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Desk, auth, index::Row, text::Text};
use crate::{
    interview::export as transcript,
    login::Refused,
    model::{Lang, Role, Session, Stage, UserId},
};

mod interview;
mod list;
mod overview;
pub(in crate::desk) mod study;

/// Where the stylesheet is served (the one answer that may be cached).
pub const STYLESHEET: &str = "/desk.css";

/// The pages' routes.
pub fn routes() -> Router<Arc<Desk>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/interviews") }))
        .route(STYLESHEET, get(stylesheet))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/language", post(language))
        .route("/interviews", get(list::page))
        .route("/interviews/{user}/{session}", get(interview::page))
        .route(
            "/interviews/{user}/{session}/{file}",
            get(interview::download),
        )
        .route("/studies", get(study::list).post(study::create))
        .route("/studies/{id}", get(study::page))
        .route("/studies/{id}/close", post(study::close))
        .route("/studies/{id}/synthesize", post(study::synthesize))
        .route("/studies/{id}/questions", post(study::add_questions))
        .route("/studies/{id}/{file}", get(study::download))
        .route("/overview", get(overview::page))
        .route("/export", get(export_page))
        .route("/export/reports.zip", get(export_zip))
        .route("/export/interviews.csv", get(export_csv))
        // Declared here so that the security headers wrap unknown paths too.
        .fallback(|| async { super::plain(StatusCode::NOT_FOUND, "not found") })
}

/// What the layout shows around every page.
pub struct Frame {
    /// The words, in the page's language.
    pub t: Text,
    /// The page's title.
    pub title: String,
    /// The session's CSRF token: the menu and the forms show only when signed in.
    pub csrf: Option<String>,
    /// Where the language form returns to.
    pub back: String,
}

impl Frame {
    fn new(desk: &Desk, lang: Lang, title_id: &str) -> Frame {
        let t = Text::new(desk.catalog.clone(), lang);
        Frame {
            title: t.get(title_id),
            t,
            csrf: None,
            back: "/interviews".into(),
        }
    }

    fn signed(desk: &Desk, signed: &auth::Signed, title_id: &str, back: &str) -> Frame {
        let mut frame = Frame::new(desk, signed.lang, title_id);
        frame.csrf = Some(signed.csrf.clone());
        frame.back = back.to_owned();
        frame
    }
}

/// Renders a page as an HTML answer.
fn html(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a desk page could not be rendered");
            super::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "desk/message.html")]
struct MessagePage {
    frame: Frame,
    text: String,
}

/// A page with one message: `<id>` is its title and `<id>-text` its sentence.
pub fn message(desk: &Desk, lang: Lang, status: StatusCode, id: &str) -> Response {
    let frame = Frame::new(desk, lang, id);
    let text = frame.t.get(&format!("{id}-text"));
    html(status, MessagePage { frame, text })
}

/// [`message`] for a signed-in admin, with the menu.
fn signed_message(desk: &Desk, signed: &auth::Signed, status: StatusCode, id: &str) -> Response {
    let frame = Frame::signed(desk, signed, id, "/interviews");
    let text = frame.t.get(&format!("{id}-text"));
    html(status, MessagePage { frame, text })
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../assets/desk.css"),
    )
        .into_response()
}

/// What the forms post (each form uses some of the fields).
#[derive(Debug, Default, Deserialize)]
struct Posted {
    token: Option<String>,
    csrf: Option<String>,
    lang: Option<String>,
    back: Option<String>,
    // A new study's fields (its language is `lang`). Numbers come as text: an empty or
    // mistyped field is the operator's slip to show, not a form that cannot be read.
    title: Option<String>,
    subject: Option<String>,
    style: Option<String>,
    consent: Option<String>,
    experts: Option<String>,
}

fn posted(form: Result<Form<Posted>, FormRejection>) -> Posted {
    form.map(|Form(p)| p).unwrap_or_default()
}

fn lang_of(code: Option<&str>) -> Lang {
    code.and_then(Lang::from_code).unwrap_or(Lang::En)
}

#[derive(Deserialize)]
struct SigninQuery {
    token: Option<String>,
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/signin.html")]
struct SigninPage {
    frame: Frame,
    token: String,
}

/// Opening a link shows a button; nothing is spent until it is pressed.
async fn signin_page(Shared(desk): Shared<Arc<Desk>>, Query(q): Query<SigninQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let Some(token) = q.token else {
        return message(&desk, lang, StatusCode::BAD_REQUEST, "desk-link-refused");
    };
    let frame = Frame::new(&desk, lang, "desk-signin");
    html(StatusCode::OK, SigninPage { frame, token })
}

/// Pressing the button spends the link and opens a session.
async fn signin(
    Shared(desk): Shared<Arc<Desk>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let lang = lang_of(form.lang.as_deref());
    let now = desk.now();
    let address = client.ip();
    if !desk.failures.allows(address, now) {
        tracing::warn!(%address, "desk sign-in refused: too many failed attempts");
        return message(&desk, lang, StatusCode::TOO_MANY_REQUESTS, "desk-too-many");
    }
    let token = form.token.unwrap_or_default();
    let spent = match desk.links.redeem(&token, now).await {
        Ok(spent) => spent,
        Err(error) => {
            // Not the visitor's failure: not counted against their address.
            tracing::error!(%address, %error, "a desk sign-in could not be checked");
            return super::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the sign-in could not be checked; try again in a moment",
            );
        }
    };
    match spent {
        Ok(()) => {
            let lifetime = desk.config.session_lifetime;
            let expires = now + chrono::Duration::from_std(lifetime).unwrap_or_default();
            let cookie = desk.sessions.open(lang, expires);
            tracing::info!(%address, "desk sign-in");
            let mut answer = Redirect::to("/interviews").into_response();
            let value = auth::set_cookie(&cookie, lifetime, desk.config.secure());
            if let Ok(value) = HeaderValue::from_str(&value) {
                answer.headers_mut().insert(header::SET_COOKIE, value);
            }
            answer
        }
        Err(refused) => {
            desk.failures.failed(address, now);
            tracing::info!(%address, %refused, "desk sign-in refused");
            let id = match refused {
                Refused::Expired => "desk-link-expired",
                Refused::Unknown => "desk-link-refused",
            };
            message(&desk, lang, StatusCode::FORBIDDEN, id)
        }
    }
}

/// The session of a form's request, its CSRF token checked.
fn checked(desk: &Desk, headers: &HeaderMap, form: &Posted) -> Result<auth::Signed, Box<Response>> {
    let signed = desk.signed(headers).map_err(|r| *r)?;
    match &form.csrf {
        Some(token) if signed.csrf_matches(token) => Ok(signed),
        _ => {
            tracing::warn!("a desk form without its CSRF token was refused");
            Err(Box::new(signed_message(
                desk,
                &signed,
                StatusCode::FORBIDDEN,
                "desk-csrf",
            )))
        }
    }
}

async fn signout(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let signed = match checked(&desk, &headers, &form) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    desk.sessions.close(&signed);
    let mut answer = message(&desk, signed.lang, StatusCode::OK, "desk-signed-out");
    if let Ok(value) = HeaderValue::from_str(&auth::clear_cookie(desk.config.secure())) {
        answer.headers_mut().insert(header::SET_COOKIE, value);
    }
    answer
}

async fn language(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let signed = match checked(&desk, &headers, &form) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    if let Some(lang) = form.lang.as_deref().and_then(Lang::from_code) {
        desk.sessions.set_lang(&signed, lang);
    }
    let back = same_site(form.back, "/interviews");
    Redirect::to(&back).into_response()
}

/// Where a form returns to: `back` if it is a path of this site, never an address elsewhere
/// (`//host` included) and never one a `Location` header cannot carry (a control character,
/// which a form can send percent-encoded: the redirect would fail as a server error); else
/// `default`.
fn same_site(back: Option<String>, default: &str) -> String {
    back.filter(|b| {
        b.starts_with('/')
            && !b.starts_with("//")
            && !b.contains('\\')
            && !b.contains(char::is_control)
    })
    .unwrap_or_else(|| default.to_owned())
}

#[derive(Template)]
#[template(path = "desk/export.html")]
struct ExportPage {
    frame: Frame,
    settled: usize,
    total: usize,
}

async fn export_page(Shared(desk): Shared<Arc<Desk>>, headers: HeaderMap) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let now = desk.now();
    let (settled, total) = desk.index.with_rows(|rows| {
        let settled = rows
            .values()
            .filter(|r| r.state(now, desk.idle_after).is_settled())
            .count();
        (settled, rows.len())
    });
    let frame = Frame::signed(&desk, &signed, "desk-nav-export", "/export");
    html(
        StatusCode::OK,
        ExportPage {
            frame,
            settled,
            total,
        },
    )
}

/// A file to download, named `name`.
fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut answer = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        answer
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    answer
}

fn all_rows(desk: &Desk) -> Vec<Row> {
    desk.index
        .with_rows(|rows| rows.values().cloned().collect())
}

async fn export_zip(Shared(desk): Shared<Arc<Desk>>, headers: HeaderMap) -> Response {
    if let Err(refused) = desk.signed(&headers) {
        return *refused;
    }
    let rows = all_rows(&desk);
    let zip = super::export::reports_zip(
        desk.store.as_ref(),
        &rows,
        desk.now(),
        desk.idle_after,
        &desk.catalog,
    )
    .await;
    match zip {
        Ok(bytes) => attachment("application/zip", "reports.zip", bytes),
        Err(error) => {
            tracing::error!(%error, "the reports ZIP could not be built");
            super::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the ZIP could not be built",
            )
        }
    }
}

async fn export_csv(Shared(desk): Shared<Arc<Desk>>, headers: HeaderMap) -> Response {
    if let Err(refused) = desk.signed(&headers) {
        return *refused;
    }
    let rows = all_rows(&desk);
    match super::export::interviews_csv(&rows, desk.now(), desk.idle_after, desk.price) {
        Ok(bytes) => attachment("text/csv; charset=utf-8", "interviews.csv", bytes),
        Err(error) => {
            tracing::error!(%error, "the interviews CSV could not be built");
            super::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the CSV could not be built",
            )
        }
    }
}

/// A time as the pages show it (UTC).
fn shown(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A cost as the pages show it.
fn dollars(cost: Option<f64>) -> String {
    cost.map_or_else(|| "—".to_owned(), |c| format!("${c:.2}"))
}

/// The page of one interview.
fn interview_href(user: UserId, session: u32) -> String {
    format!("/interviews/{user}/{session}")
}

#[cfg(test)]
mod tests {
    use super::same_site;

    #[test]
    fn a_way_back_is_a_path_of_this_site_that_a_header_can_carry() {
        let back = |b: &str| same_site(Some(b.to_owned()), "/interviews");
        assert_eq!(back("/overview?x=1"), "/overview?x=1");
        assert_eq!(back("/studies/%D0%B0"), "/studies/%D0%B0");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "overview",
        ] {
            assert_eq!(back(elsewhere), "/interviews", "{elsewhere}");
        }
        // Found by the desk's fuzz target: `back=/o%00` made the redirect a 500.
        for control in [
            "/o\0verview",
            "/overview\r\nSet-Cookie: x=1",
            "/a\tb",
            "/a\u{7f}",
        ] {
            assert_eq!(back(control), "/interviews", "{control:?}");
        }
    }
}
