//! The device authorization grant's state (RFC 8628), in Redis with a lifetime: the request under
//! the SHA-256 of its `device_code`, the `user_code` pointing at it, and, once a person approves,
//! the approval under a separate key taken with `GETDEL`, so tokens are issued exactly once.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt as _;
use redis::AsyncCommands as _;
use serde::{Deserialize, Serialize};

use super::Authentication;
use crate::crypto::{random_token, sha256};
use crate::error::Result;
use crate::oauth::scope::Scopes;
use crate::secret::Secret;
use crate::storage::{Redis, RedisKey};

/// RFC 8628 §6.1: no vowels (no words), no look-alike letters.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A new user code, shown as `XXXX-XXXX` (20^8 ≈ 2.6·10^10 codes; entry is throttled).
pub fn new_user_code() -> String {
    let mut rng = rand::rng();
    let code: String = (0..8)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.random_range(0..20)]))
        .collect();
    format!("{}-{}", &code[..4], &code[4..])
}

/// What a person typed, as stored: upper case, without dashes or spaces; `None` if it cannot be a
/// user code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// Where a device request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Denied,
    /// Tokens were issued; further polls get `invalid_grant`.
    Redeemed,
}

/// A device's request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Scopes,
    pub user_code: String,
    pub status: Status,
    /// Seconds the device was told to wait between polls (RFC 8628 §3.2 `interval`). It stays as
    /// announced: see [`poll`].
    pub interval: u64,
    pub last_poll_ms: i64,
    pub expires_at: i64,
}

/// What the device gets back from `/device_authorization`.
pub struct Issued {
    pub device_code: Secret<String>,
    pub user_code: String,
}

/// Records stay a while past expiry so a late poll gets `expired_token`, not `invalid_grant`.
const TOMBSTONE: Duration = Duration::from_secs(600);

fn id(device_code: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(device_code.as_bytes()))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Starts a device request.
pub async fn start(
    redis: &Redis,
    client_id: &str,
    client_name: &str,
    scopes: Scopes,
    ttl: Duration,
    interval: Duration,
) -> Result<Issued> {
    let device_code = random_token();
    let request_id = id(device_code.expose());
    let mut conn = redis.conn.clone();
    // A fresh user code; on the rare collision with a live one, draw again.
    let user_code = loop {
        let code = new_user_code();
        let key = redis.key(RedisKey::DeviceUserCode(
            &normalize_user_code(&code).unwrap_or_default(),
        ));
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&request_id)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await?;
        if set.is_some() {
            break code;
        }
    };
    let request = DeviceRequest {
        client_id: client_id.to_owned(),
        client_name: client_name.to_owned(),
        scopes,
        user_code: user_code.clone(),
        status: Status::Pending,
        interval: interval.as_secs().max(1),
        last_poll_ms: 0,
        expires_at: now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
    };
    save(redis, &request_id, &request, ttl + TOMBSTONE).await?;
    Ok(Issued {
        device_code,
        user_code,
    })
}

async fn save(
    redis: &Redis,
    request_id: &str,
    request: &DeviceRequest,
    keep: Duration,
) -> Result<()> {
    let mut conn = redis.conn.clone();
    conn.set_ex::<_, _, ()>(
        redis.key(RedisKey::Device(request_id)),
        serde_json::to_vec(request)?,
        keep.as_secs().max(1),
    )
    .await?;
    Ok(())
}

async fn keep_for(redis: &Redis, request_id: &str) -> Result<Duration> {
    let mut conn = redis.conn.clone();
    let ttl: i64 = conn.ttl(redis.key(RedisKey::Device(request_id))).await?;
    Ok(Duration::from_secs(ttl.max(1).unsigned_abs()))
}

pub async fn load(redis: &Redis, request_id: &str) -> Result<Option<DeviceRequest>> {
    let mut conn = redis.conn.clone();
    let value: Option<Vec<u8>> = conn.get(redis.key(RedisKey::Device(request_id))).await?;
    Ok(value.map(|v| serde_json::from_slice(&v)).transpose()?)
}

/// The request a (normalized) user code stands for, with its id, while it is pending and valid.
pub async fn by_user_code(
    redis: &Redis,
    user_code: &str,
) -> Result<Option<(String, DeviceRequest)>> {
    let mut conn = redis.conn.clone();
    let request_id: Option<String> = conn
        .get(redis.key(RedisKey::DeviceUserCode(user_code)))
        .await?;
    let Some(request_id) = request_id else {
        return Ok(None);
    };
    Ok(load(redis, &request_id)
        .await?
        .filter(|r| r.status == Status::Pending && r.expires_at > now())
        .map(|r| (request_id, r)))
}

