//! What the protocol core reads and writes, as narrow traits: the grants, introspection and the
//! access-token check name the ones they use instead of taking the whole app state, so their
//! decisions are unit-tested against in-memory fakes. [`Stores`] is the one implementation the
//! server uses: PostgreSQL, Redis and the client cache, through their store modules.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

use super::Authentication;
use super::codes::{self, CodeGrant, Issued};
use super::denylist;
use super::device::{self, Poll};
use super::refresh::{self, RefreshGrant, Rotation};
use crate::clients::cache::ClientCache;
use crate::oauth::scope::{Scope, Scopes};
use crate::secret::Secret;
use crate::storage::Redis;
use crate::users::store::{self as users, Profile};

/// People, as the tokens about them need them.
#[async_trait]
pub trait People: Send + Sync {
    /// A person's profile (enabled or not), if they exist.
    async fn profile(&self, id: Uuid) -> crate::error::Result<Option<Profile>>;
}

/// Registered clients, as the access-token check needs them.
#[async_trait]
pub trait ClientDirectory: Send + Sync {
    /// Whether `client_id` is a registered client that is enabled.
    async fn client_enabled(&self, client_id: &str) -> crate::error::Result<bool>;
}

/// Authorization codes ([`codes`]).
#[async_trait]
pub trait AuthorizationCodes: Send + Sync {
    /// Takes the code out (at most one caller ever gets it).
    async fn redeem(&self, code: &str) -> crate::error::Result<Option<CodeGrant>>;
    /// What an already redeemed code issued, if it was redeemed recently.
    async fn already_redeemed(&self, code: &str) -> crate::error::Result<Option<Issued>>;
    /// Remembers what the code issued, for `ttl`.
    async fn remember(
        &self,
        code: &str,
        issued: &Issued,
        ttl: Duration,
    ) -> crate::error::Result<()>;
}

/// Refresh tokens ([`refresh`]).
#[async_trait]
pub trait RefreshTokens: Send + Sync {
    /// Stores a new token in `family`; returns the token.
    async fn issue(
        &self,
        family: Uuid,
        client_id: &str,
        scopes: &Scopes,
        auth: &Authentication,
        ttl: Duration,
    ) -> crate::error::Result<Secret<String>>;
    /// The grant of a token without using it.
    async fn peek(&self, presented: &str) -> crate::error::Result<Option<RefreshGrant>>;
    /// Uses the token ([`refresh::rotate`]).
    async fn rotate(
        &self,
        presented: &str,
        client_id: &str,
        allowed: &[Scope],
        ttl: Duration,
        grace: Duration,
    ) -> crate::error::Result<Rotation>;
    /// Revokes every token of a family.
    async fn revoke_family(&self, family: Uuid) -> crate::error::Result<()>;
}

/// Device authorization requests ([`device`]).
#[async_trait]
pub trait DeviceCodes: Send + Sync {
    /// A device polling with `device_code` ([`device::poll`]).
    async fn poll(&self, device_code: &str, client_id: &str) -> crate::error::Result<Poll>;
}

/// Revoked access tokens ([`denylist`]).
#[async_trait]
pub trait Denylist: Send + Sync {
    /// Denies the token `jti` until `expires_at` (unix seconds).
    async fn deny_token(&self, jti: &str, expires_at: i64) -> crate::error::Result<()>;
    /// Denies every access token issued in the grant `family`, for as long as any can live.
    async fn deny_grant(&self, family: Uuid) -> crate::error::Result<()>;
    /// Whether the token `jti`, or its grant, was revoked.
    async fn is_denied(&self, jti: &str, grant: Option<Uuid>) -> crate::error::Result<bool>;
}

/// The stores the server uses.
#[derive(Clone, Copy)]
pub struct Stores<'a> {
    pub db: &'a PgPool,
    pub redis: &'a Redis,
    pub clients: &'a ClientCache,
    /// The longest an access token can live (the configured lifetime or a client's longer
    /// override): how long a revoked grant's access tokens stay denied.
    pub longest_access_token: Duration,
}

impl<'a> Stores<'a> {
    /// `access_token_ttl` is the configured default lifetime of access tokens.
    pub fn new(
        db: &'a PgPool,
        redis: &'a Redis,
        clients: &'a ClientCache,
        access_token_ttl: Duration,
    ) -> Self {
        let longest = access_token_ttl.max(Duration::from_secs(
            crate::clients::MAX_ACCESS_TTL_SECS.unsigned_abs(),
        ));
        Stores {
            db,
            redis,
            clients,
            longest_access_token: longest,
        }
    }
}

