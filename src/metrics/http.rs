//! The `METRICS_ADDR` server (`GET /metrics` in the Prometheus text format, `GET /healthz`)
//! and the client the `healthcheck` subcommand uses to ask it.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use tokio::net::TcpListener;

use super::{Metrics, exposition, health::HealthCheck};
use crate::llm::pricing::PriceTable;

/// What the server answers from.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The counters.
    pub metrics: Metrics,
    /// The prices the cost counters are computed at.
    pub prices: PriceTable,
    /// The health verdict.
    pub health: HealthCheck,
}

/// The routes: `/metrics` and `/healthz`.
pub fn router(endpoints: Endpoints) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(endpoints)
}

async fn metrics(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    let body = exposition::encode(&endpoints.metrics, &endpoints.prices);
    ([(header::CONTENT_TYPE, exposition::CONTENT_TYPE)], body)
}

async fn healthz(State(endpoints): State<Endpoints>) -> impl IntoResponse {
    let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    match endpoints.health.check().await {
        Ok(()) => (StatusCode::OK, plain, "ok\n".to_owned()),
        Err(problems) => {
            let body: String = problems.iter().map(|p| format!("{p}\n")).collect();
            (StatusCode::SERVICE_UNAVAILABLE, plain, body)
        }
    }
}

/// Serves the routes on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, endpoints: Endpoints) -> std::io::Result<()> {
    axum::serve(listener, router(endpoints)).await
}

/// Where the `healthcheck` subcommand asks: `METRICS_ADDR`'s port on the loopback address when
/// the server listens on every address, else `METRICS_ADDR` itself.
pub fn healthz_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, addr.port()))
}

/// Why the health check did not pass.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The server answered that the bot is unhealthy.
    #[error("unhealthy (HTTP {status}): {body}")]
    Unhealthy {
        /// The status code.
        status: u16,
        /// The reasons.
        body: String,
    },
    /// The server could not be reached in time.
    #[error("{url}: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// Asks the server at `addr` whether the bot is healthy, within `timeout`; returns the body
/// of a 200.
pub async fn probe(addr: SocketAddr, timeout: Duration) -> Result<String, ProbeError> {
    let url = healthz_url(addr);
    let unreachable = |reason: String| ProbeError::Unreachable {
        url: url.clone(),
        reason,
    };
    // A proxy from the environment must not stand between a container and itself.
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    if status == reqwest::StatusCode::OK {
        Ok(body)
    } else {
        Err(ProbeError::Unhealthy {
            status: status.as_u16(),
            body: body.trim_end().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_healthcheck_asks_the_loopback_address_when_the_server_listens_everywhere() {
        assert_eq!(
            healthz_url("0.0.0.0:9090".parse().unwrap()),
            "http://127.0.0.1:9090/healthz"
        );
        assert_eq!(
            healthz_url("[::]:9090".parse().unwrap()),
            "http://[::1]:9090/healthz"
        );
        assert_eq!(
            healthz_url("10.1.2.3:9100".parse().unwrap()),
            "http://10.1.2.3:9100/healthz"
        );
    }
}
