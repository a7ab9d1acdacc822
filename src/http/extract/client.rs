//! Client authentication as an extractor, for `/token`, `/introspect`, `/revoke` and
//! `/device_authorization`: the HTTP part (the form body, the `Authorization: Basic` header) is
//! read here; the protocol part (which credentials count, how the secret is compared) is
//! [`crate::oauth::client_auth`]. A request that fails is answered with the RFC 6749 §5.2 error
//! (401 `invalid_client` for bad credentials) before the handler runs.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::clients::store::Client;
use crate::oauth::client_auth;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::{TokenRequest, server_error};
use crate::state::AppState;

/// A client that authenticated (RFC 6749 §2.3), and the form it sent.
pub struct AuthenticatedClient {
    pub client: Arc<Client>,
    pub request: TokenRequest,
}

/// An [`AuthenticatedClient`] that is confidential: introspection is for resource servers and
/// confidential clients only (RFC 7662 §2.1).
pub struct ConfidentialClient(pub AuthenticatedClient);

impl FromRequest<AppState> for AuthenticatedClient {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        // Taken apart, not cloned: the headers are read, never copied.
        let (parts, body) = request.into_parts();
        let body = Bytes::from_request(Request::new(body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        authenticate(state, &parts.headers, &body)
            .await
            .map_err(IntoResponse::into_response)
    }
}

impl FromRequest<AppState> for ConfidentialClient {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let authenticated = AuthenticatedClient::from_request(request, state).await?;
        if authenticated.client.is_public() {
            let error = OAuthError::new(
                ErrorCode::InvalidClient,
                "a public client cannot use this endpoint",
            );
            return Err(error.into_response());
        }
        Ok(Self(authenticated))
    }
}

/// Reads an `application/x-www-form-urlencoded` body and authenticates the client it comes from.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AuthenticatedClient, OAuthError> {
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
    let client = client_auth::authenticate(&presented, client)?;
    Ok(AuthenticatedClient { client, request })
}
