//! Operations endpoints: liveness (`/healthz`: the process answers), readiness (`/readyz`) and
//! Prometheus metrics (`/metrics`).
//!
//! Readiness fails (503) only while this replica drains after SIGTERM. It answers at once, from
//! the background check of [`crate::health`]. A store that did not answer is reported
//! (`"status": "degraded"`, and which one) but keeps the replica in rotation: every replica
//! shares the same PostgreSQL and Redis, so failing readiness would take all of them out at once,
//! and with them the JWKS, discovery and `client_credentials`, which keep working without Redis
//! (and the first two without PostgreSQL).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let (postgres_ok, redis_ok) = (state.health.postgres(), state.health.redis());
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let draining = state.draining.load(Ordering::SeqCst);
    let (status, word_for_status) = match (draining, postgres_ok && redis_ok) {
        (true, _) => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
        (false, true) => (StatusCode::OK, "ready"),
        (false, false) => (StatusCode::OK, "degraded"),
    };
    let body = json!({
        "status": word_for_status,
        "checks": { "postgres": word(postgres_ok), "redis": word(redis_ok) },
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let cached = i64::try_from(state.clients.len()).unwrap_or(i64::MAX);
    state.metrics.client_cache_entries.set(cached);
    match state.metrics.encode() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
