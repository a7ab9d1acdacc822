//! Accepting an access token: the one check that every endpoint taking an access token uses
//! (userinfo, introspection, the admin API), so that they cannot disagree about whether a token
//! is active (RFC 7662 §2.2). [`accept`] verifies the JWT (signature by a published key, `typ`,
//! issuer, expiry), then that neither the token nor its grant was revoked ([`super::denylist`]), that
//! its client is still enabled, and, for a person's token, that the person is still enabled.
//! Resource servers that validate the JWT locally see only the first part; the rest is what
//! introspection and userinfo add.

use std::time::SystemTime;

use serde_json::Value;
use uuid::Uuid;

use super::stores::{ClientDirectory, Denylist, People};
use super::{Issuer, claims};
use crate::keys::KeyRing;
use crate::oauth::scope::Scopes;

/// The claim naming the grant (the refresh-token family) an access token was issued in, so that
/// revoking the grant revokes its access tokens too (RFC 7009 §2.1).
pub const GRANT_CLAIM: &str = claims::GRANT_ID;

/// The claims of a valid access token.
#[derive(Debug, Clone)]
pub struct AccessClaims {
    pub subject: String,
    pub client_id: String,
    pub scopes: Scopes,
    pub jti: String,
    pub expires_at: i64,
    pub issued_at: i64,
    pub audience: Vec<String>,
    pub roles: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    /// The refresh-token family the token belongs to, if it was issued with one.
    pub grant: Option<Uuid>,
    /// The person the token acts for (it carries `auth_time`); `None` for a client acting for
    /// itself.
    pub person: Option<Uuid>,
}

/// Why a presented access token is not accepted (RFC 6750 §3.1 `invalid_token`, or inactive
/// for introspection).
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("{why}")]
    Invalid {
        why: &'static str,
        /// The client of a token that is ours (its signature verified) but no longer good.
        client_id: Option<String>,
    },
    /// Redis or PostgreSQL did not answer: not the caller's fault.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

impl From<crate::error::Error> for Rejected {
    fn from(error: crate::error::Error) -> Self {
        Self::Unavailable(error.into())
    }
}

impl Rejected {
    fn invalid(why: &'static str, client_id: Option<&str>) -> Self {
        Self::Invalid {
            why,
            client_id: client_id.map(str::to_owned),
        }
    }
}

/// Denies the access tokens issued in these grants (whose refresh tokens are revoked), for as
/// long as any of them can live (RFC 7009 §2.1).
pub async fn deny_grants(stores: &impl Denylist, families: &[Uuid]) -> crate::error::Result<()> {
    for family in families {
        stores.deny_grant(*family).await?;
    }
    Ok(())
}

/// Whether `token` is an active access token of ours: see the module comment.
pub async fn accept(
    issuer: &Issuer<'_>,
    stores: &(impl Denylist + ClientDirectory + People),
    token: &str,
) -> Result<AccessClaims, Rejected> {
    let claims = verify(issuer.keys, issuer.url, token)?;
    let invalid = |why| Rejected::invalid(why, Some(&claims.client_id));
    if stores.is_denied(&claims.jti, claims.grant).await? {
        return Err(invalid("the access token was revoked"));
    }
    if !stores.client_enabled(&claims.client_id).await? {
        return Err(invalid("the client is disabled or gone"));
    }
    if let Some(person) = claims.person {
        let enabled = stores.profile(person).await?.is_some_and(|p| !p.disabled);
        if !enabled {
            return Err(invalid("the user is disabled or gone"));
        }
    }
    Ok(claims)
}

/// The JWT part alone, for the fuzz target (`cargo fuzz` builds with `--cfg fuzzing`); every
/// endpoint goes through [`accept`].
#[cfg(fuzzing)]
pub fn verify_jwt(keys: &KeyRing, issuer: &str, token: &str) -> Result<AccessClaims, Rejected> {
    verify(keys, issuer, token)
}

/// The JWT part of the check: signature by a published key, `typ`, issuer and expiry.
fn verify(keys: &KeyRing, issuer: &str, token: &str) -> Result<AccessClaims, Rejected> {
    let (payload, header) = keys
        .verify(token)
        .map_err(|_| Rejected::invalid("the access token is not valid", None))?;
    if header.token_type() != Some("at+jwt") {
        return Err(Rejected::invalid("not an access token", None));
    }
    if payload.issuer() != Some(issuer) {
        return Err(Rejected::invalid(
            "the access token is from another issuer",
            None,
        ));
    }
    let text = |name: &str| {
        payload
            .claim(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let client_id = text(claims::CLIENT_ID);
    let unix = |t: Option<SystemTime>| {
        t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let expires_at = unix(payload.expires_at()).ok_or(Rejected::invalid(
        "the access token has no expiry",
        Some(&client_id),
    ))?;
    if expires_at <= time::OffsetDateTime::now_utc().unix_timestamp() {
        return Err(Rejected::invalid(
            "the access token has expired",
            Some(&client_id),
        ));
    }
    let subject = payload.subject().unwrap_or_default().to_owned();
    // Only a person's token carries `auth_time` (RFC 9068 §2.2.1).
    let person = match payload.claim(claims::AUTH_TIME) {
        Some(_) => Some(subject.parse().map_err(|_| {
            Rejected::invalid("the access token's subject is not valid", Some(&client_id))
        })?),
        None => None,
    };
    // We wrote the scope ourselves, so a token whose scope does not parse is not one of ours.
    let scopes = Scopes::parse(&text(claims::SCOPE)).map_err(|_| {
        Rejected::invalid("the access token's scope is not valid", Some(&client_id))
    })?;
    Ok(AccessClaims {
        subject,
        scopes,
        jti: payload.jwt_id().unwrap_or_default().to_owned(),
        expires_at,
        issued_at: unix(payload.issued_at()).unwrap_or_default(),
        audience: payload
            .audience()
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        roles: strings(payload.claim(claims::ROLES)),
        groups: strings(payload.claim(claims::GROUPS)),
        grant: text(GRANT_CLAIM).parse().ok(),
        person,
        client_id,
    })
}

/// A claim that is an array of strings.
fn strings(claim: Option<&Value>) -> Option<Vec<String>> {
    claim.and_then(Value::as_array).map(|values| {
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}
