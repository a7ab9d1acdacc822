//! The rotating key ring across replicas: concurrent ticks create exactly one next key, every
//! token stays verifiable with any JWKS fetched during its lifetime (including a cached one), and
//! rotate-now and revoke behave as documented.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use josekit::jwk::Jwk;
use josekit::jws::{ES256, RS256};
use josekit::jwt::JwtPayload;
use portcullis::audit::{Actor, By};
use portcullis::crypto::Kek;
use portcullis::keys::Alg;
use portcullis::keys::lifecycle::{KeyState, Schedule};
use portcullis::keys::{Rotator, store};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::helpers::{Settings, TestApp, TestDb, eventually, random_kek};

/// Short periods so that a test sees several rotations: a key signs for 2 s, is published 1 s
/// before, tokens live 3 s.
fn fast(settings: Settings) -> Settings {
    settings
        .set("PORTCULLIS_KEY_ROTATION_PERIOD", "2s")
        .set("PORTCULLIS_KEY_PREPUBLISH", "1s")
        .set("PORTCULLIS_JWKS_MAX_AGE", "1s")
        .set("PORTCULLIS_ACCESS_TOKEN_TTL", "3s")
        .set("PORTCULLIS_ID_TOKEN_TTL", "3s")
}

/// Verifies `token`'s signature with the key its `kid` names in `jwks`, as a resource server would.
pub fn verify(jwks: &Value, token: &str) -> Result<String, String> {
    let header = josekit::jwt::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header
        .claim("kid")
        .and_then(Value::as_str)
        .ok_or("no kid")?
        .to_owned();
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let jwk =
        Jwk::from_map(jwk.as_object().cloned().unwrap_or_default()).map_err(|e| e.to_string())?;
    let result = match jwk.algorithm() {
        Some("RS256") => josekit::jwt::decode_with_verifier(
            token,
            &RS256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?,
        ),
        Some("ES256") => josekit::jwt::decode_with_verifier(
            token,
            &ES256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?,
        ),
        other => return Err(format!("unexpected alg {other:?}")),
    };
    result.map(|_| kid).map_err(|e| e.to_string())
}

fn token_payload(ttl: Duration) -> JwtPayload {
    let mut payload = JwtPayload::new();
    payload.set_subject("someone");
    payload.set_expires_at(&(std::time::SystemTime::now() + ttl));
    payload
}

/// An access token good for a minute, signed by `app`'s key ring.
fn sign_access(app: &TestApp) -> portcullis::keys::Signed {
    app.state
        .keys
        .sign(
            Alg::ES256,
            "at+jwt",
            &token_payload(Duration::from_secs(60)),
        )
        .unwrap()
}

/// States of each algorithm's keys now, from the database.
async fn states(pool: &PgPool) -> BTreeMap<(String, &'static str), usize> {
    let now = OffsetDateTime::now_utc();
    let mut counts = BTreeMap::new();
    for row in store::load_all(pool).await.unwrap() {
        let state = row.key_times(&Kek::new([0; 32])).state(now);
        *counts.entry((row.alg.clone(), state.as_str())).or_default() += 1;
    }
    counts
}

