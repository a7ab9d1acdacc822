//! The schema and how it changes. The migrations in `migrations/` are embedded in the binary and
//! applied at start and by `portcullis migrate`; `portcullis migrate --dry-run` lists what would
//! be applied ([`plan`]).
//!
//! Upgrades follow expand, then contract (README, "Upgrades"): a migration only adds what the
//! previous release can ignore, so old and new replicas serve side by side during a rolling
//! upgrade, and a later release removes what nothing reads any more. Two rules hold that in code:
//! - An older release starts beside a newer schema: migrations applied by a newer release are not
//!   an error ([`MIGRATOR`] ignores them), so a rollback or a restarted old replica is not
//!   stranded.
//! - No migration statement waits longer than [`LOCK_TIMEOUT`] for a lock. PostgreSQL queues
//!   every later query on a table behind a waiting `ALTER TABLE`, so a migration that waited for
//!   a long transaction would stall all traffic on that table; instead it gives up (its
//!   transaction rolls back) and is tried again until the start-up timeout.
//!
//! Indexes on tables that grow are built `concurrently` (one statement per migration, outside a
//! transaction), so writes go on meanwhile. Such a build that fails half-way (a lock timeout, a
//! killed process) leaves an invalid index that `if not exists` would keep for ever, so after the
//! migrations every invalid index is built again ([`rebuild_invalid_indexes`]).

use std::time::Duration;

use anyhow::Context as _;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{Connection as _, PgConnection, PgPool};

/// The schema, embedded in the binary. Applied migrations this binary does not know (from a
/// newer release) are accepted.
pub static MIGRATOR: Migrator = {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.ignore_missing = true;
    // [`apply`] takes sqlx's lock itself, without waiting in a statement (see [`take_lock`]).
    migrator.locking = false;
    migrator
};

/// The longest a migration statement waits for a lock (PostgreSQL `lock_timeout`).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a replica looks whether the migration lock is free.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// One migration, as `migrate --dry-run` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub version: i64,
    pub description: String,
}

/// What [`apply`] would do to a database.
#[derive(Debug, Default, serde::Serialize)]
pub struct Plan {
    /// Migrations this binary has and the database lacks, in the order they would run.
    pub pending: Vec<Step>,
    /// Versions the database has that this binary does not know (applied by a newer release).
    pub newer: Vec<i64>,
}

/// Compares the database's applied migrations with this binary's. Changes nothing.
pub async fn plan(pool: &PgPool) -> crate::error::Result<Plan> {
    let table: Option<String> = sqlx::query_scalar("select to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: Vec<i64> = match table {
        Some(_) => {
            sqlx::query_scalar(
                "select version from _sqlx_migrations where success order by version",
            )
            .fetch_all(pool)
            .await?
        }
        None => Vec::new(),
    };
    Ok(plan_from(&applied))
}

