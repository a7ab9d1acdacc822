//! The device code grant (RFC 8628 §3.4, §3.5): the device polls until the person has approved or
//! denied on another screen. Too-fast polling gets `slow_down` (the client adds 5 s); an
//! approval yields tokens exactly once.

use super::{
    TokenRequest, TokenResponse, meets_minimum, offline_refresh_token, server_error,
    tokens_for_person,
};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::tokens::Issuer;
use crate::tokens::device::Poll;
use crate::tokens::stores::{DeviceCodes, People, RefreshTokens};

/// The stores this grant uses.
pub trait DeviceCodeStores: DeviceCodes + RefreshTokens + People {}

impl<T: DeviceCodes + RefreshTokens + People> DeviceCodeStores for T {}

#[tracing::instrument(name = "device_code", level = "debug", skip_all, fields(client_id = %client.client_id))]
pub async fn exchange(
    issuer: &Issuer<'_>,
    stores: &impl DeviceCodeStores,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let device_code = request.require("device_code")?;
    let polled = stores
        .poll(device_code, &client.client_id)
        .await
        .map_err(server_error)?;
    let error = |code: ErrorCode, description: &str| Err(OAuthError::new(code, description));
    let (auth, device) = match polled {
        Poll::Unknown | Poll::OtherClient => {
            return error(ErrorCode::InvalidGrant, "unknown device_code");
        }
        Poll::Expired => {
            return error(
                ErrorCode::ExpiredToken,
                "the device_code has expired; start again",
            );
        }
        Poll::SlowDown => {
            return error(
                ErrorCode::SlowDown,
                "polling faster than the interval; add 5 seconds to it (RFC 8628 section 3.5)",
            );
        }
        Poll::Pending => {
            return error(
                ErrorCode::AuthorizationPending,
                "the person has not decided yet",
            );
        }
        Poll::Denied => return error(ErrorCode::AccessDenied, "the person denied the request"),
        Poll::AlreadyRedeemed => {
            return error(
                ErrorCode::InvalidGrant,
                "tokens were already issued for this device_code",
            );
        }
        Poll::Approved(auth, device) => (auth, device),
    };
    meets_minimum(client, &auth.amr)?;
    let profile = stores
        .profile(auth.user_id)
        .await
        .map_err(server_error)?
        .filter(|p| !p.disabled)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidGrant, "the user is disabled"))?;
    let family = offline_refresh_token(issuer, stores, client, &device.scopes, &auth).await?;
    let (response, _) = tokens_for_person(
        issuer,
        client,
        &device.scopes,
        &auth,
        &profile,
        None,
        family,
    )?;
    Ok(response)
}

#[cfg(test)]
#[path = "device_code_tests.rs"]
mod tests;
