//! The rotating key ring: an RS256 key for ID tokens and an ES256 key for access tokens, each
//! moving through next → active → retiring → expired (or revoked), as [`lifecycle`] describes.
//!
//! Every replica holds a [`Snapshot`] of the live keys in memory: the signers (private keys,
//! unsealed once per key) and the JWKS document as bytes with its `ETag`, rebuilt only when the
//! set of keys changes. The signer is chosen by the clock at signing time, so replicas agree
//! without talking to each other. A background tick (every [`KeyRing::reload_interval`]) runs the
//! rotation in Postgres and reloads the snapshot.

mod ephemeral;
mod es256;
pub mod lifecycle;
pub mod material;
mod rotation;
pub mod store;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use josekit::jws::{JwsHeader, JwsSigner, JwsVerifier};
use josekit::jwt::{self, JwtPayload};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::audit::Actor;
use crate::config::Config;
use crate::crypto::{Kek, sha256};
use crate::error::{Result, chain};
use lifecycle::{KeyTimes, Schedule};
pub use material::Alg;
pub use rotation::Rotator;

/// One live key in memory.
struct LoadedKey {
    alg: Alg,
    times: KeyTimes,
    sealed: String,
    /// Present when the key is sealed under a key-encryption key this replica holds (the current
    /// or the previous one) and may still sign.
    signer: Option<Arc<dyn JwsSigner>>,
    verifier: Option<Arc<dyn JwsVerifier>>,
}

impl AsRef<KeyTimes> for LoadedKey {
    fn as_ref(&self) -> &KeyTimes {
        &self.times
    }
}

/// The JWKS as served: bytes built once per key change, and their entity tag as a ready header
/// value (RFC 9110 §8.8.3), so that serving it copies and allocates nothing.
#[derive(Clone)]
pub struct Jwks {
    pub body: Bytes,
    pub etag: http::HeaderValue,
}

/// The live keys at one moment.
pub struct Snapshot {
    keys: Vec<LoadedKey>,
    pub jwks: Jwks,
}

impl Snapshot {
    /// The key that signs for `alg` at `now`: the one [`lifecycle::signer`] picks among the keys
    /// of `alg` this replica holds a signer for.
    fn signing_key(&self, alg: Alg, now: OffsetDateTime) -> Option<&LoadedKey> {
        let held = self
            .keys
            .iter()
            .filter(|k| k.alg == alg && k.signer.is_some());
        lifecycle::signer(held, now)
    }
}

/// A signed JWT and the key that signed it.
#[derive(Debug, Clone)]
pub struct Signed {
    pub token: String,
    pub kid: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No key of the algorithm is active right now (only if every replica was down for longer
    /// than a rotation period, or keys were revoked, and the tick has not run yet).
    #[error("no active {0} signing key")]
    NoActiveKey(Alg),
    #[error("signing failed: {0}")]
    Jose(#[from] josekit::JoseError),
}

/// Why a JWT did not verify against our own published keys.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token was not signed by a published key")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
}

pub struct KeyRing {
    rotator: Rotator,
    snapshot: RwLock<Arc<Snapshot>>,
}

impl KeyRing {
    /// Loads the key ring, running one tick first so that a fresh database gets its keys.
    pub async fn start(pool: PgPool, config: &Config) -> Result<Arc<KeyRing>> {
        let schedule = Schedule {
            rotation_period: config.key_rotation_period,
            prepublish: config.key_prepublish,
            propagation: Self::reload_interval(config),
            token_lifetime: config.longest_token_lifetime(),
        };
        let empty = Snapshot {
            keys: vec![],
            jwks: build_jwks(&[]),
        };
        let ring = Arc::new(KeyRing {
            rotator: Rotator {
                pool,
                kek: config.kek(),
                schedule,
            },
            snapshot: RwLock::new(Arc::new(empty)),
        });
        ring.rotator.tick(&Actor::System).await?;
        ring.reload().await?;
        Ok(ring)
    }

