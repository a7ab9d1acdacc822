//! The client credentials grant (RFC 6749 §4.4): a confidential client gets an access token for
//! itself. This is the hot path: the client comes from the in-process cache, the secret is checked
//! by SHA-256, the key is in memory, so nothing here waits on Postgres or Redis.

use super::{TokenRequest, TokenResponse, ttl};
use crate::clients::store::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope::{Scope, Scopes};
use crate::tokens::{AccessGrant, Issuer, Rbac, mint_access_token};

#[tracing::instrument(name = "client_credentials", level = "debug", skip_all, fields(client_id = %client.client_id))]
pub fn exchange(
    issuer: &Issuer<'_>,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        // RFC 6749 §4.4: only confidential clients.
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "a public client cannot use client_credentials",
        ));
    }
    let scopes: Scopes = match request.get("scope") {
        Some(requested) => {
            // RFC 6749 §3.3: a token that is not a scope is `invalid_scope`.
            let requested = Scopes::parse(requested)
                .map_err(|why| OAuthError::new(ErrorCode::InvalidScope, why))?;
            if let Some(refused) = requested
                .iter()
                .find(|s| !client.scopes.contains(s) || Scope::ABOUT_A_PERSON.contains(s))
            {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("scope `{refused}` is not allowed for this client"),
                ));
            }
            requested
        }
        // Without a scope: every scope the client may use for itself (RFC 6749 §3.3 default).
        None => client
            .scopes
            .iter()
            .filter(|s| !Scope::ABOUT_A_PERSON.contains(s))
            .cloned()
            .collect(),
    };
    // RFC 8707 `resource`, or the common `audience`: only resource servers the client may name.
    let audience = match request.get("resource").or(request.get("audience")) {
        Some(target) if client.audiences.iter().any(|a| a.as_str() == target) => {
            vec![target.to_owned()]
        }
        Some(target) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                format!("this client may not get tokens for `{target}`"),
            ));
        }
        None => vec![client.client_id.to_string()],
    };
    let access = mint_access_token(
        issuer.keys,
        AccessGrant {
            issuer: issuer.url,
            client_id: &client.client_id,
            subject: &client.client_id,
            audience: &audience,
            scopes: &scopes,
            ttl: ttl(client.access_token_ttl_secs, issuer.lifetimes.access_token),
            person: None,
            // A client acting for itself has roles (as a service account) but no groups.
            rbac: Rbac::released(&scopes, &client.roles, &[]),
            grant: None,
        },
    )
    .map_err(super::unavailable)?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: scopes,
        id_token: None,
        refresh_token: None,
    })
}

#[cfg(test)]
#[path = "client_credentials_tests.rs"]
mod tests;
