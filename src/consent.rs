//! Consents: which scopes a person has allowed a client, remembered per user and client so they
//! are asked once. A new scope asks again. The stored scopes (`text[]`) are decoded into
//! [`Scopes`] when a row is read; one that is not a scope is a decode error naming the consent.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Row as _};
use uuid::Uuid;

use crate::audit::{Actor, AuditEvent, By};
use crate::error::Result;
use crate::oauth::scope::{self, Scope, Scopes};

/// The `scopes` column of a consent row, decoded.
fn decode_scopes(row: &PgRow, user_id: Uuid, client_id: &str) -> sqlx::Result<Scopes> {
    let raw: Vec<String> = row.try_get("scopes")?;
    Scopes::parse_all(&raw).map_err(|e| {
        sqlx::Error::Decode(format!("consent of user {user_id} for client {client_id}: {e}").into())
    })
}

/// The scopes a user (`$1`) allowed a client (`$2`).
pub const COVERS: &str = "select scopes from consents where user_id = $1 and client_id = $2";

/// Whether the user already allowed `client_id` every one of `scopes`.
pub async fn covers(
    pool: &PgPool,
    user_id: Uuid,
    client_id: &str,
    scopes: &[Scope],
) -> Result<bool> {
    let row = sqlx::query(COVERS)
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(pool)
        .await?;
    let granted = row
        .map(|row| decode_scopes(&row, user_id, client_id))
        .transpose()?;
    Ok(granted.is_some_and(|granted| scope::is_subset(scopes, &granted)))
}

/// Records that the user allowed `scopes` (added to what they allowed before).
pub async fn grant(pool: &PgPool, user_id: Uuid, client_id: &str, scopes: &[Scope]) -> Result<()> {
    let names: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into consents (user_id, client_id, scopes) values ($1, $2, $3) \
         on conflict (user_id, client_id) do update set \
         scopes = (select array_agg(distinct s) from unnest(consents.scopes || excluded.scopes) as s), \
         granted_at = now()",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(names)
    .execute(&mut *tx)
    .await?;
    By::new(Actor::User(user_id), None)
        .record(&mut tx, AuditEvent::ConsentGiven { client_id, scopes })
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// An application a person has allowed.
#[derive(Debug, Clone)]
pub struct Approved {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Scopes,
    pub granted_at: time::OffsetDateTime,
}

/// A row of [`list`]: the user is the one listed for.
impl<'r> FromRow<'r, PgRow> for Approved {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Approved> {
        let client_id: String = row.try_get("client_id")?;
        let user_id: Uuid = row.try_get("user_id")?;
        Ok(Approved {
            scopes: decode_scopes(row, user_id, &client_id)?,
            client_name: row.try_get("client_name")?,
            granted_at: row.try_get("granted_at")?,
            client_id,
        })
    }
}

pub async fn list(pool: &PgPool, user_id: Uuid) -> Result<Vec<Approved>> {
    sqlx::query_as(
        "select c.user_id, c.client_id, cl.name as client_name, c.scopes, c.granted_at from consents c \
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
