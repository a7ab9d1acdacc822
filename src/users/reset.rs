//! Forgotten passwords. [`request`] queues a reset link to the account's address (the same answer
//! follows whether or not an account matched: the caller never learns which); [`reset`] uses the
//! link once to set a new password, which ends every session of the account and revokes its
//! refresh tokens (RFC 9700 §4.14.2), and the owner is told by mail (the `password.reset` event's
//! notice). A reset never signs anyone in and never touches the second factor: the next sign-in
//! asks for it as before (ASVS 5.0 V6.4.3).
//!
//! Requests are limited per source address and per typed name (hashed, so an unknown name counts
//! as a known one would), atomically in Redis ([`crate::ratelimit`]).

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use crate::audit::{Actor, AuditEvent, By};
use crate::error::{Error, Result};
use crate::mail::Letter;
use crate::mail::links::{self, Purpose, Taken};
use crate::ratelimit::{self, Limit};
use crate::secret::Secret;
use crate::state::AppState;
use crate::users::password_policy::check_new_password;

/// Reset requests per source address (ASVS 5.0 V2.4.1: anti-automation on mail-sending forms).
pub const PER_ADDRESS: Limit = Limit {
    name: "reset-ip",
    max: 10,
    window: Duration::from_secs(3600),
};
/// Reset requests per typed name or address: a person needs one or two.
pub const PER_ACCOUNT: Limit = Limit {
    name: "reset-name",
    max: 3,
    window: Duration::from_secs(3600),
};

/// Why a request was not taken.
#[derive(Debug)]
pub enum Refused {
    /// Too many requests from here or for this name; try again after this long.
    Throttled(Duration),
}

/// The typed name as a limit subject: trimmed, lower-cased, hashed.
fn name_subject(login: &str) -> String {
    let digest = crate::crypto::sha256(login.trim().to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asks for a reset link for the account named `login` (username or address). Queues the mail
/// when an enabled account with an address matches; otherwise does nothing, and says nothing
/// about which it was.
pub async fn request(state: &AppState, login: &str, ip: IpAddr) -> Result<(), Refused> {
    let address = ip.to_canonical().to_string();
    let name = name_subject(login);
    let limits = [
        (PER_ADDRESS, address.as_str()),
        (PER_ACCOUNT, name.as_str()),
    ];
    match ratelimit::take(&state.redis, &limits).await {
        Ok(None) => {}
        Ok(Some(wait)) => return Err(Refused::Throttled(wait)),
        // Redis down: no limit can be kept, so nothing is sent.
        Err(e) => {
            tracing::warn!(error = %e, "password reset: the limit could not be checked");
            return Err(Refused::Throttled(Duration::from_secs(60)));
        }
    }
    // The lookup and the queueing run apart from the answer, so its timing tells nothing.
    let (db, login) = (state.db.clone(), login.trim().to_owned());
    tokio::spawn(async move {
        if let Err(e) = queue(&db, &login, ip).await {
            tracing::warn!(error = %e, "password reset: the link could not be queued");
        }
    });
    Ok(())
}

async fn queue(db: &sqlx::PgPool, login: &str, ip: IpAddr) -> Result<()> {
    let found: Option<(Uuid, Option<String>, bool)> = sqlx::query_as(
        "select id, email, disabled from users where lower(username) = lower($1) \
         or lower(email) = lower($1) order by (lower(username) = lower($1)) desc limit 1",
    )
    .bind(login)
    .fetch_optional(db)
    .await?;
    let Some((user, Some(email), false)) = found else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    crate::outbox::enqueue(&mut tx, &email, &Letter::ResetPassword { user }).await?;
    By::new(Actor::User(user), Some(ip))
        .record(&mut tx, AuditEvent::PasswordResetRequested { user })
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Whose reset link `token` is, without using it: for the page with the new-password form.
pub async fn check_link(state: &AppState, token: &str) -> Result<Taken> {
    peek(state, token, Purpose::Reset).await
}

/// Whose link `token` of `purpose` is, without using it.
pub async fn peek(state: &AppState, token: &str, purpose: Purpose) -> Result<Taken> {
    let mut conn = state.db.acquire().await?;
    links::peek(&mut conn, token, purpose).await
}

/// What setting a password through a link did.
#[derive(Debug)]
pub enum Reset {
    Done {
        user: Uuid,
    },
    Expired,
    Invalid,
    /// The new password is not allowed (the link stays usable).
    Weak(String),
}

/// Sets `password` through the reset link `token`, once.
pub async fn reset(
    state: &AppState,
    token: &str,
    password: Secret<String>,
    ip: IpAddr,
) -> Result<Reset> {
    let done = through_link(state, token, Purpose::Reset, password, ip).await?;
    if let Reset::Done { user } = done {
        crate::admin::users::cut_off(state, user)
            .await
            .map_err(|e| Error::Other(anyhow::anyhow!("ending sessions after a reset: {e}")))?;
    }
    Ok(done)
}

/// Sets `password` on the account that the link `token` of `purpose` belongs to, using the link
/// up in the same transaction: two submissions at once set one password. A reset is audited as
/// `password.reset`; an invitation as `user.invitation_accepted`, and its address counts as
/// verified (the link reached it).
pub async fn through_link(
    state: &AppState,
    token: &str,
    purpose: Purpose,
    password: Secret<String>,
    ip: IpAddr,
) -> Result<Reset> {
    let user = match peek(state, token, purpose).await? {
        Taken::Valid(used) => used.user_id,
        Taken::Expired => return Ok(Reset::Expired),
        Taken::Unknown => return Ok(Reset::Invalid),
    };
    let (username, email): (String, Option<String>) =
        sqlx::query_as("select username, email from users where id = $1")
            .bind(user)
            .fetch_one(&state.db)
            .await?;
    if let Err(why) = check_new_password(&password, &username, email.as_deref()).await {
        return Ok(Reset::Weak(why));
    }
    let hash = state.hasher.hash(password).await?;
    let mut tx = state.db.begin().await?;
    match links::take(&mut tx, token, purpose).await? {
        Taken::Valid(used) if used.user_id == user => {}
        Taken::Expired => return Ok(Reset::Expired),
        _ => return Ok(Reset::Invalid),
    }
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(user)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    let by = By::new(Actor::User(user), Some(ip));
    match purpose {
        Purpose::Invite => super::invite::accepted(&mut tx, user, &by).await?,
        Purpose::Reset | Purpose::Verify => {
            by.record(&mut tx, AuditEvent::PasswordReset { user })
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Reset::Done { user })
}
