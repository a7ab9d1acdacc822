//! Connections to the two stores: PostgreSQL (what must last: users, clients, keys, refresh
//! tokens, consents, audit) and Redis (what is short-lived: sessions, codes, counters). At start
//! both are retried with backoff for `startup_timeout`, then a clear error names the store and its
//! (password-free) URL. The database is created if it is missing and migrated.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::migrate::MigrateDatabase as _;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{FromRow, PgPool, Postgres};

use crate::config::{Config, Human};
use crate::secret::redact_url;

/// Reads a row as stored (`Raw`, strings), then decodes its values into `T` once, so that a
/// stored value the code does not accept is a decode error that names the row (`name`).
pub fn decode_row<'r, Raw, T>(row: &'r PgRow, name: impl FnOnce(&Raw) -> String) -> sqlx::Result<T>
where
    Raw: FromRow<'r, PgRow>,
    T: TryFrom<Raw, Error = String>,
{
    let raw = Raw::from_row(row)?;
    let named = name(&raw);
    T::try_from(raw).map_err(|e| sqlx::Error::Decode(format!("{named}: {e}").into()))
}

/// A transaction in which the planner is offered no sequential scan, for the cleanup's batches:
/// they are built to read by index, and right after a bulk load (before autovacuum has analyzed
/// the table) the planner may otherwise think a table tiny and scan all of it, once per row of an
/// outer loop. Without statistics its cost estimates are high too, and compiling a small batch
/// (JIT) would cost more than running it. Only the batch's own statements run in it.
pub async fn by_index(pool: &PgPool) -> crate::error::Result<sqlx::Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql("set local enable_seqscan = off; set local jit = off")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

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
    let pool = connect_pool(config).await?;
    let applied = crate::migrations::apply(&pool, config.startup_timeout).await?;
    for step in &applied {
        tracing::info!(
            version = step.version,
            description = %step.description,
            "applied a migration"
        );
    }
    Ok(pool)
}

/// Connects to PostgreSQL, creating the database if needed, and changes nothing else.
pub async fn connect_pool(config: &Config) -> anyhow::Result<PgPool> {
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
    Ok(pool)
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

    /// A key (or channel) in this deployment's namespace:
    /// `key(RedisKey::Code("abc"))` → `portcullis:code:abc`.
    pub fn key(&self, key: RedisKey<'_>) -> String {
        format!("{}{key}", self.prefix)
    }

    /// This deployment's prefix, which every key starts with (for a `SCAN`/`KEYS` pattern).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> crate::error::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }
}

