//! Rotating the key-encryption key (KEK) that seals private signing keys and TOTP secrets.
//!
//! The operator configures the new key as the current one and the old key as the previous one;
//! both open what they sealed, and everything new is sealed under the current key. [`rotate`]
//! then re-seals every value still under another key, [`BATCH`] rows per transaction, each row
//! locked with `FOR UPDATE SKIP LOCKED` and replaced only if it is still the value read: running
//! it twice, or on two machines at once, is safe, and a run with nothing left to do changes
//! nothing. [`status`] counts the values under each key, which tells when the previous key can be
//! removed; [`check_at_start`] refuses to serve when live signing keys need a key that is not
//! configured. The rows themselves are written by their owners' stores (`keys::store`,
//! `users::sealing`).

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{AuditEvent, By};
use crate::crypto::{Kek, UnsealError};
use crate::error::{Error, Result};
use crate::keys::store as keys;
use crate::users::sealing as totp;

/// Rows re-sealed per transaction: short transactions, few rows locked at a time.
pub const BATCH: i64 = 100;

/// What a key id is to this configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Current,
    Previous,
    /// Neither the current nor the previous key: what it sealed cannot be opened here.
    Unknown,
    /// TOTP secrets written by a release that did not record the key id.
    Unrecorded,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Current => "current",
            Role::Previous => "previous",
            Role::Unknown => "unknown",
            Role::Unrecorded => "unrecorded",
        }
    }
}

/// How many values one key sealed.
#[derive(Debug, Clone, Serialize)]
pub struct Sealed {
    pub kek_id: Option<String>,
    pub role: Role,
    pub signing_keys: i64,
    pub totp_secrets: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub current: String,
    pub previous: Option<String>,
    pub sealed: Vec<Sealed>,
    /// Nothing needs the previous key any more (`None` when none is configured).
    pub previous_removable: Option<bool>,
}

/// Counts the sealed values under each key id; the current and previous keys are listed even
/// when they sealed nothing.
#[tracing::instrument(name = "kek.status", skip_all)]
pub async fn status(pool: &PgPool, kek: &Kek) -> Result<Status> {
    let mut sealed: Vec<Sealed> = Vec::new();
    let role = |id: Option<&str>| match id {
        None => Role::Unrecorded,
        Some(id) if id == kek.id() => Role::Current,
        Some(id) if Some(id) == kek.previous_id() => Role::Previous,
        Some(_) => Role::Unknown,
    };
    let mut entry = |id: Option<&str>| -> usize {
        if let Some(at) = sealed.iter().position(|s| s.kek_id.as_deref() == id) {
            return at;
        }
        sealed.push(Sealed {
            kek_id: id.map(str::to_owned),
            role: role(id),
            signing_keys: 0,
            totp_secrets: 0,
        });
        sealed.len() - 1
    };
    entry(Some(kek.id()));
    if let Some(previous) = kek.previous_id() {
        entry(Some(previous));
    }
    let mut counts = Vec::new();
    for (id, n) in keys::count_by_kek(pool).await? {
        counts.push((entry(Some(&id)), n, 0));
    }
    for (id, n) in totp::count_by_kek(pool).await? {
        counts.push((entry(id.as_deref()), 0, n));
    }
    for (at, signing_keys, totp_secrets) in counts {
        sealed[at].signing_keys += signing_keys;
        sealed[at].totp_secrets += totp_secrets;
    }
    let needs_previous = sealed.iter().any(|s| {
        matches!(s.role, Role::Previous | Role::Unrecorded) && s.signing_keys + s.totp_secrets > 0
    });
    Ok(Status {
        current: kek.id().to_owned(),
        previous: kek.previous_id().map(str::to_owned),
        previous_removable: kek.previous_id().map(|_| !needs_previous),
        sealed,
    })
}

/// What a rotation did, and what it could not do (each naming the value).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rotation {
    pub signing_keys: u64,
    pub totp_secrets: u64,
    pub problems: Vec<String>,
}

/// The two kinds of sealed values.
#[derive(Debug, Clone, Copy)]
enum Kind {
    SigningKey,
    TotpSecret,
}

