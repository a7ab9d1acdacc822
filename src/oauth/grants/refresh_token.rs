//! The refresh token grant (RFC 6749 §6): the token is rotated on every use and a replay revokes
//! its grant (see [`crate::tokens::refresh`]). The scope may only shrink: to what was asked, and
//! always to what the client may still use ([`scope::refreshed`]).

use super::{
    Family, TokenRequest, TokenResponse, deny_grant, meets_minimum, server_error,
    tokens_for_person, ttl,
};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope::{self, Scope, Scopes};
use crate::tokens::Issuer;
use crate::tokens::refresh::Rotation;
use crate::tokens::stores::{Denylist, People, RefreshTokens};

/// The stores this grant uses.
pub trait RefreshTokenStores: RefreshTokens + People + Denylist {}

impl<T: RefreshTokens + People + Denylist> RefreshTokenStores for T {}

#[tracing::instrument(name = "refresh_token", level = "debug", skip_all, fields(client_id = %client.client_id))]
pub async fn exchange(
    issuer: &Issuer<'_>,
    stores: &impl RefreshTokenStores,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented = request.require("refresh_token")?;
    // RFC 6749 §3.3: a token that is not a scope is `invalid_scope`, once the refresh token is
    // known to be this client's (an unknown token stays `invalid_grant`).
    let asked: Result<Option<Scopes>, String> = request.get("scope").map(Scopes::parse).transpose();
    let scopes_of = |granted: &[Scope]| {
        let invalid_scope = |why: &str| OAuthError::new(ErrorCode::InvalidScope, why);
        let asked = asked.as_ref().map_err(|why| invalid_scope(why))?;
        scope::refreshed(asked.as_deref(), granted, &client.scopes).map_err(invalid_scope)
    };
    // Check the scope and the client's minimum level before rotating, so a bad request does not
    // use up the token.
    if let Some(current) = stores.peek(presented).await.map_err(server_error)?
        && current.client_id == client.client_id
    {
        scopes_of(&current.scopes)?;
        meets_minimum(client, &current.amr)?;
    }
    let lifetime = ttl(
        client.refresh_token_ttl_secs,
        issuer.lifetimes.refresh_token,
    );
    let rotation = stores
        .rotate(
            presented,
            &client.client_id,
            &client.scopes,
            lifetime,
            issuer.lifetimes.refresh_token_grace,
        )
        .await
        .map_err(server_error)?;
    let (grant, token) = match rotation {
        Rotation::Rotated { grant, token } => (grant, token),
        Rotation::Refused(why) => return Err(OAuthError::new(ErrorCode::InvalidGrant, why)),
        Rotation::Replayed(family) => {
            tracing::warn!(client_id = %client.client_id, "a used refresh token was presented again; its grant is revoked");
            deny_grant(stores, family).await?;
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the refresh token was already used; the grant is revoked",
            ));
        }
    };
    let scopes = scopes_of(&grant.scopes)?;
    let profile = stores
        .profile(grant.user_id)
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
        tokens_for_person(issuer, client, &scopes, &auth, &profile, None, Some(family))?;
    Ok(response)
}

#[cfg(test)]
#[path = "refresh_token_tests.rs"]
mod tests;
