//! The token endpoint's grants, one file each. [`TokenRequest`] holds the form parameters (each
//! at most once, RFC 6749 §3.2); [`exchange`] checks the client may use the grant and runs it.
//! A grant takes the signing handle ([`Issuer`]) and the stores it uses
//! ([`crate::tokens::stores`]), never the app state, so each is unit-tested without a server
//! (`tests.rs` beside each grant); the HTTP layer builds both and records the metrics.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod refresh_token;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use serde::Serialize;

use super::error::{ErrorCode, OAuthError};
use crate::clients::GrantType;
use crate::clients::store::Client;
use crate::oauth::scope::{self, Scope, Scopes};
use crate::tokens::Issuer;
use crate::tokens::stores::{AuthorizationCodes, Denylist, DeviceCodes, People, RefreshTokens};

/// The form parameters of a token request.
#[derive(Debug, Default)]
pub struct TokenRequest {
    params: Vec<(String, String)>,
}

impl TokenRequest {
    /// Parses an `application/x-www-form-urlencoded` body; a repeated parameter is an error.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if params.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    format!("parameter `{name}` is repeated"),
                ));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { params })
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::new(ErrorCode::InvalidRequest, format!("`{name}` is required"))
        })
    }

    /// The grant the request names (`grant_type`, RFC 6749 §4).
    pub fn grant_type(&self) -> Result<GrantType, OAuthError> {
        let grant_type = self.require("grant_type")?;
        GrantType::parse(grant_type).map_err(|_| {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant type `{grant_type}` is not supported"),
            )
        })
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(serialize_with = "scope::space_separated")]
    pub scope: Scopes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Every store some grant uses.
pub trait GrantStores:
    AuthorizationCodes + RefreshTokens + DeviceCodes + People + Denylist
{
}

impl<T: AuthorizationCodes + RefreshTokens + DeviceCodes + People + Denylist> GrantStores for T {}

/// Runs the grant the request names for an authenticated `client`.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client.client_id, grant_type = ?request.get("grant_type")))]
pub async fn exchange(
    issuer: &Issuer<'_>,
    stores: &impl GrantStores,
    client: &Client,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let grant = request.grant_type()?;
    if !client.allows_grant(grant) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use {}", grant.as_str()),
        ));
    }
    let response = match grant {
        GrantType::AuthorizationCode => {
            authorization_code::exchange(issuer, stores, client, request).await?
        }
        GrantType::RefreshToken => refresh_token::exchange(issuer, stores, client, request).await?,
        GrantType::ClientCredentials => client_credentials::exchange(issuer, client, request)?,
        GrantType::DeviceCode => device_code::exchange(issuer, stores, client, request).await?,
    };
    Ok(response)
}

/// Turns an unexpected failure into `server_error` (logged with its chain, not shown).
pub fn server_error(e: impl Into<anyhow::Error>) -> OAuthError {
    OAuthError::server_error(e)
}

/// Lifetimes for a client: its own override, or the configured default.
pub fn ttl(override_secs: Option<i32>, default: std::time::Duration) -> std::time::Duration {
    override_secs
        .and_then(|s| u64::try_from(s).ok())
        .map_or(default, std::time::Duration::from_secs)
}

/// The grant (refresh-token family) a response belongs to, and the refresh token it carries, if
/// any. Its access token names the family, so that revoking the grant revokes it too.
pub struct Family {
    pub id: uuid::Uuid,
    pub token: Option<String>,
}

/// A new refresh token (in a new family) when `offline_access` was granted and the client may
/// refresh.
pub async fn offline_refresh_token(
    issuer: &Issuer<'_>,
    stores: &impl RefreshTokens,
    client: &Client,
    scopes: &Scopes,
    auth: &crate::tokens::Authentication,
) -> Result<Option<Family>, OAuthError> {
    let offline =
        scopes.contains(&Scope::OFFLINE_ACCESS) && client.allows_grant(GrantType::RefreshToken);
    if !offline {
        return Ok(None);
    }
    let family = uuid::Uuid::now_v7();
    let lifetime = ttl(
        client.refresh_token_ttl_secs,
        issuer.lifetimes.refresh_token,
    );
    let token = stores
        .issue(family, &client.client_id, scopes, auth, lifetime)
        .await
        .map_err(server_error)?;
    Ok(Some(Family {
        id: family,
        token: Some(token.expose().clone()),
    }))
}

