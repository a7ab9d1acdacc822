//! The `signing_keys` table: loading keys, inserting a new one, moving a key's times and revoking
//! it. Changes to one algorithm's keys happen in a transaction under a Postgres advisory lock, so
//! replicas that tick at the same moment cannot both create a next key.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::lifecycle::{KeyTimes, Times};
use super::material::Alg;
use crate::crypto::Kek;
use crate::error::Result;

/// One row of `signing_keys`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub public_jwk: Value,
    pub private_jwk_sealed: String,
    pub kek_id: String,
    pub created_at: OffsetDateTime,
    pub activate_at: OffsetDateTime,
    pub retire_at: OffsetDateTime,
    pub expire_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl KeyRow {
    pub fn alg(&self) -> Option<Alg> {
        Alg::parse(&self.alg)
    }

    /// The row as the lifecycle rules see it; it is usable if `kek` opens it.
    pub fn key_times(&self, kek: &Kek) -> KeyTimes {
        KeyTimes {
            kid: self.kid.clone(),
            created_at: self.created_at,
            times: Times {
                activate_at: self.activate_at,
                retire_at: self.retire_at,
                expire_at: self.expire_at,
            },
            revoked_at: self.revoked_at,
            usable: kek.holds(&self.kek_id),
        }
    }
}

/// The columns of [`KeyRow`], for `concat!` (sqlx wants static SQL strings).
macro_rules! columns {
    () => {
        "kid, alg, public_jwk, private_jwk_sealed, kek_id, created_at, activate_at, retire_at, expire_at, revoked_at"
    };
}

/// Keys that belong in the JWKS (or may sign): neither revoked nor expired.
pub async fn load_live(pool: &PgPool) -> Result<Vec<KeyRow>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from signing_keys where revoked_at is null and expire_at > now() order by alg, activate_at"
    ))
    .fetch_all(pool)
    .await.map_err(Into::into)
}

/// Every key, newest first, for `keys list` and the admin screens.
pub async fn load_all(pool: &PgPool) -> Result<Vec<KeyRow>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from signing_keys order by created_at desc, kid"
    ))
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// Takes the per-algorithm lock for the rest of the transaction and returns that algorithm's
/// live keys as they are now.
pub async fn lock_and_load(conn: &mut PgConnection, alg: Alg) -> Result<Vec<KeyRow>> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(alg.lock_id())
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from signing_keys where alg = $1 and revoked_at is null and expire_at > now() order by activate_at"
    ))
    .bind(alg.as_str())
    .fetch_all(&mut *conn)
    .await.map_err(Into::into)
}

pub struct NewRow<'a> {
    pub kid: &'a str,
    pub alg: Alg,
    pub public_jwk: &'a Value,
    pub private_jwk_sealed: &'a str,
    pub kek_id: &'a str,
    pub created_at: OffsetDateTime,
    pub times: Times,
}

pub async fn insert(conn: &mut PgConnection, row: NewRow<'_>) -> Result<()> {
    sqlx::query(
        "insert into signing_keys (kid, alg, public_jwk, private_jwk_sealed, kek_id, created_at, \
         activate_at, retire_at, expire_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.kid)
    .bind(row.alg.as_str())
    .bind(row.public_jwk)
    .bind(row.private_jwk_sealed)
    .bind(row.kek_id)
    .bind(row.created_at)
    .bind(row.times.activate_at)
    .bind(row.times.retire_at)
    .bind(row.times.expire_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_times(conn: &mut PgConnection, kid: &str, times: Times) -> Result<()> {
    sqlx::query(
        "update signing_keys set activate_at = $2, retire_at = $3, expire_at = $4 where kid = $1",
    )
    .bind(kid)
    .bind(times.activate_at)
    .bind(times.retire_at)
    .bind(times.expire_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a key revoked; returns its algorithm, or `None` if no unrevoked key has that id.
pub async fn revoke(conn: &mut PgConnection, kid: &str) -> Result<Option<String>> {
    sqlx::query_scalar(
        "update signing_keys set revoked_at = now() where kid = $1 and revoked_at is null returning alg",
    )
    .bind(kid)
    .fetch_optional(conn)
    .await.map_err(Into::into)
}

/// How many keys each key-encryption key sealed (every key, expired and revoked ones too).
pub async fn count_by_kek(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    sqlx::query_as("select kek_id, count(*) from signing_keys group by kek_id order by kek_id")
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

/// Up to `limit` keys sealed under `kek_id` with an id after `after`, as (kid, sealed private
/// key), locked for the rest of the transaction. Rows another transaction holds are skipped, so
/// rotations running at once share the work instead of waiting for each other.
pub async fn lock_sealed(
    conn: &mut PgConnection,
    kek_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, String)>> {
    sqlx::query_as(
        "select kid, private_jwk_sealed from signing_keys \
         where kek_id = $1 and ($2::text is null or kid > $2) \
         order by kid limit $3 for update skip locked",
    )
    .bind(kek_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
    .map_err(Into::into)
}

/// Replaces a key's sealed private half if it is still `old`; returns whether it was.
pub async fn reseal(
    conn: &mut PgConnection,
    kid: &str,
    old: &str,
    sealed: &str,
    kek_id: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "update signing_keys set private_jwk_sealed = $3, kek_id = $4 \
         where kid = $1 and private_jwk_sealed = $2",
    )
    .bind(kid)
    .bind(old)
    .bind(sealed)
    .bind(kek_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The most keys one batch of the cleanup deletes (the `limit` of [`PURGE_BATCH`]).
pub const PURGE_LIMIT: u64 = 100;

/// One batch of the cleanup: `$1` the cutoff. Only keys that expired before it: a key is
/// published until it expires ([`super::lifecycle::KeyState::is_published`]) and never signs
/// after it retired, so none of these is published or signing.
pub const PURGE_BATCH: &str = "delete from signing_keys where kid = any(array( \
       select kid from signing_keys where expire_at < $1 order by expire_at limit 100)) \
     returning kid, alg";

/// Deletes up to [`PURGE_LIMIT`] keys that expired before `cutoff`, each with an audit event; returns how
/// many.
#[tracing::instrument(skip(pool))]
pub async fn purge_expired(pool: &PgPool, cutoff: OffsetDateTime) -> Result<u64> {
    let mut tx = crate::storage::by_index(pool).await?;
    let deleted: Vec<(String, String)> = sqlx::query_as(PURGE_BATCH)
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
    let by = crate::audit::By::new(crate::audit::Actor::System, None);
    for (kid, alg) in &deleted {
        let event = crate::audit::AuditEvent::KeyDeleted { kid, alg };
        by.record(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(deleted.len() as u64)
}
