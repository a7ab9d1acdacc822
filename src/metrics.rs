//! The server's own metrics, in a registry owned by the app (no global recorder, so tests can run
//! many apps in one process): HTTP requests by route, method and status; request latency by route;
//! tokens issued by grant; sign-ins by outcome; what the cleanup deleted, per table, and how long
//! its last run took. Served at `/metrics` in the OpenMetrics text format.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::oidc::discovery::paths;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern (`/jwks.json`), never the raw path, so the label set stays small.
    pub route: Cow<'static, str>,
    pub method: Cow<'static, str>,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: Cow<'static, str>,
}

/// One route's latency histogram and label, looked up on the route's first request and kept by
/// the HTTP edge: a request then costs no label hashing for its latency and, when it gets the
/// route's usual answer, none for its count.
#[derive(Default)]
pub struct RouteMetrics(OnceLock<RouteHandles>);

struct RouteHandles {
    route: Cow<'static, str>,
    duration: Histogram,
    /// The counter of the first successful method and status seen: what most requests get.
    usual: OnceLock<(http::Method, u16, Counter)>,
}

impl RouteMetrics {
    /// Counts a request to this route (`matched`: its pattern, the same on every call) and
    /// records its latency.
    pub fn record(
        &self,
        metrics: &Metrics,
        matched: Option<&str>,
        method: &http::Method,
        status: u16,
        elapsed: Duration,
    ) {
        let handles = self.0.get_or_init(|| {
            let route = route_label(matched);
            let labels = RouteLabels {
                route: route.clone(),
            };
            RouteHandles {
                duration: metrics.http_duration.get_or_create(&labels).clone(),
                route,
                usual: OnceLock::new(),
            }
        });
        handles.duration.observe(elapsed.as_secs_f64());
        if let Some((m, s, counter)) = handles.usual.get()
            && m == method
            && *s == status
        {
            counter.inc();
            return;
        }
        let labels = RequestLabels {
            route: handles.route.clone(),
            method: method_label(method),
            status,
        };
        let counter = metrics.http_requests.get_or_create(&labels).clone();
        counter.inc();
        if (200..300).contains(&status) {
            let _ = handles.usual.set((method.clone(), status, counter));
        }
    }
}

/// The busiest routes, labelled without allocating.
const HOT_ROUTES: [&str; 8] = [
    paths::TOKEN,
    paths::JWKS,
    paths::OPENID_CONFIGURATION,
    paths::OAUTH_METADATA,
    paths::INTROSPECT,
    paths::USERINFO,
    "/healthz",
    "/readyz",
];

/// The label of a matched route pattern (`unmatched` for unknown paths).
fn route_label(matched: Option<&str>) -> Cow<'static, str> {
    match matched {
        None => Cow::Borrowed("unmatched"),
        Some(route) => match HOT_ROUTES.iter().find(|hot| **hot == route) {
            Some(hot) => Cow::Borrowed(hot),
            None => Cow::Owned(route.to_owned()),
        },
    }
}