    /// How often each replica reloads its keys and runs the rotation tick: a tenth of the
    /// pre-publish period, between 100 ms and 5 s. A change reaches every replica within it.
    pub fn reload_interval(config: &Config) -> Duration {
        (config.key_prepublish / 10).clamp(Duration::from_millis(100), Duration::from_secs(5))
    }

    pub fn rotator(&self) -> &Rotator {
        &self.rotator
    }

    pub fn kek(&self) -> &Kek {
        &self.rotator.kek
    }

    /// The current snapshot; cheap (an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn jwks(&self) -> Jwks {
        self.snapshot().jwks.clone()
    }

    /// Re-reads the live keys; unseals only keys it has not seen before.
    pub async fn reload(&self) -> Result<()> {
        let rows = store::load_live(&self.rotator.pool).await?;
        let old = self.snapshot();
        let now = OffsetDateTime::now_utc();
        let mut keys = Vec::with_capacity(rows.len());
        let mut public = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(alg) = row.alg() else { continue };
            let times = row.key_times(self.kek());
            // The query leaves out revoked and expired keys already; the lifecycle has the last word.
            let state = times.state(now);
            if !state.is_published() {
                continue;
            }
            let reused = old
                .keys
                .iter()
                .find(|k| k.times.kid == row.kid && k.sealed == row.private_jwk_sealed);
            let (signer, verifier) = match reused {
                Some(key) => (key.signer.clone(), key.verifier.clone()),
                None => {
                    let signer = if times.usable && state.may_sign() {
                        self.unseal(alg, &row)
                    } else {
                        None
                    };
                    (signer, material::verifier(alg, &row.public_jwk).ok())
                }
            };
            public.push(row.public_jwk.clone());
            keys.push(LoadedKey {
                alg,
                times,
                sealed: row.private_jwk_sealed,
                signer,
                verifier,
            });
        }
        let jwks = build_jwks(&public);
        let jwks = if jwks.body == old.jwks.body {
            old.jwks.clone()
        } else {
            jwks
        };
        let snapshot = Arc::new(Snapshot { keys, jwks });
        match self.snapshot.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(())
    }

    fn unseal(&self, alg: Alg, row: &store::KeyRow) -> Option<Arc<dyn JwsSigner>> {
        let result = self
            .kek()
            .open(&row.private_jwk_sealed)
            .map_err(anyhow::Error::from)
            .and_then(|private| material::signer(alg, private.expose()));
        match result {
            Ok(signer) => Some(signer),
            Err(e) => {
                let error = format!("signing key {}: {e}", row.kid);
                tracing::error!(kid = %row.kid, %error, "cannot unseal a signing key");
                None
            }
        }
    }

    /// Signs `payload` as a JWT with the active key of `alg`; `typ` is the JOSE header type
    /// (`at+jwt` for access tokens per RFC 9068 §2.1, `JWT` for ID tokens).
    pub fn sign(&self, alg: Alg, typ: &str, payload: &JwtPayload) -> Result<Signed, SignError> {
        let snapshot = self.snapshot();
        let now = OffsetDateTime::now_utc();
        let key = snapshot
            .signing_key(alg, now)
            .ok_or(SignError::NoActiveKey(alg))?;
        let signer = key.signer.as_ref().ok_or(SignError::NoActiveKey(alg))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(&key.times.kid);
        let token = jwt::encode_with_signer(payload, &header, signer.as_ref())?;
        Ok(Signed {
            token,
            kid: key.times.kid.clone(),
        })
    }

    /// Verifies a JWT signed by one of our published (not revoked, not expired) keys and returns
    /// its header and claims. Expiry and other claims are the caller's to check.
    pub fn verify(&self, token: &str) -> Result<(JwtPayload, JwsHeader), VerifyError> {
        let header = jwt::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        let kid = header
            .claim("kid")
            .and_then(|v| v.as_str())
            .ok_or(VerifyError::Malformed)?;
        let snapshot = self.snapshot();
        let key = snapshot
            .keys
            .iter()
            .find(|k| k.times.kid == kid)
            .ok_or(VerifyError::UnknownKey)?;
        let verifier = key.verifier.as_ref().ok_or(VerifyError::UnknownKey)?;
        // josekit checks that the header's `alg` is the verifier's: no algorithm confusion.
        jwt::decode_with_verifier(token, verifier.as_ref()).map_err(|_| VerifyError::BadSignature)
    }

    /// Runs the rotation tick and reloads, every [`KeyRing::reload_interval`], until cancelled.
    pub fn spawn_ticker(self: &Arc<Self>, every: Duration, stop: CancellationToken) {
        let ring = Arc::clone(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = interval.tick() => {}
                }
                if let Err(e) = ring.rotator.tick(&Actor::System).await {
                    tracing::warn!(error = %chain(&e), "key rotation tick failed; keeping the current keys");
                }
                if let Err(e) = ring.reload().await {
                    tracing::warn!(error = %chain(&e), "key reload failed; keeping the current keys");
                }
            }
        });
    }
}

