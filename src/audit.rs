//! Audit events: who did what to what, when and from where, in the `audit_events` table.
//! Security-relevant changes (keys, users, clients, sign-ins) are recorded in the same
//! transaction as the change, so an event exists exactly when the change does. Details never hold
//! a secret.

use serde_json::Value;
use sqlx::PgConnection;

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

pub async fn record(conn: &mut PgConnection, event: Event<'_>) -> sqlx::Result<()> {
    sqlx::query("insert into audit_events (actor, event, target, ip, details) values ($1, $2, $3, $4::inet, $5)")
        .bind(event.actor.label())
        .bind(event.event)
        .bind(event.target)
        .bind(event.ip.map(|ip| ip.to_string()))
        .bind(event.details)
        .execute(conn)
        .await?;
    Ok(())
}

/// Shorthand for the common case: no IP address, no details beyond `details`.
pub async fn record_simple(
    conn: &mut PgConnection,
    actor: &Actor,
    event: &str,
    target: &str,
    details: Value,
) -> sqlx::Result<()> {
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
    ) -> sqlx::Result<()> {
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