/// Re-seals under the current key every private signing key and TOTP secret sealed under the
/// previous key (or not recorded), in batches; audited as `kek.rotated` when it changed anything.
#[tracing::instrument(name = "kek.rotate", skip_all, fields(kek_id = %kek.id(), actor = ?by.actor))]
pub async fn rotate(pool: &PgPool, kek: &Kek, by: &By) -> Result<Rotation> {
    let before = status(pool, kek).await?;
    let mut done = Rotation::default();
    for sealed in &before.sealed {
        let from = sealed.kek_id.as_deref();
        match sealed.role {
            Role::Current => {}
            Role::Previous | Role::Unrecorded => {
                if sealed.signing_keys > 0 {
                    reseal_all(pool, kek, Kind::SigningKey, from, &mut done).await?;
                }
                if sealed.totp_secrets > 0 {
                    reseal_all(pool, kek, Kind::TotpSecret, from, &mut done).await?;
                }
            }
            Role::Unknown => done.problems.push(format!(
                "{} signing keys and {} TOTP secrets: {}; configure that key as \
                 PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS and run again",
                sealed.signing_keys,
                sealed.totp_secrets,
                UnsealError::UnknownKey(from.unwrap_or_default().to_owned()),
            )),
        }
    }
    if done.signing_keys + done.totp_secrets > 0 {
        let mut tx = pool.begin().await?;
        let event = AuditEvent::KekRotated {
            kek_id: kek.id(),
            previous: kek.previous_id(),
            signing_keys: done.signing_keys,
            totp_secrets: done.totp_secrets,
        };
        by.record(&mut tx, event).await?;
        tx.commit().await?;
    }
    tracing::info!(
        signing_keys = done.signing_keys,
        totp_secrets = done.totp_secrets,
        problems = done.problems.len(),
        "re-sealed under the current key-encryption key"
    );
    Ok(done)
}

/// Re-seals every value of `kind` recorded under `from`, one transaction per batch. Batches walk
/// the rows in id order, so a value that cannot be opened is reported once and passed.
async fn reseal_all(
    pool: &PgPool,
    kek: &Kek,
    kind: Kind,
    from: Option<&str>,
    done: &mut Rotation,
) -> Result<()> {
    let mut after: Option<String> = None;
    loop {
        let mut tx = pool.begin().await?;
        let rows = match kind {
            Kind::SigningKey => {
                let from = from.unwrap_or_default();
                keys::lock_sealed(&mut tx, from, after.as_deref(), BATCH).await?
            }
            Kind::TotpSecret => {
                let after = after.as_deref().and_then(|id| Uuid::parse_str(id).ok());
                let rows = totp::lock_sealed(&mut tx, from, after, BATCH).await?;
                rows.into_iter()
                    .map(|(id, s)| (id.to_string(), s))
                    .collect()
            }
        };
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        for (id, old) in &rows {
            let sealed = match kek.open(old) {
                Ok(plain) => kek.seal(plain.expose())?,
                Err(e) => {
                    done.problems.push(format!("{}: {e}", name(kind, id)));
                    continue;
                }
            };
            match kind {
                Kind::SigningKey => {
                    if keys::reseal(&mut tx, id, old, &sealed, kek.id()).await? {
                        done.signing_keys += 1;
                    }
                }
                Kind::TotpSecret => {
                    let user = Uuid::parse_str(id).map_err(anyhow::Error::from)?;
                    if totp::reseal(&mut tx, user, old, &sealed, kek.id()).await? {
                        done.totp_secrets += 1;
                    }
                }
            }
        }
        tx.commit().await?;
    }
}

/// How an error names a sealed value.
fn name(kind: Kind, id: &str) -> String {
    match kind {
        Kind::SigningKey => format!("signing key {id}"),
        Kind::TotpSecret => format!("TOTP secret of user {id}"),
    }
}

/// Refuses to start when a live signing key that may still sign is sealed under a key this
/// configuration lacks (a wrong key, or the previous key removed too early): serving would mean
/// minting new keys that every other replica and relying party does not expect. TOTP secrets
/// under a missing key are only warned about: they fail one person's sign-in, with a clear error.
#[tracing::instrument(name = "kek.check_at_start", skip_all, fields(kek_id = %kek.id()))]
pub async fn check_at_start(pool: &PgPool, kek: &Kek) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let missing: Vec<String> = keys::load_live(pool)
        .await?
        .iter()
        .filter(|row| !kek.holds(&row.kek_id) && row.key_times(kek).state(now).may_sign())
        .map(|row| {
            let e = UnsealError::UnknownKey(row.kek_id.clone());
            name(Kind::SigningKey, &format!("{}: {e}", row.kid))
        })
        .collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "{} (the configured key-encryption key has id {}). Configure the key that sealed them \
             as PORTCULLIS_KEY_ENCRYPTION_KEY, or during a rotation as \
             PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS; `portcullis kek status` counts what each key \
             sealed",
            missing.join("; "),
            kek.id()
        )));
    }
    for (id, n) in totp::count_by_kek(pool).await? {
        if let Some(id) = id.filter(|id| !kek.holds(id)) {
            tracing::warn!(
                count = n,
                "{n} TOTP secrets: {}; those people cannot complete two-step sign-in",
                UnsealError::UnknownKey(id)
            );
        }
    }
    Ok(())
}
