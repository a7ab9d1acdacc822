//! The refresh token grant (RFC 6749 §6): the token is rotated on every use and a replay revokes
//! its family (see [`crate::tokens::refresh`]). The scope may only shrink.

use super::{TokenRequest, TokenResponse, server_error, tokens_for_person, ttl};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope;
use crate::state::AppState;
use crate::tokens::refresh::{self, Rotation};
use crate::users::store as users;

pub async fn exchange(
    state: &AppState,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented = request.require("refresh_token")?;
    let wanted: Option<Vec<String>> = request
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect());
    // Check the scope before rotating, so a bad request does not use up the token.
    if let Some(wanted) = &wanted
        && let Some(current) = refresh::peek(&state.db, presented)
            .await
            .map_err(server_error)?
        && !scope::is_subset(wanted, &current.scopes())
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "a refresh can only keep or narrow the scope",
        ));
    }
    let lifetime = ttl(
        client.refresh_token_ttl_secs,
        state.config.refresh_token_ttl,
    );
    let rotation = refresh::rotate(
        &state.db,
        presented,
        &client.client_id,
        lifetime,
        state.config.refresh_token_grace,
    )
    .await
    .map_err(server_error)?;
    let (grant, token) = match rotation {
        Rotation::Rotated { grant, token } => (grant, token),
        Rotation::Refused(why) => return Err(OAuthError::new(ErrorCode::InvalidGrant, why)),
        Rotation::Replayed => {
            tracing::warn!(client_id = %client.client_id, "a used refresh token was presented again; its family is revoked");
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the refresh token was already used; the grant is revoked",
            ));
        }
    };
    let scopes = wanted.unwrap_or_else(|| grant.scopes());
    let profile = users::profile(&state.db, grant.user_id)
        .await
        .map_err(server_error)?
        .filter(|p| !p.disabled)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidGrant, "the user is disabled"))?;
    let auth = grant.authentication();
    let (response, _) = tokens_for_person(
        state,
        client,
        &scopes,
        &auth,
        &profile,
        None,
        Some(token.expose().clone()),
    )?;
    Ok(response)
}
