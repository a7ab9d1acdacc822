//! Authorization codes: 256 random bits, kept in Redis under their SHA-256 for the configured
//! lifetime (60 s by default) and redeemed with `GETDEL`, so two redemptions racing each other
//! cannot both get it (RFC 6749 §4.1.2: a code is used once). After a redemption a marker remembers
//! what it issued, so a second attempt can revoke those tokens (RFC 6749 §10.5).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::AsyncCommands as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Authentication;
use crate::crypto::{random_token, sha256};
use crate::error::Result;
use crate::oauth::scope::Scopes;
use crate::secret::Secret;
use crate::storage::{Redis, RedisKey};

/// What a code stands for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth: Authentication,
}

/// What a redeemed code issued, to revoke on replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub access_jti: String,
    pub access_expires_at: i64,
    pub refresh_family: Option<Uuid>,
}

fn id(code: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(code.as_bytes()))
}

fn seconds(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// Stores a new code for `grant`; returns the code to send to the client.
pub async fn issue(redis: &Redis, grant: &CodeGrant, ttl: Duration) -> Result<Secret<String>> {
    let code = random_token();
    let mut conn = redis.conn.clone();
    let value = serde_json::to_vec(grant)?;
    conn.set_ex::<_, _, ()>(
        redis.key(RedisKey::Code(&id(code.expose()))),
        value,
        seconds(ttl),
    )
    .await?;
    Ok(code)
}

/// Takes the code out of Redis (at most one caller ever gets it).
pub async fn redeem(redis: &Redis, code: &str) -> Result<Option<CodeGrant>> {
    let mut conn = redis.conn.clone();
    let value: Option<Vec<u8>> = conn.get_del(redis.key(RedisKey::Code(&id(code)))).await?;
    Ok(value.map(|v| serde_json::from_slice(&v)).transpose()?)
}

/// Remembers what the code issued, for as long as its access token lives.
pub async fn remember(redis: &Redis, code: &str, issued: &Issued, ttl: Duration) -> Result<()> {
    let mut conn = redis.conn.clone();
    let value = serde_json::to_vec(issued)?;
    conn.set_ex::<_, _, ()>(
        redis.key(RedisKey::CodeUsed(&id(code))),
        value,
        seconds(ttl),
    )
    .await?;
    Ok(())
}

/// What an already redeemed code issued, if it was redeemed recently.
pub async fn already_redeemed(redis: &Redis, code: &str) -> Result<Option<Issued>> {
    let mut conn = redis.conn.clone();
    let value: Option<Vec<u8>> = conn.get(redis.key(RedisKey::CodeUsed(&id(code)))).await?;
    Ok(value.map(|v| serde_json::from_slice(&v)).transpose()?)
}
