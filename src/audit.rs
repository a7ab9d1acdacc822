//! Audit events: who did what to what, when and from where, in the `audit_events` table.
//! Security-relevant changes (keys, users, clients, sign-ins) are recorded in the same
//! transaction as the change, so an event exists exactly when the change does. Details never hold
//! a secret.
//!
//! The log is permanent, so what goes in is bounded here, in the one writer, whatever a caller
//! passes: the target and the actor are cut to [`limits::AUDIT_TARGET`] bytes, and every string
//! in the details to [`limits::DEFAULT`]. (Input is bounded at the edge already; this is the floor.)

use serde_json::Value;
use sqlx::PgConnection;

use crate::error::Result;
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

/// One event to record. `event` is a dotted name such as `key.rotated` or `user.created`.
pub struct Event<'a> {
    pub actor: &'a Actor,
    pub event: &'a str,
    pub target: Option<&'a str>,
    pub ip: Option<std::net::IpAddr>,
    pub details: Value,
}

pub async fn record(conn: &mut PgConnection, event: Event<'_>) -> Result<()> {
    let actor = event.actor.label();
    sqlx::query("insert into audit_events (actor, event, target, ip, details) values ($1, $2, $3, $4::inet, $5)")
        .bind(limits::truncate(&actor, limits::AUDIT_TARGET))
        .bind(limits::truncate(event.event, limits::AUDIT_TARGET))
        .bind(event.target.map(|t| limits::truncate(t, limits::AUDIT_TARGET)))
        .bind(event.ip.map(|ip| ip.to_string()))
        .bind(bounded(event.details))
        .execute(conn)
        .await?;
    Ok(())
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

/// Shorthand for the common case: no IP address, no details beyond `details`.
pub async fn record_simple(
    conn: &mut PgConnection,
    actor: &Actor,
    event: &str,
    target: &str,
    details: Value,
) -> Result<()> {
    By::new(actor.clone(), None)
        .record(conn, event, target, details)
        .await
}

/// Who is acting and from where: carried through an administrative change so its audit event
/// names both.
#[derive(Debug, Clone)]
pub struct By {
    pub actor: Actor,
    pub ip: Option<std::net::IpAddr>,
}

impl By {
    pub fn new(actor: Actor, ip: Option<std::net::IpAddr>) -> Self {
        Self { actor, ip }
    }

    /// Records `event` on `target` as this actor, from this address.
    pub async fn record(
        &self,
        conn: &mut PgConnection,
        event: &str,
        target: &str,
        details: Value,
    ) -> Result<()> {
        record(
            conn,
            Event {
                actor: &self.actor,
                event,
                target: Some(target),
                ip: self.ip,
                details,
            },
        )
        .await
    }
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
}
