//! User administration: create, disable or enable (disabling ends their sessions and revokes
//! their refresh tokens), reset the password or the second factor, clear sign-in throttling,
//! grant or remove the admin role, see and end sessions, and assign roles and groups.

use uuid::Uuid;

use crate::audit::{AuditEvent, By};
use crate::error::Error;
use crate::rbac::{self, Kind, Name};
use crate::secret::Secret;
use crate::sessions::index::{self, LiveSession};
use crate::state::AppState;
use crate::throttle;
use crate::users::password_policy::check_new_password;
use crate::users::store::{self, Flag, NewUser, UserSummary};
use crate::users::{DisplayName, Email, Username};

/// What an administrator asks for when creating a user.
#[derive(Debug, Clone, Default)]
pub struct NewUserSpec {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password: String,
    pub is_admin: bool,
}

fn invalid(message: String) -> Error {
    Error::Invalid(message)
}

fn optional<T>(raw: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, Error> {
    match raw.trim() {
        "" => Ok(None),
        value => parse(value).map(Some).map_err(invalid),
    }
}

/// Creates a user with the password given, or, when the password is empty, invites them: the
/// account gets no password and an invitation goes to its address ([`crate::users::invite`]).
#[tracing::instrument(name = "admin.users.create", skip_all, fields(actor = ?by.actor))]
pub async fn create(state: &AppState, spec: NewUserSpec, by: &By) -> Result<Uuid, Error> {
    if spec.password.is_empty() {
        if spec.email.trim().is_empty() {
            return Err(invalid(
                "give a password, or an email address to send an invitation to".into(),
            ));
        }
        let invitation = crate::users::invite::InviteSpec {
            email: spec.email,
            username: spec.username,
            name: spec.name,
            is_admin: spec.is_admin,
        };
        return crate::users::invite::invite(state, invitation, by).await;
    }
    let username = Username::parse(&spec.username).map_err(invalid)?;
    let email = optional(&spec.email, Email::parse)?;
    let name = optional(&spec.name, DisplayName::parse)?;
    let password = Secret::new(spec.password);
    check_new_password(
        &password,
        username.as_str(),
        email.as_ref().map(Email::as_str),
    )
    .await
    .map_err(invalid)?;
    let hash = state.hasher.hash(password).await?;
    let new = NewUser {
        username: &username,
        email: email.as_ref(),
        name: name.as_ref(),
        password_hash: Some(&hash),
        is_admin: spec.is_admin,
        totp_secret_sealed: None,
        invited: false,
    };
    store::create_by(&state.db, new, by).await
}

async fn find(state: &AppState, id: Uuid) -> Result<UserSummary, Error> {
    store::summary(&state.db, id)
        .await?
        .ok_or_else(|| Error::NotFound("there is no such user".into()))
}

/// Ends every session of the user and revokes their grants (refresh and access tokens);
/// RFC 9700 §4.14.2: when the password changes, whether an administrator or the person changed it.
#[tracing::instrument(name = "admin.users.cut_off", skip_all, fields(user_id = %id))]
pub async fn cut_off(state: &AppState, id: Uuid) -> Result<(), Error> {
    crate::sessions::sign_out_everywhere(&state.redis, id, state.config.session_lifetime)
        .await
        .map_err(anyhow::Error::from)?;
    let mut conn = state.db.acquire().await?;
    let grants = crate::tokens::refresh::revoke_user_grants(&mut conn, id, None).await?;
    crate::tokens::access::deny_grants(&state.stores(), &grants).await?;
    Ok(())
}

#[tracing::instrument(name = "admin.users.set_disabled", skip_all, fields(user_id = %id, disabled, actor = ?by.actor))]
pub async fn set_disabled(
    state: &AppState,
    id: Uuid,
    disabled: bool,
    by: &By,
) -> Result<(), Error> {
    store::set_flag(&state.db, id, Flag::Disabled, disabled, by).await?;
    if disabled {
        cut_off(state, id).await?;
    }
    Ok(())
}

#[tracing::instrument(name = "admin.users.set_admin", skip_all, fields(user_id = %id, admin, actor = ?by.actor))]
pub async fn set_admin(state: &AppState, id: Uuid, admin: bool, by: &By) -> Result<(), Error> {
    store::set_flag(&state.db, id, Flag::Admin, admin, by).await
}

/// Sets a new password chosen by the administrator; the person's sessions and refresh tokens
/// end, as when they change it themselves.
#[tracing::instrument(name = "admin.users.reset_password", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn reset_password(
    state: &AppState,
    id: Uuid,
    password: String,
    by: &By,
) -> Result<(), Error> {
    let user = find(state, id).await?;
    let password = Secret::new(password);
    check_new_password(&password, &user.username, user.email.as_deref())
        .await
        .map_err(invalid)?;
    let hash = state.hasher.hash(password).await?;
    store::set_password(&state.db, id, &hash, by).await?;
    cut_off(state, id).await
}

