//! A key ring that lives only in memory: one freshly generated key per algorithm, active now, and
//! a lazy database pool that is never used. It exists so that token checks (signature, `typ`,
//! issuer, expiry) can be exercised without PostgreSQL: the fuzz target for access tokens and
//! unit tests use it. The server never builds one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use time::OffsetDateTime;

use super::lifecycle::{KeyTimes, Schedule, Times};
use super::{KeyRing, LoadedKey, Rotator, Snapshot, build_jwks, material};
use crate::config::Config;
use crate::error::Result;

impl KeyRing {
    /// A ring with a new RS256 and a new ES256 key, both active for a day. Must be called inside
    /// a Tokio runtime (the pool is created lazily there and never connects).
    pub fn ephemeral(config: &Config) -> Result<Arc<KeyRing>> {
        let now = OffsetDateTime::now_utc();
        let day = Duration::from_secs(86_400);
        let mut keys = Vec::new();
        let mut public = Vec::new();
        for alg in [material::Alg::RS256, material::Alg::ES256] {
            let new = material::generate(alg)?;
            keys.push(LoadedKey {
                alg,
                times: KeyTimes {
                    kid: new.kid.clone(),
                    created_at: now,
                    times: Times {
                        activate_at: now - day,
                        retire_at: now + day,
                        expire_at: now + day + day,
                    },
                    revoked_at: None,
                    usable: true,
                },
                sealed: String::new(),
                signer: Some(material::signer(alg, new.private_jwk.expose())?),
                verifier: Some(material::verifier(alg, &new.public_jwk)?),
            });
            public.push(new.public_jwk);
        }
        let pool = PgPoolOptions::new().connect_lazy(config.database_url.expose())?;
        Ok(Arc::new(KeyRing {
            rotator: Rotator {
                pool,
                kek: config.kek(),
                schedule: Schedule {
                    rotation_period: day,
                    prepublish: day,
                    propagation: Duration::from_secs(1),
                    token_lifetime: day,
                },
            },
            snapshot: RwLock::new(Arc::new(Snapshot {
                jwks: build_jwks(&public),
                keys,
            })),
        }))
    }
}
