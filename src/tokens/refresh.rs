//! Refresh tokens: opaque 256-bit values stored as SHA-256, rotated on every use. Every token
//! rotated from one grant shares a family; presenting a token that was already used revokes the
//! whole family (RFC 9700 §4.14.2), because either the client or an attacker holds a stolen copy.
//! Rotation is one `UPDATE ... WHERE used_at IS NULL`, so of two concurrent refreshes exactly one
//! wins. A grace window (default 0 s) lets a client that races itself retry without tripping it.
//! The next token keeps only the scopes the client may still use (RFC 6749 §6); once
//! `offline_access` is among those it lost, the grant ends with this refresh.

use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Authentication;
use crate::amr::Amr;
use crate::crypto::{random_token, sha256};
use crate::error::Result;
use crate::oauth::scope::{Scope, Scopes};
use crate::secret::Secret;

/// The grant a refresh token carries.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub family_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub scopes: Scopes,
    pub auth_time: OffsetDateTime,
    pub session_id: Option<String>,
    pub amr: Vec<Amr>,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A row of `refresh_tokens` as stored: the scope is the space-separated text of a `scope`
/// parameter, decoded once by [`RefreshGrant::from_row`].
#[derive(FromRow)]
struct RefreshRow {
    family_id: Uuid,
    client_id: String,
    user_id: Uuid,
    scope: String,
    auth_time: OffsetDateTime,
    session_id: Option<String>,
    amr: Vec<Amr>,
    expires_at: OffsetDateTime,
    used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl TryFrom<RefreshRow> for RefreshGrant {
    type Error = String;

    fn try_from(row: RefreshRow) -> Result<RefreshGrant, String> {
        let scopes = Scopes::parse(&row.scope)?;
        Ok(RefreshGrant {
            family_id: row.family_id,
            client_id: row.client_id,
            user_id: row.user_id,
            scopes,
            auth_time: row.auth_time,
            session_id: row.session_id,
            amr: row.amr,
            expires_at: row.expires_at,
            used_at: row.used_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// Every query of `refresh_tokens` yields typed scopes, or a decode error naming the family.
impl<'r> FromRow<'r, PgRow> for RefreshGrant {
    fn from_row(row: &'r PgRow) -> sqlx::Result<RefreshGrant> {
        crate::storage::decode_row::<RefreshRow, _>(row, |raw| {
            format!("refresh token of family {}", raw.family_id)
        })
    }
}

impl RefreshGrant {
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
    scopes: &Scopes,
    auth: &Authentication,
    ttl: Duration,
) -> Result<Secret<String>> {
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
    .bind(scopes.to_string())
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

/// The columns of [`RefreshGrant`], for `concat!` (sqlx wants static SQL strings).
macro_rules! columns {
    () => {
        "family_id, client_id, user_id, scope, auth_time, session_id, amr, expires_at, used_at, revoked_at"
    };
}

/// Uses a fresh token, by hash (`$1`): of two concurrent uses exactly one gets the row.
pub const USE: &str = concat!(
    "update refresh_tokens set used_at = now() where token_hash = $1 and used_at is null \
     and revoked_at is null and expires_at > now() returning ",
    columns!()
);

/// A token by hash (`$1`), whatever its state.
pub const FIND: &str = concat!(
    "select ",
    columns!(),
    " from refresh_tokens where token_hash = $1"
);

/// Revokes a family (`$1`).
pub const REVOKE_FAMILY: &str =
    "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null";

/// Revokes the grants of a user (`$1`), of one client (`$2`) or all.
pub const REVOKE_USER_GRANTS: &str = "update refresh_tokens set revoked_at = now() where user_id = $1 \
     and ($2::text is null or client_id = $2) and revoked_at is null returning family_id";

/// What presenting a token that is no longer fresh (used, revoked or expired) amounts to.
#[derive(Debug, PartialEq, Eq)]
enum Reuse {
    /// Not this client's, or no longer valid: refused, and nothing else happens.
    Refused(&'static str),
    /// Used before, outside the grace window: a stolen copy is in play, so the family goes.
    Replayed,
    /// Used moments ago by the same client (a retry racing itself): rotated once more.
    WithinGrace,
}

/// The decision for a token that is no longer fresh, presented by `client_id` at `now`. Another
/// client's token is refused without touching its family, so one client cannot revoke another's
/// grant by presenting its token.
fn reuse(grant: &RefreshGrant, client_id: &str, now: OffsetDateTime, grace: Duration) -> Reuse {
    if grant.client_id != client_id {
        return Reuse::Refused("the refresh token was issued to another client");
    }
    if grant.revoked_at.is_some() || grant.expires_at <= now {
        return Reuse::Refused("the refresh token is expired or revoked");
    }
    match grant.used_at.is_some_and(|used| now < used + grace) {
        true => Reuse::WithinGrace,
        false => Reuse::Replayed,
    }
}

/// Uses the token presented by the client `client_id`, whose scopes are now `allowed`.
pub async fn rotate(
    pool: &PgPool,
    presented: &str,
    client_id: &str,
    allowed: &[Scope],
    ttl: Duration,
    grace: Duration,
) -> Result<Rotation> {
    let hash = sha256(presented.as_bytes()).to_vec();
    let mut tx = pool.begin().await?;
    let fresh: Option<RefreshGrant> = sqlx::query_as(USE)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
    let grant = match fresh {
        Some(grant) => grant,
        None => {
            let Some(grant) = find(&mut tx, &hash).await? else {
                return Ok(Rotation::Refused("unknown refresh token"));
            };
            match reuse(&grant, client_id, OffsetDateTime::now_utc(), grace) {
                Reuse::Refused(why) => return Ok(Rotation::Refused(why)),
                Reuse::Replayed => {
                    revoke_family(&mut tx, grant.family_id).await?;
                    tx.commit().await?;
                    return Ok(Rotation::Replayed(grant.family_id));
                }
                Reuse::WithinGrace => grant,
            }
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
    let kept = crate::oauth::scope::still_allowed(&grant.scopes, allowed);
    let token = match kept.contains(&Scope::OFFLINE_ACCESS) {
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
pub async fn peek(pool: &PgPool, presented: &str) -> Result<Option<RefreshGrant>> {
    let mut conn = pool.acquire().await?;
    find(&mut conn, &sha256(presented.as_bytes())).await
}

async fn find(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<RefreshGrant>> {
    sqlx::query_as(FIND)
        .bind(hash)
        .fetch_optional(conn)
        .await
        .map_err(Into::into)
}

/// Revokes every grant of `user_id` (only those with `client_id`, if given): their refresh
/// tokens now; returns the families, whose access tokens the caller denies
/// ([`super::access::deny_grants`]).
pub async fn revoke_user_grants(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Option<&str>,
) -> Result<Vec<Uuid>> {
    let mut families: Vec<Uuid> = sqlx::query_scalar(REVOKE_USER_GRANTS)
        .bind(user_id)
        .bind(client_id)
        .fetch_all(conn)
        .await?;
    families.sort();
    families.dedup();
    Ok(families)
}

/// Revokes every token of a family.
pub async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<u64> {
    let done = sqlx::query(REVOKE_FAMILY)
        .bind(family)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(10);

    fn used(seconds_ago: i64, now: OffsetDateTime) -> RefreshGrant {
        RefreshGrant {
            family_id: Uuid::now_v7(),
            client_id: "app".into(),
            user_id: Uuid::now_v7(),
            scopes: Scopes::from(vec![Scope::OPENID, Scope::OFFLINE_ACCESS]),
            auth_time: now,
            session_id: None,
            amr: vec![crate::amr::Amr::Pwd],
            expires_at: now + time::Duration::DAY,
            used_at: Some(now - time::Duration::seconds(seconds_ago)),
            revoked_at: None,
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn a_row_decodes_its_scope_once_and_refuses_one_that_is_not_a_scope() {
        let row = |scope: &str| RefreshRow {
            family_id: Uuid::nil(),
            client_id: "app".into(),
            user_id: Uuid::nil(),
            scope: scope.into(),
            auth_time: now(),
            session_id: None,
            amr: vec![],
            expires_at: now(),
            used_at: None,
            revoked_at: None,
        };
        let grant = RefreshGrant::try_from(row("openid offline_access")).unwrap();
        assert_eq!(grant.scopes, used(0, now()).scopes);
        assert_eq!(grant.scopes.to_string(), "openid offline_access");
        assert!(RefreshGrant::try_from(row("openid a\"b")).is_err());
    }

    #[test]
    fn a_used_token_is_a_replay_once_the_grace_window_has_passed() {
        assert_eq!(
            reuse(&used(3, now()), "app", now(), GRACE),
            Reuse::WithinGrace
        );
        assert_eq!(
            reuse(&used(10, now()), "app", now(), GRACE),
            Reuse::Replayed
        );
        assert_eq!(
            reuse(&used(0, now()), "app", now(), Duration::ZERO),
            Reuse::Replayed,
            "no grace by default"
        );
    }

    #[test]
    fn another_clients_token_is_refused_without_revoking_its_grant() {
        let stale = used(3600, now());
        assert!(matches!(
            reuse(&stale, "other", now(), GRACE),
            Reuse::Refused(_)
        ));
    }

    #[test]
    fn a_revoked_or_expired_token_is_refused_even_within_the_grace_window() {
        let mut revoked = used(1, now());
        revoked.revoked_at = Some(now());
        assert!(matches!(
            reuse(&revoked, "app", now(), GRACE),
            Reuse::Refused(_)
        ));
        let mut expired = used(1, now());
        expired.expires_at = now();
        assert!(matches!(
            reuse(&expired, "app", now(), GRACE),
            Reuse::Refused(_)
        ));
    }
}