/// The person's decision. The user code is used up either way.
pub async fn decide(
    redis: &Redis,
    request_id: &str,
    approval: Option<&Authentication>,
) -> Result<bool> {
    let Some(mut request) = load(redis, request_id)
        .await?
        .filter(|r| r.status == Status::Pending)
    else {
        return Ok(false);
    };
    let mut conn = redis.conn.clone();
    let code = normalize_user_code(&request.user_code).unwrap_or_default();
    conn.del::<_, ()>(redis.key(RedisKey::DeviceUserCode(&code)))
        .await?;
    let keep = keep_for(redis, request_id).await?;
    match approval {
        Some(auth) => {
            conn.set_ex::<_, _, ()>(
                redis.key(RedisKey::DeviceApproval(request_id)),
                serde_json::to_vec(auth)?,
                keep.as_secs().max(1),
            )
            .await?;
        }
        None => {
            request.status = Status::Denied;
            save(redis, request_id, &request, keep).await?;
        }
    }
    Ok(true)
}

/// What a poll finds.
pub enum Poll {
    /// Unknown device code.
    Unknown,
    /// For another client.
    OtherClient,
    Expired,
    /// Polled sooner than the interval (the client is to add 5 s, RFC 8628 §3.5).
    SlowDown,
    Pending,
    Denied,
    AlreadyRedeemed,
    /// Approved: issue tokens for this person and these scopes (exactly once).
    Approved(Authentication, DeviceRequest),
}

/// Whether a poll `since_last_ms` after the previous one comes too soon for `interval_secs`.
///
/// RFC 8628 §3.5 has the *client* add 5 s to its interval on every `slow_down`. The server
/// measures against the interval it announced and never raises it: raising it as well would
/// leave a client that started out of step (one early poll the client did not count, a timer
/// that fired a millisecond early) 5 s behind for good, answered `slow_down` on every poll.
/// Measured this way, a client that follows §3.5 from any starting point is never too early
/// again after its first `slow_down`, and gets its tokens within one interval of the approval.
/// A tenth of the interval is allowed for timer and network jitter.
pub fn too_soon(since_last_ms: i64, interval_secs: u64) -> bool {
    let interval_ms = i64::try_from(interval_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    since_last_ms < interval_ms - interval_ms / 10
}

pub async fn poll(redis: &Redis, device_code: &str, client_id: &str) -> Result<Poll> {
    let request_id = id(device_code);
    let Some(mut request) = load(redis, &request_id).await? else {
        return Ok(Poll::Unknown);
    };
    if request.client_id != client_id {
        return Ok(Poll::OtherClient);
    }
    if request.expires_at <= now() {
        return Ok(Poll::Expired);
    }
    match request.status {
        Status::Denied => return Ok(Poll::Denied),
        Status::Redeemed => return Ok(Poll::AlreadyRedeemed),
        Status::Pending => {}
    }
    let now_ms = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    let early = too_soon(now_ms - request.last_poll_ms, request.interval);
    request.last_poll_ms = now_ms;
    let keep = keep_for(redis, &request_id).await?;
    if early {
        save(redis, &request_id, &request, keep).await?;
        return Ok(Poll::SlowDown);
    }
    let mut conn = redis.conn.clone();
    let approval: Option<Vec<u8>> = conn
        .get_del(redis.key(RedisKey::DeviceApproval(&request_id)))
        .await?;
    match approval {
        Some(bytes) => {
            let auth: Authentication = serde_json::from_slice(&bytes)?;
            request.status = Status::Redeemed;
            save(redis, &request_id, &request, keep).await?;
            Ok(Poll::Approved(auth, request))
        }
        None => {
            save(redis, &request_id, &request, keep).await?;
            Ok(Poll::Pending)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_8_consonants_and_typed_loosely() {
        let code = new_user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        let normalized = normalize_user_code(&code.to_lowercase().replace('-', " ")).unwrap();
        assert_eq!(normalized, code.replace('-', ""));
        assert!(
            normalize_user_code("ABCD-EFGH").is_none(),
            "vowels are not in the alphabet"
        );
        assert!(normalize_user_code("BCDF-GHJ").is_none());
    }

    #[test]
    fn polls_are_measured_against_the_announced_interval() {
        assert!(too_soon(100, 5));
        assert!(!too_soon(5_000, 5));
        assert!(
            !too_soon(4_999, 5),
            "a timer that fires early is not too soon"
        );
        assert!(too_soon(4_000, 5));
        // A client 5 s behind is never refused again: the interval does not grow.
        assert!(!too_soon(10_000, 5));
    }
}
