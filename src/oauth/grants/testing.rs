//! What the grants' unit tests share: an in-memory [`Fake`] of every store a grant uses, which
//! records what the grant did to it; a signing handle over an in-memory key ring; a client (from
//! [`Client::sample`]) and a person. No server, no PostgreSQL, no Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use super::TokenRequest;
use crate::clients::store::Client;
use crate::clients::{ClientType, GrantType};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope::{Scope, Scopes};
use crate::secret::Secret;
use crate::tokens::codes::{CodeGrant, Issued};
use crate::tokens::device::Poll;
use crate::tokens::refresh::{RefreshGrant, Rotation};
use crate::tokens::stores::{
    AuthorizationCodes, ClientDirectory, Denylist, DeviceCodes, People, RefreshTokens,
};
use crate::tokens::{Authentication, Issuer};
use crate::users::store::Profile;

/// RFC 7636 Appendix B: a verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The issuer identifier of the tests.
pub const ISSUER: &str = "https://idp.example.com";

/// A configuration and an in-memory key ring to build an [`Issuer`] from.
pub struct Signing {
    config: Config,
    keys: Arc<KeyRing>,
}

impl Signing {
    /// Must run inside a Tokio runtime (see [`KeyRing::ephemeral`]).
    pub fn new() -> Self {
        let env = [
            (
                "PORTCULLIS_KEY_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
            ("PORTCULLIS_ISSUER", ISSUER),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config = Config::from_sources(None, env, false).unwrap();
        let keys = KeyRing::ephemeral(&config).unwrap();
        Signing { config, keys }
    }

    pub fn issuer(&self) -> Issuer<'_> {
        Issuer::new(&self.config, &self.keys)
    }
}

/// Every store a grant uses, in memory. Each field is what the store holds, or what a test set it
/// to answer, or what the grant did to it.
#[derive(Default)]
pub struct Fake {
    pub codes: Mutex<HashMap<String, CodeGrant>>,
    pub redeemed: Mutex<HashMap<String, Issued>>,
    pub people: Mutex<HashMap<Uuid, Profile>>,
    /// Refresh tokens issued: (family, client, scopes).
    pub refresh_issued: Mutex<Vec<(Uuid, String, Scopes)>>,
    /// What `peek` finds.
    pub peeked: Mutex<Option<RefreshGrant>>,
    /// What the next `rotate` answers; `None` once it was called.
    pub rotation: Mutex<Option<Rotation>>,
    pub revoked_families: Mutex<Vec<Uuid>>,
    /// What the next `poll` answers.
    pub poll: Mutex<Option<Poll>>,
    pub denied_tokens: Mutex<Vec<String>>,
    pub denied_grants: Mutex<Vec<Uuid>>,
    pub disabled_clients: Mutex<Vec<String>>,
}

impl Fake {
    /// A store that knows `profile`.
    pub fn with(profile: Profile) -> Self {
        let fake = Fake::default();
        fake.people.lock().unwrap().insert(profile.id, profile);
        fake
    }
}

#[async_trait]
impl People for Fake {
    async fn profile(&self, id: Uuid) -> crate::error::Result<Option<Profile>> {
        Ok(self.people.lock().unwrap().get(&id).cloned())
    }
}

#[async_trait]
impl ClientDirectory for Fake {
    async fn client_enabled(&self, client_id: &str) -> crate::error::Result<bool> {
        let disabled = self.disabled_clients.lock().unwrap();
        Ok(!disabled.iter().any(|c| c == client_id))
    }
}

#[async_trait]
impl AuthorizationCodes for Fake {
    async fn redeem(&self, code: &str) -> crate::error::Result<Option<CodeGrant>> {
        Ok(self.codes.lock().unwrap().remove(code))
    }

    async fn already_redeemed(&self, code: &str) -> crate::error::Result<Option<Issued>> {
        Ok(self.redeemed.lock().unwrap().get(code).cloned())
    }

