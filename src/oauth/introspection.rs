//! Token introspection (RFC 7662) and revocation (RFC 7009). An access token is active only if
//! [`access::accept`] accepts it: the same check userinfo makes (RFC 7662 §2.2), so a disabled
//! user's or a revoked grant's tokens are inactive here too. It is shown only to the client it
//! was issued to or to the resource server it is for (RFC 7662 §2.1, §4: the server decides which
//! protected resources may introspect): a client whose `client_id` is in the token's `aud`, or
//! whose registered `resource_uri` is. Merely being allowed to *request* the same audience is not
//! enough. A refresh token is shown only to its own client. Anything else is simply inactive, so
//! callers learn nothing about other clients' tokens. `token_type_hint` decides the order of the
//! lookups but never which token types are tried (RFC 7662 §2.1).

use serde::Serialize;
use serde_json::Value;

use crate::clients::store::Client;
use crate::oauth::error::OAuthError;
use crate::oauth::grants::{revoke_grant, server_error};
use crate::oauth::scope::{self, Scopes};
use crate::tokens::Issuer;
use crate::tokens::access::{self, AccessClaims, Rejected};
use crate::tokens::refresh::RefreshGrant;
use crate::tokens::stores::{ClientDirectory, Denylist, People, RefreshTokens};

/// The stores introspection and revocation use.
pub trait IntrospectionStores: RefreshTokens + Denylist + ClientDirectory + People {}

impl<T: RefreshTokens + Denylist + ClientDirectory + People> IntrospectionStores for T {}

/// RFC 7662 §2.2. Only `active` for an inactive token.
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "scope::space_separated_option"
    )]
    pub scope: Option<Scopes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// What the access token carries, as it carries it (present only with the scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

enum Found {
    Access(AccessClaims),
    Refresh(RefreshGrant),
}

/// Finds a live token of ours that `caller` may see.
async fn find(
    issuer: &Issuer<'_>,
    stores: &impl IntrospectionStores,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<Option<Found>, OAuthError> {
    let refresh_first = hint == Some("refresh_token");
    for kind in if refresh_first {
        ["refresh", "access"]
    } else {
        ["access", "refresh"]
    } {
        if kind == "access" {
            let claims = match access::accept(issuer, stores, token).await {
                Ok(claims) => claims,
                // Ours, but no longer active.
                Err(Rejected::Invalid {
                    client_id: Some(_), ..
                }) => return Ok(None),
                Err(Rejected::Invalid { .. }) => continue,
                Err(Rejected::Unavailable(e)) => return Err(server_error(e)),
            };
            return Ok(may_see(caller, &claims).then_some(Found::Access(claims)));
        }
        // A refresh token is 43 characters of base64url; a JWT is longer and has dots.
        if token.len() != 43 || token.contains('.') {
            continue;
        }
        let Some(grant) = stores.peek(token).await.map_err(server_error)? else {
            continue;
        };
        let now = time::OffsetDateTime::now_utc();
        let live = grant.used_at.is_none() && grant.revoked_at.is_none() && grant.expires_at > now;
        return Ok((live && grant.client_id == caller.client_id).then_some(Found::Refresh(grant)));
    }
    Ok(None)
}

/// Whether `caller` is the token's own client or the resource server it is for.
fn may_see(caller: &Client, claims: &AccessClaims) -> bool {
    claims.client_id == caller.client_id
        || claims.audience.iter().any(|aud| {
            *aud == caller.client_id
                || caller
                    .resource_uri
                    .as_ref()
                    .is_some_and(|r| r.as_str() == aud)
        })
}

pub async fn introspect(
    issuer: &Issuer<'_>,
    stores: &impl IntrospectionStores,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<Introspection, OAuthError> {
    Ok(match find(issuer, stores, caller, token, hint).await? {
        None => Introspection::default(),
        Some(Found::Access(claims)) => Introspection {
            active: true,
            scope: Some(claims.scopes),
            client_id: Some(claims.client_id),
            sub: Some(claims.subject),
            exp: Some(claims.expires_at),
            iat: Some(claims.issued_at),
            iss: Some(issuer.url.to_owned()),
            aud: Some(Value::from(claims.audience)),
            token_type: Some("Bearer"),
            roles: claims.roles,
            groups: claims.groups,
        },
        Some(Found::Refresh(grant)) => Introspection {
            active: true,
            scope: Some(grant.scopes.clone()),
            client_id: Some(grant.client_id.clone()),
            sub: Some(grant.user_id.to_string()),
            exp: Some(grant.expires_at.unix_timestamp()),
            iat: None,
            iss: Some(issuer.url.to_owned()),
            aud: Some(Value::from(vec![grant.client_id])),
            token_type: Some("refresh_token"),
            ..Introspection::default()
        },
    })
}

/// Revokes the token if it is the caller's own: a refresh token takes its grant (refresh-token
/// family and access tokens) with it; an access token is denied until it expires. Unknown tokens are ignored (RFC 7009 §2.2).
pub async fn revoke(
    issuer: &Issuer<'_>,
    stores: &impl IntrospectionStores,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<(), OAuthError> {
    match find(issuer, stores, caller, token, hint).await? {
        Some(Found::Access(claims)) if claims.client_id == caller.client_id => {
            stores
                .deny_token(&claims.jti, claims.expires_at)
                .await
                .map_err(server_error)?;
        }
        // RFC 7009 §2.1: the grant's access tokens go with it.
        Some(Found::Refresh(grant)) => revoke_grant(stores, grant.family_id).await?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "introspection_tests.rs"]
mod tests;
