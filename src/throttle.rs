//! Throttling of guesses (passwords, second factors, device user codes), counted in Redis so the
//! limit holds across replicas. An attempt is *reserved* before the guess is evaluated: one Lua
//! script reads every subject's count and, only if none of them has to wait, counts the attempt
//! against all of them. Simultaneous guesses therefore cannot all pass a check made before any of
//! them was counted (ASVS 5.0 V6.3.1, NIST SP 800-63B §5.2.2). [`reserve`] is the only way in:
//! a [`Reservation`] that is dropped stays counted as a failure; [`Reservation::succeeded`] takes
//! it back.
//!
//! Past a number of free attempts each further attempt must wait twice as long as the one before,
//! up to a cap; a subject's count is forgotten a window after its last attempt. Nothing is locked
//! for good. A guess at an account's secret counts against three subjects (see [`guess_at`]): the
//! account *from that source address* (few free attempts, a long cap: the delay falls on whoever
//! failed), the account from anywhere (more free attempts, a low cap, so an attacker elsewhere can
//! delay its owner by at most that much) and the source address (room for NAT, a long cap).

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use crate::error::Result;
use crate::storage::{Redis, RedisKey};

/// How one kind of subject is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts allowed before any wait.
    pub free: u32,
    /// The longest wait.
    pub max_delay: Duration,
    /// How long after the last attempt the count is forgotten.
    pub window: Duration,
}

const WINDOW: Duration = Duration::from_secs(900);

/// An account from one source address (or one browser session): five free attempts, then 1 s,
/// 2 s, 4 s ... up to 5 minutes.
pub const ACCOUNT_FROM_SOURCE: Policy = Policy {
    free: 5,
    max_delay: Duration::from_secs(300),
    window: WINDOW,
};
/// An account's passwords from anywhere: ten free attempts, then at most a minute, so a
/// distributed guesser is slowed down and the owner waits at most a minute because of it.
pub const ACCOUNT_PASSWORD: Policy = Policy {
    free: 10,
    max_delay: Duration::from_secs(60),
    window: WINDOW,
};
/// An account's second factors from anywhere: only someone who knows the password gets here, so
/// a longer cap keeps a TOTP brute force from many addresses slow without exposing the owner to
/// strangers.
pub const ACCOUNT_SECOND_FACTOR: Policy = Policy {
    free: 10,
    max_delay: Duration::from_secs(300),
    window: WINDOW,
};
/// A source address: more room (addresses are shared behind NAT), up to 15 minutes.
pub const ADDRESS: Policy = Policy {
    free: 20,
    max_delay: Duration::from_secs(900),
    window: WINDOW,
};

/// What is being guessed; each has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Whose secret is guessed: a known user, or a name that matches nobody (counted the same way,
/// so throttling does not tell which names exist).
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    User(Uuid),
    /// The typed name, trimmed and lower-cased. Stored only as a hash.
    Unknown(&'a str),
}

impl Account<'_> {
    fn id(&self) -> String {
        match self {
            Account::User(id) => format!("user:{id}"),
            Account::Unknown(name) => format!("name:{}", hashed(name)),
        }
    }
}

/// What happens to a subject's count when the guess turns out right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnSuccess {
    /// Forgotten: whoever was guessing from here proved who they are.
    Clear,
    /// The attempt is taken back; failures by others stay counted.
    Refund,
}

/// One counter an attempt is reserved against.
#[derive(Debug, Clone)]
pub struct Subject {
    id: String,
    policy: Policy,
    on_success: OnSuccess,
}

