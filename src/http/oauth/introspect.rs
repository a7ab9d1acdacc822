//! `POST /introspect` (RFC 7662) and `POST /revoke` (RFC 7009), answered with
//! `Cache-Control: no-store`. Introspection needs an authenticated confidential client (401
//! otherwise). Revocation is open to public clients too, identified by `client_id` (RFC 7009
//! §2.1), so that a single-page app can revoke its own tokens at sign-out; it can revoke only
//! tokens issued to it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::token::no_store;
use crate::http::extract::{AuthenticatedClient, ConfidentialClient};
use crate::oauth::introspection;
use crate::state::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    ConfidentialClient(AuthenticatedClient { client, request }): ConfidentialClient,
) -> Response {
    let result = async {
        let token = request.require("token")?;
        let hint = request.get("token_type_hint");
        introspection::introspect(&state.issuer(), &state.stores(), &client, token, hint).await
    };
    match result.await {
        Ok(answer) => no_store(answer),
        Err(error) => error.into_response(),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    AuthenticatedClient { client, request }: AuthenticatedClient,
) -> Response {
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
