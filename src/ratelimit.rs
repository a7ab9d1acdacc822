//! Rate limits on requests that make the server keep something (device codes, browser sessions),
//! counted in Redis so the limit holds across replicas. Each limit is a fixed window per subject
//! (a client, an address). [`take`] checks and counts several limits in one Lua script, so a
//! request passes every limit or counts against none, and simultaneous requests cannot all slip
//! through between a check and an increment: at most `max` pass in a window, however many arrive
//! at once.

use std::time::Duration;

use crate::error::Result;
use crate::storage::{Redis, RedisKey};

/// One limit: at most `max` per `window` for each subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Names the counter in Redis (`<prefix>rate:<name>:<subject>`).
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// Device authorization requests per client (RFC 8628 §5.2 leaves the defence to the server).
pub const DEVICE_PER_CLIENT: Limit = Limit {
    name: "device-client",
    max: 300,
    window: Duration::from_secs(60),
};
/// Device authorization requests per client address.
pub const DEVICE_PER_ADDRESS: Limit = Limit {
    name: "device-ip",
    max: 10,
    window: Duration::from_secs(60),
};
/// New browser sessions per client address and minute (`PORTCULLIS_NEW_SESSIONS_PER_MINUTE`,
/// default 120): a person needs one; more than that from one address, even a shared one, is a
/// script filling Redis.
pub fn sessions_per_address(per_minute: u32) -> Limit {
    Limit {
        name: "session-ip",
        max: per_minute,
        window: Duration::from_secs(60),
    }
}

/// Checks every limit; only if all have room, counts one against each. `Ok(None)`: counted;
/// `Ok(Some(wait))`: refused, try again after `wait`.
const TAKE: &str = r"
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[2 * i]) end
    return left
  end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then
    redis.call('PEXPIRE', key, ARGV[2 * i])
  end
end
return -1
";

/// Counts one request against each `(limit, subject)`, all or none. `Ok(None)` if it may go
/// ahead; `Ok(Some(wait))` if a limit is used up, with the time until its window ends.
pub async fn take(redis: &Redis, limits: &[(Limit, &str)]) -> Result<Option<Duration>> {
    let script = redis::Script::new(TAKE);
    let mut invocation = script.prepare_invoke();
    for (limit, subject) in limits {
        let window_ms = u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX);
        invocation
            .key(key(redis, limit, subject))
            .arg(limit.max)
            .arg(window_ms);
    }
    let mut conn = redis.conn.clone();
    let left: i64 = invocation.invoke_async(&mut conn).await?;
    Ok(u64::try_from(left).ok().map(|ms| {
        // Whole seconds, at least one, for `Retry-After`.
        Duration::from_secs(ms.div_ceil(1000).max(1))
    }))
}

/// Gives back what [`take`] counted, when the request turned out to keep nothing.
pub async fn give_back(redis: &Redis, limit: Limit, subject: &str) -> Result<()> {
    const GIVE_BACK: &str = r"
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
";
    let mut conn = redis.conn.clone();
    redis::Script::new(GIVE_BACK)
        .key(key(redis, &limit, subject))
        .invoke_async::<i64>(&mut conn)
        .await?;
    Ok(())
}

fn key(redis: &Redis, limit: &Limit, subject: &str) -> String {
    redis.key(RedisKey::Rate {
        limit: limit.name,
        subject,
    })
}