/// Every key the server keeps in Redis, and the pub/sub channel: the one place that knows their
/// formats, so two features cannot collide on a name. [`Redis::key`] adds the deployment prefix.
/// Outside input appears in a key only hashed or as an id the server made (see each caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisKey<'a> {
    /// An authorization code's grant, by the code's hash (`tokens::codes`).
    Code(&'a str),
    /// What a redeemed authorization code issued, by the code's hash, to revoke it on replay.
    CodeUsed(&'a str),
    /// A device authorization request, by the device code's hash (`tokens::device`).
    Device(&'a str),
    /// A user code → its device request id.
    DeviceUserCode(&'a str),
    /// The approval of a device request, taken once by the polling client.
    DeviceApproval(&'a str),
    /// A revoked access token, by `jti` (`tokens::denylist`).
    RevokedJti(&'a str),
    /// A revoked grant (refresh-token family), whose access tokens are refused.
    RevokedGrant(uuid::Uuid),
    /// A guessing counter (`throttle`): what is guessed, and whose guess.
    Throttle {
        kind: &'static str,
        subject: &'a str,
    },
    /// A fixed-window rate-limit counter (`ratelimit`): the limit's name, and for whom.
    Rate {
        limit: &'static str,
        subject: &'a str,
    },
    /// A browser session's record, by session id (`sessions::store`).
    Session(&'a str),
    /// The sorted set of signed-in sessions (`sessions::index`).
    Sessions,
    /// The sessions of one person (`sessions::index`).
    UserSessions(uuid::Uuid),
    /// When a person last signed out everywhere (`sessions`).
    SignedOutEverywhere(uuid::Uuid),
    /// Tokens issued in one minute, for the dashboard (`admin::dashboard`).
    TokensIssued(i64),
    /// The pub/sub channel on which replicas tell each other what changed (`invalidation`).
    Invalidation,
    /// A passkey ceremony in progress, by its random id (`passkeys::ceremony`).
    Ceremony(&'a str),
}

impl std::fmt::Display for RedisKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisKey::Code(id) => write!(f, "code:{id}"),
            RedisKey::CodeUsed(id) => write!(f, "code-used:{id}"),
            RedisKey::Device(id) => write!(f, "device:{id}"),
            RedisKey::DeviceUserCode(code) => write!(f, "device-user-code:{code}"),
            RedisKey::DeviceApproval(id) => write!(f, "device-approval:{id}"),
            RedisKey::RevokedJti(jti) => write!(f, "revoked-jti:{jti}"),
            RedisKey::RevokedGrant(family) => write!(f, "revoked-grant:{family}"),
            RedisKey::Throttle { kind, subject } => write!(f, "throttle:{kind}:{subject}"),
            RedisKey::Rate { limit, subject } => write!(f, "rate:{limit}:{subject}"),
            RedisKey::Session(id) => write!(f, "session:{id}"),
            RedisKey::Sessions => f.write_str("sessions:all"),
            RedisKey::UserSessions(user) => write!(f, "user-sessions:{user}"),
            RedisKey::SignedOutEverywhere(user) => write!(f, "signed-out-everywhere:{user}"),
            RedisKey::TokensIssued(minute) => write!(f, "tokens-issued:{minute}"),
            RedisKey::Invalidation => f.write_str("invalidate"),
            RedisKey::Ceremony(id) => write!(f, "passkey-ceremony:{id}"),
        }
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

#[cfg(test)]
mod tests {
    use super::RedisKey;
    use uuid::Uuid;

    /// The names are what replicas already running use: a change here is a change of format in
    /// a rolling upgrade, so each is pinned.
    #[test]
    fn keys_keep_their_names() {
        let id = Uuid::nil();
        let cases = [
            (RedisKey::Code("h"), "code:h"),
            (RedisKey::CodeUsed("h"), "code-used:h"),
            (RedisKey::Device("r"), "device:r"),
            (RedisKey::DeviceUserCode("BCDF"), "device-user-code:BCDF"),
            (RedisKey::DeviceApproval("r"), "device-approval:r"),
            (RedisKey::RevokedJti("j"), "revoked-jti:j"),
            (
                RedisKey::RevokedGrant(id),
                "revoked-grant:00000000-0000-0000-0000-000000000000",
            ),
            (
                RedisKey::Throttle {
                    kind: "pw",
                    subject: "ip:::1",
                },
                "throttle:pw:ip:::1",
            ),
            (
                RedisKey::Rate {
                    limit: "device-ip",
                    subject: "192.0.2.1",
                },
                "rate:device-ip:192.0.2.1",
            ),
            (RedisKey::Session("s"), "session:s"),
            (RedisKey::Sessions, "sessions:all"),
            (
                RedisKey::UserSessions(id),
                "user-sessions:00000000-0000-0000-0000-000000000000",
            ),
            (
                RedisKey::SignedOutEverywhere(id),
                "signed-out-everywhere:00000000-0000-0000-0000-000000000000",
            ),
            (RedisKey::TokensIssued(29_000_000), "tokens-issued:29000000"),
            (RedisKey::Invalidation, "invalidate"),
        ];
        for (key, name) in cases {
            assert_eq!(key.to_string(), name);
        }
    }
}
