//! Unit tests of the lifecycle rules: a simulated clock drives `tick`, `rotate_now` and
//! revocation over many periods and checks the promises the JWKS makes to verifiers.

use super::*;

const S: Duration = Duration::from_secs(1);

fn schedule() -> Schedule {
    Schedule {
        rotation_period: 100 * S,
        prepublish: 20 * S,
        propagation: 2 * S,
        token_lifetime: 30 * S,
    }
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// Applies a plan the way the store does: updates, then at most one new key.
fn apply(keys: &mut Vec<KeyTimes>, plan: Plan, now: OffsetDateTime) {
    for (kid, times) in plan.updates {
        keys.iter_mut().find(|k| k.kid == kid).unwrap().times = times;
    }
    if let Some(times) = plan.create {
        let kid = format!("k{}", keys.len());
        keys.push(KeyTimes {
            kid,
            created_at: now,
            times,
            revoked_at: None,
            usable: true,
        });
    }
}

fn tick_until_stable(keys: &mut Vec<KeyTimes>, now: OffsetDateTime) {
    for _ in 0..3 {
        let plan = tick(keys, now, &schedule());
        if plan.is_empty() {
            return;
        }
        apply(keys, plan, now);
    }
    panic!("tick did not settle: {keys:?}");
}

fn count(keys: &[KeyTimes], now: OffsetDateTime, state: KeyState) -> usize {
    keys.iter().filter(|k| k.state(now) == state).count()
}

#[test]
fn first_tick_creates_an_active_key_and_its_successor() {
    let mut keys = vec![];
    tick_until_stable(&mut keys, t0());
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].state(t0()), KeyState::Active);
    assert_eq!(keys[1].state(t0()), KeyState::Next);
    assert_eq!(keys[1].times.activate_at, keys[0].times.retire_at);
    assert_eq!(signer(&keys, t0()).unwrap().kid, "k0");
}

#[test]
fn steady_rotation_keeps_one_active_one_next_and_publishes_before_signing() {
    let sched = schedule();
    let mut keys = vec![];
    let mut now = t0();
    tick_until_stable(&mut keys, now);
    // Tick every 3 s for ten periods.
    for _ in 0..350 {
        now += 3 * S;
        tick_until_stable(&mut keys, now);
        assert_eq!(count(&keys, now, KeyState::Active), 1, "at {now}: {keys:?}");
        assert_eq!(count(&keys, now, KeyState::Next), 1, "at {now}: {keys:?}");
    }
    assert!(keys.len() >= 10, "{} keys", keys.len());
    for key in &keys[1..] {
        let published_for = key.times.activate_at - key.created_at;
        assert!(
            published_for >= sched.prepublish + sched.propagation,
            "{key:?}"
        );
    }
}

#[test]
fn every_token_signed_expires_before_its_key_leaves_the_jwks() {
    let sched = schedule();
    let mut keys = vec![];
    let mut now = t0();
    tick_until_stable(&mut keys, now);
    for step in 0..500 {
        now += 2 * S;
        tick_until_stable(&mut keys, now);
        if step % 97 == 0 {
            let plan = rotate_now(&keys, now, &sched);
            apply(&mut keys, plan, now);
        }
        let key = signer(&keys, now).expect("a key signs at every moment");
        // A token signed now with the longest lifetime must stay verifiable until it expires.
        assert!(
            key.times.expire_at >= now + sched.token_lifetime,
            "{key:?} at {now}"
        );
    }
}

#[test]
fn rotate_now_waits_for_the_next_key_to_be_published_long_enough() {
    let sched = schedule();
    let mut keys = vec![];
    tick_until_stable(&mut keys, t0());
    // Right after creation the next key has not been published long enough.
    let now = t0() + 5 * S;
    let plan = rotate_now(&keys, now, &sched);
    apply(&mut keys, plan, now);
    let expected = keys[1].created_at + sched.prepublish + sched.propagation;
    assert_eq!(keys[1].times.activate_at, expected);
    assert_eq!(keys[0].times.retire_at, expected);
    assert_eq!(signer(&keys, expected - S).unwrap().kid, "k0");
    assert_eq!(signer(&keys, expected).unwrap().kid, "k1");
    // Once the following next key has been published long enough, rotating activates it at once.
    let later = expected + 50 * S;
    tick_until_stable(&mut keys, later);
    let ready = later + sched.prepublish + sched.propagation;
    let plan = rotate_now(&keys, ready, &sched);
    apply(&mut keys, plan, ready);
    assert_eq!(signer(&keys, ready).unwrap().kid, "k2");
    assert_eq!(keys[1].times.retire_at, ready);
}

#[test]
fn revoking_the_active_key_promotes_the_next_at_once() {
    let mut keys = vec![];
    let now = t0() + 50 * S;
    tick_until_stable(&mut keys, t0());
    keys[0].revoked_at = Some(now);
    assert!(signer(&keys, now).is_none());
    tick_until_stable(&mut keys, now);
    assert_eq!(signer(&keys, now).unwrap().kid, "k1");
    assert_eq!(count(&keys, now, KeyState::Next), 1);
    assert!(!keys[0].state(now).is_published());
}

#[test]
fn revoking_every_key_starts_a_new_chain() {
    let mut keys = vec![];
    tick_until_stable(&mut keys, t0());
    for key in &mut keys {
        key.revoked_at = Some(t0());
    }
    tick_until_stable(&mut keys, t0() + S);
    assert_eq!(signer(&keys, t0() + S).unwrap().kid, "k2");
}

#[test]
fn a_late_tick_extends_the_active_key_instead_of_activating_an_unpublished_one() {
    let sched = schedule();
    let mut keys = vec![];
    tick_until_stable(&mut keys, t0());
    // The next key is revoked just before it would activate, so no successor is published.
    keys[1].revoked_at = Some(t0());
    let now = keys[0].times.retire_at - 5 * S;
    tick_until_stable(&mut keys, now);
    let successor = &keys[2];
    assert_eq!(
        successor.times.activate_at,
        now + sched.prepublish + sched.propagation
    );
    assert_eq!(keys[0].times.retire_at, successor.times.activate_at);
    assert_eq!(signer(&keys, now + 10 * S).unwrap().kid, "k0");
}

#[test]
fn keys_under_another_encryption_key_are_replaced() {
    let mut keys = vec![];
    tick_until_stable(&mut keys, t0());
    for key in &mut keys {
        key.usable = false;
    }
    tick_until_stable(&mut keys, t0() + S);
    assert_eq!(signer(&keys, t0() + S).unwrap().kid, "k2");
    // The old keys stay published until they expire.
    assert!(keys[0].state(t0() + S).is_published());
}
