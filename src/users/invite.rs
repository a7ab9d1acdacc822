//! Invitations: an administrator (admin page, admin API, `portcullis user invite`) makes an
//! account for a person by address, without a password. The person gets a link (7 days, once)
//! and, on the invitation page, chooses a password or registers a passkey; the account's address
//! is verified by that, since the link reached it. Until then the account has no way in.
//! Administrators invited this way are asked to set up a second factor next.

use sqlx::PgConnection;
use uuid::Uuid;

use super::store::{self, NewUser};
use super::{DisplayName, Email, Username};
use crate::audit::{AuditEvent, By};
use crate::error::{Error, Result};
use crate::state::AppState;

/// What an administrator gives to invite someone.
#[derive(Debug, Clone, Default)]
pub struct InviteSpec {
    pub email: String,
    /// Empty: the address, where it is a valid username, else its part before `@`.
    pub username: String,
    pub name: String,
    pub is_admin: bool,
}

/// The username an invitation gets when none is given: the address if it can be one, else the
/// address with every character a username cannot hold replaced by `-`.
pub fn username_for(email: &Email) -> Result<Username, String> {
    Username::parse(email.as_str()).or_else(|_| {
        let cleaned: String = email
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._@-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        Username::parse(&cleaned)
    })
}

/// Invites a person: the account exists from now on, without a password; the invitation mail is
/// queued in the same transaction. Returns the account's id.
pub async fn invite(state: &AppState, spec: InviteSpec, by: &By) -> Result<Uuid, Error> {
    let email = Email::parse(&spec.email).map_err(Error::Invalid)?;
    let username = match spec.username.trim() {
        "" => username_for(&email),
        given => Username::parse(given),
    }
    .map_err(Error::Invalid)?;
    let name = match spec.name.trim() {
        "" => None,
        given => Some(DisplayName::parse(given).map_err(Error::Invalid)?),
    };
    let new = NewUser {
        username: &username,
        email: Some(&email),
        name: name.as_ref(),
        password_hash: None,
        is_admin: spec.is_admin,
        totp_secret_sealed: None,
        invited: true,
    };
    store::create_by(&state.db, new, by).await
}

/// In the transaction that used the invitation link: the address is verified, and the event
/// recorded.
pub async fn accepted(conn: &mut PgConnection, user: Uuid, by: &By) -> Result<()> {
    sqlx::query("update users set email_verified_at = now() where id = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    by.record(conn, AuditEvent::InvitationAccepted { user })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_address() {
        let name = |e: &str| username_for(&Email::parse(e).unwrap()).unwrap();
        assert_eq!(name("ada@example.com").as_str(), "ada@example.com");
        assert_eq!(name("ada+id@example.com").as_str(), "ada-id@example.com");
    }
}
