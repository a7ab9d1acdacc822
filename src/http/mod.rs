//! The HTTP surface, and the only code that knows axum. [`router`] merges the area routers and
//! wraps them in the layers every response gets: a request id (`x-request-id`, echoed back), a
//! tracing span that records the method, the path (never the query, which can carry codes) and
//! the request id, metrics by route, a timeout, and strict security headers.

mod account;
pub mod error;
mod forms;
pub mod login;
pub mod oauth;
mod oidc;
mod ops;
mod well_known;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::metrics::{RequestLabels, RouteLabels};
use crate::oidc::discovery::paths;
use crate::state::AppState;
use error::PageError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest any request may take before it is answered with 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    // Browser-based relying parties fetch discovery and the JWKS cross-origin.
    let public = Router::new()
        .route(paths::OPENID_CONFIGURATION, get(well_known::discovery))
        .route(paths::OAUTH_METADATA, get(well_known::discovery))
        .route(paths::JWKS, get(well_known::jwks))
        .layer(middleware::from_fn(allow_any_origin));

    // Pages a person sees: they get the session (and only they, so API calls touch no session).
    let store = crate::sessions::store::RedisSessionStore::new(state.redis.clone());
    let browser = Router::new()
        .route(paths::AUTHORIZE, get(oauth::authorize::start))
        .route("/authorize/resume", get(oauth::authorize::resume))
        .route(
            "/login",
            get(login::password::show).post(login::password::submit),
        )
        .route("/login/mfa", get(login::mfa::show).post(login::mfa::submit))
        .route(
            "/consent",
            get(login::consent::show).post(login::consent::submit),
        )
        .route("/account", get(account::show))
        .route(
            "/account/totp",
            get(account::totp::show).post(account::totp::confirm),
        )
        .route("/account/totp/remove", post(account::totp::remove))
        .route(
            "/account/recovery-codes",
            get(account::recovery_codes).post(account::new_recovery_codes),
        )
        .route(
            "/account/password",
            get(account::password::show).post(account::password::change),
        )
        .route(
            "/account/applications/revoke",
            post(account::revoke_application),
        )
        .route(
            "/account/sign-out-everywhere",
            post(account::sign_out_everywhere),
        )
        .route(
            paths::END_SESSION,
            get(oidc::logout::start).post(oidc::logout::confirm),
        )
        .route("/logout/done", get(oidc::logout::done))
        .layer(crate::sessions::layer(&state.config, store));

    let api = Router::new()
        .route(paths::TOKEN, post(oauth::token::token))
        .route(paths::INTROSPECT, post(oauth::introspect::introspect))
        .route(paths::REVOKE, post(oauth::introspect::revoke))
        .route(
            paths::USERINFO,
            get(oidc::userinfo::userinfo).post(oidc::userinfo::userinfo),
        );

    Router::new()
        .merge(public)
        .merge(browser)
        .merge(api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/portcullis.css", get(stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track_metrics))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)),
        )
        .with_state(state)
}

/// Counts each request by route pattern, method and status, and records its latency.
async fn track_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = request.method().to_string();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Headers every response carries. CSP allows no inline script and no framing; pages need
/// nothing but the one stylesheet (and `data:` images, for QR codes).
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if state.config.issuer.starts_with("https://") {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

async fn allow_any_origin(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn stylesheet() -> Response {
    const CSS: &str = include_str!("../../static/portcullis.css");
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// Unknown paths: an HTML page for browsers, JSON for everyone else.
async fn not_found(request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return PageError::NotFound.into_response();
    }
    let body = serde_json::json!({ "error": "not_found", "error_description": "there is no endpoint at this path" });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
