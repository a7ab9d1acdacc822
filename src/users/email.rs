//! Account addresses and their verification. An address is verified once the person uses the
//! link sent to it; until then `email_verified` is false in tokens and userinfo (OIDC Core §5.1).
//! Setting or changing an address clears the verification, queues a link to the new address and,
//! when the old one was verified, tells the old one (so a taken-over account's owner hears of
//! it). Each change is one transaction with its audit event and its mails ([`crate::outbox`]).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Email;
use crate::audit::{AuditEvent, By};
use crate::error::{Error, Result};
use crate::mail::Letter;
use crate::mail::links::{self, Purpose, Taken};
use crate::outbox;

/// An account's address as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub email: String,
    pub verified: bool,
}

/// The account's address, if it has one.
pub async fn address(conn: &mut PgConnection, user: Uuid) -> Result<Option<Address>> {
    let row: Option<(Option<String>, bool)> =
        sqlx::query_as("select email, email_verified_at is not null from users where id = $1")
            .bind(user)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(email, verified)| email.map(|email| Address { email, verified })))
}

/// Queues the verification link for an address just given to `user`, in the caller's
/// transaction (account creation).
pub async fn queue_verification(conn: &mut PgConnection, user: Uuid, email: &Email) -> Result<()> {
    outbox::enqueue(conn, email.as_str(), &Letter::VerifyAddress { user }).await
}

/// Sets (or with `None` removes) `user`'s address. The same address again (in any case) changes
/// nothing. Returns whether it changed.
pub async fn set(pool: &PgPool, user: Uuid, email: Option<&Email>, by: &By) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let old: Option<(Option<String>, bool)> = sqlx::query_as(
        "select email, email_verified_at is not null from users where id = $1 for update",
    )
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((old, old_verified)) = old else {
        return Err(Error::NotFound("there is no such user".into()));
    };
    let same = match (&old, email) {
        (Some(old), Some(new)) => old.eq_ignore_ascii_case(new.as_str()),
        (None, None) => true,
        _ => false,
    };
    if same {
        return Ok(false);
    }
    sqlx::query("update users set email = $2, email_verified_at = null where id = $1")
        .bind(user)
        .bind(email.map(Email::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            Error::from_unique(
                e,
                &[(
                    "users_email_key",
                    "another account already has this email address".to_owned(),
                )],
            )
        })?;
    links::forget(&mut tx, user, Purpose::Verify).await?;
    by.record(&mut tx, AuditEvent::EmailChanged { user })
        .await?;
    if let Some(email) = email {
        queue_verification(&mut tx, user, email).await?;
    }
    if let (Some(old), true) = (old, old_verified) {
        let new_address = email.map_or_else(|| "(none)".to_owned(), |e| e.as_str().to_owned());
        outbox::enqueue(&mut tx, &old, &Letter::AddressChanged { user, new_address }).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Sends the verification link again (a new link replaces the old one when it is sent). Nothing
/// happens when the address is verified already or there is none; returns whether a mail was
/// queued.
pub async fn resend(pool: &PgPool, user: Uuid) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(address) = address(&mut tx, user).await? else {
        return Ok(false);
    };
    if address.verified {
        return Ok(false);
    }
    outbox::enqueue(&mut tx, &address.email, &Letter::VerifyAddress { user }).await?;
    tx.commit().await?;
    Ok(true)
}

/// What using a verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The address is verified now: the account and the address.
    Now {
        user: Uuid,
        email: String,
    },
    Expired,
    /// Unknown, used, replaced, or for an address the account no longer has.
    Invalid,
}

/// Uses the verification link `token`: the account's address is verified if it is still the one
/// the link was sent to. Audited as `email.verified`.
pub async fn verify(
    pool: &PgPool,
    token: &str,
    by_ip: Option<std::net::IpAddr>,
) -> Result<Verified> {
    let mut tx = pool.begin().await?;
    let used = match links::take(&mut tx, token, Purpose::Verify).await? {
        Taken::Valid(used) => used,
        Taken::Expired => {
            tx.commit().await?;
            return Ok(Verified::Expired);
        }
        Taken::Unknown => return Ok(Verified::Invalid),
    };
    let Some(email) = used.email else {
        return Ok(Verified::Invalid);
    };
    let done = sqlx::query(
        "update users set email_verified_at = now(), awaiting_verification = false \
         where id = $1 and lower(email) = lower($2)",
    )
    .bind(used.user_id)
    .bind(&email)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        tx.commit().await?;
        return Ok(Verified::Invalid);
    }
    let user = used.user_id;
    By::new(crate::audit::Actor::User(user), by_ip)
        .record(&mut tx, AuditEvent::EmailVerified { user })
        .await?;
    tx.commit().await?;
    Ok(Verified::Now { user, email })
}
