//! Operations endpoints: liveness (`/healthz`: the process answers), readiness (`/readyz`:
//! PostgreSQL and Redis answer within a second, and the server is not draining) and Prometheus
//! metrics (`/metrics`).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let postgres = tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("select 1").execute(&state.db));
    let redis = tokio::time::timeout(CHECK_TIMEOUT, state.redis.ping());
    let (postgres, redis) = tokio::join!(postgres, redis);
    let postgres_ok = matches!(postgres, Ok(Ok(_)));
    let redis_ok = matches!(redis, Ok(Ok(())));
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = postgres_ok && redis_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": { "postgres": word(postgres_ok), "redis": word(redis_ok) },
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
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
