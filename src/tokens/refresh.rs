//! Refresh tokens: opaque 256-bit values stored as SHA-256, rotated on every use. Every token
//! rotated from one grant shares a family; presenting a token that was already used revokes the
//! whole family (RFC 9700 §4.14.2), because either the client or an attacker holds a stolen copy.
//! Rotation is one `UPDATE ... WHERE used_at IS NULL`, so of two concurrent refreshes exactly one
//! wins. A grace window (default 0 s) lets a client that races itself retry without tripping it.
//! The next token keeps only the scopes the client may still use (RFC 6749 §6); once
//! `offline_access` is among those it lost, the grant ends with this refresh.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Authentication;
use crate::amr::Amr;
use crate::crypto::{random_token, sha256};
use crate::secret::Secret;

/// The grant a refresh token carries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshGrant {
    pub family_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub scope: String,
    pub auth_time: OffsetDateTime,
    pub session_id: Option<String>,
    pub amr: Vec<Amr>,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl RefreshGrant {
    pub fn scopes(&self) -> Vec<String> {
        self.scope.split_whitespace().map(str::to_owned).collect()
    }

    pub fn authentication(&self) -> Authentication {
        Authentication {
            user_id: self.user_id,
            auth_time: self.auth_time.unix_timestamp(),
            amr: self.amr.clone(),
            sid: self.session_id.clone(),
        }
    }
}

/// Stores a new token in `family`; returns the token.
pub async fn issue(
    conn: &mut PgConnection,
    family: Uuid,
    client_id: &str,
    scopes: &[String],
    auth: &Authentication,
    ttl: Duration,
) -> sqlx::Result<Secret<String>> {
    let token = random_token();
    let auth_time =
        OffsetDateTime::from_unix_timestamp(auth.auth_time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    sqlx::query(
        "insert into refresh_tokens (id, token_hash, family_id, client_id, user_id, scope, auth_time, \
         session_id, amr, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10 * interval '1 second')",
    )
    .bind(Uuid::now_v7())
    .bind(sha256(token.expose().as_bytes()).to_vec())
    .bind(family)
    .bind(client_id)
    .bind(auth.user_id)
    .bind(scopes.join(" "))
    .bind(auth_time)
    .bind(&auth.sid)
    .bind(&auth.amr)
    .bind(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
    .execute(conn)
    .await?;
    Ok(token)
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// The token was good; it is now used and `token` (if the client may still refresh)
    /// replaces it.
    Rotated {
        grant: RefreshGrant,
        token: Option<Secret<String>>,
    },
    /// Not usable (unknown, another client's, expired, revoked, user disabled).
    Refused(&'static str),
    /// Already used outside the grace window: the family (given) is now revoked.
    Replayed(Uuid),
}

const OFFLINE_ACCESS: &str = "offline_access";

/// The columns of [`RefreshGrant`], for `concat!` (sqlx wants static SQL strings).
macro_rules! columns {
    () => {
        "family_id, client_id, user_id, scope, auth_time, session_id, amr, expires_at, used_at, revoked_at"
    };
}

/// Uses the token presented by the client `client_id`, whose scopes are now `allowed`.
pub async fn rotate(
    pool: &PgPool,
    presented: &str,
    client_id: &str,
    allowed: &[String],
    ttl: Duration,
    grace: Duration,
) -> anyhow::Result<Rotation> {
    let hash = sha256(presented.as_bytes()).to_vec();
    let mut tx = pool.begin().await?;
    let fresh: Option<RefreshGrant> = sqlx::query_as(concat!(
        "update refresh_tokens set used_at = now() where token_hash = $1 and used_at is null \
         and revoked_at is null and expires_at > now() returning ",
        columns!()
    ))
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let grant = match fresh {
        Some(grant) => grant,
        None => {
            let Some(grant) = find(&mut tx, &hash).await? else {
                return Ok(Rotation::Refused("unknown refresh token"));
            };
            let now = OffsetDateTime::now_utc();
            let within_grace = grant.used_at.is_some_and(|used| now < used + grace);
            if grant.client_id != client_id {
                return Ok(Rotation::Refused(
                    "the refresh token was issued to another client",
                ));
            }
            if grant.revoked_at.is_some() || grant.expires_at <= now {
                return Ok(Rotation::Refused("the refresh token is expired or revoked"));
            }
            if !within_grace {
                revoke_family(&mut tx, grant.family_id).await?;
                tx.commit().await?;
                return Ok(Rotation::Replayed(grant.family_id));
            }
            grant
        }
    };
    if grant.client_id != client_id {
        // Someone else's token: do not consume it.
        return Ok(Rotation::Refused(
            "the refresh token was issued to another client",
        ));
    }
    let disabled: bool = sqlx::query_scalar("select disabled from users where id = $1")
        .bind(grant.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(true);
    if disabled {
        revoke_family(&mut tx, grant.family_id).await?;
        tx.commit().await?;
        return Ok(Rotation::Refused("the user is disabled"));
    }
    let kept = crate::oauth::scope::still_allowed(&grant.scopes(), allowed);
    let token = match kept.iter().any(|s| s == OFFLINE_ACCESS) {
        true => Some(
            issue(
                &mut tx,
                grant.family_id,
                client_id,
                &kept,
                &grant.authentication(),
                ttl,
            )
            .await?,
        ),
        false => None,
    };
    tx.commit().await?;
    Ok(Rotation::Rotated { grant, token })
}

/// The grant of a token without using it.
pub async fn peek(pool: &PgPool, presented: &str) -> sqlx::Result<Option<RefreshGrant>> {
    let mut conn = pool.acquire().await?;
    find(&mut conn, &sha256(presented.as_bytes())).await
}

async fn find(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<RefreshGrant>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from refresh_tokens where token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(conn)
    .await
}

/// Revokes every grant of `user_id` (only those with `client_id`, if given): their refresh
/// tokens now; returns the families, whose access tokens the caller denies
/// ([`super::access::deny_grants`]).
pub async fn revoke_user_grants(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Option<&str>,
) -> sqlx::Result<Vec<Uuid>> {
    let mut families: Vec<Uuid> = sqlx::query_scalar(
        "update refresh_tokens set revoked_at = now() where user_id = $1 \
         and ($2::text is null or client_id = $2) and revoked_at is null returning family_id",
    )
    .bind(user_id)
    .bind(client_id)
    .fetch_all(conn)
    .await?;
    families.sort();
    families.dedup();
    Ok(families)
}

/// Revokes every token of a family.
pub async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
