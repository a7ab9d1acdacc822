//! Links sent by mail, in the `mail_links` table: a random 256-bit token of which only the
//! SHA-256 is stored, bound to one account and one [`Purpose`] (a verification link cannot reset a
//! password), used once and valid for the purpose's lifetime. The outbox worker makes a link in
//! the transaction that sends its mail ([`make`]), so the token is in the mail and nowhere else;
//! a new link replaces the account's earlier links of that purpose. [`take`] uses one up: it is
//! deleted in the statement that finds it, so two clicks at once cannot both use it.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::crypto::{random_token, sha256};
use crate::error::Result;
use crate::secret::Secret;

/// What a link is for. Each has its own lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Verify an address: 24 hours.
    Verify,
    /// Choose a new password: 30 minutes (ASVS 5.0 V6.4.1: a short-lived, single-use secret).
    Reset,
    /// Accept an invitation: 7 days.
    Invite,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::Invite => "invite",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::Verify => Duration::from_secs(24 * 3600),
            Purpose::Reset => Duration::from_secs(30 * 60),
            Purpose::Invite => Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Makes a link of `purpose` for `user` (for [`Purpose::Verify`], bound to `email`), replacing
/// the account's earlier ones of that purpose. Returns the token for the mail.
pub async fn make(
    conn: &mut PgConnection,
    user: Uuid,
    purpose: Purpose,
    email: Option<&str>,
) -> Result<Secret<String>> {
    sqlx::query("delete from mail_links where user_id = $1 and purpose = $2")
        .bind(user)
        .bind(purpose.as_str())
        .execute(&mut *conn)
        .await?;
    let token = random_token();
    let lifetime = i64::try_from(purpose.lifetime().as_secs()).unwrap_or(i64::MAX);
    sqlx::query(
        "insert into mail_links (token_hash, user_id, purpose, email, expires_at) \
         values ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(sha256(token.expose().as_bytes()).as_slice())
    .bind(user)
    .bind(purpose.as_str())
    .bind(email)
    .bind(lifetime as f64)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// A link that was valid when it was used.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Used {
    pub user_id: Uuid,
    /// For a verification link, the address it was sent to.
    pub email: Option<String>,
}

/// What a presented token turned out to be.
#[derive(Debug)]
pub enum Taken {
    Valid(Used),
    /// It was a link of this purpose once but has expired (it is deleted now).
    Expired,
    /// Unknown, already used, replaced, or of another purpose.
    Unknown,
}

/// A link's row: its account, its address and whether it is still valid.
type Row = Option<(Uuid, Option<String>, bool)>;

fn taken(row: Row) -> Taken {
    match row {
        Some((user_id, email, true)) => Taken::Valid(Used { user_id, email }),
        Some(_) => Taken::Expired,
        None => Taken::Unknown,
    }
}

/// Uses up the link `token` of `purpose`: deleted whether valid or expired, so it works once.
/// Pass the transaction of the change the link makes, so a failed change leaves it usable.
pub async fn take(conn: &mut PgConnection, token: &str, purpose: Purpose) -> Result<Taken> {
    let row: Row = sqlx::query_as(
        "delete from mail_links where token_hash = $1 and purpose = $2 \
         returning user_id, email, expires_at > now()",
    )
    .bind(sha256(token.as_bytes()).as_slice())
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(taken(row))
}

/// Whether `token` is a live link of `purpose`, without using it (for the page that shows the
/// form a link leads to: mail scanners open links, so opening one must not use it up).
pub async fn peek(conn: &mut PgConnection, token: &str, purpose: Purpose) -> Result<Taken> {
    let row: Row = sqlx::query_as(
        "select user_id, email, expires_at > now() from mail_links \
         where token_hash = $1 and purpose = $2",
    )
    .bind(sha256(token.as_bytes()).as_slice())
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(taken(row))
}

/// Removes `user`'s links of `purpose` (a password was set another way, the address changed).
pub async fn forget(conn: &mut PgConnection, user: Uuid, purpose: Purpose) -> Result<()> {
    sqlx::query("delete from mail_links where user_id = $1 and purpose = $2")
        .bind(user)
        .bind(purpose.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// One batch of the cleanup: expired links, by the expiry index.
pub const PURGE_BATCH: &str = "delete from mail_links where token_hash = any(array( \
       select token_hash from mail_links where expires_at < $1 order by expires_at limit 1000))";
