//! The `users` table.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DisplayName, Email, Username};
use crate::audit::{Actor, AuditEvent, By};
use crate::error::{Error, Result};
use crate::mfa::recovery;

/// A user as listed (never with the password hash or TOTP secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    /// The person used the link sent to `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    pub is_admin: bool,
    pub totp_enrolled: bool,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

pub struct NewUser<'a> {
    pub username: &'a Username,
    pub email: Option<&'a Email>,
    pub name: Option<&'a DisplayName>,
    /// `None`: no password (an invitation, until it is accepted).
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
    pub totp_secret_sealed: Option<&'a str>,
    /// Invited (`user.invited`, an invitation mail) rather than created (`user.created`, a
    /// verification mail when there is an address).
    pub invited: bool,
}

pub async fn create(pool: &PgPool, user: NewUser<'_>, actor: &Actor) -> Result<Uuid, Error> {
    create_by(pool, user, &By::new(actor.clone(), None)).await
}

/// Creates a user, audited as done by `by`.
pub async fn create_by(pool: &PgPool, user: NewUser<'_>, by: &By) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    let kek_id = user.totp_secret_sealed.map(sealing_key_id).transpose()?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into users (id, username, email, name, password_hash, is_admin, totp_secret_sealed, \
         totp_kek_id) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(user.username.as_str())
    .bind(user.email.map(Email::as_str))
    .bind(user.name.map(DisplayName::as_str))
    .bind(user.password_hash)
    .bind(user.is_admin)
    .bind(user.totp_secret_sealed)
    .bind(kek_id)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        Error::from_unique(e, &[
            ("users_username_key", format!("a user named `{}` already exists", user.username)),
            ("users_email_key", "another user already has this email address".to_owned()),
        ])
    })?;
    match (user.invited, user.email) {
        (true, Some(email)) => {
            let event = AuditEvent::UserInvited {
                user: id,
                username: user.username.as_str(),
                admin: user.is_admin,
            };
            by.record(&mut tx, event).await?;
            let letter = crate::mail::Letter::Invitation { user: id };
            crate::outbox::enqueue(&mut tx, email.as_str(), &letter).await?;
        }
        (true, None) => {
            return Err(Error::Invalid(
                "an invitation needs an email address".into(),
            ));
        }
        (false, email) => {
            let event = AuditEvent::UserCreated {
                user: id,
                username: user.username.as_str(),
                admin: user.is_admin,
                totp: user.totp_secret_sealed.is_some(),
            };
            by.record(&mut tx, event).await?;
            if let Some(email) = email {
                super::email::queue_verification(&mut tx, id, email).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(id)
}

/// The id of the key-encryption key that sealed a TOTP secret, kept beside it so that a rotation
/// finds what is still under an old key by index ([`super::sealing`]).
fn sealing_key_id(sealed: &str) -> Result<String> {
    crate::crypto::sealed_key_id(sealed)
        .map_err(|e| Error::Other(anyhow::anyhow!("TOTP secret: {e}")))
}

/// The columns of [`UserSummary`], for `concat!` (sqlx wants static SQL strings).
macro_rules! summary_columns {
    () => {
        "id, username, email, email_verified_at is not null as email_verified, name, is_admin, \
         totp_secret_sealed is not null as totp_enrolled, disabled, created_at"
    };
}

/// The columns of [`Credentials`].
macro_rules! credentials_columns {
    () => {
        "id, username, password_hash, totp_secret_sealed, disabled, is_admin, awaiting_verification"
    };
}

pub async fn list(pool: &PgPool) -> Result<Vec<UserSummary>> {
    sqlx::query_as(concat!(
        "select ",
        summary_columns!(),
        " from users order by lower(username)"
    ))
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// The id of the user with this username (without regard to case).
pub async fn id_of(pool: &PgPool, username: &str) -> Result<Option<Uuid>> {
    sqlx::query_scalar("select id from users where lower(username) = lower($1)")
        .bind(username)
        .fetch_optional(pool)
        .await
        .map_err(Into::into)
}

/// Whether a user with this username exists.
pub async fn exists(pool: &PgPool, username: &str) -> Result<bool> {
    sqlx::query_scalar("select exists(select 1 from users where lower(username) = lower($1))")
        .bind(username)
        .fetch_one(pool)
        .await
        .map_err(Into::into)
}

/// What sign-in needs to know of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub username: String,
    /// `None`: the account signs in with passkeys only.
    pub password_hash: Option<String>,
    pub totp_secret_sealed: Option<String>,
    pub disabled: bool,
    pub is_admin: bool,
    /// Made on the sign-up page and its address not yet verified: it cannot sign in
    /// ([`super::signup`]).
    pub awaiting_verification: bool,
}

/// A user by username or email (`$1`), without regard to case, as sign-in looks them up.
pub const CREDENTIALS: &str = concat!(
    "select ",
    credentials_columns!(),
    " from users where lower(username) = lower($1) or lower(email) = lower($1) \
     order by (lower(username) = lower($1)) desc limit 1"
);

/// Finds a user by username or email, without regard to case.
#[tracing::instrument(name = "store.users.credentials", level = "debug", skip_all)]
pub async fn credentials(pool: &PgPool, login: &str) -> Result<Option<Credentials>> {
    sqlx::query_as(CREDENTIALS)
        .bind(login)
        .fetch_optional(pool)
        .await
        .map_err(Into::into)
}

#[tracing::instrument(name = "store.users.credentials_by_id", level = "debug", skip_all)]
pub async fn credentials_by_id(pool: &PgPool, id: Uuid) -> Result<Option<Credentials>> {
    sqlx::query_as(concat!(
        "select ",
        credentials_columns!(),
        " from users where id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}

/// Records `step` as the last accepted TOTP time step, only if it is newer than the last one:
/// false means the code was already used (RFC 6238 §5.2: accept a code once).
#[tracing::instrument(name = "store.users.accept_totp_step", level = "debug", skip_all)]
pub async fn accept_totp_step(pool: &PgPool, id: Uuid, step: u64) -> Result<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let updated = sqlx::query(
        "update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2)",
    )
    .bind(id)
    .bind(step)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The claims a user can release (OIDC Core §5.1), for ID tokens and userinfo.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    /// The person used the link sent to `email` (OIDC Core §5.1 `email_verified`).
    pub email_verified: bool,
    pub name: Option<String>,
    pub disabled: bool,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
}

#[tracing::instrument(name = "store.users.profile", level = "debug", skip_all)]
pub async fn profile(pool: &PgPool, id: Uuid) -> Result<Option<Profile>> {
    sqlx::query_as(
        "select id, username, email, email_verified_at is not null as email_verified, name, \
         disabled, array(select role from user_roles r where r.user_id = users.id order by role) as roles, \
         array(select group_name from user_groups g where g.user_id = users.id order by group_name) as groups \
         from users where id = $1",
    )
        .bind(id)
        .fetch_optional(pool)
        .await.map_err(Into::into)
}

/// Sets (or, with `None`, removes) the user's TOTP secret, recording the accepted `step` so the
/// code used to confirm enrollment cannot be used again. Audited as `mfa.enrolled`/`mfa.removed`.
pub async fn set_totp(
    pool: &PgPool,
    id: Uuid,
    sealed: Option<&str>,
    step: Option<u64>,
) -> Result<()> {
    let kek_id = sealed.map(sealing_key_id).transpose()?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "update users set totp_secret_sealed = $2, totp_kek_id = $4, totp_last_step = $3 \
         where id = $1",
    )
    .bind(id)
    .bind(sealed)
    .bind(step.and_then(|s| i64::try_from(s).ok()))
    .bind(kek_id)
    .execute(&mut *tx)
    .await?;
    if sealed.is_none() {
        recovery::delete_all(&mut tx, id).await?;
    }
    let event = if sealed.is_some() {
        AuditEvent::MfaEnrolled { user: id }
    } else {
        AuditEvent::MfaRemoved { user: id }
    };
    By::new(Actor::User(id), None)
        .record(&mut tx, event)
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// Replaces the user's password hash. Audited as `password.changed`.
pub async fn set_password(pool: &PgPool, id: Uuid, hash: &str, by: &By) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    by.record(&mut tx, AuditEvent::PasswordChanged { user: id })
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// The search condition of [`page`] (`$1` is the `LIKE` pattern).
macro_rules! user_match {
    () => {
        "(username ilike $1 or coalesce(email, '') ilike $1 or coalesce(name, '') ilike $1)"
    };
}

/// One page of users whose username, email or name contains `search` (any case), and how many
/// match.
pub async fn page(
    pool: &PgPool,
    search: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<UserSummary>, i64)> {
    let pattern = format!("%{}%", crate::storage::like_escape(search));
    let total: i64 =
        sqlx::query_scalar(concat!("select count(*) from users where ", user_match!()))
            .bind(&pattern)
            .fetch_one(pool)
            .await?;
    let users = sqlx::query_as(concat!(
        "select ",
        summary_columns!(),
        " from users where ",
        user_match!(),
        " order by lower(username) offset $2 limit $3"
    ))
    .bind(&pattern)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok((users, total))
}

/// One user as an administrator sees it, or `None`.
pub async fn summary(pool: &PgPool, id: Uuid) -> Result<Option<UserSummary>> {
    sqlx::query_as(concat!(
        "select ",
        summary_columns!(),
        " from users where id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}

fn no_user() -> Error {
    Error::NotFound("there is no such user".into())
}

/// Sets one of the user's flags (`disabled` or `is_admin`), audited as `event`. Refuses to take
/// away the last enabled administrator.
pub async fn set_flag(
    pool: &PgPool,
    id: Uuid,
    flag: Flag,
    value: bool,
    by: &By,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    // Serializes changes to administrators, so two cannot remove the last two at once.
    sqlx::query("select pg_advisory_xact_lock(hashtext('portcullis.admins'))")
        .execute(&mut *tx)
        .await?;
    let was_admin: Option<bool> =
        sqlx::query_scalar("select is_admin and not disabled from users where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(was_admin) = was_admin else {
        return Err(no_user());
    };
    let sql = match flag {
        Flag::Disabled => "update users set disabled = $2 where id = $1",
        Flag::Admin => "update users set is_admin = $2 where id = $1",
    };
    sqlx::query(sql)
        .bind(id)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    let admins: i64 =
        sqlx::query_scalar("select count(*) from users where is_admin and not disabled")
            .fetch_one(&mut *tx)
            .await?;
    if was_admin && admins == 0 {
        return Err(Error::Invalid(
            "this is the last administrator; make someone else an administrator first".into(),
        ));
    }
    let event = match (flag, value) {
        (Flag::Disabled, true) => AuditEvent::UserDisabled { user: id },
        (Flag::Disabled, false) => AuditEvent::UserEnabled { user: id },
        (Flag::Admin, true) => AuditEvent::AdminGranted { user: id },
        (Flag::Admin, false) => AuditEvent::AdminRemoved { user: id },
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// The flags an administrator can set.
#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Disabled,
    Admin,
}

/// Removes the user's TOTP secret and recovery codes, audited as done by `by`.
pub async fn reset_mfa(pool: &PgPool, id: Uuid, by: &By) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query(
        "update users set totp_secret_sealed = null, totp_kek_id = null, totp_last_step = null \
         where id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if found == 0 {
        return Err(no_user());
    }
    recovery::delete_all(&mut tx, id).await?;
    by.record(&mut tx, AuditEvent::MfaReset { user: id })
        .await?;
    tx.commit().await?;
    Ok(())
}
