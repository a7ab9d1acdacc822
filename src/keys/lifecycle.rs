//! The signing-key lifecycle as pure functions of the keys' times and the clock, so that every
//! replica reaches the same answer from the same table and the rules are unit-tested without a
//! database.
//!
//! A key is **next** (published, not signing) until `activate_at`, **active** until `retire_at`,
//! **retiring** (published, verify only) until `expire_at`, then **expired**; **revoked** ends it
//! at once. The chain keeps one active and one next key per algorithm: when a key becomes active,
//! its successor is created to activate when it retires, and at least the pre-publish period (plus
//! the time a change takes to reach every replica) after it first appears in the JWKS.

use std::time::Duration;

use time::OffsetDateTime;

/// Where a key is in its life at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Active,
    Retiring,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }

    /// Whether a key in this state belongs in the JWKS.
    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Active | KeyState::Retiring)
    }

    /// Whether a key in this state signs now or may sign later, so its private half is worth
    /// unsealing.
    pub fn may_sign(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Active)
    }
}

/// When a key activates, retires and expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub activate_at: OffsetDateTime,
    pub retire_at: OffsetDateTime,
    pub expire_at: OffsetDateTime,
}

/// What planning needs to know of one key.
#[derive(Debug, Clone)]
pub struct KeyTimes {
    pub kid: String,
    pub created_at: OffsetDateTime,
    pub times: Times,
    pub revoked_at: Option<OffsetDateTime>,
    /// Sealed under a configured key-encryption key (current or previous), so this replica could
    /// sign with it. A key sealed under another key is left to expire and never planned around
    /// (a server does not start with such a key live: see `crate::kek::check_at_start`).
    pub usable: bool,
}

impl AsRef<KeyTimes> for KeyTimes {
    fn as_ref(&self) -> &KeyTimes {
        self
    }
}

impl KeyTimes {
    pub fn state(&self, now: OffsetDateTime) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else if now < self.times.activate_at {
            KeyState::Next
        } else if now < self.times.retire_at {
            KeyState::Active
        } else if now < self.times.expire_at {
            KeyState::Retiring
        } else {
            KeyState::Expired
        }
    }
}

/// The periods that drive the lifecycle, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// How long a key signs.
    pub rotation_period: Duration,
    /// How long a key is published before it signs.
    pub prepublish: Duration,
    /// The longest a change takes to reach every replica (their reload interval).
    pub propagation: Duration,
    /// How long a retired key stays published: the longest token lifetime plus clock-skew leeway.
    pub token_lifetime: Duration,
}

impl Schedule {
    /// The times of a key that activates at `activate_at` and signs for a full period.
    pub fn times_from(&self, activate_at: OffsetDateTime) -> Times {
        let retire_at = activate_at + self.rotation_period;
        Times {
            activate_at,
            retire_at,
            expire_at: retire_at + self.token_lifetime,
        }
    }

    /// `times` cut (or stretched) to retire at `retire_at`.
    fn retire(&self, times: Times, retire_at: OffsetDateTime) -> Times {
        Times {
            retire_at,
            expire_at: retire_at + self.token_lifetime,
            ..times
        }
    }

    /// The earliest moment a key created at `created_at` may sign: once every replica publishes it
    /// and every cached JWKS fetched before that has expired.
    fn earliest_activation(&self, created_at: OffsetDateTime) -> OffsetDateTime {
        created_at + self.prepublish + self.propagation
    }
}

/// Changes to make to one algorithm's keys: move some keys' times, create at most one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub updates: Vec<(String, Times)>,
    pub create: Option<Times>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.create.is_none()
    }
}

/// The newest usable active key and the earliest usable next key.
fn active_and_next(
    keys: &[KeyTimes],
    now: OffsetDateTime,
) -> (Option<&KeyTimes>, Option<&KeyTimes>) {
    let usable = || keys.iter().filter(|k| k.usable);
    let active = signer(keys, now);
    let next = usable()
        .filter(|k| k.state(now) == KeyState::Next)
        .min_by_key(|k| k.times.activate_at);
    (active, next)
}

/// The step the periodic tick takes for one algorithm's `keys`, if any. Run it until it returns
/// an empty plan (at most twice: the first boot creates an active key, then its successor).
pub fn tick(keys: &[KeyTimes], now: OffsetDateTime, schedule: &Schedule) -> Plan {
    match active_and_next(keys, now) {
        // The first start, or the active key was revoked with no successor: nothing can sign, so
        // a new key must sign at once. (A verifier meets its `kid` as unknown and refetches.)
        (None, None) => Plan {
            updates: vec![],
            create: Some(schedule.times_from(now)),
        },
        // The active key was revoked: its published successor takes over now.
        (None, Some(next)) => Plan {
            updates: vec![(next.kid.clone(), schedule.times_from(now))],
            create: None,
        },
        // The steady state: one active, one next.
        (Some(_), Some(_)) => Plan::default(),
        // The active key has no successor: create it to activate when the active key retires, or
        // later if that is too soon to publish it first; the active key then signs until then.
        (Some(active), None) => {
            let activate_at = active
                .times
                .retire_at
                .max(schedule.earliest_activation(now));
            let updates = if activate_at == active.times.retire_at {
                vec![]
            } else {
                vec![(
                    active.kid.clone(),
                    schedule.retire(active.times, activate_at),
                )]
            };
            Plan {
                updates,
                create: Some(schedule.times_from(activate_at)),
            }
        }
    }
}

/// "Rotate now": the next key signs as soon as it has been published long enough (at once if it
/// has been), and the active key retires at that moment. Without a next key, a new one is created
/// to sign after the pre-publish period.
pub fn rotate_now(keys: &[KeyTimes], now: OffsetDateTime, schedule: &Schedule) -> Plan {
    let (active, next) = active_and_next(keys, now);
    let (activate_at, mut plan) = match next {
        Some(next) => {
            let at = now.max(schedule.earliest_activation(next.created_at));
            (
                at,
                Plan {
                    updates: vec![(next.kid.clone(), schedule.times_from(at))],
                    create: None,
                },
            )
        }
        None => {
            let at = schedule.earliest_activation(now);
            (
                at,
                Plan {
                    updates: vec![],
                    create: Some(schedule.times_from(at)),
                },
            )
        }
    };
    if let Some(active) = active {
        plan.updates.push((
            active.kid.clone(),
            schedule.retire(active.times, activate_at),
        ));
    }
    plan
}

/// The key that signs at `now`: the newest usable active key. The key ring signs with the key
/// this picks among the keys it holds a signer for ([`super::Snapshot::signing_key`]), so the rule
/// the tests below check is the one production follows.
pub fn signer<'a, K: AsRef<KeyTimes> + 'a>(
    keys: impl IntoIterator<Item = &'a K>,
    now: OffsetDateTime,
) -> Option<&'a K> {
    keys.into_iter()
        .filter(|k| {
            let k = k.as_ref();
            k.usable && k.state(now) == KeyState::Active
        })
        .max_by_key(|k| k.as_ref().times.activate_at)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
