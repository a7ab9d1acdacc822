//! What every request gets on its way in and out, in one middleware: a request id (the caller's
//! `x-request-id`, or a new UUID) echoed on the response; a span with the method, the path (never
//! the query, which can carry codes) and the id; metrics by route; and the access log.
//!
//! A log line per request costs more than a JWKS fetch, so by default (`PORTCULLIS_ACCESS_LOG=off`)
//! only what an operator must see is logged: server errors (5xx; once, with their cause, by
//! `http::failure` inside this request's span) and requests slower than [`SLOW`] at `warn`. With `on`, every
//! request gets a line at `info`. The request span is at `info` when the access log is on and at
//! `debug` otherwise, so it costs nothing unless `RUST_LOG` asks for it. Security events are
//! logged where they happen, whatever this setting says.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use crate::config::AccessLog;
use crate::metrics::{Metrics, RequestLabels, RouteLabels};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request that takes longer than this is logged whatever the access-log setting.
pub const SLOW: Duration = Duration::from_secs(1);

/// The middleware's state: the setting and where the metrics go.
#[derive(Clone)]
pub struct Access {
    pub log: AccessLog,
    pub metrics: Arc<Metrics>,
}

/// How a finished request is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// A server error: always, at `error`.
    Failed,
    /// Slower than [`SLOW`]: always, at `warn`.
    Slow,
    /// Anything else: at `info` with the access log on, at `debug` otherwise.
    Served,
}

impl Line {
    fn of(status: axum::http::StatusCode, elapsed: Duration) -> Line {
        if status.is_server_error() {
            Line::Failed
        } else if elapsed >= SLOW {
            Line::Slow
        } else {
            Line::Served
        }
    }
}

pub async fn middleware(
    State(access): State<Access>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = match request.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_id();
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path();
    let id_text = id.to_str().unwrap_or("");
    let span = match access.log {
        AccessLog::On => {
            tracing::info_span!("request", method = %method, path = %path, request_id = %id_text)
        }
        AccessLog::Off => {
            tracing::debug_span!("request", method = %method, path = %path, request_id = %id_text)
        }
    };
    let route = crate::metrics::route_label(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str()),
    );

    let mut response = next.run(request).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = response.status();
    access
        .metrics
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    let labels = RequestLabels {
        route,
        method: crate::metrics::method_label(&method),
        status: status.as_u16(),
    };
    access.metrics.http_requests.get_or_create(&labels).inc();

    // The span carries the request's fields when it is on; when it is off, the line does.
    let (m, p, r) = if span.is_disabled() {
        (Some(method.as_str()), Some(path), Some(id_text))
    } else {
        (None, None, None)
    };
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    match (Line::of(response.status(), elapsed), access.log) {
        // Logged once, with its cause, by `failure::log_failures` inside this span.
        (Line::Failed, _) => {}
        (Line::Slow, _) => {
            tracing::warn!(parent: &span, status, latency_ms, method = m, path = p, request_id = r, "slow request")
        }
        (Line::Served, AccessLog::On) => {
            tracing::info!(parent: &span, status, latency_ms, "request")
        }
        (Line::Served, AccessLog::Off) => {
            tracing::debug!(parent: &span, status, latency_ms, "request")
        }
    }
    if !response.headers().contains_key(&REQUEST_ID) {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

/// A new request id: a random UUID, hyphenated.
fn new_id() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn server_errors_and_slow_requests_are_always_logged() {
        let quick = Duration::from_millis(3);
        assert_eq!(Line::of(StatusCode::OK, quick), Line::Served);
        assert_eq!(Line::of(StatusCode::NOT_FOUND, quick), Line::Served);
        assert_eq!(
            Line::of(StatusCode::SERVICE_UNAVAILABLE, quick),
            Line::Failed
        );
        assert_eq!(Line::of(StatusCode::OK, SLOW), Line::Slow);
        assert_eq!(
            Line::of(StatusCode::INTERNAL_SERVER_ERROR, SLOW * 2),
            Line::Failed
        );
    }

    #[test]
    fn request_ids_are_fresh_uuids() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.to_str().unwrap()).is_ok());
    }
}