    async fn remember(
        &self,
        code: &str,
        issued: &Issued,
        _ttl: Duration,
    ) -> crate::error::Result<()> {
        let mut redeemed = self.redeemed.lock().unwrap();
        redeemed.insert(code.to_owned(), issued.clone());
        Ok(())
    }
}

#[async_trait]
impl RefreshTokens for Fake {
    async fn issue(
        &self,
        family: Uuid,
        client_id: &str,
        scopes: &Scopes,
        _auth: &Authentication,
        _ttl: Duration,
    ) -> crate::error::Result<Secret<String>> {
        let mut issued = self.refresh_issued.lock().unwrap();
        issued.push((family, client_id.to_owned(), scopes.clone()));
        Ok(Secret::new(format!("refresh-{}", issued.len())))
    }

    async fn peek(&self, _presented: &str) -> crate::error::Result<Option<RefreshGrant>> {
        Ok(self.peeked.lock().unwrap().clone())
    }

    async fn rotate(
        &self,
        _presented: &str,
        _client_id: &str,
        _allowed: &[Scope],
        _ttl: Duration,
        _grace: Duration,
    ) -> crate::error::Result<Rotation> {
        let rotation = self.rotation.lock().unwrap().take();
        rotation.ok_or_else(|| anyhow::anyhow!("rotate called twice").into())
    }

    async fn revoke_family(&self, family: Uuid) -> crate::error::Result<()> {
        self.revoked_families.lock().unwrap().push(family);
        Ok(())
    }
}

#[async_trait]
impl DeviceCodes for Fake {
    async fn poll(&self, _device_code: &str, _client_id: &str) -> crate::error::Result<Poll> {
        let poll = self.poll.lock().unwrap().take();
        Ok(poll.unwrap_or(Poll::Unknown))
    }
}

#[async_trait]
impl Denylist for Fake {
    async fn deny_token(&self, jti: &str, _expires_at: i64) -> crate::error::Result<()> {
        self.denied_tokens.lock().unwrap().push(jti.to_owned());
        Ok(())
    }

    async fn deny_grant(&self, family: Uuid) -> crate::error::Result<()> {
        self.denied_grants.lock().unwrap().push(family);
        Ok(())
    }

    async fn is_denied(&self, jti: &str, grant: Option<Uuid>) -> crate::error::Result<bool> {
        let jti_denied = self.denied_tokens.lock().unwrap().iter().any(|j| j == jti);
        let grant_denied = grant.is_some_and(|g| self.denied_grants.lock().unwrap().contains(&g));
        Ok(jti_denied || grant_denied)
    }
}

/// A confidential client `app` that may use `grants` and `scopes`, without consent.
pub fn client(grants: &[&str], scopes: &[&str]) -> Client {
    Client {
        grant_types: grants
            .iter()
            .map(|g| GrantType::parse(g).unwrap())
            .collect(),
        scopes: Scopes::parse_all(scopes).unwrap(),
        require_consent: false,
        ..Client::sample(ClientType::Confidential)
    }
}

/// The same client, public.
pub fn public(mut client: Client) -> Client {
    client.client_type = ClientType::Public;
    client.secret_hash = None;
    client
}

/// An enabled person with a role and a group.
pub fn person() -> Profile {
    Profile {
        id: Uuid::now_v7(),
        username: "alice".into(),
        email: Some("alice@example.com".into()),
        email_verified: false,
        name: Some("Alice".into()),
        disabled: false,
        roles: vec!["billing".into()],
        groups: vec!["staff".into()],
    }
}

/// How `person` signed in: password and TOTP, in session `sid-1`.
pub fn signed_in(person: &Profile) -> Authentication {
    Authentication {
        user_id: person.id,
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp() - 60,
        amr: vec![crate::amr::Amr::Pwd, crate::amr::Amr::Otp],
        sid: Some("sid-1".into()),
    }
}

/// A token request with these form parameters.
pub fn request(params: &[(&str, &str)]) -> TokenRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    TokenRequest::parse(body.as_bytes()).unwrap()
}

/// The error code of a result that must be an error.
pub fn code<T: std::fmt::Debug>(result: Result<T, OAuthError>) -> ErrorCode {
    result.unwrap_err().code
}

/// A space-separated scope, parsed.
pub fn scopes(scope: &str) -> Scopes {
    Scopes::parse(scope).unwrap()
}
