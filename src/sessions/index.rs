//! An index of signed-in sessions in Redis, kept by the session store as it writes: a sorted set
//! `<prefix>sessions` (session id → expiry) for the count of active sessions, and a hash per
//! person `<prefix>user-sessions:<user id>` (session id → OIDC `sid`) so an administrator can see
//! and end someone's sessions. Redis expires the sessions themselves; entries whose session is
//! gone are dropped when read.
//!
//! The session id is the cookie value, so it never leaves this module: administrators and the
//! admin API see and end a session by its [`handle`], a one-way hash of the id that cannot be
//! turned back into a cookie.

use redis::AsyncCommands as _;
use tower_sessions::session::Record;
use uuid::Uuid;

use super::SignedIn;
use crate::amr::Amr;
use crate::error::Result;
use crate::storage::{Redis, RedisKey};

fn all_key(redis: &Redis) -> String {
    redis.key(RedisKey::Sessions)
}

fn user_key(redis: &Redis, user_id: Uuid) -> String {
    redis.key(RedisKey::UserSessions(user_id))
}

/// The Redis key of a session record (shared with the store).
pub fn session_key(redis: &Redis, id: &str) -> String {
    redis.key(RedisKey::Session(id))
}

/// The handle a session is shown and ended by: SHA-256 of its id (128 random bits, so the hash
/// cannot be reversed by guessing), domain-separated, base64url. Never the cookie value.
pub fn handle(id: &str) -> String {
    use base64::Engine as _;
    let digest = crate::crypto::sha256(format!("portcullis session handle\0{id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The signed-in person a session record holds, if any.
pub fn signed_in(record: &Record) -> Option<SignedIn> {
    record
        .data
        .get(super::key::SIGNED_IN)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// Adds the commands that index `record` to `pipe`; false if it is not signed in.
pub fn add_to(pipe: &mut redis::Pipeline, redis: &Redis, record: &Record) -> bool {
    let Some(signed_in) = signed_in(record) else {
        return false;
    };
    let id = record.id.to_string();
    let expiry = record.expiry_date.unix_timestamp();
    let user = user_key(redis, signed_in.user_id);
    pipe.zadd(all_key(redis), &id, expiry).ignore();
    pipe.hset(&user, &id, &signed_in.sid).ignore();
    // The hash lives as long as its longest session: set a deadline if none, extend it if later.
    for option in ["NX", "GT"] {
        pipe.cmd("EXPIREAT")
            .arg(&user)
            .arg(expiry)
            .arg(option)
            .ignore();
    }
    true
}

/// Drops a deleted session from the count.
pub fn remove_from(pipe: &mut redis::Pipeline, redis: &Redis, id: &str) {
    pipe.zrem(all_key(redis), id).ignore();
}

/// How many signed-in sessions have not expired.
pub async fn active(redis: &Redis) -> Result<u64> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut conn = redis.conn.clone();
    let (_, count): (u64, u64) = redis::pipe()
        .zrembyscore(all_key(redis), "-inf", now)
        .zcard(all_key(redis))
        .query_async(&mut conn)
        .await?;
    Ok(count)
}

/// One of a person's live sessions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LiveSession {
    /// The session's handle for ending it ([`handle`]); never the session id (the cookie).
    pub handle: String,
    pub sid: String,
    pub signed_in_at: i64,
    pub amr: Vec<Amr>,
    pub expires_at: i64,
}

impl LiveSession {
    /// How the person signed in, as shown to administrators: `pwd + otp`.
    pub fn methods(&self) -> String {
        let names: Vec<&str> = self.amr.iter().map(|m| m.as_str()).collect();
        names.join(" + ")
    }
}

/// The live sessions of `user_id`, newest first.
pub async fn of_user(redis: &Redis, user_id: Uuid) -> Result<Vec<LiveSession>> {
    let mut conn = redis.conn.clone();
    let user = user_key(redis, user_id);
    let ids: Vec<String> = conn.hkeys(&user).await?;
    let mut live = Vec::new();
    for id in ids {
        let raw: Option<Vec<u8>> = conn.get(session_key(redis, &id)).await?;
        let record = raw.and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok());
        match record.as_ref().and_then(|r| signed_in(r).map(|s| (r, s))) {
            Some((record, s)) if s.user_id == user_id => live.push(LiveSession {
                handle: handle(&id),
                sid: s.sid,
                signed_in_at: s.auth_time,
                amr: s.amr,
                expires_at: record.expiry_date.unix_timestamp(),
            }),
            _ => {
                let _: () = conn.hdel(&user, &id).await?;
            }
        }
    }
    live.sort_by_key(|s| std::cmp::Reverse(s.signed_in_at));
    Ok(live)
}

/// Ends the session of `user_id` with handle `wanted` (false if it was not theirs or is gone).
pub async fn end(redis: &Redis, user_id: Uuid, wanted: &str) -> Result<bool> {
    let mut conn = redis.conn.clone();
    let user = user_key(redis, user_id);
    let ids: Vec<String> = conn.hkeys(&user).await?;
    let Some(id) = ids.into_iter().find(|id| handle(id) == wanted) else {
        return Ok(false);
    };
    let (deleted, _, _): (u64, u64, u64) = redis::pipe()
        .del(session_key(redis, &id))
        .zrem(all_key(redis), &id)
        .hdel(&user, &id)
        .query_async(&mut conn)
        .await?;
    Ok(deleted > 0)
}

/// Ends every indexed session of `user_id`; returns how many there were.
pub async fn end_all(redis: &Redis, user_id: Uuid) -> Result<u64> {
    let mut conn = redis.conn.clone();
    let user = user_key(redis, user_id);
    let ids: Vec<String> = conn.hkeys(&user).await?;
    let mut pipe = redis::pipe();
    let mut ended = 0;
    for id in &ids {
        pipe.del(session_key(redis, id)).ignore();
        pipe.zrem(all_key(redis), id).ignore();
        ended += 1;
    }
    pipe.del(&user).ignore();
    pipe.query_async::<()>(&mut conn).await?;
    Ok(ended)
}