/// Removes the second factor (a lost phone): the person signs in with the password and can
/// enroll again.
#[tracing::instrument(name = "admin.users.reset_mfa", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn reset_mfa(state: &AppState, id: Uuid, by: &By) -> Result<(), Error> {
    store::reset_mfa(&state.db, id, by).await
}

/// Clears the attempt counts of the user's account (from every address) for passwords and
/// second factors. Per-address counts are left alone: they protect against whoever is guessing.
#[tracing::instrument(name = "admin.users.clear_throttling", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn clear_throttling(state: &AppState, id: Uuid, by: &By) -> Result<(), Error> {
    find(state, id).await?;
    throttle::clear_account(&state.redis, id)
        .await
        .map_err(anyhow::Error::from)?;
    let mut conn = state.db.acquire().await?;
    by.record(&mut conn, AuditEvent::ThrottlingCleared { user: id })
        .await?;
    Ok(())
}

pub async fn sessions(state: &AppState, id: Uuid) -> Result<Vec<LiveSession>, Error> {
    find(state, id).await?;
    Ok(index::of_user(&state.redis, id)
        .await
        .map_err(anyhow::Error::from)?)
}

/// Ends the session with this handle ([`index::handle`]); `NotFound` if it is not one of the
/// user's live sessions.
#[tracing::instrument(name = "admin.users.end_session", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn end_session(state: &AppState, id: Uuid, session: &str, by: &By) -> Result<(), Error> {
    let ended = index::end(&state.redis, id, session)
        .await
        .map_err(anyhow::Error::from)?;
    if !ended {
        return Err(Error::NotFound("that session has already ended".into()));
    }
    let mut conn = state.db.acquire().await?;
    by.record(&mut conn, AuditEvent::SessionEnded { user: id })
        .await?;
    Ok(())
}

/// Ends every session of the user (refresh tokens stay: applications keep working).
#[tracing::instrument(name = "admin.users.end_sessions", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn end_sessions(state: &AppState, id: Uuid, by: &By) -> Result<(), Error> {
    find(state, id).await?;
    crate::sessions::sign_out_everywhere(&state.redis, id, state.config.session_lifetime)
        .await
        .map_err(anyhow::Error::from)?;
    let mut conn = state.db.acquire().await?;
    by.record(&mut conn, AuditEvent::SessionsEnded { user: id })
        .await?;
    Ok(())
}

/// Removes one of the user's passkeys (`passkey`: its id, from the form), unless it is the last
/// way into an account without a password.
#[tracing::instrument(name = "admin.users.remove_passkey", skip_all, fields(user_id = %id, actor = ?by.actor))]
pub async fn remove_passkey(
    state: &AppState,
    id: Uuid,
    passkey: &str,
    by: &By,
) -> Result<(), Error> {
    use crate::passkeys::store::{self, Removed};
    let gone = || Error::NotFound("that passkey is not registered to this user".into());
    let passkey = Uuid::parse_str(passkey).map_err(|_| gone())?;
    match store::remove(&state.db, id, passkey, by).await? {
        Removed::Removed(_) => Ok(()),
        Removed::NotFound => Err(gone()),
        Removed::LastWayIn => Err(Error::Invalid(
            "it is the only way into an account without a password; set a password first".into(),
        )),
    }
}

/// Replaces the user's roles or groups.
#[tracing::instrument(name = "admin.users.set_names", skip_all, fields(user_id = %id, ?kind, actor = ?by.actor))]
pub async fn set_names(
    state: &AppState,
    id: Uuid,
    kind: Kind,
    names: &[String],
    by: &By,
) -> Result<(), Error> {
    let names = Name::parse_all(kind, names).map_err(invalid)?;
    rbac::store::set_for_user(&state.db, kind, id, &names, by).await
}

/// Sets `id`'s address (`None` or blank removes it); see [`crate::users::email::set`]. Returns
/// whether it changed.
pub async fn set_email(
    state: &AppState,
    id: Uuid,
    email: Option<&str>,
    by: &By,
) -> Result<bool, Error> {
    let email = match email.map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(Email::parse(raw).map_err(Error::Invalid)?),
    };
    crate::users::email::set(&state.db, id, email.as_ref(), by).await
}
