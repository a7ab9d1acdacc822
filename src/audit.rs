//! Audit events: who did what to what, when and from where, in the `audit_events` table. What
//! can happen is [`AuditEvent`], each with its name, target and details; [`By::record`] writes
//! them, and nothing else does. Security-relevant changes (keys, users, clients, sign-ins) are recorded in the same
//! transaction as the change, so an event exists exactly when the change does. Details never hold
//! a secret.
//!
//! The log is long-lived (events older than `PORTCULLIS_AUDIT_RETENTION` are deleted by the
//! cleanup, [`purge_before`]), so what goes in is bounded here, in the one writer, whatever a
//! caller passes: the target and the actor are cut to [`limits::AUDIT_TARGET`] bytes, and every
//! string in the details to [`limits::DEFAULT`]. (Input is bounded at the edge already; this is the floor.)

mod details;
mod event;

use serde_json::Value;
use sqlx::PgConnection;

use crate::error::Result;
pub use event::{AuditEvent, KeyChange};

use crate::limits;

/// Who caused an event.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The server itself (the rotation tick, demo seeding).
    System,
    /// An operator at the command line.
    Cli,
    /// A signed-in user, by id.
    User(uuid::Uuid),
    /// A client, by client id.
    Client(String),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::User(id) => format!("user:{id}"),
            Actor::Client(id) => format!("client:{id}"),
        }
    }
}

/// `details` with every string cut to [`limits::DEFAULT`] bytes.
fn bounded(details: Value) -> Value {
    match details {
        Value::String(s) if s.len() > limits::DEFAULT => {
            Value::String(limits::truncate(&s, limits::DEFAULT).to_owned())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(bounded).collect()),
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(k, v)| {
                    (
                        limits::truncate(&k, limits::FIELD_NAME).to_owned(),
                        bounded(v),
                    )
                })
                .collect(),
        ),
        other => other,
    }
}

/// Who is acting and from where: carried through a change so its audit event names both.
#[derive(Debug, Clone)]
pub struct By {
    pub actor: Actor,
    pub ip: Option<std::net::IpAddr>,
}

impl By {
    pub fn new(actor: Actor, ip: Option<std::net::IpAddr>) -> Self {
        Self { actor, ip }
    }

    /// Records `event` as done by this actor, from this address: the one writer of
    /// `audit_events`. Pass the transaction of the change, so the event exists exactly when the
    /// change does.
    #[tracing::instrument(name = "store.audit.record", level = "debug", skip_all)]
    pub async fn record(&self, conn: &mut PgConnection, event: AuditEvent<'_>) -> Result<()> {
        let actor = self.actor.label();
        let target = event.target();
        sqlx::query(
            "insert into audit_events (actor, event, target, ip, details) \
             values ($1, $2, $3, $4::inet, $5)",
        )
        .bind(limits::truncate(&actor, limits::AUDIT_TARGET))
        .bind(limits::truncate(event.name(), limits::AUDIT_TARGET))
        .bind(limits::truncate(&target, limits::AUDIT_TARGET))
        .bind(self.ip.map(|ip| ip.to_string()))
        .bind(bounded(event.details()))
        .execute(&mut *conn)
        .await?;
        // The owner hears of security-relevant changes, in this same transaction.
        crate::outbox::notices::follow(conn, &event).await
    }
}

/// The most events one batch of the cleanup deletes (the `limit` of [`PURGE_BATCH`]).
pub const PURGE_LIMIT: u64 = 1000;

/// One batch of the cleanup: `$1` the cutoff; the oldest events first, by the time index.
pub const PURGE_BATCH: &str = "delete from audit_events where id = any(array( \
       select id from audit_events where at < $1 order by at, id limit 1000))";

/// Deletes up to [`PURGE_LIMIT`] events recorded before `cutoff`, the oldest first; returns how many.
#[tracing::instrument(skip(pool))]
pub async fn purge_before(pool: &sqlx::PgPool, cutoff: time::OffsetDateTime) -> Result<u64> {
    let mut tx = crate::storage::by_index(pool).await?;
    let done = sqlx::query(PURGE_BATCH)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_bounded() {
        let long = "x".repeat(5000);
        let details = bounded(serde_json::json!({ "username": long, "n": 3, "list": [long] }));
        assert_eq!(
            details["username"].as_str().map(str::len),
            Some(limits::DEFAULT)
        );
        assert_eq!(
            details["list"][0].as_str().map(str::len),
            Some(limits::DEFAULT)
        );
        assert_eq!(details["n"], 3);
    }

    #[test]
    fn the_purge_limit_is_the_one_in_the_query() {
        assert!(PURGE_BATCH.contains(&format!("limit {PURGE_LIMIT})")));
    }
}
