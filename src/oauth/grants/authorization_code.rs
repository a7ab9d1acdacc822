//! The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6). The code is taken
//! from Redis atomically, so it is redeemed once; presenting it again revokes what the first
//! redemption issued (RFC 6749 §10.5). `redirect_uri` must be the one the code was issued for.

use super::{
    TokenRequest, TokenResponse, meets_minimum, offline_refresh_token, server_error,
    tokens_for_person,
};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::pkce;
use crate::tokens::Issuer;
use crate::tokens::codes::Issued;
use crate::tokens::stores::{AuthorizationCodes, Denylist, People, RefreshTokens};

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// The stores this grant uses.
pub trait AuthorizationCodeStores: AuthorizationCodes + RefreshTokens + People + Denylist {}

impl<T: AuthorizationCodes + RefreshTokens + People + Denylist> AuthorizationCodeStores for T {}

#[tracing::instrument(name = "authorization_code", level = "debug", skip_all, fields(client_id = %client.client_id))]
pub async fn exchange(
    issuer: &Issuer<'_>,
    stores: &impl AuthorizationCodeStores,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let code = request.require("code")?;
    let Some(grant) = stores.redeem(code).await.map_err(server_error)? else {
        if let Some(issued) = stores.already_redeemed(code).await.map_err(server_error)? {
            revoke(stores, &issued).await?;
            tracing::warn!(client_id = %client.client_id, "an authorization code was presented twice; its tokens are revoked");
            return Err(invalid_grant(
                "the code was already used; the tokens it issued are revoked",
            ));
        }
        return Err(invalid_grant("the code is invalid or has expired"));
    };
    if grant.client_id != client.client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if request.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = request
        .get("code_verifier")
        .ok_or_else(|| invalid_grant("code_verifier is required (PKCE)"))?;
    if !pkce::verify_s256(verifier, &grant.code_challenge) {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    meets_minimum(client, &grant.auth.amr)?;
    let profile = stores
        .profile(grant.auth.user_id)
        .await
        .map_err(server_error)?
        .filter(|p| !p.disabled)
        .ok_or_else(|| invalid_grant("the user is disabled"))?;

    let offline = offline_refresh_token(issuer, stores, client, &grant.scopes, &grant.auth).await?;
    let family = offline.as_ref().map(|f| f.id);
    let (response, access) = tokens_for_person(
        issuer,
        client,
        &grant.scopes,
        &grant.auth,
        &profile,
        grant.nonce.as_deref(),
        offline,
    )?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let issued = Issued {
        access_jti: access.jti,
        access_expires_at: now + i64::try_from(access.expires_in).unwrap_or(i64::MAX),
        refresh_family: family,
    };
    let remember_for =
        std::time::Duration::from_secs(access.expires_in).max(issuer.lifetimes.authorization_code);
    stores
        .remember(code, &issued, remember_for)
        .await
        .map_err(server_error)?;
    Ok(response)
}

/// Revokes the access token and refresh-token family a code issued.
async fn revoke(stores: &impl AuthorizationCodeStores, issued: &Issued) -> Result<(), OAuthError> {
    stores
        .deny_token(&issued.access_jti, issued.access_expires_at)
        .await
        .map_err(server_error)?;
    if let Some(family) = issued.refresh_family {
        super::revoke_grant(stores, family).await?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "authorization_code_tests.rs"]
mod tests;
