//! `POST /device_authorization` (RFC 8628 §3.1, §3.2): a device (TV, command line) asks for codes;
//! the person then goes to `/device` on another screen.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::token::{authenticated, no_store};
use crate::clients::GrantType;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::server_error;
use crate::oauth::scope;
use crate::state::AppState;
use crate::tokens::device;

pub async fn device_authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match start(&state, &headers, &body).await {
        Ok(answer) => no_store(answer),
        Err(error) => error.into_response(),
    }
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, OAuthError> {
    let (client, request) = authenticated(state, headers, body).await?;
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the device flow",
        ));
    }
    let requested = request.get("scope").unwrap_or_default();
    let scopes = scope::grantable(requested, &client.scopes);
    if scopes.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "none of the requested scopes is allowed for this client",
        ));
    }
    let config = &state.config;
    let issued = device::start(
        &state.redis,
        &client.client_id,
        &client.name,
        scopes,
        config.device_code_ttl,
        config.device_poll_interval,
    )
    .await
    .map_err(server_error)?;
    let verification_uri = format!("{}/device", config.issuer);
    Ok(json!({
        "device_code": issued.device_code.expose(),
        "user_code": issued.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={}", issued.user_code),
        "expires_in": config.device_code_ttl.as_secs(),
        "interval": config.device_poll_interval.as_secs(),
    }))
}