/// The label of a request method: the standard methods (RFC 9110 §9, and PATCH) by name, any
/// other name a client makes up as `other`, so a client cannot add series at will.
pub fn method_label(method: &http::Method) -> Cow<'static, str> {
    use http::Method;
    let name = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    };
    Cow::Borrowed(name)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub table: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: HistogramFamily,
    pub tokens_issued: Family<GrantLabels, Counter>,
    pub logins: Family<OutcomeLabels, Counter>,
    /// Clients held in this replica's in-process cache (set when the metrics are read).
    pub client_cache_entries: Gauge,
    /// Rows the cleanup deleted, by table ([`crate::cleanup`]).
    pub cleanup_deleted: Family<TableLabels, Counter>,
    /// Cleanup runs by outcome: `done`, `skipped` (another replica was running it), `failed`.
    pub cleanup_runs: Family<OutcomeLabels, Counter>,
    /// How long this replica's last cleanup run took, in seconds.
    pub cleanup_last_run_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Tokens issued since the last tally to Redis (see `admin::dashboard`).
    pub tokens_untallied: std::sync::atomic::AtomicU64,
    /// Messages in the outbox not yet sent nor given up, as this replica's worker last counted.
    pub outbox_queued: Gauge,
    /// Messages this replica's worker sent.
    pub outbox_sent: Counter,
    /// Attempts that failed and will be retried.
    pub outbox_retried: Counter,
    /// Messages given up on (refused for good, or undeliverable too long).
    pub outbox_failed: Counter,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration = HistogramFamily::new_with_constructor(latency_histogram);
        let tokens_issued = Family::<GrantLabels, Counter>::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        registry.register(
            "tokens_issued",
            "Tokens issued by grant type",
            tokens_issued.clone(),
        );
        registry.register("logins", "Sign-in attempts by outcome", logins.clone());
        let client_cache_entries = Gauge::default();
        registry.register(
            "client_cache_entries",
            "Clients held in the in-process cache",
            client_cache_entries.clone(),
        );
        let cleanup_deleted = Family::<TableLabels, Counter>::default();
        registry.register(
            "cleanup_deleted_rows",
            "Rows deleted by the cleanup, by table",
            cleanup_deleted.clone(),
        );
        let cleanup_runs = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cleanup_runs",
            "Cleanup runs by outcome (done, skipped while another replica runs it, failed)",
            cleanup_runs.clone(),
        );
        let cleanup_last_run_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "cleanup_last_run_seconds",
            "How long this replica's last cleanup run took",
            cleanup_last_run_seconds.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued",
            "Messages waiting in the outbox (not sent, not given up)",
            outbox_queued.clone(),
        );
        let outbox_sent = Counter::default();
        registry.register(
            "outbox_sent",
            "Messages this replica sent",
            outbox_sent.clone(),
        );
        let outbox_retried = Counter::default();
        registry.register(
            "outbox_retried",
            "Delivery attempts that failed and will be retried",
            outbox_retried.clone(),
        );
        let outbox_failed = Counter::default();
        registry.register(
            "outbox_failed",
            "Messages given up on (refused for good, or undeliverable too long)",
            outbox_failed.clone(),
        );
        Metrics {
            registry,
            outbox_queued,
            outbox_sent,
            outbox_retried,
            outbox_failed,
            cleanup_deleted,
            cleanup_runs,
            cleanup_last_run_seconds,
            http_requests,
            http_duration,
            tokens_issued,
            logins,
            client_cache_entries,
            tokens_untallied: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Counts a token issued by `grant`.
    pub fn token_issued(&self, grant: &'static str) {
        self.tokens_issued
            .get_or_create(&GrantLabels { grant })
            .inc();
        self.tokens_untallied
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Counts a sign-in attempt with `outcome` (`success`, `bad_credentials`, `throttled`, ...).
    pub fn login(&self, outcome: &str) {
        self.logins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let method = |name: &str| http::Method::from_bytes(name.as_bytes());
        assert_eq!(method_label(&http::Method::DELETE), "DELETE");
        assert!(method("FOOBAR").is_ok_and(|m| method_label(&m) == "other"));
        assert!(method("BAZ").is_ok_and(|m| method_label(&m) == "other"));
    }

    #[test]
    fn a_routes_kept_handles_count_every_method_and_status_apart() {
        let metrics = Metrics::new();
        let route = RouteMetrics::default();
        let quick = Duration::from_millis(1);
        let (get, post) = (http::Method::GET, http::Method::POST);
        for (method, status) in [
            (&post, 401),
            (&get, 200),
            (&get, 200),
            (&post, 200),
            (&get, 304),
        ] {
            route.record(&metrics, Some(paths::TOKEN), method, status, quick);
        }
        let text = metrics.encode().unwrap();
        for (method, status, count) in [
            ("POST", 401, 1),
            ("GET", 200, 2),
            ("POST", 200, 1),
            ("GET", 304, 1),
        ] {
            let line = format!(
                r#"portcullis_http_requests_total{{route="/token",method="{method}",status="{status}"}} {count}"#
            );
            assert!(text.contains(&line), "{line} in\n{text}");
        }
        assert!(
            text.contains(r#"portcullis_http_request_duration_seconds_count{route="/token"} 5"#)
        );
    }
}