#[async_trait]
impl People for Stores<'_> {
    #[tracing::instrument(name = "store.people.profile", level = "debug", skip_all)]
    async fn profile(&self, id: Uuid) -> crate::error::Result<Option<Profile>> {
        Ok(users::profile(self.db, id).await?)
    }
}

#[async_trait]
impl ClientDirectory for Stores<'_> {
    #[tracing::instrument(name = "store.clients.client_enabled", level = "debug", skip_all)]
    async fn client_enabled(&self, client_id: &str) -> crate::error::Result<bool> {
        // The cache holds only enabled clients.
        Ok(self.clients.get(client_id).await?.is_some())
    }
}

#[async_trait]
impl AuthorizationCodes for Stores<'_> {
    #[tracing::instrument(name = "store.codes.redeem", level = "debug", skip_all)]
    async fn redeem(&self, code: &str) -> crate::error::Result<Option<CodeGrant>> {
        codes::redeem(self.redis, code).await
    }

    #[tracing::instrument(name = "store.codes.already_redeemed", level = "debug", skip_all)]
    async fn already_redeemed(&self, code: &str) -> crate::error::Result<Option<Issued>> {
        codes::already_redeemed(self.redis, code).await
    }

    #[tracing::instrument(name = "store.codes.remember", level = "debug", skip_all)]
    async fn remember(
        &self,
        code: &str,
        issued: &Issued,
        ttl: Duration,
    ) -> crate::error::Result<()> {
        codes::remember(self.redis, code, issued, ttl).await
    }
}

#[async_trait]
impl RefreshTokens for Stores<'_> {
    #[tracing::instrument(name = "store.refresh_tokens.issue", level = "debug", skip_all)]
    async fn issue(
        &self,
        family: Uuid,
        client_id: &str,
        scopes: &Scopes,
        auth: &Authentication,
        ttl: Duration,
    ) -> crate::error::Result<Secret<String>> {
        let mut conn = self.db.acquire().await?;
        Ok(refresh::issue(&mut conn, family, client_id, scopes, auth, ttl).await?)
    }

    #[tracing::instrument(name = "store.refresh_tokens.peek", level = "debug", skip_all)]
    async fn peek(&self, presented: &str) -> crate::error::Result<Option<RefreshGrant>> {
        Ok(refresh::peek(self.db, presented).await?)
    }

    #[tracing::instrument(name = "store.refresh_tokens.rotate", level = "debug", skip_all)]
    async fn rotate(
        &self,
        presented: &str,
        client_id: &str,
        allowed: &[Scope],
        ttl: Duration,
        grace: Duration,
    ) -> crate::error::Result<Rotation> {
        refresh::rotate(self.db, presented, client_id, allowed, ttl, grace).await
    }

    #[tracing::instrument(name = "store.refresh_tokens.revoke_family", level = "debug", skip_all)]
    async fn revoke_family(&self, family: Uuid) -> crate::error::Result<()> {
        let mut conn = self.db.acquire().await?;
        refresh::revoke_family(&mut conn, family).await?;
        Ok(())
    }
}

#[async_trait]
impl DeviceCodes for Stores<'_> {
    #[tracing::instrument(name = "store.device_codes.poll", level = "debug", skip_all)]
    async fn poll(&self, device_code: &str, client_id: &str) -> crate::error::Result<Poll> {
        device::poll(self.redis, device_code, client_id).await
    }
}

#[async_trait]
impl Denylist for Stores<'_> {
    #[tracing::instrument(name = "store.denylist.deny_token", level = "debug", skip_all)]
    async fn deny_token(&self, jti: &str, expires_at: i64) -> crate::error::Result<()> {
        Ok(denylist::deny(self.redis, jti, expires_at).await?)
    }

    #[tracing::instrument(name = "store.denylist.deny_grant", level = "debug", skip_all)]
    async fn deny_grant(&self, family: Uuid) -> crate::error::Result<()> {
        Ok(denylist::deny_grant(self.redis, family, self.longest_access_token).await?)
    }

    #[tracing::instrument(name = "store.denylist.is_denied", level = "debug", skip_all)]
    async fn is_denied(&self, jti: &str, grant: Option<Uuid>) -> crate::error::Result<bool> {
        Ok(denylist::is_denied(self.redis, jti, grant).await?)
    }
}
