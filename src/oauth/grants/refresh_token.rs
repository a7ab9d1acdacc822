//! The refresh token grant (RFC 6749 §6): the token is rotated on every use and a replay revokes
//! its grant (see [`crate::tokens::refresh`]). The scope may only shrink: to what was asked, and
//! always to what the client may still use ([`scope::refreshed`]).

use super::{
    Family, TokenRequest, TokenResponse, deny_grant, server_error, tokens_for_person, ttl,
};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope;
use crate::state::AppState;
use crate::tokens::refresh::{self, Rotation};
use crate::users::store as users;

#[tracing::instrument(name = "refresh_token", level = "debug", skip_all, fields(client_id = %client.client_id))]
pub async fn exchange(
    state: &AppState,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented = request.require("refresh_token")?;
    let asked: Option<Vec<String>> = request
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect());
    let scopes_of = |granted: &[String]| {
        scope::refreshed(asked.as_deref(), granted, &client.scopes)
            .map_err(|why| OAuthError::new(ErrorCode::InvalidScope, why))
    };
    // Check the scope before rotating, so a bad request does not use up the token.
    if let Some(current) = refresh::peek(&state.db, presented)
        .await
        .map_err(server_error)?
        && current.client_id == client.client_id
    {
        scopes_of(&current.scopes())?;
    }
    let lifetime = ttl(
        client.refresh_token_ttl_secs,
        state.config.refresh_token_ttl,
    );
    let rotation = refresh::rotate(
        &state.db,
        presented,
        &client.client_id,
        &client.scopes,
        lifetime,
        state.config.refresh_token_grace,
    )
    .await
    .map_err(server_error)?;
    let (grant, token) = match rotation {
        Rotation::Rotated { grant, token } => (grant, token),
        Rotation::Refused(why) => return Err(OAuthError::new(ErrorCode::InvalidGrant, why)),
        Rotation::Replayed(family) => {
            tracing::warn!(client_id = %client.client_id, "a used refresh token was presented again; its grant is revoked");
            deny_grant(state, family).await?;
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the refresh token was already used; the grant is revoked",
            ));
        }
    };
    let scopes = scopes_of(&grant.scopes())?;
    let profile = users::profile(&state.db, grant.user_id)
        .await
        .map_err(server_error)?
        .filter(|p| !p.disabled)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidGrant, "the user is disabled"))?;
    let auth = grant.authentication();
    let family = Family {
        id: grant.family_id,
        token: token.map(|t| t.expose().clone()),
    };
    let (response, _) =
        tokens_for_person(state, client, &scopes, &auth, &profile, None, Some(family))?;
    Ok(response)
}