/// Outside input in a key only as a SHA-256: bounded, and nothing readable left in Redis.
fn hashed(input: &str) -> String {
    crate::crypto::sha256(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn address_id(ip: IpAddr) -> String {
    format!("ip:{}", ip.to_canonical())
}

/// The subjects of a guess at `account`'s secret of `kind` from `ip`.
pub fn guess_at(kind: Kind, account: Account<'_>, ip: IpAddr) -> Vec<Subject> {
    let account = account.id();
    let anywhere = match kind {
        Kind::SecondFactor => ACCOUNT_SECOND_FACTOR,
        Kind::Password | Kind::DeviceCode => ACCOUNT_PASSWORD,
    };
    vec![
        Subject {
            id: format!("{account}@{}", ip.to_canonical()),
            policy: ACCOUNT_FROM_SOURCE,
            on_success: OnSuccess::Clear,
        },
        Subject {
            id: account,
            policy: anywhere,
            on_success: OnSuccess::Refund,
        },
        Subject {
            id: address_id(ip),
            policy: ADDRESS,
            on_success: OnSuccess::Refund,
        },
    ]
}

/// The subjects of a code typed in one browser session from `ip`; `session_secret` is a value
/// only that session knows (its CSRF token). The address counts too, since an attacker simply
/// drops the session cookie.
pub fn code_from(session_secret: &str, ip: IpAddr) -> Vec<Subject> {
    vec![
        Subject {
            id: format!("session:{}", hashed(session_secret)),
            policy: ACCOUNT_FROM_SOURCE,
            on_success: OnSuccess::Clear,
        },
        Subject {
            id: address_id(ip),
            policy: ADDRESS,
            on_success: OnSuccess::Refund,
        },
    ]
}

fn key(redis: &Redis, kind: Kind, subject: &str) -> String {
    redis.key(RedisKey::Throttle {
        kind: kind.as_str(),
        subject,
    })
}

/// Checks every subject (KEYS) and, only if none must wait, counts the attempt against all.
/// After `n` counted attempts a subject waits nothing while `n < free`, then 1 s, 2 s, 4 s ...
/// after its last attempt, up to its cap. ARGV: per subject `free`, `max_delay_ms`, `window_s`.
/// Times come from the Redis server, so replicas with skewed clocks agree. Returns 0 (reserved)
/// or the longest remaining wait in ms.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[3 * i - 2])
  local cap = tonumber(ARGV[3 * i - 1])
  local v = redis.call('HMGET', key, 'n', 'last')
  local n = tonumber(v[1]) or 0
  local last = tonumber(v[2]) or 0
  if n >= free then
    local delay = math.min(1000 * 2 ^ math.min(n - free, 20), cap)
    wait = math.max(wait, last + delay - now)
  end
end
if wait > 0 then
  return math.ceil(wait)
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 'last', now)
  redis.call('EXPIRE', key, tonumber(ARGV[3 * i]))
end
return 0
";

/// Takes back one attempt of each KEYS[i] whose ARGV[i] is `refund`, and forgets the others.
const SUCCEEDED: &str = r"
for i, key in ipairs(KEYS) do
  if ARGV[i] == 'refund' then
    if redis.call('EXISTS', key) == 1 and redis.call('HINCRBY', key, 'n', -1) <= 0 then
      redis.call('DEL', key)
    end
  else
    redis.call('DEL', key)
  end
end
return 0
";

/// Why an attempt was not reserved.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Too many attempts: try again after this long.
    #[error("too many attempts; wait {0:?}")]
    Wait(Duration),
    #[error("throttling store unavailable: {0}")]
    Unavailable(#[from] redis::RedisError),
}

/// An attempt counted before its guess is evaluated. Dropped, it stays counted as a failure.
#[must_use = "a guess may be evaluated only while its reservation is held"]
#[derive(Debug)]
pub struct Reservation {
    kind: Kind,
    subjects: Vec<Subject>,
}

impl Reservation {
    /// The guess was right: the account's count from this source is forgotten and this attempt
    /// is taken back from the others, so a success never leaves a counted failure behind. If
    /// Redis fails here the attempt merely stays counted; the success itself stands.
    pub async fn succeeded(self, redis: &Redis) {
        let script = redis::Script::new(SUCCEEDED);
        let mut invocation = script.prepare_invoke();
        for subject in &self.subjects {
            invocation.key(key(redis, self.kind, &subject.id));
            invocation.arg(match subject.on_success {
                OnSuccess::Clear => "clear",
                OnSuccess::Refund => "refund",
            });
        }
        let mut conn = redis.conn.clone();
        if let Err(e) = invocation.invoke_async::<i64>(&mut conn).await {
            tracing::warn!(error = %e, "a successful attempt stays counted");
        }
    }
}

/// Reserves one attempt at `kind` against every subject, atomically: all are counted, or (when
/// any of them must still wait) none is and the longest wait is returned.
pub async fn reserve(
    redis: &Redis,
    kind: Kind,
    subjects: Vec<Subject>,
) -> Result<Reservation, Refused> {
    let script = redis::Script::new(RESERVE);
    let mut invocation = script.prepare_invoke();
    for subject in &subjects {
        let millis = u64::try_from(subject.policy.max_delay.as_millis()).unwrap_or(u64::MAX);
        invocation
            .key(key(redis, kind, &subject.id))
            .arg(subject.policy.free)
            .arg(millis)
            .arg(subject.policy.window.as_secs().max(1));
    }
    let mut conn = redis.conn.clone();
    let wait_ms: u64 = invocation.invoke_async(&mut conn).await?;
    if wait_ms > 0 {
        return Err(Refused::Wait(Duration::from_millis(wait_ms)));
    }
    Ok(Reservation { kind, subjects })
}

/// Forgets every password and second-factor count of the user's account, from anywhere (an
/// administrator's "clear throttling"). Per-address counts stay: they protect against whoever
/// is guessing.
pub async fn clear_account(redis: &Redis, user_id: Uuid) -> Result<()> {
    let account = Account::User(user_id).id();
    let mut conn = redis.conn.clone();
    for kind in [Kind::Password, Kind::SecondFactor] {
        let anywhere = key(redis, kind, &account);
        // The per-source keys are `<anywhere>@<address>`; the prefix is escaped for MATCH.
        let pattern: String = anywhere
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '*' | '?' | '[' | ']' | '\\');
                escape.then_some('\\').into_iter().chain([c])
            })
            .chain("@*".chars())
            .collect();
        let mut keys: Vec<String> = vec![anywhere];
        let mut cursor: u64 = 0;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            keys.extend(found);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<()>(&mut conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guess_counts_against_the_account_from_its_source_the_account_and_the_source() {
        let ip: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let id = Uuid::nil();
        let subjects = guess_at(Kind::Password, Account::User(id), ip);
        let ids: Vec<&str> = subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                format!("user:{id}@192.0.2.7").as_str(),
                format!("user:{id}").as_str(),
                "ip:192.0.2.7"
            ]
        );
        let unknown = guess_at(Kind::Password, Account::Unknown("Some Name"), ip);
        assert!(unknown[1].id.starts_with("name:") && !unknown[1].id.contains("Some"));
    }
}