/// The JWKS document for these public keys (already limited to public members), with an ETag
/// derived from its bytes.
fn build_jwks(public: &[serde_json::Value]) -> Jwks {
    let body = serde_json::json!({ "keys": public })
        .to_string()
        .into_bytes();
    let digest = sha256(&body);
    let etag = format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
    );
    // Quotes around base64url: always a valid header value.
    let etag = http::HeaderValue::from_str(&etag).unwrap_or(http::HeaderValue::from_static("\"\""));
    Jwks {
        body: Bytes::from(body),
        etag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::Times;

    const S: time::Duration = time::Duration::SECOND;

    fn key(kid: &str, activate_at: OffsetDateTime, with_signer: bool) -> LoadedKey {
        let new = material::generate(Alg::ES256).unwrap();
        LoadedKey {
            alg: Alg::ES256,
            times: KeyTimes {
                kid: kid.into(),
                created_at: activate_at - 20 * S,
                times: Times {
                    activate_at,
                    retire_at: activate_at + 100 * S,
                    expire_at: activate_at + 130 * S,
                },
                revoked_at: None,
                usable: true,
            },
            sealed: String::new(),
            signer: with_signer
                .then(|| material::signer(Alg::ES256, new.private_jwk.expose()).unwrap()),
            verifier: Some(material::verifier(Alg::ES256, &new.public_jwk).unwrap()),
        }
    }

    fn snapshot(keys: Vec<LoadedKey>) -> Snapshot {
        Snapshot {
            keys,
            jwks: build_jwks(&[]),
        }
    }

    fn kid(key: Option<&LoadedKey>) -> Option<&str> {
        key.map(|k| k.times.kid.as_str())
    }

    #[test]
    fn the_ring_signs_with_the_key_the_lifecycle_picks() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let ring = snapshot(vec![
            key("retiring", now - 110 * S, true),
            key("active", now - 10 * S, true),
            key("next", now + 90 * S, true),
        ]);
        assert_eq!(kid(ring.signing_key(Alg::ES256, now)), Some("active"));
        assert_eq!(
            kid(ring.signing_key(Alg::ES256, now + 95 * S)),
            Some("next")
        );
        assert_eq!(kid(ring.signing_key(Alg::RS256, now)), None);
        let times: Vec<KeyTimes> = ring.keys.iter().map(|k| k.times.clone()).collect();
        for at in [now, now + 50 * S, now + 95 * S] {
            assert_eq!(
                kid(ring.signing_key(Alg::ES256, at)),
                lifecycle::signer(&times, at).map(|k| k.kid.as_str())
            );
        }
    }

    #[test]
    fn a_key_this_replica_cannot_unseal_does_not_sign() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let ring = snapshot(vec![key("active", now - 10 * S, false)]);
        assert_eq!(kid(ring.signing_key(Alg::ES256, now)), None);
    }
}
