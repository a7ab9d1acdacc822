//! CORS (WHATWG Fetch §3.2) for browser-based public clients (single-page apps, RFC 9700 §2.1 and
//! draft-ietf-oauth-browser-based-apps §6.3) on `/token`, `/userinfo` and `/revoke`, and for no
//! one else. An origin is allowed only if it is the origin of a registered redirect URI of a
//! *public* client; confidential clients run on servers and need no CORS.
//!
//! A preflight (`OPTIONS`) names no client, so it is allowed for an origin that belongs to some
//! enabled public client (one indexed lookup, [`store::is_public_origin`]). The actual request
//! names its client (`client_id` in the form for `/token` and `/revoke`, the access token's
//! client for `/userinfo`): the handler records it with [`for_client`], and the origin is echoed
//! only if it belongs to that client. Credentials (cookies) are never allowed: the tokens travel
//! in headers and bodies. Every answer says `Vary: Origin`, so caches keep them apart.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::clients::origin::WebOrigin;
use crate::clients::store;
use crate::state::AppState;

/// How long a browser may cache an allowed preflight.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The client an answer was for (a response extension set by the handler).
#[derive(Debug, Clone)]
struct ForClient(String);

/// Marks `response` as the answer to `client_id`'s request, if the client is known.
pub fn for_client(mut response: Response, client_id: Option<String>) -> Response {
    if let Some(client_id) = client_id {
        response.extensions_mut().insert(ForClient(client_id));
    }
    response
}

/// The middleware for the endpoints a browser-based public client calls.
pub async fn public_clients(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .and_then(WebOrigin::from_header);
    if request.method() == Method::OPTIONS {
        return preflight(&state, origin).await;
    }
    let mut response = next.run(request).await;
    let client_id = response.extensions().get::<ForClient>().cloned();
    vary(response.headers_mut());
    if let (Some(origin), Some(ForClient(client_id))) = (origin, client_id)
        && belongs_to(&state, &origin, &client_id).await
    {
        allow(response.headers_mut(), &origin);
        // So that a single-page app can read why a token was refused (RFC 6750 §3).
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
    response
}

async fn preflight(state: &AppState, origin: Option<WebOrigin>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    vary(headers);
    let Some(origin) = origin else {
        return response;
    };
    match store::is_public_origin(&state.db, &origin).await {
        Ok(true) => {
            allow(headers, &origin);
            for (name, value) in [
                (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "Authorization, Content-Type",
                ),
                (header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE),
            ] {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "cannot look up the origin of a CORS preflight"),
    }
    response
}

/// Whether `origin` is the origin of a redirect URI of the enabled public client `client_id`.
async fn belongs_to(state: &AppState, origin: &WebOrigin, client_id: &str) -> bool {
    match state.clients.get(client_id).await {
        Ok(Some(client)) => client.is_public() && client.web_origins.contains(origin),
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a client for CORS");
            false
        }
    }
}

fn vary(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

fn allow(headers: &mut HeaderMap, origin: &WebOrigin) {
    // The origin was parsed and re-serialized as ASCII, so it is a valid header value.
    if let Ok(value) = HeaderValue::from_str(origin.as_str()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
}
