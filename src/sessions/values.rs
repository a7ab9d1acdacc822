//! What a browser session carries from one page to the next besides sign-in: one-time messages,
//! the name last typed at sign-in, values shown once (a new client secret, new recovery codes),
//! a TOTP enrollment in progress, and where to go afterwards. Each value has its typed accessors
//! here and its key name stays private to `sessions`, so two pages cannot share a key by accident
//! or read a value as the wrong type. The names and shapes are those sessions already hold, so a
//! session outlives an upgrade.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{SessionError, TypedSession};

/// Every key a session holds, in one list so that none is used twice.
pub(super) mod key {
    pub const SIGNED_IN: &str = "signed_in";
    pub const PASSWORD_VERIFIED: &str = "password_verified";
    pub const CSRF: &str = "csrf";
    /// When a second factor was last entered here after sign-in (step-up), unix seconds.
    pub const SECOND_FACTOR_AT: &str = "second_factor_at";
    /// The requests in progress ([`super::super::pending`]).
    pub const PENDING: &str = "pending";
    pub const FLASH: &str = "flash";
    pub const LAST_USERNAME: &str = "last_username";
    pub const RETURN_TO: &str = "return_to";
    pub const ACCOUNT_NOTICE: &str = "notice";
    pub const ADMIN_NOTICE: &str = "admin_notice";
    /// What happened before the sign-in page, shown there once (a password was reset).
    pub const SIGN_IN_NOTICE: &str = "sign_in_notice";
    pub const ADMIN_PROBLEM: &str = "admin_problem";
    pub const PENDING_TOTP: &str = "totp_pending";
    pub const NEW_RECOVERY_CODES: &str = "recovery_codes";
    pub const NEW_CLIENT_SECRET: &str = "admin_new_secret";
    pub const AFTER_LOGOUT: &str = "logout";
    /// The id of this session's passkey ceremony in progress (`passkeys::ceremony`).
    pub const PASSKEY_CEREMONY: &str = "passkey_ceremony";
    /// The invitation link whose page this session opened, for its passkey ceremony.
    pub const INVITATION: &str = "invitation";
    /// The account whose password was right but whose address is not verified yet.
    pub const AWAITING_ADDRESS: &str = "awaiting_address";

    #[cfg(test)]
    pub const ALL: [&str; 19] = [
        SIGNED_IN,
        PASSWORD_VERIFIED,
        CSRF,
        SECOND_FACTOR_AT,
        PENDING,
        FLASH,
        LAST_USERNAME,
        RETURN_TO,
        ACCOUNT_NOTICE,
        ADMIN_NOTICE,
        SIGN_IN_NOTICE,
        ADMIN_PROBLEM,
        PENDING_TOTP,
        NEW_RECOVERY_CODES,
        NEW_CLIENT_SECRET,
        AFTER_LOGOUT,
        PASSKEY_CEREMONY,
        INVITATION,
        AWAITING_ADDRESS,
    ];
}

/// Where the browser goes after RP-initiated logout: a `post_logout_redirect_uri` the client
/// registered, with its `state` (OIDC RP-Initiated Logout §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterLogout {
    pub uri: String,
    pub state: Option<String>,
}

/// A client secret to show once, on the page of the client it belongs to.
#[derive(Serialize, Deserialize)]
struct NewSecret {
    client_id: String,
    secret: String,
}