/// Revokes a grant: every refresh token of the family, and (until the longest an access token
/// can live) every access token issued in it (RFC 7009 §2.1, RFC 9700 §4.14.2). Resource
/// servers that validate JWTs locally cannot see the latter; introspection and userinfo do.
pub async fn revoke_grant(
    stores: &(impl RefreshTokens + Denylist),
    family: uuid::Uuid,
) -> Result<(), OAuthError> {
    stores.revoke_family(family).await.map_err(server_error)?;
    deny_grant(stores, family).await
}

/// Denies the access tokens of the grant `family` (its refresh tokens are already revoked).
pub async fn deny_grant(stores: &impl Denylist, family: uuid::Uuid) -> Result<(), OAuthError> {
    crate::tokens::access::deny_grants(stores, &[family])
        .await
        .map_err(server_error)
}

/// Whether a sign-in with `amr` is good enough for `client`'s minimum level. `/authorize` asks the
/// person to step up before a code is issued; this holds the line for what did not pass there:
/// a device approval, a refresh token from before the minimum was raised, a code issued before.
pub fn meets_minimum(client: &Client, amr: &[crate::amr::Amr]) -> Result<(), OAuthError> {
    let reached = crate::acr::Level::of(amr);
    if reached >= client.min_level {
        return Ok(());
    }
    Err(OAuthError::new(
        ErrorCode::InvalidGrant,
        format!(
            "the person signed in with {}; this client requires at least {}",
            reached.describe(),
            client.min_level.describe()
        ),
    ))
}

/// Tokens for a person (`profile`, already checked to be enabled): an access token, an ID token
/// when `openid` was granted, and the refresh token of `family`, if any. Shared by every grant
/// that acts for a person.
pub fn tokens_for_person(
    issuer: &Issuer<'_>,
    client: &Client,
    scopes: &Scopes,
    auth: &crate::tokens::Authentication,
    profile: &crate::users::store::Profile,
    nonce: Option<&str>,
    family: Option<Family>,
) -> Result<(TokenResponse, crate::tokens::AccessToken), OAuthError> {
    use crate::tokens::{AccessGrant, IdGrant, mint_access_token, mint_id_token};
    let subject = crate::tokens::subject::SubjectType::SERVED.subject(auth.user_id);
    let audience = vec![client.client_id.to_string()];
    let access = mint_access_token(
        issuer.keys,
        AccessGrant {
            issuer: issuer.url,
            client_id: &client.client_id,
            subject: &subject,
            audience: &audience,
            scopes,
            ttl: ttl(client.access_token_ttl_secs, issuer.lifetimes.access_token),
            person: Some(auth),
            rbac: crate::tokens::Rbac::released(scopes, &profile.roles, &profile.groups),
            grant: family.as_ref().map(|f| f.id),
        },
    )
    .map_err(unavailable)?;
    let id_token = match scopes.contains(&Scope::OPENID) {
        false => None,
        true => {
            let grant = IdGrant {
                issuer: issuer.url,
                client_id: &client.client_id,
                alg: client.id_token_alg,
                profile,
                auth,
                nonce,
                access_token: &access.token,
                scopes,
                ttl: issuer.lifetimes.id_token,
            };
            Some(mint_id_token(issuer.keys, grant).map_err(unavailable)?)
        }
    };
    let response = TokenResponse {
        access_token: access.token.clone(),
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: scopes.clone(),
        id_token,
        refresh_token: family.and_then(|f| f.token),
    };
    Ok((response, access))
}

/// No key can sign right now: `temporarily_unavailable` (503), not the client's fault.
pub(crate) fn unavailable(e: crate::keys::SignError) -> OAuthError {
    OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "tokens cannot be issued right now; try again shortly",
    )
    .caused_by(e)
}
