//! The operator's desk: a small web site served by the bot, where the people who run it follow
//! every interview the experts agreed to show, read and download the reports, and see what the
//! bot costs. Server-rendered HTML with one stylesheet, no JavaScript, nothing fetched from
//! elsewhere, so it works on a phone and with no internet.
//!
//! | module | what it holds |
//! |---|---|
//! | [`index`] | one summary row per interview, read from the store and kept from its announcements (every replica's, on PostgreSQL) |
//! | [`auth`] | sessions after a one-time link, CSRF tokens, the per-address limit on failed sign-ins |
//! | [`headers`] | the security headers of every answer |
//! | [`text`] | the desk's words in English or Russian |
//! | [`pages`] | the routes and the HTML pages: sign-in, interviews, one interview, studies, one study, overview, export |
//! | [`charts`] | the small SVG charts of the overview, drawn on the server |
//! | [`export`] | the ZIP of confirmed reports and the CSV of interviews |
//! | [`api`] | the JSON API for programs, behind `DESK_API_TOKEN` |
//!
//! Nothing an expert said goes into a URL or a log line: URLs carry user and interview ids,
//! and the logs name ids only.

pub mod api;
pub mod auth;
pub mod charts;
pub mod export;
pub mod headers;
pub mod index;
pub mod pages;
pub mod text;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use reqwest::Url;
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::{
    i18n::Catalog,
    interview::Engine,
    llm::pricing::{Price, PriceTable},
    metrics::Metrics,
    model::Clock,
    store::{InterviewStore, links::SignInLinks},
};

pub use index::{Index, Row, State};

/// The desk's settings (`DESK_*`), which [`crate::settings`] reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DESK_ADDR`: where the desk listens.
    pub addr: SocketAddr,
    /// `DESK_PUBLIC_URL`: how admins reach it (the links point there); `http://DESK_ADDR`
    /// when unset.
    pub public_url: Url,
    /// `DESK_SESSION_HOURS`: how long a sign-in lasts.
    pub session_lifetime: Duration,
    /// `DESK_API_TOKEN`: the bearer token of the JSON API; unset, the API is off.
    pub api_token: Option<SecretString>,
}

impl Config {
    /// Whether cookies must only travel over https.
    pub fn secure(&self) -> auth::Secure {
        if self.public_url.scheme() == "https" {
            auth::Secure::Https
        } else {
            auth::Secure::Http
        }
    }
}

/// What the desk's routes answer from.
pub struct Desk {
    config: Config,
    index: Index,
    catalog: Arc<Catalog>,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    prices: PriceTable,
    price: Option<Price>,
    idle_after: Duration,
    /// The interviews and their reports, which the index sums up and one interview's page
    /// reads.
    store: Arc<dyn InterviewStore>,
    /// The sign-in links, wherever the `/desk` command and `desk-link` issue them.
    links: Arc<dyn SignInLinks>,
    sessions: auth::Sessions,
    failures: auth::Failures,
    /// The engine's handle, for the studies' pages and actions.
    engine: Engine,
    /// The syntheses the desk started and how the last run of each ended.
    syntheses: pages::study::Runs,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("addr", &self.config.addr)
            .field("interviews", &self.index.len())
            .finish_non_exhaustive()
    }
}

/// Why the desk cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The links folder cannot be made.
    #[error("SESSIONS_DIR: the desk's links folder: {0}")]
    Links(std::io::Error),
    /// A sign-in link cannot be issued (the store refused it).
    #[error("the desk's sign-in link cannot be issued: {0}")]
    Issue(crate::store::StoreError),
}

impl Desk {
    /// Starts the index of `engine`'s store (one read, in the background) and builds the
    /// desk, which reads the engine's texts, counters and clock, costs interviews at `model`'s
    /// price in `prices`, and signs in with the links of `links`.
    pub fn open(
        config: Config,
        engine: &Engine,
        prices: PriceTable,
        model: &str,
        links: Arc<dyn SignInLinks>,
    ) -> Arc<Desk> {
        let store = engine.shared_store().clone();
        let index = Index::follow(&store);
        let metrics = engine.metrics().clone();
        Arc::new(Desk {
            price: prices.price(model),
            config,
            index,
            catalog: engine.catalog().clone(),
            clock: metrics.clock().clone(),
            metrics,
            prices,
            idle_after: engine.session_timeout(),
            store,
            links,
            sessions: auth::Sessions::default(),
            failures: auth::Failures::default(),
            engine: engine.clone(),
            syntheses: pages::study::Runs::default(),
        })
    }

    /// The index the pages answer from.
    pub fn index(&self) -> &Index {
        &self.index
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The signed-in session of a request, or the page that tells the visitor to sign in.
    fn signed(&self, headers: &HeaderMap) -> Result<auth::Signed, Box<Response>> {
        self.sessions.find(headers, self.now()).ok_or_else(|| {
            let lang = crate::model::Lang::En;
            Box::new(pages::message(
                self,
                lang,
                StatusCode::UNAUTHORIZED,
                "desk-signed-out",
            ))
        })
    }

    /// The cost of `tokens` at the configured model's price, if known.
    fn cost(&self, tokens: &crate::model::Usage) -> Option<f64> {
        self.price.map(|p| p.cost(tokens))
    }
}

/// Every route, with the security headers; a request that comes while the first scan runs
/// waits for it (a few seconds with ten thousand interviews) rather than see a partial list.
pub fn router(desk: Arc<Desk>) -> Router {
    pages::routes()
        .merge(api::routes())
        .layer(axum::middleware::from_fn_with_state(desk.clone(), scanned))
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(desk)
}

async fn scanned(
    axum::extract::State(desk): axum::extract::State<Arc<Desk>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    desk.index.scanned().await;
    next.run(request).await
}

/// Serves the desk on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, desk: Arc<Desk>) -> std::io::Result<()> {
    let app = router(desk).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// A plain answer with a status, for the few places that need no page.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}