fn count(states: &BTreeMap<(String, &'static str), usize>, alg: &str, state: KeyState) -> usize {
    states
        .get(&(alg.to_owned(), state.as_str()))
        .copied()
        .unwrap_or(0)
}

/// A verifier that caches the JWKS for as long as `Cache-Control: max-age` allows and never
/// refetches on an unknown `kid`: if pre-publication works, it never needs to.
struct CachingVerifier {
    jwks: Value,
    fresh_until: Instant,
    fetches: usize,
}

impl CachingVerifier {
    async fn jwks(&mut self, app: &TestApp) -> &Value {
        if Instant::now() >= self.fresh_until {
            let response = app.get("/jwks.json").await;
            let cache = response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_owned();
            let max_age: u64 = cache.rsplit("max-age=").next().unwrap().parse().unwrap();
            self.jwks = response.json().await.unwrap();
            self.fresh_until = Instant::now() + Duration::from_secs(max_age);
            self.fetches += 1;
        }
        &self.jwks
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_rotating_concurrently_keep_every_token_verifiable() {
    let db = TestDb::new().await;
    let kek = random_kek();
    let settings = || fast(Settings::replica(&db, &kek));
    // Both start (and run their first tick) at the same moment on an empty database.
    let (a, b) = tokio::join!(settings().spawn(), settings().spawn());
    let pool = db.pool().await;
    let at_start = states(&pool).await;
    for alg in ["RS256", "ES256"] {
        assert_eq!(count(&at_start, alg, KeyState::Active), 1, "{at_start:?}");
        assert_eq!(count(&at_start, alg, KeyState::Next), 1, "{at_start:?}");
    }

    let mut verifier = CachingVerifier {
        jwks: Value::Null,
        fresh_until: Instant::now(),
        fetches: 0,
    };
    let mut issued: Vec<(String, Instant)> = vec![];
    let mut signing_kids: BTreeMap<Alg, BTreeSet<String>> = BTreeMap::new();
    let ttl = Duration::from_secs(3);
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < Duration::from_secs(7) {
        rounds += 1;
        let (signer, other) = if rounds % 2 == 0 { (&a, &b) } else { (&b, &a) };
        for (alg, typ) in [(Alg::ES256, "at+jwt"), (Alg::RS256, "JWT")] {
            let signed = signer
                .state
                .keys
                .sign(alg, typ, &token_payload(ttl))
                .expect("a key signs at every moment");
            signing_kids
                .entry(alg)
                .or_default()
                .insert(signed.kid.clone());
            // A verifier with a cached JWKS from the other replica knows the key already.
            let cached = verifier.jwks(other).await;
            verify(cached, &signed.token)
                .unwrap_or_else(|e| panic!("round {rounds}, cached JWKS: {e}"));
            issued.push((signed.token, Instant::now() + ttl));
        }
        // Every token still alive verifies with a JWKS fetched now from either replica.
        let now = Instant::now();
        for app in [&a, &b] {
            let fresh = app.get_json("/jwks.json").await;
            for (token, expires) in issued.iter().filter(|(_, e)| *e > now) {
                verify(&fresh, token).unwrap_or_else(|e| {
                    panic!(
                        "round {rounds}, fresh JWKS (expires in {:?}): {e}",
                        *expires - now
                    )
                });
            }
        }
        let states = states(&pool).await;
        for alg in ["RS256", "ES256"] {
            assert_eq!(
                count(&states, alg, KeyState::Active),
                1,
                "round {rounds}: {states:?}"
            );
            assert!(
                count(&states, alg, KeyState::Next) <= 1,
                "round {rounds}: {states:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (alg, kids) in &signing_kids {
        assert!(
            kids.len() >= 3,
            "{alg}: only {} signing keys in 7 s of 2 s periods",
            kids.len()
        );
    }
    assert!(
        verifier.fetches >= 3,
        "the cached JWKS was refreshed as max-age allows"
    );
    assert!(issued.len() > 50, "{} tokens", issued.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_ticks_on_an_empty_database_create_one_active_and_one_next_key() {
    // The app creates the schema (and its own keys); then the keys are removed and eight ticks race
    // (with the app's own ticker, a ninth replica).
    let app = TestApp::spawn().await;
    let pool = app.db.pool().await;
    sqlx::query("delete from signing_keys")
        .execute(&pool)
        .await
        .unwrap();
    let rotator = Rotator {
        pool: pool.clone(),
        kek: app.state.keys.kek().clone(),
        schedule: Schedule {
            rotation_period: Duration::from_secs(3600),
            prepublish: Duration::from_secs(60),
            propagation: Duration::from_secs(1),
            token_lifetime: Duration::from_secs(600),
        },
    };
    let ticks = (0..8).map(|_| {
        let rotator = rotator.clone();
        tokio::spawn(async move { rotator.tick(&Actor::System).await })
    });
    for tick in futures_join_all(ticks).await {
        tick.unwrap().unwrap();
    }
    let states = states(&pool).await;
    assert_eq!(states.values().sum::<usize>(), 4, "{states:?}");
    for alg in ["RS256", "ES256"] {
        assert_eq!(count(&states, alg, KeyState::Active), 1, "{states:?}");
        assert_eq!(count(&states, alg, KeyState::Next), 1, "{states:?}");
    }
}

async fn futures_join_all<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = vec![];
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await);
    }
    out
}

/// Keys sign for an hour; a change reaches every replica within 100 ms.
fn slow_rotation_fast_reload(settings: Settings) -> Settings {
    settings
        .set("PORTCULLIS_KEY_PREPUBLISH", "1s")
        .set("PORTCULLIS_JWKS_MAX_AGE", "1s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_leaves_every_replica_jwks_and_the_next_key_signs() {
    let db = TestDb::new().await;
    let kek = random_kek();
    let settings = || slow_rotation_fast_reload(Settings::replica(&db, &kek));
    let a = settings().spawn().await;
    let b = settings().spawn().await;
    let before = a.get("/jwks.json").await;
    let etag_before = before.headers()["etag"].to_str().unwrap().to_owned();
    let old = sign_access(&a);

    a.state
        .keys
        .rotator()
        .revoke(&old.kid, &By::new(Actor::Cli, None))
        .await
        .unwrap();

    eventually(
        Duration::from_secs(2),
        "the revoked key leaves every JWKS",
        || async {
            let published = |app: &TestApp| {
                String::from_utf8_lossy(&app.state.keys.jwks().body).contains(&old.kid)
            };
            (!published(&a) && !published(&b)).then_some(())
        },
    )
    .await;
    for app in [&a, &b] {
        let response = app.get("/jwks.json").await;
        assert_ne!(response.headers()["etag"].to_str().unwrap(), etag_before);
        let jwks: Value = response.json().await.unwrap();
        assert!(
            verify(&jwks, &old.token).is_err(),
            "a token of a revoked key no longer verifies"
        );
        let new = sign_access(app);
        assert_ne!(new.kid, old.kid);
        verify(&jwks, &new.token).unwrap();
    }
    let events: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where event = 'key.revoked' and target = $1",
    )
    .bind(&old.kid)
    .fetch_one(&db.pool().await)
    .await
    .unwrap();
    assert_eq!(events, 1);
    // Revoking it again is a clear error.
    assert!(matches!(
        a.state
            .keys
            .rotator()
            .revoke(&old.kid, &By::new(Actor::Cli, None))
            .await,
        Err(portcullis::error::Error::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_now_publishes_the_new_key_before_it_signs_and_keeps_the_old_one_published() {
    let app = slow_rotation_fast_reload(Settings::new().await)
        .spawn()
        .await;
    let old = sign_access(&app);
    app.state
        .keys
        .rotator()
        .rotate_now(Alg::ES256, &By::new(Actor::Cli, None))
        .await
        .unwrap();
    app.state.keys.reload().await.unwrap();
    let published_right_after: Value = app.get_json("/jwks.json").await;

    let new = eventually(Duration::from_secs(4), "rotate-now rotates", || async {
        let signed = sign_access(&app);
        (signed.kid != old.kid).then_some(signed)
    })
    .await;
    verify(&published_right_after, &new.token).expect("the new key was published before it signed");
    // The tick creates the following next key within its interval (100 ms here).
    let jwks = eventually(
        Duration::from_secs(2),
        "retiring, active and a new next key",
        || async {
            let jwks = app.get_json("/jwks.json").await;
            let es256 = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|k| k["alg"] == "ES256")
                .count();
            (es256 == 3).then_some(jwks)
        },
    )
    .await;
    verify(&jwks, &old.token).expect("the retired key stays published while its tokens live");
    verify(&jwks, &new.token).unwrap();
}

#[tokio::test]
async fn private_keys_are_sealed_at_rest_under_the_key_encryption_key() {
    let settings = Settings::new().await;
    let kek_b64 = settings.kek.clone();
    let app = settings.spawn().await;
    let rows = store::load_all(&app.db.pool().await).await.unwrap();
    assert_eq!(rows.len(), 4);
    let bytes: [u8; 32] =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, kek_b64)
            .unwrap()
            .try_into()
            .unwrap();
    let kek = Kek::new(bytes);
    for row in rows {
        assert_eq!(row.kek_id, kek.id());
        assert!(!row.private_jwk_sealed.contains("\"d\""));
        assert_eq!(
            row.private_jwk_sealed.split('.').count(),
            5,
            "a compact JWE"
        );
        let private: Value =
            serde_json::from_slice(kek.open(&row.private_jwk_sealed).unwrap().expose()).unwrap();
        assert!(private.get("d").is_some());
        assert!(Kek::new([1u8; 32]).open(&row.private_jwk_sealed).is_err());
    }
}
