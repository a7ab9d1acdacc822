//! Revoked access tokens: their `jti`, or the grant (refresh-token family) they were issued in,
//! in Redis until they would have expired anyway. Resource servers that verify locally cannot
//! see this; our own userinfo and introspection do ([`super::access::accept`]).

use std::time::Duration;

use redis::AsyncCommands as _;
use uuid::Uuid;

use crate::error::Result;
use crate::storage::{Redis, RedisKey};

/// Denies the token `jti` until `expires_at` (unix seconds).
pub async fn deny(redis: &Redis, jti: &str, expires_at: i64) -> Result<()> {
    let remaining = expires_at - time::OffsetDateTime::now_utc().unix_timestamp();
    if remaining <= 0 {
        return Ok(());
    }
    let mut conn = redis.conn.clone();
    conn.set_ex(
        redis.key(RedisKey::RevokedJti(jti)),
        1,
        remaining.unsigned_abs(),
    )
    .await
    .map_err(Into::into)
}

/// Denies every access token issued in the grant `family` for `longest`, the longest an access
/// token can live (RFC 7009 §2.1: revoking a refresh token should revoke the access tokens of the
/// same grant).
pub async fn deny_grant(redis: &Redis, family: Uuid, longest: Duration) -> Result<()> {
    let mut conn = redis.conn.clone();
    let key = redis.key(RedisKey::RevokedGrant(family));
    conn.set_ex(key, 1, longest.as_secs().max(1))
        .await
        .map_err(Into::into)
}

/// Whether the token `jti`, or its grant, was revoked (one round trip).
pub async fn is_denied(redis: &Redis, jti: &str, grant: Option<Uuid>) -> Result<bool> {
    let mut keys = vec![redis.key(RedisKey::RevokedJti(jti))];
    if let Some(family) = grant {
        keys.push(redis.key(RedisKey::RevokedGrant(family)));
    }
    let mut conn = redis.conn.clone();
    let found: u64 = conn.exists(keys).await?;
    Ok(found > 0)
}
