//! What every request gets on its way in and out (run by [`super::edge`]): a request id (the
//! caller's `x-request-id`, or a new UUID) echoed on the response; a span with the method, the
//! path (never the query, which can carry codes) and the id; metrics by route (handles kept per
//! route, [`RouteMetrics`]); the access log.
//!
//! A log line per request costs more than a JWKS fetch, so by default (`PORTCULLIS_ACCESS_LOG=off`)
//! only what an operator must see is logged: server errors (5xx; once, with their cause, by
//! `http::failure` inside this request's span) and requests slower than [`SLOW`] at `warn`. With
//! `on`, every request gets a line at `info`. The request span is at `info` when the access log
//! is on and at `debug` otherwise, so it costs nothing unless `RUST_LOG` asks for it or traces are
//! exported (`PORTCULLIS_OTLP_ENDPOINT`, see `telemetry`), which take `debug` spans whatever the
//! log says. Security events are logged where they happen, whatever this setting says.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use tracing::Span;

use crate::config::AccessLog;
use crate::metrics::{Metrics, RouteMetrics};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request that takes longer than this is logged whatever the access-log setting.
pub const SLOW: Duration = Duration::from_secs(1);

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

/// The request's id: the caller's `x-request-id`, or a new one. Handlers do not read it: it is
/// in the span and on the response.
pub fn request_id(request: &Request) -> HeaderValue {
    match request.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => new_id(),
    }
}

/// The request's span: at `info` with the access log on, at `debug` (usually off) otherwise.
pub fn span(log: AccessLog, method: &Method, path: &str, id: &HeaderValue) -> Span {
    let id = id.to_str().unwrap_or("");
    match log {
        AccessLog::On => {
            tracing::info_span!("request", method = %method, path = %path, request_id = %id)
        }
        AccessLog::Off => {
            tracing::debug_span!("request", method = %method, path = %path, request_id = %id)
        }
    }
}

/// A request that has been answered, as [`finish`] records it.
pub struct Finished<'a> {
    pub log: AccessLog,
    pub metrics: &'a Metrics,
    pub route_metrics: &'a RouteMetrics,
    pub span: &'a Span,
    pub method: &'a Method,
    pub path: &'a str,
    pub route: Option<&'a MatchedPath>,
    pub id: &'a HeaderValue,
    pub elapsed: Duration,
}

/// Records an answered request: its metrics, its line (see [`Line`]), and its id on the response.
pub fn finish(done: &Finished<'_>, response: &mut Response) {
    let status = response.status();
    done.route_metrics.record(
        done.metrics,
        done.route.map(MatchedPath::as_str),
        done.method,
        status.as_u16(),
        done.elapsed,
    );

    // The log shows the span's fields when the span is at `info` (access log on); otherwise the
    // line carries them (the `debug` span may still be on, for the OTLP export).
    let span = done.span;
    let (m, p, r) = if span.is_disabled() || done.log == AccessLog::Off {
        (
            Some(done.method.as_str()),
            Some(done.path),
            Some(done.id.to_str().unwrap_or("")),
        )
    } else {
        (None, None, None)
    };
    let latency_ms = done.elapsed.as_secs_f64() * 1000.0;
    let code = status.as_u16();
    match (Line::of(status, done.elapsed), done.log) {
        // Logged once, with its cause, by `failure::log` inside this span.
        (Line::Failed, _) => {}
        (Line::Slow, _) => {
            tracing::warn!(parent: span, status = code, latency_ms, method = m, path = p, request_id = r, "slow request")
        }
        (Line::Served, AccessLog::On) => {
            tracing::info!(parent: span, status = code, latency_ms, "request")
        }
        (Line::Served, AccessLog::Off) => {
            tracing::debug!(parent: span, status = code, latency_ms, "request")
        }
    }
    if !response.headers().contains_key(&REQUEST_ID) {
        response.headers_mut().insert(REQUEST_ID, done.id.clone());
    }
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
