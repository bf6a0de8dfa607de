//! The headers every answer carries: a strict Content-Security-Policy (nothing runs, nothing
//! is fetched from elsewhere, no page may frame the desk), no MIME sniffing, no referrer (a
//! sign-in URL must not leak to another site), and no caching of private pages.

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// The policy: styles from the desk's own stylesheet, images only inline (the charts are
/// inline SVG), forms only to the desk, no scripts at all (`default-src 'none'`).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers to the answer of every route.
pub async fn secure(request: Request, next: Next) -> Response {
    let public = request.uri().path() == super::pages::STYLESHEET;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !public {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
