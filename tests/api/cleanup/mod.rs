//! The background cleanup and the indexes behind it: tables filled in SQL come back down in
//! batches while tokens are served; reuse detection survives it; retention `0` keeps the audit
//! log; replicas take turns; per-request and cleanup queries use indexes on big tables.

mod explain;
mod fill;
mod rules;

use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{Settings, TestApp};

/// `settings` with a cleanup every second that keeps ended rows for `grace`.
pub fn every_second(settings: Settings, grace: &str) -> Settings {
    settings
        .set("PORTCULLIS_CLEANUP_INTERVAL", "1s")
        .set("PORTCULLIS_CLEANUP_GRACE", grace)
}

/// The value of one series on `/metrics` (`0` while it does not exist yet).
pub async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// Rows the cleanup of `app` deleted from `table`.
pub async fn deleted(app: &TestApp, table: &str) -> u64 {
    let series = format!("portcullis_cleanup_deleted_rows_total{{table=\"{table}\"}}");
    metric(app, &series).await as u64
}

/// Cleanup runs of `app` that ended with `outcome` (`done`, `skipped`, `failed`).
pub async fn runs(app: &TestApp, outcome: &str) -> u64 {
    let series = format!("portcullis_cleanup_runs_total{{outcome=\"{outcome}\"}}");
    metric(app, &series).await as u64
}

/// Families of refresh tokens made in SQL, `tokens` each, numbered from the family id `prefix`
/// (the first 23 characters of a UUID, like `00000000-0000-4000-8000`).
pub struct Families<'a> {
    pub prefix: &'a str,
    pub count: i64,
    pub tokens: i64,
    /// When every token was used (the last one too, unless `last_live`).
    pub used: &'a str,
    /// The newest token of each family is unused and unexpired.
    pub last_live: bool,
}

impl Families<'_> {
    /// Inserts them for `user` and `client` in one statement.
    pub async fn insert(&self, db: &PgPool, user: Uuid, client: &str) {
        sqlx::query(
            "insert into refresh_tokens (id, token_hash, family_id, client_id, user_id, scope, \
             auth_time, expires_at, used_at) \
             select gen_random_uuid(), sha256(convert_to($1 || '-' || i, 'UTF8')), \
             ($1 || '-' || lpad(to_hex(i / $3), 12, '0'))::uuid, $4, $5, 'openid offline_access', \
             now(), now() + interval '29 days', \
             case when $6 and i % $3 = $3 - 1 then null else now() - $7::interval end \
             from generate_series(0, $2 * $3 - 1) as i",
        )
        .bind(self.prefix)
        .bind(self.count)
        .bind(self.tokens)
        .bind(client)
        .bind(user)
        .bind(self.last_live)
        .bind(self.used)
        .execute(db)
        .await
        .unwrap();
    }

    /// How many of their rows are left.
    pub async fn left(&self, db: &PgPool) -> i64 {
        sqlx::query_scalar(
            "select count(*) from refresh_tokens where family_id::text like $1 || '%'",
        )
        .bind(self.prefix)
        .fetch_one(db)
        .await
        .unwrap()
    }
}

/// Inserts `count` audit events recorded `age` ago (`500 days`), with the event name `event`.
pub async fn old_audit_events(db: &PgPool, count: i64, age: &str, event: &str) {
    sqlx::query(
        "insert into audit_events (at, actor, event, target) \
         select now() - $2::interval - i * interval '1 second', 'system', $3, 'row-' || i \
         from generate_series(1, $1) as i",
    )
    .bind(count)
    .bind(age)
    .bind(event)
    .execute(db)
    .await
    .unwrap();
}

/// How many audit events named `event` there are.
pub async fn audit_count(db: &PgPool, event: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where event = $1")
        .bind(event)
        .fetch_one(db)
        .await
        .unwrap()
}
