//! Minting and checking tokens. Access tokens are RFC 9068 JWTs (`typ: at+jwt`, ES256) that a
//! resource server verifies with the JWKS alone; ID tokens follow OIDC Core §2 (RS256 by default,
//! ES256 per client). Authorization codes live in Redis ([`codes`]), refresh tokens in Postgres
//! ([`refresh`]), revoked access-token ids and grants in a Redis denylist ([`denylist`]); [`access::accept`] is
//! the one check of a presented access token.

pub mod access;
pub mod claims;
pub mod codes;
pub mod denylist;
pub mod device;
pub mod issuer;
pub mod purge;
pub mod refresh;
pub mod stores;
pub mod subject;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwt::JwtPayload;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::amr::Amr;
use crate::crypto::sha256;
use crate::keys::{Alg, KeyRing, SignError};
use crate::oauth::scope::{Scope, Scopes};
use crate::users::store::Profile;
pub use issuer::{Issuer, Lifetimes};
use subject::SubjectType;

/// How a person authenticated, carried from the session into codes and tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Authentication {
    pub user_id: Uuid,
    pub auth_time: i64,
    pub amr: Vec<Amr>,
    pub sid: Option<String>,
}

impl Authentication {
    /// The `acr` value: the rung of the ladder these methods reached ([`crate::acr::Level`]).
    pub fn acr(&self) -> &'static str {
        crate::acr::Level::of(&self.amr).acr()
    }
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: u64,
}

/// What goes into an access token.
pub struct AccessGrant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The user id for people; the client id for clients acting for themselves.
    pub subject: &'a str,
    pub audience: &'a [String],
    pub scopes: &'a Scopes,
    pub ttl: Duration,
    pub person: Option<&'a Authentication>,
    pub rbac: Rbac<'a>,
    /// The refresh-token family issued with it, so that revoking that grant revokes this token.
    pub grant: Option<Uuid>,
}

/// The `roles` and `groups` claims a token carries: each only when its scope was granted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rbac<'a> {
    pub roles: Option<&'a [String]>,
    pub groups: Option<&'a [String]>,
}

impl<'a> Rbac<'a> {
    /// What `scopes` release of these roles and groups.
    pub fn released(scopes: &[Scope], roles: &'a [String], groups: &'a [String]) -> Self {
        Self {
            roles: scopes.contains(&Scope::ROLES).then_some(roles),
            groups: scopes.contains(&Scope::GROUPS).then_some(groups),
        }
    }

    fn insert(&self, claims: &mut Map<String, Value>) {
        if let Some(roles) = self.roles {
            claims.insert(claims::ROLES.into(), json!(roles));
        }
        if let Some(groups) = self.groups {
            claims.insert(claims::GROUPS.into(), json!(groups));
        }
    }
}

fn set(payload: &mut JwtPayload, name: &str, value: Value) -> Result<(), SignError> {
    payload
        .set_claim(name, Some(value))
        .map_err(SignError::Jose)
}

/// `iat` and `exp` as whole seconds: josekit writes fractions, which RFC 7519 allows but many
/// verifiers reject.
fn set_times(payload: &mut JwtPayload, now: SystemTime, ttl: Duration) -> Result<(), SignError> {
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    set(payload, claims::IAT, json!(secs))?;
    set(payload, claims::EXP, json!(secs + ttl.as_secs()))
}

/// An RFC 9068 access token.
pub fn mint_access_token(keys: &KeyRing, grant: AccessGrant<'_>) -> Result<AccessToken, SignError> {
    let now = SystemTime::now();
    let jti = Uuid::new_v4().simple().to_string();
    let mut payload = JwtPayload::new();
    set(&mut payload, claims::ISS, json!(grant.issuer))?;
    set(&mut payload, claims::SUB, json!(grant.subject))?;
    set(&mut payload, claims::AUD, audience(grant.audience))?;
    set_times(&mut payload, now, grant.ttl)?;
    set(&mut payload, claims::JTI, json!(jti))?;
    set(&mut payload, claims::CLIENT_ID, json!(grant.client_id))?;
    set(&mut payload, claims::SCOPE, json!(grant.scopes.to_string()))?;
    if let Some(person) = grant.person {
        set_authentication(&mut payload, person)?;
    }
    if let Some(grant) = grant.grant {
        set(&mut payload, claims::GRANT_ID, json!(grant.to_string()))?;
    }
    let mut rbac = Map::new();
    grant.rbac.insert(&mut rbac);
    for (name, value) in rbac {
        set(&mut payload, &name, value)?;
    }
    // RFC 9068 §2.1: typ "at+jwt", so it cannot be mistaken for an ID token.
    let signed = keys.sign(Alg::ES256, "at+jwt", &payload)?;
    Ok(AccessToken {
        token: signed.token,
        jti,
        expires_in: grant.ttl.as_secs(),
    })
}

