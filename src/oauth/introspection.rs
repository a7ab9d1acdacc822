//! Token introspection (RFC 7662) and revocation (RFC 7009) for authenticated confidential
//! clients. A token is only shown to, or revoked by, the client it was issued to or (for access
//! tokens) a resource server named in its audience; anything else is simply inactive, so callers
//! learn nothing about other clients' tokens. `token_type_hint` decides the order of the lookups
//! but never which token types are tried (RFC 7662 §2.1).

use serde::Serialize;
use serde_json::Value;

use crate::clients::store::Client;
use crate::oauth::error::OAuthError;
use crate::oauth::grants::server_error;
use crate::state::AppState;
use crate::tokens::refresh::{self, RefreshGrant};
use crate::tokens::{AccessClaims, check_access_token, denylist};

/// RFC 7662 §2.2. Only `active` for an inactive token.
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
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
    state: &AppState,
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
            let Ok(claims) = check_access_token(&state.keys, &state.config.issuer, token) else {
                continue;
            };
            let mine = claims.client_id == caller.client_id
                || claims.audience.contains(&caller.client_id)
                || caller.audiences.iter().any(|a| claims.audience.contains(a));
            if !mine
                || denylist::is_denied(&state.redis, &claims.jti)
                    .await
                    .map_err(server_error)?
            {
                return Ok(None);
            }
            return Ok(Some(Found::Access(claims)));
        }
        // A refresh token is 43 characters of base64url; a JWT is longer and has dots.
        if token.len() != 43 || token.contains('.') {
            continue;
        }
        let Some(grant) = refresh::peek(&state.db, token)
            .await
            .map_err(server_error)?
        else {
            continue;
        };
        let now = time::OffsetDateTime::now_utc();
        let live = grant.used_at.is_none() && grant.revoked_at.is_none() && grant.expires_at > now;
        return Ok((live && grant.client_id == caller.client_id).then_some(Found::Refresh(grant)));
    }
    Ok(None)
}

pub async fn introspect(
    state: &AppState,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<Introspection, OAuthError> {
    Ok(match find(state, caller, token, hint).await? {
        None => Introspection::default(),
        Some(Found::Access(claims)) => Introspection {
            active: true,
            scope: Some(claims.scopes.join(" ")),
            client_id: Some(claims.client_id),
            sub: Some(claims.subject),
            exp: Some(claims.expires_at),
            iat: Some(claims.issued_at),
            iss: Some(state.config.issuer.clone()),
            aud: Some(Value::from(claims.audience)),
            token_type: Some("Bearer"),
            roles: claims.roles,
            groups: claims.groups,
        },
        Some(Found::Refresh(grant)) => Introspection {
            active: true,
            scope: Some(grant.scope.clone()),
            client_id: Some(grant.client_id.clone()),
            sub: Some(grant.user_id.to_string()),
            exp: Some(grant.expires_at.unix_timestamp()),
            iat: None,
            iss: Some(state.config.issuer.clone()),
            aud: Some(Value::from(vec![grant.client_id])),
            token_type: Some("refresh_token"),
            ..Introspection::default()
        },
    })
}

/// Revokes the token if the caller may: a refresh token takes its family with it; an access
/// token is denied until it expires. Unknown tokens are ignored (RFC 7009 §2.2).
pub async fn revoke(
    state: &AppState,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
) -> Result<(), OAuthError> {
    match find(state, caller, token, hint).await? {
        Some(Found::Access(claims)) if claims.client_id == caller.client_id => {
            denylist::deny(&state.redis, &claims.jti, claims.expires_at)
                .await
                .map_err(server_error)?;
        }
        Some(Found::Refresh(grant)) => {
            let mut conn = state.db.acquire().await.map_err(server_error)?;
            refresh::revoke_family(&mut conn, grant.family_id)
                .await
                .map_err(server_error)?;
        }
        _ => {}
    }
    Ok(())
}
