//! Liveness and metrics endpoints for operators.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.app.db.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "base de données injoignable\n",
        )
    }
}

/// Prometheus text, for operators only: with `PASSERELLE_METRICS_TOKEN` set, a request must
/// carry it as a bearer token; without it, only a client on this machine (loopback, and not
/// relayed by a reverse proxy) is answered. Everyone else gets the site's « introuvable ».
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let allowed = match &state.app.settings.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                subtle::ConstantTimeEq::ct_eq(given.trim().as_bytes(), token.as_bytes()).into()
            }),
        None => {
            peer.is_some_and(|p| p.ip().is_loopback())
                && !headers.contains_key("x-forwarded-for")
                && !headers.contains_key(header::FORWARDED)
        }
    };
    if !allowed {
        return crate::error::not_found().await;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
