//! Changing the keys in the database: the periodic tick, "rotate now" and revocation. Each runs
//! in one transaction under the algorithm's advisory lock, re-reads the keys after taking it and
//! plans with [`lifecycle`](super::lifecycle), so any number of replicas can run the same tick at
//! the same moment and exactly one of them creates the next key. Every change is audited.

use anyhow::Context as _;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::lifecycle::{self, KeyTimes, Plan, Schedule};
use super::material::{self, Alg};
use super::store;
use crate::audit::{Actor, AuditEvent, By, KeyChange};
use crate::crypto::Kek;
use crate::error::{Error, Result};

/// What the key ring needs to change keys.
#[derive(Clone)]
pub struct Rotator {
    pub pool: PgPool,
    pub kek: Kek,
    pub schedule: Schedule,
}

impl Rotator {
    /// Brings every algorithm's keys to the steady state (one active, one next). Returns whether
    /// anything changed.
    #[tracing::instrument(name = "keys.tick", skip_all)]
    pub async fn tick(&self, actor: &Actor) -> Result<bool> {
        let by = By::new(actor.clone(), None);
        let mut changed = false;
        for alg in Alg::ALL {
            let mut tx = self.pool.begin().await?;
            let keys = self.lock(&mut tx, alg).await?;
            changed |= self.settle(&mut tx, alg, keys, &by).await?;
            tx.commit().await?;
        }
        Ok(changed)
    }

    /// Starts a rotation now for `alg` (see [`lifecycle::rotate_now`]).
    #[tracing::instrument(name = "keys.rotate_now", skip_all, fields(%alg, actor = ?by.actor))]
    pub async fn rotate_now(&self, alg: Alg, by: &By) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let keys = self.lock(&mut tx, alg).await?;
        let plan = lifecycle::rotate_now(&keys, OffsetDateTime::now_utc(), &self.schedule);
        self.apply(&mut tx, alg, plan, by, KeyChange::Rotated)
            .await?;
        let keys = self.lock(&mut tx, alg).await?;
        self.settle(&mut tx, alg, keys, by).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a key at once; if it was signing, the next key takes over (or a new one is made).
    /// [`Error::NotFound`] if no live key has this id.
    #[tracing::instrument(name = "keys.revoke", skip_all, fields(%kid, actor = ?by.actor))]
    pub async fn revoke(&self, kid: &str, by: &By) -> Result<Alg> {
        let mut tx = self.pool.begin().await.context("begin")?;
        let alg = store::revoke(&mut tx, kid).await.context("revoke")?;
        let alg = alg.as_deref().and_then(Alg::parse).ok_or_else(|| {
            Error::NotFound(format!(
                "no key with id `{kid}` is live (it does not exist or is already revoked)"
            ))
        })?;
        let event = AuditEvent::KeyRevoked {
            kid,
            alg: alg.as_str(),
        };
        by.record(&mut tx, event).await.context("audit")?;
        let keys = self.lock(&mut tx, alg).await?;
        self.settle(&mut tx, alg, keys, by).await?;
        tx.commit().await.context("commit")?;
        Ok(alg)
    }

    async fn lock(&self, conn: &mut PgConnection, alg: Alg) -> Result<Vec<KeyTimes>> {
        let rows = store::lock_and_load(conn, alg)
            .await
            .context("cannot load signing keys")?;
        Ok(rows.iter().map(|r| r.key_times(&self.kek)).collect())
    }

    /// Runs the tick's plan until nothing is left to do (at most a few steps).
    async fn settle(
        &self,
        conn: &mut PgConnection,
        alg: Alg,
        mut keys: Vec<KeyTimes>,
        by: &By,
    ) -> Result<bool> {
        let mut changed = false;
        for _ in 0..3 {
            let plan = lifecycle::tick(&keys, OffsetDateTime::now_utc(), &self.schedule);
            if plan.is_empty() {
                break;
            }
            self.apply(conn, alg, plan, by, KeyChange::Rescheduled)
                .await?;
            changed = true;
            keys = self.lock(conn, alg).await?;
        }
        Ok(changed)
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        alg: Alg,
        plan: Plan,
        by: &By,
        cause: KeyChange,
    ) -> Result<()> {
        for (kid, times) in &plan.updates {
            store::update_times(conn, kid, *times).await?;
            let event = AuditEvent::KeyTimesChanged {
                kid,
                alg: alg.as_str(),
                activate_at: times.activate_at.unix_timestamp(),
                retire_at: times.retire_at.unix_timestamp(),
                cause,
            };
            by.record(conn, event).await?;
        }
        if let Some(times) = plan.create {
            // RSA generation is CPU-heavy: keep it off the async threads.
            let key = tokio::task::spawn_blocking(move || material::generate(alg))
                .await
                .context("the key generation task failed")??;
            let sealed = self.kek.seal(key.private_jwk.expose())?;
            let row = store::NewRow {
                kid: &key.kid,
                alg,
                public_jwk: &key.public_jwk,
                private_jwk_sealed: &sealed,
                kek_id: self.kek.id(),
                created_at: OffsetDateTime::now_utc(),
                times,
            };
            store::insert(conn, row).await?;
            let event = AuditEvent::KeyCreated {
                kid: &key.kid,
                alg: alg.as_str(),
                activate_at: times.activate_at.unix_timestamp(),
            };
            by.record(conn, event).await?;
            tracing::info!(kid = %key.kid, alg = %alg, activate_at = %times.activate_at, "created a signing key");
        }
        Ok(())
    }
}
