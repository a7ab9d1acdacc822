//! `POST /introspect` (RFC 7662) and `POST /revoke` (RFC 7009), answered with
//! `Cache-Control: no-store`. Introspection needs an authenticated confidential client (401
//! otherwise). Revocation is open to public clients too, identified by `client_id` (RFC 7009
//! §2.1), so that a single-page app can revoke its own tokens at sign-out; it can revoke only
//! tokens issued to it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::token::{authenticated, no_store};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::TokenRequest;
use crate::oauth::introspection;
use crate::state::AppState;

async fn confidential(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(std::sync::Arc<Client>, TokenRequest), OAuthError> {
    let (client, request) = authenticated(state, headers, body).await?;
    if client.is_public() {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "a public client cannot use this endpoint",
        ));
    }
    Ok((client, request))
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (client, request) = confidential(&state, &headers, &body).await?;
        let token = request.require("token")?;
        let hint = request.get("token_type_hint");
        introspection::introspect(&state.issuer(), &state.stores(), &client, token, hint).await
    };
    match result.await {
        Ok(answer) => no_store(answer),
        Err(error) => error.into_response(),
    }
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request) = match authenticated(&state, &headers, &body).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let token = request.require("token")?;
        let hint = request.get("token_type_hint");
        introspection::revoke(&state.issuer(), &state.stores(), &client, token, hint).await
    };
    let response = match result.await {
        // RFC 7009 §2.2: 200 whether or not the token was known.
        Ok(()) => (
            StatusCode::OK,
            [(axum::http::header::CACHE_CONTROL, "no-store")],
        )
            .into_response(),
        Err(error) => error.into_response(),
    };
    crate::http::cors::for_client(response, Some(client.client_id.to_string()))
}