/// `aud` as RFC 7519 §4.1.3 allows and relying parties expect: one audience as a string,
/// several as an array.
fn audience(audience: &[String]) -> Value {
    match audience {
        [one] => json!(one),
        many => json!(many),
    }
}

/// How the person authenticated: `auth_time`, `acr` and `amr` (OIDC Core §2, RFC 9068 §2.2.1).
fn set_authentication(payload: &mut JwtPayload, auth: &Authentication) -> Result<(), SignError> {
    set(payload, claims::AUTH_TIME, json!(auth.auth_time))?;
    set(payload, claims::ACR, json!(auth.acr()))?;
    set(payload, claims::AMR, json!(auth.amr))
}

/// The user claims that `scopes` release (OIDC Core §5.4), for ID tokens and userinfo.
pub fn user_claims(profile: &Profile, scopes: &[Scope]) -> Map<String, Value> {
    let mut out = Map::new();
    let sub = SubjectType::SERVED.subject(profile.id);
    out.insert(claims::SUB.into(), json!(sub));
    if scopes.contains(&Scope::PROFILE) {
        out.insert(claims::PREFERRED_USERNAME.into(), json!(profile.username));
        if let Some(name) = &profile.name {
            out.insert(claims::NAME.into(), json!(name));
        }
    }
    if scopes.contains(&Scope::EMAIL)
        && let Some(email) = &profile.email
    {
        out.insert(claims::EMAIL.into(), json!(email));
        // True once the person used the link sent to this address (`crate::mail::links`).
        out.insert(claims::EMAIL_VERIFIED.into(), json!(profile.email_verified));
    }
    Rbac::released(scopes, &profile.roles, &profile.groups).insert(&mut out);
    out
}

/// What goes into an ID token.
pub struct IdGrant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub alg: Alg,
    pub profile: &'a Profile,
    pub auth: &'a Authentication,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    pub scopes: &'a [Scope],
    pub ttl: Duration,
}

/// OIDC Core §3.1.3.6: the base64url of the left half of the SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&sha256(access_token.as_bytes())[..16])
}

pub fn mint_id_token(keys: &KeyRing, grant: IdGrant<'_>) -> Result<String, SignError> {
    let now = SystemTime::now();
    let mut payload = JwtPayload::new();
    for (name, value) in user_claims(grant.profile, grant.scopes) {
        set(&mut payload, &name, value)?;
    }
    set(&mut payload, claims::ISS, json!(grant.issuer))?;
    set(&mut payload, claims::AUD, json!(grant.client_id))?;
    set_times(&mut payload, now, grant.ttl)?;
    set_authentication(&mut payload, grant.auth)?;
    set(
        &mut payload,
        claims::AT_HASH,
        json!(at_hash(grant.access_token)),
    )?;
    set(&mut payload, claims::AZP, json!(grant.client_id))?;
    if let Some(nonce) = grant.nonce {
        set(&mut payload, claims::NONCE, json!(nonce))?;
    }
    if let Some(sid) = &grant.auth.sid {
        set(&mut payload, claims::SID, json!(sid))?;
    }
    Ok(keys.sign(grant.alg, "JWT", &payload)?.token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // 16 bytes → 22 base64url characters.
        assert_eq!(at_hash("token").len(), 22);
        assert_ne!(at_hash("token"), at_hash("other"));
    }

    #[test]
    fn claims_follow_scopes() {
        let profile = Profile {
            id: Uuid::nil(),
            username: "alice".into(),
            email: Some("a@example.com".into()),
            email_verified: false,
            name: Some("Alice".into()),
            disabled: false,
            roles: vec!["billing".into()],
            groups: vec![],
        };
        let openid = user_claims(&profile, &[Scope::OPENID]);
        assert_eq!(openid.len(), 1);
        let all = user_claims(&profile, &[Scope::OPENID, Scope::PROFILE, Scope::EMAIL]);
        assert_eq!(all["preferred_username"], "alice");
        assert_eq!(all["name"], "Alice");
        assert_eq!(all["email"], "a@example.com");
        assert!(!all.contains_key("roles"));
        let rbac = user_claims(&profile, &[Scope::ROLES, Scope::GROUPS]);
        assert_eq!(rbac["roles"], json!(["billing"]));
        assert_eq!(rbac["groups"], json!([]));
    }
}