/// The plan for a database that has applied `applied`.
pub fn plan_from(applied: &[i64]) -> Plan {
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    Plan {
        pending: MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| Step {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect(),
        newer: applied
            .iter()
            .copied()
            .filter(|v| !known.contains(v))
            .collect(),
    }
}

/// Applies the pending migrations on a connection of its own whose statements wait at most
/// [`LOCK_TIMEOUT`] for a lock, trying again (with backoff) while a lock is busy, for at most
/// `patience`. Safe on several replicas at once: one migrates while the others wait for the
/// migration lock ([`take_lock`]). Returns the versions it applied.
pub async fn apply(pool: &PgPool, patience: Duration) -> anyhow::Result<Vec<Step>> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut delay = Duration::from_millis(250);
    loop {
        let before = plan(pool).await?;
        match apply_once(pool, deadline).await {
            Ok(false) => anyhow::bail!(
                "cannot apply the database migrations: another replica held the migration lock \
                 for {}s",
                patience.as_secs()
            ),
            Ok(true) => {
                let after = plan(pool).await?;
                return Ok(before
                    .pending
                    .into_iter()
                    .filter(|step| !after.pending.contains(step))
                    .collect());
            }
            Err(e) if retryable(&e) && tokio::time::Instant::now() + delay <= deadline => {
                tracing::warn!(
                    retry_in_ms = delay.as_millis() as u64,
                    error = %e,
                    "a migration waited {}s for a lock, or was chosen to end a deadlock; \
                     trying again",
                    LOCK_TIMEOUT.as_secs()
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(e).context("cannot apply the database migrations");
            }
        }
    }
}

/// One attempt: `false` if another replica held the migration lock until `deadline`.
async fn apply_once(pool: &PgPool, deadline: tokio::time::Instant) -> Result<bool, MigrateError> {
    let timeout = format!("{}ms", LOCK_TIMEOUT.as_millis());
    let options = (*pool.connect_options())
        .clone()
        .options([("lock_timeout", timeout.as_str())]);
    let mut conn = PgConnection::connect_with(&options).await?;
    let mut applied = take_lock(&mut conn, deadline).await.map_err(Into::into);
    if let Ok(true) = applied {
        applied = MIGRATOR.run(&mut conn).await.map(|()| true);
    }
    if let Ok(true) = applied {
        applied = rebuild_invalid_indexes(&mut conn)
            .await
            .map(|()| true)
            .map_err(Into::into);
    }
    // Closing ends the session, and with it the lock, also after a failure half-way.
    let _ = conn.close().await;
    applied
}

/// Takes the migration lock: sqlx's own advisory lock of this database (the same key, so that
/// releases in which sqlx takes it exclude this one and the other way round), asked for with
/// `pg_try_advisory_lock` every [`LOCK_POLL`] until `deadline`. Not `pg_advisory_lock`: a
/// replica waiting inside that statement holds a snapshot the whole time, and `create index
/// concurrently` in the migrating replica waits for every older snapshot to end: a deadlock.
async fn take_lock(
    conn: &mut PgConnection,
    deadline: tokio::time::Instant,
) -> Result<bool, sqlx::Error> {
    let database: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&mut *conn)
        .await?;
    let key = lock_key(&database);
    loop {
        let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if taken {
            return Ok(true);
        }
        if tokio::time::Instant::now() + LOCK_POLL > deadline {
            return Ok(false);
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
}

/// sqlx's migration lock key for `database` (sqlx-postgres `generate_lock_id`: a CRC-32 of the
/// name times a constant).
fn lock_key(database: &str) -> i64 {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    0x3d32_ad9e * i64::from(CRC.checksum(database.as_bytes()))
}

/// Drops and builds again, concurrently, every invalid index of this schema. It runs under the
/// migration lock, so no build is in progress elsewhere: an invalid index is a failed one.
async fn rebuild_invalid_indexes(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let invalid: Vec<(String, String)> = sqlx::query_as(
        "select c.relname::text, pg_get_indexdef(i.indexrelid) from pg_index i \
         join pg_class c on c.oid = i.indexrelid \
         join pg_namespace n on n.oid = c.relnamespace \
         where not i.indisvalid and n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (name, definition) in invalid {
        tracing::warn!(index = %name, "rebuilding an index a concurrent build left invalid");
        let quoted = name.replace('"', "\"\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "drop index concurrently if exists \"{quoted}\""
        )))
        .execute(&mut *conn)
        .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(concurrently(&definition)))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `pg_get_indexdef`'s `CREATE [UNIQUE] INDEX name ON ...` as a concurrent build.
fn concurrently(definition: &str) -> String {
    for plain in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(plain) {
            return format!("{plain}CONCURRENTLY {rest}");
        }
    }
    definition.to_owned()
}

/// What trying again can cure: `lock_not_available` (SQLSTATE 55P03, `lock_timeout` expired) and
/// `deadlock_detected` (40P01: PostgreSQL ended this side of a deadlock).
fn retryable(error: &MigrateError) -> bool {
    let database = match error {
        MigrateError::Execute(sqlx::Error::Database(e))
        | MigrateError::ExecuteMigration(sqlx::Error::Database(e), _) => e,
        _ => return false,
    };
    matches!(database.code().as_deref(), Some("55P03" | "40P01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_definitions_become_concurrent_builds() {
        assert_eq!(
            concurrently("CREATE INDEX a ON public.t USING btree (x)"),
            "CREATE INDEX CONCURRENTLY a ON public.t USING btree (x)"
        );
        assert_eq!(
            concurrently("CREATE UNIQUE INDEX b ON public.t USING btree (y)"),
            "CREATE UNIQUE INDEX CONCURRENTLY b ON public.t USING btree (y)"
        );
    }

    #[test]
    fn the_plan_lists_what_is_missing_in_order_and_what_is_newer() {
        let all: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        let fresh = plan_from(&[]);
        assert_eq!(
            fresh.pending.iter().map(|s| s.version).collect::<Vec<_>>(),
            all
        );
        assert!(fresh.newer.is_empty());
        let last = *all.last().unwrap();
        let behind = plan_from(&all[..all.len() - 1]);
        assert_eq!(behind.pending.len(), 1);
        assert_eq!(behind.pending[0].version, last);
        let ahead: Vec<i64> = all.iter().copied().chain([last + 1]).collect();
        let newer = plan_from(&ahead);
        assert!(newer.pending.is_empty());
        assert_eq!(newer.newer, vec![last + 1]);
    }
}
