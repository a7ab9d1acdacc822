//! The dashboard's counts. Users, clients and keys come from PostgreSQL; active sessions from the
//! session index in Redis; tokens issued in the last hour from the server's own token counter:
//! every replica adds what it issued to per-minute Redis counters every few seconds
//! ([`spawn_tally`]), so the dashboard sees the sum over all replicas. The sizes of the tables
//! that grow with use come from PostgreSQL's statistics ([`table_sizes`]), so showing them reads
//! no table.

use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::AsyncCommands as _;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::state::AppState;
use crate::storage::{Redis, RedisKey};

/// How often each replica adds its count to Redis.
const TALLY_EVERY: Duration = Duration::from_secs(5);
/// Per-minute counters live a little over an hour.
const MINUTE_TTL_SECS: i64 = 3_900;

pub struct Counts {
    pub users: i64,
    pub admins: i64,
    pub clients: i64,
    pub disabled_clients: i64,
    pub active_sessions: u64,
    pub tokens_last_hour: u64,
    pub published_keys: i64,
}

/// The tables that grow with use, whose sizes the dashboard shows.
pub const MAIN_TABLES: [&str; 7] = [
    "users",
    "clients",
    "signing_keys",
    "refresh_tokens",
    "consents",
    "recovery_codes",
    "audit_events",
];

/// One table's size, from PostgreSQL's statistics.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TableSize {
    pub name: String,
    /// The planner's estimate of its rows (`pg_class.reltuples`); `None` until PostgreSQL has
    /// analyzed it (autovacuum does).
    pub rows: Option<i64>,
    /// On disk, with its indexes and TOAST (`pg_total_relation_size`).
    pub bytes: i64,
    /// `bytes`, readable (`12 MB`).
    pub size: String,
}

/// The sizes of [`MAIN_TABLES`], in that order.
pub async fn table_sizes(db: &sqlx::PgPool) -> Result<Vec<TableSize>> {
    sqlx::query_as(
        "select t.name, case when c.reltuples >= 0 then c.reltuples::bigint end as rows, \
         pg_total_relation_size(c.oid) as bytes, pg_size_pretty(pg_total_relation_size(c.oid)) as size \
         from unnest($1::text[]) with ordinality as t(name, n) \
         join pg_class c on c.oid = to_regclass(t.name) order by t.n",
    )
    .bind(&MAIN_TABLES[..])
    .fetch_all(db)
    .await
    .map_err(Into::into)
}

fn minute_key(redis: &Redis, minute: i64) -> String {
    redis.key(RedisKey::TokensIssued(minute))
}

fn this_minute() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() / 60
}

/// Adds what this replica issued since the last tally to this minute's counter.
async fn tally(state: &AppState) -> Result<()> {
    let pending = state.metrics.tokens_untallied.swap(0, Ordering::Relaxed);
    if pending == 0 {
        return Ok(());
    }
    let key = minute_key(&state.redis, this_minute());
    let mut conn = state.redis.conn.clone();
    let written: redis::RedisResult<()> = redis::pipe()
        .incr(&key, pending)
        .ignore()
        .expire(&key, MINUTE_TTL_SECS)
        .ignore()
        .query_async(&mut conn)
        .await;
    if written.is_err() {
        // Kept for the next tally.
        state
            .metrics
            .tokens_untallied
            .fetch_add(pending, Ordering::Relaxed);
    }
    written.map_err(Into::into)
}

/// Tallies every few seconds until `stop`.
pub fn spawn_tally(state: AppState, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(TALLY_EVERY) => {}
            }
            if let Err(e) = tally(&state).await {
                tracing::debug!(error = %e, "could not tally issued tokens; will retry");
            }
        }
    });
}

pub async fn counts(state: &AppState) -> Result<Counts> {
    let (users, admins): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where is_admin and not disabled) from users",
    )
    .fetch_one(&state.db)
    .await?;
    let (clients, disabled_clients): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where not enabled) from clients")
            .fetch_one(&state.db)
            .await?;
    // Whatever this replica has not tallied yet counts too.
    tally(state).await?;
    let now = this_minute();
    let keys: Vec<String> = (now - 59..=now)
        .map(|m| minute_key(&state.redis, m))
        .collect();
    let mut conn = state.redis.conn.clone();
    let minutes: Vec<Option<u64>> = conn.mget(&keys).await?;
    let tokens_last_hour = minutes.into_iter().flatten().sum();
    let active_sessions = crate::sessions::index::active(&state.redis).await?;
    let published_keys: i64 = sqlx::query_scalar(
        "select count(*) from signing_keys where revoked_at is null and expire_at > now()",
    )
    .fetch_one(&state.db)
    .await?;
    Ok(Counts {
        users,
        admins,
        clients,
        disabled_clients,
        active_sessions,
        tokens_last_hour,
        published_keys,
    })
}
