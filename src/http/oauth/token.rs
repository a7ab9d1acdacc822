//! `POST /token`: reads the form, authenticates the client, runs the grant. Every answer, good
//! or bad, carries `Cache-Control: no-store` (RFC 6749 §5.1) and errors are RFC 6749 §5.2 JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::clients::store::Client;
use crate::http::cors;
use crate::oauth::client_auth;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::{self, TokenRequest, server_error};
use crate::state::AppState;

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request) = match authenticated(&state, &headers, &body).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let issued = grants::exchange(&state.issuer(), &state.stores(), &client, &request).await;
    let response = match issued {
        Ok(response) => {
            // Counted here, not in the grants: the protocol core records no metrics.
            if let Ok(grant) = request.grant_type() {
                state.metrics.token_issued(grant.as_str());
            }
            no_store(response)
        }
        Err(error) => error.into_response(),
    };
    // Errors too: a single-page app must be able to read why (see `cors`).
    cors::for_client(response, Some(client.client_id.to_string()))
}

/// Reads an `application/x-www-form-urlencoded` body and authenticates the client it comes from
/// (shared by `/token`, `/introspect` and `/revoke`).
pub async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(std::sync::Arc<Client>, TokenRequest), OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let request = TokenRequest::parse(body)?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let presented = client_auth::presented(
        authorization,
        request.get("client_id"),
        request.get("client_secret"),
    )?;
    // From the in-process cache: the common case touches neither Postgres nor Redis.
    let client = match presented.client_id.as_deref() {
        Some(id) => state.clients.get(id).await.map_err(server_error)?,
        None => None,
    };
    Ok((client_auth::authenticate(&presented, client)?, request))
}

/// A JSON answer that must not be cached (RFC 6749 §5.1, RFC 7662 §2.2).
pub fn no_store(body: impl serde::Serialize) -> Response {
    let mut response = Json(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
