//! `POST /device_authorization` (RFC 8628 §3.1, §3.2): a device (TV, command line) asks for codes;
//! the person then goes to `/device` on another screen. Each request that would create codes
//! first counts against [`ratelimit::DEVICE_PER_CLIENT`] and [`ratelimit::DEVICE_PER_ADDRESS`]
//! (RFC 8628 §5.2: the server must keep codes from being had in bulk); past either, 429 with
//! `slow_down` and `Retry-After`, and no codes.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::token::no_store;
use crate::clients::GrantType;
use crate::http::client_addr::ClientAddr;
use crate::http::extract::AuthenticatedClient;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::server_error;
use crate::oauth::scope;
use crate::ratelimit;
use crate::state::AppState;
use crate::tokens::device;
use crate::urls;

pub async fn device_authorization(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    client: AuthenticatedClient,
) -> Response {
    match start(&state, from.ip(), client).await {
        Ok(answer) => no_store(answer),
        Err(Refused::OAuth(error)) => error.into_response(),
        Err(Refused::TooMany(wait)) => {
            let description = format!(
                "too many device authorization requests; try again in {} s",
                wait.as_secs()
            );
            let mut response = OAuthError::new(ErrorCode::SlowDown, description).into_response();
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

enum Refused {
    OAuth(OAuthError),
    /// A rate limit is used up until this much later.
    TooMany(std::time::Duration),
}

impl From<OAuthError> for Refused {
    fn from(error: OAuthError) -> Self {
        Refused::OAuth(error)
    }
}

async fn start(
    state: &AppState,
    from: std::net::IpAddr,
    AuthenticatedClient { client, request }: AuthenticatedClient,
) -> Result<serde_json::Value, Refused> {
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the device flow",
        )
        .into());
    }
    let requested = request.get("scope").unwrap_or_default();
    let scopes = scope::grantable(requested, &client.scopes);
    if scopes.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "none of the requested scopes is allowed for this client",
        )
        .into());
    }
    let address = from.to_string();
    let limits = [
        (ratelimit::DEVICE_PER_ADDRESS, address.as_str()),
        (ratelimit::DEVICE_PER_CLIENT, client.client_id.as_str()),
    ];
    if let Some(wait) = ratelimit::take(&state.redis, &limits)
        .await
        .map_err(server_error)?
    {
        return Err(Refused::TooMany(wait));
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
    Ok(json!({
        "device_code": issued.device_code.expose(),
        "user_code": issued.user_code,
        "verification_uri": urls::device::enter().absolute(&config.issuer),
        "verification_uri_complete":
            urls::device::enter_code(&issued.user_code).absolute(&config.issuer),
        "expires_in": config.device_code_ttl.as_secs(),
        "interval": config.device_poll_interval.as_secs(),
    }))
}
