//! Connections to the two stores: PostgreSQL (what must last: users, clients, keys, refresh
//! tokens, consents, audit) and Redis (what is short-lived: sessions, codes, counters). At start
//! both are retried with backoff for `startup_timeout`, then a clear error names the store and its
//! (password-free) URL. The database is created if it is missing and migrated.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::migrate::MigrateDatabase as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

use crate::config::{Config, Human};
use crate::secret::redact_url;

/// The schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Retries `attempt` with exponential backoff (250 ms doubling to 5 s) until it succeeds or
/// `timeout` has passed; the error then says what was tried for how long.
async fn retry<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    timeout: Duration,
    mut attempt: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if tokio::time::Instant::now() + delay > deadline => {
                anyhow::bail!("cannot reach {what} (tried for {}): {e}", Human(timeout));
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot reach {what} yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Connects to PostgreSQL (creating the database if needed) and applies the migrations.
pub async fn connect_postgres(config: &Config) -> anyhow::Result<PgPool> {
    let url = config.database_url.expose();
    let what = format!("PostgreSQL at {}", redact_url(url));
    let exists = retry(&what, config.startup_timeout, || {
        Postgres::database_exists(url)
    })
    .await?;
    if !exists {
        match Postgres::create_database(url).await {
            Ok(()) => tracing::info!("created the database"),
            // Another replica (or test) created it at the same moment: fine.
            Err(_) if Postgres::database_exists(url).await.unwrap_or(false) => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create the database of {what}"));
            }
        }
    }
    let options = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5));
    let pool = retry(&what, config.startup_timeout, || {
        options.clone().connect(url)
    })
    .await?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies pending migrations. Safe to run from several replicas at once: sqlx takes an
/// advisory lock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("cannot apply the database migrations")
}

/// The Redis connection (multiplexed, reconnecting on its own) and the key prefix of this
/// deployment.
#[derive(Clone)]
pub struct Redis {
    pub conn: ConnectionManager,
    /// For the pub/sub connection (a subscribed connection cannot run other commands).
    pub client: redis::Client,
    prefix: String,
}

impl Redis {
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let url = config.redis_url.expose();
        let what = format!("Redis at {}", redact_url(url));
        let client =
            redis::Client::open(url.as_str()).with_context(|| format!("invalid URL for {what}"))?;
        // Short timeouts: a stalled Redis must fail requests fast, not hang them.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let conn = retry(&what, config.startup_timeout, || {
            ConnectionManager::new_with_config(client.clone(), manager_config.clone())
        })
        .await?;
        Ok(Self {
            conn,
            client,
            prefix: config.redis_prefix.clone(),
        })
    }

    /// A key in this deployment's namespace: `key("code", "abc")` → `portcullis:code:abc`.
    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// The pub/sub channel on which replicas of this deployment tell each other what changed.
    pub fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }
}

/// `search` with the `LIKE` wildcards escaped, so it matches literally.
pub fn like_escape(search: &str) -> String {
    search
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
