//! Revoked access tokens: their `jti` in Redis until they would have expired anyway. Resource
//! servers that verify locally cannot see this; our own userinfo and introspection do.

use redis::AsyncCommands as _;

use crate::storage::Redis;

/// Denies the token `jti` until `expires_at` (unix seconds).
pub async fn deny(redis: &Redis, jti: &str, expires_at: i64) -> redis::RedisResult<()> {
    let remaining = expires_at - time::OffsetDateTime::now_utc().unix_timestamp();
    if remaining <= 0 {
        return Ok(());
    }
    let mut conn = redis.conn.clone();
    conn.set_ex(redis.key("revoked-jti", jti), 1, remaining.unsigned_abs())
        .await
}

pub async fn is_denied(redis: &Redis, jti: &str) -> redis::RedisResult<bool> {
    let mut conn = redis.conn.clone();
    conn.exists(redis.key("revoked-jti", jti)).await
}
