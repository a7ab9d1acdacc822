//! Consents: which scopes a person has allowed a client, remembered per user and client so they
//! are asked once. A new scope asks again.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{Actor, AuditEvent, By};
use crate::error::Result;

/// Whether the user already allowed `client_id` every one of `scopes`.
pub async fn covers(
    pool: &PgPool,
    user_id: Uuid,
    client_id: &str,
    scopes: &[String],
) -> Result<bool> {
    let granted: Option<Vec<String>> =
        sqlx::query_scalar("select scopes from consents where user_id = $1 and client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(pool)
            .await?;
    Ok(granted.is_some_and(|granted| scopes.iter().all(|s| granted.contains(s))))
}

/// Records that the user allowed `scopes` (added to what they allowed before).
pub async fn grant(pool: &PgPool, user_id: Uuid, client_id: &str, scopes: &[String]) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into consents (user_id, client_id, scopes) values ($1, $2, $3) \
         on conflict (user_id, client_id) do update set \
         scopes = (select array_agg(distinct s) from unnest(consents.scopes || excluded.scopes) as s), \
         granted_at = now()",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scopes)
    .execute(&mut *tx)
    .await?;
    By::new(Actor::User(user_id), None)
        .record(&mut tx, AuditEvent::ConsentGiven { client_id, scopes })
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// An application a person has allowed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Approved {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub granted_at: time::OffsetDateTime,
}

pub async fn list(pool: &PgPool, user_id: Uuid) -> Result<Vec<Approved>> {
    sqlx::query_as(
        "select c.client_id, cl.name as client_name, c.scopes, c.granted_at from consents c \
         join clients cl on cl.client_id = c.client_id where c.user_id = $1 order by lower(cl.name)",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await.map_err(Into::into)
}

/// What withdrawing a consent did.
#[derive(Debug)]
pub struct Withdrawn {
    /// Whether there was a consent.
    pub had_consent: bool,
    /// The grants whose refresh tokens were revoked: the caller denies their access tokens
    /// ([`crate::tokens::access::deny_grants`]).
    pub grants: Vec<Uuid>,
}

/// Withdraws consent: the application must ask again, and its refresh tokens for this person
/// stop working.
pub async fn revoke(pool: &PgPool, user_id: Uuid, client_id: &str) -> Result<Withdrawn> {
    let mut tx = pool.begin().await?;
    let removed = sqlx::query("delete from consents where user_id = $1 and client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let grants =
        crate::tokens::refresh::revoke_user_grants(&mut tx, user_id, Some(client_id)).await?;
    if removed > 0 {
        By::new(Actor::User(user_id), None)
            .record(&mut tx, AuditEvent::ConsentRevoked { client_id })
            .await?;
    }
    tx.commit().await?;
    Ok(Withdrawn {
        had_consent: removed > 0,
        grants,
    })
}
