//! The `passkeys` table: a person's credentials, each with a name they chose, when it was added and
//! last used, and its signature counter. Adding, renaming and removing write their audit event in
//! the same transaction. A use raises the counter in one conditional `UPDATE`, so two answers that
//! race with the same counter value cannot both succeed (WebAuthn §6.1.1: a counter that does not
//! grow may mean a cloned authenticator).

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;
use webauthn_rs::prelude::Passkey;

use super::MAX_PER_USER;
use crate::audit::{AuditEvent, By};
use crate::error::{Error, Result};

/// A name a person gave a passkey: 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> std::result::Result<PasskeyName, String> {
        let raw = raw.trim();
        if raw.is_empty()
            || raw.chars().count() > Self::MAX_CHARS
            || raw.chars().any(char::is_control)
        {
            return Err(format!(
                "A passkey's name is 1 to {} characters without control characters.",
                Self::MAX_CHARS
            ));
        }
        Ok(PasskeyName(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A passkey as its owner and administrators see it (no key material).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PasskeySummary {
    pub id: Uuid,
    pub name: String,
    /// May be synced between devices (`swk`), else bound to one authenticator (`hwk`).
    pub backup_eligible: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// When a use showed a counter that did not grow: the passkey is refused since.
    #[serde(with = "time::serde::rfc3339::option")]
    pub clone_suspected_at: Option<OffsetDateTime>,
}

/// A stored passkey with its credential, for a ceremony.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub credential: Json<Passkey>,
    pub sign_count: i64,
    /// Refused since a use showed a counter that did not grow.
    pub clone_suspected: bool,
}

/// The columns of [`StoredPasskey`].
macro_rules! stored_columns {
    () => {
        "id, user_id, name, credential, sign_count, clone_suspected_at is not null as clone_suspected"
    };
}

/// Why a passkey was not added.
#[derive(Debug)]
pub enum AddError {
    /// The credential is already registered (to this account or another).
    Exists,
    /// The account already holds [`MAX_PER_USER`] passkeys.
    TooMany,
    Store(Error),
}

impl From<sqlx::Error> for AddError {
    fn from(e: sqlx::Error) -> Self {
        AddError::Store(e.into())
    }
}

/// The passkeys of `user_id`, oldest first.
pub async fn list(pool: &PgPool, user_id: Uuid) -> Result<Vec<PasskeySummary>> {
    sqlx::query_as(
        "select id, name, backup_eligible, created_at, last_used_at, clone_suspected_at \
         from passkeys where user_id = $1 order by created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// The credentials of `user_id`, for a ceremony that names them.
pub async fn credentials(pool: &PgPool, user_id: Uuid) -> Result<Vec<StoredPasskey>> {
    sqlx::query_as(concat!(
        "select ",
        stored_columns!(),
        " from passkeys where user_id = $1 order by created_at, id"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// Whether `user_id` has a passkey.
pub async fn any(pool: &PgPool, user_id: Uuid) -> Result<bool> {
    sqlx::query_scalar("select exists(select 1 from passkeys where user_id = $1)")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .map_err(Into::into)
}

/// The passkey with this credential id.
pub async fn by_credential_id(
    pool: &PgPool,
    credential_id: &[u8],
) -> Result<Option<StoredPasskey>> {
    sqlx::query_as(concat!(
        "select ",
        stored_columns!(),
        " from passkeys where credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}

/// Adds `passkey` to `user_id` as `name`, audited as done by `by`.
pub async fn add(
    pool: &PgPool,
    user_id: Uuid,
    name: &PasskeyName,
    passkey: &Passkey,
    backup_eligible: bool,
    by: &By,
) -> std::result::Result<Uuid, AddError> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    // The user's row is the lock that keeps two additions from passing the count together.
    sqlx::query("select 1 from users where id = $1 for update")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let held: i64 = sqlx::query_scalar("select count(*) from passkeys where user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if held >= MAX_PER_USER {
        return Err(AddError::TooMany);
    }
    let inserted = sqlx::query(
        "insert into passkeys (id, user_id, credential_id, name, credential, backup_eligible) \
         values ($1, $2, $3, $4, $5, $6) on conflict (credential_id) do nothing",
    )
    .bind(id)
    .bind(user_id)
    .bind(AsRef::<[u8]>::as_ref(passkey.cred_id()))
    .bind(name.as_str())
    .bind(Json(passkey))
    .bind(backup_eligible)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AddError::Exists);
    }
    let event = AuditEvent::PasskeyAdded {
        user: user_id,
        name: name.as_str(),
    };
    by.record(&mut tx, event).await.map_err(AddError::Store)?;
    tx.commit().await?;
    Ok(id)
}

/// Records a use of `stored` that reported `counter`, with the credential as updated by the
/// ceremony. False when the counter did not grow past the stored one since it was read (a
/// concurrent use of the same counter value, or a clone): the use must be refused.
pub async fn record_use(
    conn: &mut PgConnection,
    stored: &StoredPasskey,
    updated: &Passkey,
    counter: u32,
) -> Result<bool> {
    let counter = i64::from(counter);
    // WebAuthn §6.1.1: a counter of zero on both sides means the authenticator keeps none.
    let done = sqlx::query(
        "update passkeys set credential = $2, sign_count = $3, last_used_at = now() \
         where id = $1 and (sign_count < $3 or (sign_count = 0 and $3 = 0))",
    )
    .bind(stored.id)
    .bind(Json(updated))
    .bind(counter)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks `stored` as possibly copied: it is refused from now on (WebAuthn §6.1.1: the relying
/// party may fail the ceremony and should treat the credential as compromised).
pub async fn suspect_clone(conn: &mut PgConnection, stored: &StoredPasskey) -> Result<()> {
    sqlx::query(
        "update passkeys set clone_suspected_at = now() where id = $1 \
         and clone_suspected_at is null",
    )
    .bind(stored.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Renames passkey `id` of `user_id`; false if there is none.
pub async fn rename(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    name: &PasskeyName,
    by: &By,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("update passkeys set name = $3 where id = $1 and user_id = $2")
        .bind(id)
        .bind(user_id)
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let event = AuditEvent::PasskeyRenamed {
        user: user_id,
        name: name.as_str(),
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Makes `user_id` an account without a password, which signs in with its passkeys alone; false
/// (and nothing changed) if it has no passkey. The user's row is locked first, so a passkey
/// removed meanwhile cannot leave the account with no way in.
pub async fn go_passwordless(pool: &PgPool, user_id: Uuid, by: &By) -> Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("select 1 from users where id = $1 for update")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(
        "update users set password_hash = null where id = $1 \
         and exists (select 1 from passkeys where user_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    by.record(&mut tx, AuditEvent::PasswordRemoved { user: user_id })
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// What [`remove`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// Removed; its name.
    Removed(String),
    NotFound,
    /// Kept: the account has no password and this is its last passkey.
    LastWayIn,
}

/// Removes passkey `id` of `user_id`, audited as done by `by`, unless it is the last way into an
/// account without a password. The user's row is locked first, so two removals cannot both take
/// the last two passkeys.
pub async fn remove(pool: &PgPool, user_id: Uuid, id: Uuid, by: &By) -> Result<Removed> {
    let mut tx = pool.begin().await?;
    let passwordless: Option<bool> =
        sqlx::query_scalar("select password_hash is null from users where id = $1 for update")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let held: i64 = sqlx::query_scalar("select count(*) from passkeys where user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if passwordless == Some(true) && held <= 1 {
        return Ok(Removed::LastWayIn);
    }
    let name: Option<String> =
        sqlx::query_scalar("delete from passkeys where id = $1 and user_id = $2 returning name")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(name) = name else {
        return Ok(Removed::NotFound);
    };
    let event = AuditEvent::PasskeyRemoved {
        user: user_id,
        name: &name,
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Removed::Removed(name))
}

#[cfg(test)]
mod tests {
    use super::PasskeyName;

    #[test]
    fn names_are_bounded_and_plain() {
        assert_eq!(PasskeyName::parse("  Laptop ").unwrap().as_str(), "Laptop");
        assert!(PasskeyName::parse("").is_err());
        assert!(PasskeyName::parse("   ").is_err());
        assert!(PasskeyName::parse(&"é".repeat(64)).is_ok());
        assert!(PasskeyName::parse(&"é".repeat(65)).is_err());
        assert!(PasskeyName::parse("a\nb").is_err());
    }
}
