//! Throttling of guesses (passwords, second factors), counted in Redis so the limit holds across
//! replicas. Each subject (an account, an IP address) has a failure count that expires a window
//! after the last failure; past a number of free attempts each further attempt must wait twice as
//! long as the one before, up to a cap. Nothing is ever locked for good, so an attacker cannot
//! lock a person out for longer than the cap, and a success clears the account's count.

use std::time::Duration;

use redis::AsyncCommands as _;

use crate::storage::Redis;

/// How one kind of subject is throttled.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free: u32,
    /// The longest wait.
    pub max_delay: Duration,
    /// How long after the last failure the count is forgotten.
    pub window: Duration,
}

/// Per account: five free guesses, then 1 s, 2 s, 4 s ... up to 5 minutes.
pub const ACCOUNT: Policy = Policy {
    free: 5,
    max_delay: Duration::from_secs(300),
    window: Duration::from_secs(900),
};
/// Per IP address: more room (addresses are shared behind NAT), up to 15 minutes.
pub const ADDRESS: Policy = Policy {
    free: 20,
    max_delay: Duration::from_secs(900),
    window: Duration::from_secs(900),
};

/// What is being guessed; each has its own counters.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Password,
    SecondFactor,
    /// Device flow user codes typed at `/device`.
    DeviceCode,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Password => "pw",
            Kind::SecondFactor => "mfa",
            Kind::DeviceCode => "device",
        }
    }
}

/// The wait after `failures` failures under `policy`.
pub fn delay(failures: u32, policy: Policy) -> Duration {
    if failures < policy.free {
        return Duration::ZERO;
    }
    let exponent = (failures - policy.free).min(20);
    Duration::from_secs(1u64 << exponent).min(policy.max_delay)
}

fn key(redis: &Redis, kind: Kind, subject: &str) -> String {
    redis.key(&format!("throttle:{}", kind.as_str()), subject)
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// How long the caller must still wait before trying `kind` for these subjects (the longest of
/// their waits), or `None` if it may try now.
pub async fn wait(
    redis: &Redis,
    kind: Kind,
    subjects: &[(&str, Policy)],
) -> redis::RedisResult<Option<Duration>> {
    let mut conn = redis.conn.clone();
    let mut longest = Duration::ZERO;
    for (subject, policy) in subjects {
        let (failures, last): (Option<u32>, Option<i64>) = redis::cmd("HMGET")
            .arg(key(redis, kind, subject))
            .arg("failures")
            .arg("last")
            .query_async(&mut conn)
            .await?;
        let (Some(failures), Some(last)) = (failures, last) else {
            continue;
        };
        let allowed_at =
            last + i64::try_from(delay(failures, *policy).as_secs()).unwrap_or(i64::MAX);
        let remaining = allowed_at - now_secs();
        if remaining > 0 {
            longest = longest.max(Duration::from_secs(remaining.unsigned_abs()));
        }
    }
    Ok((!longest.is_zero()).then_some(longest))
}

/// Counts a failure against every subject.
pub async fn failed(
    redis: &Redis,
    kind: Kind,
    subjects: &[(&str, Policy)],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for (subject, policy) in subjects {
        let key = key(redis, kind, subject);
        pipe.hincr(&key, "failures", 1)
            .ignore()
            .hset(&key, "last", now_secs())
            .ignore()
            .expire(
                &key,
                i64::try_from(policy.window.as_secs()).unwrap_or(i64::MAX),
            )
            .ignore();
    }
    let mut conn = redis.conn.clone();
    pipe.query_async::<()>(&mut conn).await
}

/// Forgets the failures of `subject` (after a success).
pub async fn clear(redis: &Redis, kind: Kind, subject: &str) -> redis::RedisResult<()> {
    let mut conn = redis.conn.clone();
    conn.del::<_, ()>(key(redis, kind, subject)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_at_the_cap() {
        let waits: Vec<u64> = (0..12).map(|n| delay(n, ACCOUNT).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(delay(1000, ACCOUNT), ACCOUNT.max_delay);
        assert_eq!(delay(19, ADDRESS), Duration::ZERO);
        assert_eq!(delay(1000, ADDRESS), ADDRESS.max_delay);
    }
}
