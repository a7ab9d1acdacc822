//! The HTTP surface, and the only code that knows axum. [`router`] merges the area routers and
//! wraps every route in the [`edge`]: [`access`] (a request id, echoed back; a span with the
//! method, the path and the id; metrics by route; the access log), bounded input ([`bounded`]:
//! every parameter's length and the body's size checked before any handler), the one log line of
//! a server error ([`failure`]), and strict security [`headers`]. Each layer is applied only where it is needed: the session and the
//! timeout to the pages a person sees, CORS to the endpoints a browser calls cross-origin.

mod access;
mod account;
pub mod admin;
mod bounded;
pub mod client_addr;
pub mod cors;
pub mod csp;
pub mod edge;
mod email;
pub mod error;
pub mod extract;
mod failure;
mod forms;
mod headers;
pub mod links;
pub mod login;
pub mod oauth;
mod oidc;
mod ops;
pub mod page;
mod session;
mod signup;
mod well_known;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

use crate::oidc::discovery::paths;
use crate::state::AppState;
use crate::urls::paths as pages;
use error::PageError;

/// The longest any request may take before it is answered with 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    // Browser-based relying parties fetch discovery and the JWKS cross-origin (the handlers
    // allow any origin).
    let public = Router::new()
        .route(paths::OPENID_CONFIGURATION, get(well_known::discovery))
        .route(paths::OAUTH_METADATA, get(well_known::discovery))
        .route(paths::JWKS, get(well_known::jwks));

    // Pages a person sees: they get the session (and only they, so API calls touch no session).
    let store = crate::sessions::store::RedisSessionStore::new(
        state.redis.clone(),
        state.config.new_sessions_per_minute,
    );
    let browser = Router::new()
        .route(paths::AUTHORIZE, get(oauth::authorize::start))
        .route(pages::AUTHORIZE_RESUME, get(oauth::authorize::resume))
        .route(
            pages::LOGIN,
            get(login::password::show).post(login::password::submit),
        )
        // A forgotten password: ask for a link by mail, then choose a new password through it.
        .route(
            pages::PASSWORD_FORGOT,
            get(login::reset::forgot).post(login::reset::ask),
        )
        .route(
            pages::PASSWORD_RESET,
            get(login::reset::link).post(login::reset::set_password),
        )
        .route(
            pages::LOGIN_MFA,
            get(login::mfa::show).post(login::mfa::submit),
        )
        .route(pages::LOGIN_PASSKEY_OPTIONS, post(login::passkey::options))
        .route(
            pages::LOGIN_PASSKEY,
            get(login::passkey::show).post(login::passkey::submit),
        )
        .route(
            pages::CONSENT,
            get(login::consent::show).post(login::consent::submit),
        )
        .route(
            pages::DEVICE,
            get(login::device::show).post(login::device::submit),
        )
        .route(
            pages::DEVICE_APPROVE,
            get(login::device::approve_page).post(login::device::decide),
        )
        .route(pages::DEVICE_DONE, get(login::device::done))
        // Invitations: the page a mailed link opens, a password or a passkey.
        .route(
            pages::INVITATION,
            get(login::invitation::show).post(login::invitation::accept),
        )
        .route(
            pages::INVITATION_PASSKEY_OPTIONS,
            post(login::invitation::options),
        )
        .route(
            pages::INVITATION_PASSKEY,
            post(login::invitation::accept_passkey),
        )
        .route(pages::ACCOUNT, get(account::show))
        .route(
            pages::ACCOUNT_TOTP,
            get(account::totp::show).post(account::totp::confirm),
        )
        .route(pages::ACCOUNT_TOTP_REMOVE, post(account::totp::remove))
        .route(
            pages::ACCOUNT_PASSKEYS,
            get(account::passkeys::show).post(account::passkeys::add),
        )
        .route(
            pages::ACCOUNT_PASSKEYS_OPTIONS,
            post(account::passkeys::options),
        )
        .route(
            pages::ACCOUNT_PASSKEYS_CONFIRM,
            post(account::passkeys::confirm),
        )
        .route(
            pages::ACCOUNT_PASSWORDLESS,
            post(account::passkeys::passwordless),
        )
        .route(
            "/account/passkeys/{id}/rename",
            post(account::passkeys::rename),
        )
        .route(
            "/account/passkeys/{id}/remove",
            post(account::passkeys::remove),
        )
        .route(
            pages::ACCOUNT_RECOVERY_CODES,
            get(account::recovery_codes).post(account::new_recovery_codes),
        )
        .route(
            pages::ACCOUNT_PASSWORD,
            get(account::password::show).post(account::password::change),
        )
        .route(
            pages::ACCOUNT_REVOKE_APPLICATION,
            post(account::revoke_application),
        )
        .route(
            pages::LOGIN_CONFIRM_ADDRESS,
            get(login::awaiting::show).post(login::awaiting::resend),
        )
        .route(
            pages::ACCOUNT_SIGN_OUT_EVERYWHERE,
            post(account::sign_out_everywhere),
        )
        // Addresses: the page a verification link leads to, and the account's address.
        .route(pages::EMAIL_VERIFY, get(email::show).post(email::confirm))
        .route(pages::ACCOUNT_EMAIL, post(account::email::change))
        .route(pages::ACCOUNT_EMAIL_RESEND, post(account::email::resend))
        .route(pages::ACCOUNT_EMAIL_CONFIRM, post(account::email::confirm))
        .route(
            paths::END_SESSION,
            get(oidc::logout::start).post(oidc::logout::confirm),
        )
        .route(pages::LOGOUT_DONE, get(oidc::logout::done))
        .merge(admin::routes())
        .merge(signup_routes(state.config.signup))
        .layer(crate::sessions::layer(&state.config, store))
        .layer(middleware::from_fn(error::session_store_outage))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_new_sessions,
        ))
        // Sign-in can queue behind password hashing; nothing a person waits for may hang.
        // (The API routes wait only on bounded things: the pool's 5 s, Redis's 2 s.)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ));

    // What a browser-based public client calls cross-origin (see `cors`).
    let spa = Router::new()
        .route(paths::TOKEN, post(oauth::token::token))
        .route(paths::REVOKE, post(oauth::introspect::revoke))
        .route(
            paths::USERINFO,
            get(oidc::userinfo::userinfo).post(oidc::userinfo::userinfo),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::public_clients,
        ));
    let api = Router::new()
        .merge(admin::api::routes())
        .merge(spa)
        .route(
            paths::DEVICE_AUTHORIZATION,
            post(oauth::device::device_authorization),
        )
        .route(paths::INTROSPECT, post(oauth::introspect::introspect));

    let edge = edge::EdgeLayer::new(edge::Settings {
        log: state.config.access_log,
        metrics: state.metrics.clone(),
        https: state.config.issuer.starts_with("https://"),
    });

    // With a metrics listener of its own, `/metrics` is not on the public port at all.
    let metrics = match state.config.metrics_listen {
        None => Router::new().route("/metrics", get(ops::metrics)),
        Some(_) => Router::new(),
    };

    Router::new()
        .merge(public)
        .merge(browser)
        .merge(api)
        .merge(metrics)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route(pages::STYLESHEET, get(stylesheet))
        .route(pages::PASSKEY_SCRIPT, get(passkey_script))
        .fallback(not_found)
        .layer(edge)
        .with_state(state)
}