/// For each entry, `$set` keeps a text under `$key` until `$take` takes it (the next page that
/// shows it).
macro_rules! text_once {
    ($($(#[$doc:meta])* $set:ident, $take:ident, $key:expr;)*) => {$(
        $(#[$doc])*
        pub async fn $set(&self, text: &str) -> Result<(), SessionError> {
            self.put($key, &text).await
        }

        pub async fn $take(&self) -> Result<Option<String>, SessionError> {
            self.take($key).await
        }
    )*};
}

impl TypedSession {
    async fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), SessionError> {
        self.0.insert(key, value).await
    }

    async fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.0.remove(key).await
    }

    text_once! {
        /// A message for the next sign-in or account page this session shows.
        set_flash, take_flash, key::FLASH;
        /// The name typed at a failed sign-in, to fill the form again.
        set_last_username, take_last_username, key::LAST_USERNAME;
        /// The admin page to come back to after signing in or stepping up.
        set_return_to, take_return_to, key::RETURN_TO;
        /// What the last change on the account pages did, shown once.
        set_account_notice, take_account_notice, key::ACCOUNT_NOTICE;
        /// What the last admin action did, shown once.
        set_admin_notice, take_admin_notice, key::ADMIN_NOTICE;
        /// Good news for the next sign-in page (a new password is set), shown once.
        set_sign_in_notice, take_sign_in_notice, key::SIGN_IN_NOTICE;
        /// Why the last admin action changed nothing, shown once.
        set_admin_problem, take_admin_problem, key::ADMIN_PROBLEM;
        /// The invitation token whose page is open, until its passkey ceremony begins.
        set_invitation, take_invitation, key::INVITATION;
    }

    /// A TOTP secret being enrolled (sealed under the key-encryption key) until a code
    /// confirms it.
    pub async fn set_pending_totp(&self, sealed: &str) -> Result<(), SessionError> {
        self.put(key::PENDING_TOTP, &sealed).await
    }

    pub async fn pending_totp(&self) -> Result<Option<String>, SessionError> {
        self.0.get(key::PENDING_TOTP).await
    }

    pub async fn clear_pending_totp(&self) -> Result<(), SessionError> {
        self.0.remove_value(key::PENDING_TOTP).await.map(drop)
    }

    /// Makes `id` this session's passkey ceremony; the id of the one it replaces.
    pub async fn replace_passkey_ceremony(&self, id: &str) -> Result<Option<String>, SessionError> {
        self.0
            .insert_value(key::PASSKEY_CEREMONY, id.into())
            .await
            .map(|earlier| earlier.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Takes this session's passkey ceremony id: a ceremony is finished once.
    pub async fn take_passkey_ceremony(&self) -> Result<Option<String>, SessionError> {
        self.take(key::PASSKEY_CEREMONY).await
    }

    /// Recovery codes just made, for the page that shows them once.
    pub async fn set_new_recovery_codes(&self, codes: &[String]) -> Result<(), SessionError> {
        self.put(key::NEW_RECOVERY_CODES, &codes).await
    }

    pub async fn take_new_recovery_codes(&self) -> Result<Option<Vec<String>>, SessionError> {
        self.take(key::NEW_RECOVERY_CODES).await
    }

    /// A client secret just made, for the client's page to show once.
    pub async fn set_new_client_secret(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<(), SessionError> {
        let once = NewSecret {
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
        };
        self.put(key::NEW_CLIENT_SECRET, &once).await
    }

    /// The secret made for `client_id`, once; a secret made for another client is dropped.
    pub async fn take_new_client_secret(
        &self,
        client_id: &str,
    ) -> Result<Option<String>, SessionError> {
        let once: Option<NewSecret> = self.take(key::NEW_CLIENT_SECRET).await?;
        Ok(once
            .filter(|once| once.client_id == client_id)
            .map(|once| once.secret))
    }

    /// Where to go once the person confirms signing out; `None` forgets an earlier one.
    pub async fn set_after_logout(&self, after: Option<&AfterLogout>) -> Result<(), SessionError> {
        match after {
            Some(after) => self.put(key::AFTER_LOGOUT, after).await,
            None => self.0.remove_value(key::AFTER_LOGOUT).await.map(drop),
        }
    }

    pub async fn take_after_logout(&self) -> Result<Option<AfterLogout>, SessionError> {
        self.take(key::AFTER_LOGOUT).await
    }

    /// The account that gave its right password but must verify its address first: the page
    /// that says so may send the link again to it, and to nobody else.
    pub async fn set_awaiting_address(&self, user: uuid::Uuid) -> Result<(), SessionError> {
        self.put(key::AWAITING_ADDRESS, &user).await
    }

    pub async fn awaiting_address(&self) -> Result<Option<uuid::Uuid>, SessionError> {
        self.0.get(key::AWAITING_ADDRESS).await
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