/// The pages self-registration adds: `/signup` when anyone may sign up, the account page's
/// invitation form in invite mode. Otherwise nothing is at those paths (404).
fn signup_routes(mode: crate::users::signup::Mode) -> Router<AppState> {
    use crate::users::signup::Mode;
    match mode {
        Mode::Open => Router::new().route(pages::SIGNUP, get(signup::show).post(signup::submit)),
        Mode::Invite => Router::new().route(pages::ACCOUNT_INVITE, post(account::invite::send)),
        Mode::Off => Router::new(),
    }
}

/// The router of the metrics listener (`PORTCULLIS_METRICS_LISTEN`): `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(state)
}

/// Serves a browser request under [`crate::sessions::admission`]: a new session it would create
/// counts against the client's address, and past the limit the answer is 429 (and no session).
async fn limit_new_sessions(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let from = client_addr::ClientAddr::of(&parts, &state.config.trusted_proxies)
        .0
        .ip();
    let serve = next.run(Request::from_parts(parts, body));
    match crate::sessions::admission::admit(from, serve).await {
        (_, Some(wait)) => PageError::TooManyAttempts(wait.as_secs()).into_response(),
        (response, None) => response,
    }
}

/// A file from `static/`, built into the binary, cached by browsers for an hour.
fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../static/portcullis.css"),
    )
}

async fn passkey_script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../static/passkeys.js"),
    )
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
