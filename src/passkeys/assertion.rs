//! Checking a passkey's answer to an authentication ceremony (WebAuthn §7.2), without HTTP. The
//! answer names its credential; the stored credential must belong to the account the ceremony
//! expects (or, for a discoverable sign-in, to the account its user handle names). Each check
//! reserves an attempt with the second-factor throttle first, like a code ([`crate::verify`]).
//! A signature counter that does not grow is refused and audited as a possible clone
//! (WebAuthn §6.1.1), both as `webauthn-rs` sees it and as the store's conditional update does
//! when two answers race. A passkey whose counter was behind when its answer was checked is
//! refused from then on (a copy's counter would soon pass the stored one), until it is removed.

use std::net::IpAddr;

use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PublicKeyCredential, WebauthnError,
};

use super::RelyingParty;
use super::store::{self, StoredPasskey};
use crate::amr::Amr;
use crate::audit::{Actor, AuditEvent, By};
use crate::state::AppState;
use crate::throttle::{self, Account, Kind};
use crate::verify::VerifyError;

/// Whose passkey the ceremony expects.
pub enum Expect {
    /// Anyone's: the person picks a discoverable credential (sign-in without a name).
    Anyone(DiscoverableAuthentication),
    /// One of this account's passkeys, offered by the ceremony.
    User(Uuid, PasskeyAuthentication),
}

/// What a verified answer proved.
#[derive(Debug, Clone)]
pub struct Proof {
    pub user_id: Uuid,
    /// The name of the passkey used.
    pub name: String,
    /// `hwk` or `swk`, `user`, `mfa` (RFC 8176).
    pub amr: [Amr; 3],
}

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such passkey here, or not the account's.
    NotRecognised,
    /// The signature, challenge, origin or user verification did not check out.
    NotVerified,
    /// The counter went back: possibly a cloned authenticator.
    CloneSuspected,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotRecognised => "That passkey is not registered for this account.",
            Refusal::NotVerified => "The passkey could not be verified. Try again.",
            Refusal::CloneSuspected => {
                "That passkey was refused because it may have been copied. Use another way to \
                 sign in, and remove the passkey from your account."
            }
        }
    }
}

/// Checks `answer` against the ceremony's `expect`ation, from `ip`.
pub async fn check(
    state: &AppState,
    rp: &RelyingParty,
    expect: Expect,
    answer: &PublicKeyCredential,
    ip: IpAddr,
) -> Result<Result<Proof, Refusal>, VerifyError> {
    let stored = store::by_credential_id(&state.db, answer.get_credential_id()).await?;
    let owner = match (&expect, &stored) {
        (Expect::User(user_id, _), Some(s)) if s.user_id == *user_id => Some(s.user_id),
        // A discoverable answer names its account by user handle (the user's id, WebAuthn
        // §5.4.3); it must be the credential's owner.
        (Expect::Anyone(_), Some(s)) => rp
            .webauthn()
            .identify_discoverable_authentication(answer)
            .ok()
            .filter(|(user, _)| *user == s.user_id)
            .map(|(user, _)| user),
        _ => None,
    };
    let credential_id = hex(answer.get_credential_id());
    let account = match owner {
        Some(user) => Account::User(user),
        None => Account::Unknown(&credential_id),
    };
    let subjects = throttle::guess_at(Kind::SecondFactor, account, ip);
    let reservation = throttle::reserve(&state.redis, Kind::SecondFactor, subjects).await?;
    let (Some(stored), Some(user_id)) = (stored, owner) else {
        return Ok(Err(Refusal::NotRecognised));
    };
    let by = By::new(Actor::User(user_id), Some(ip));
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(crate::error::Error::from)?;
    if stored.clone_suspected {
        return clone_suspected(&mut conn, &by, &stored, Suspend::No).await;
    }
    let verified = match expect {
        Expect::Anyone(ceremony) => rp.webauthn().finish_discoverable_authentication_v2(
            answer,
            ceremony,
            &stored.credential.0,
        ),
        Expect::User(_, ceremony) => rp
            .webauthn()
            .finish_passkey_authentication(answer, &ceremony),
    };
    let result = match verified {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return clone_suspected(&mut conn, &by, &stored, Suspend::Yes).await;
        }
        Err(e) => {
            tracing::info!(%user_id, error = %e, "passkey answer refused");
            let event = AuditEvent::PasskeyFailed { user: user_id };
            by.record(&mut conn, event).await?;
            return Ok(Err(Refusal::NotVerified));
        }
    };
    let mut updated = stored.credential.0.clone();
    updated.update_credential(&result);
    if !store::record_use(&mut conn, &stored, &updated, result.counter()).await? {
        return clone_suspected(&mut conn, &by, &stored, Suspend::No).await;
    }
    let event = AuditEvent::PasskeyUsed {
        user: user_id,
        name: &stored.name,
    };
    by.record(&mut conn, event).await?;
    reservation.succeeded(&state.redis).await;
    Ok(Ok(Proof {
        user_id,
        name: stored.name,
        amr: Amr::passkey(result.backup_eligible()),
    }))
}

/// Whether a refused answer marks its passkey as refused from then on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Suspend {
    /// The counter was at or behind the one stored when the answer was checked: a copy.
    Yes,
    /// Already suspected, or another answer raised the counter between the check and the update
    /// (two of the device's own answers crossing): refused, the passkey left as it is.
    No,
}

async fn clone_suspected(
    conn: &mut sqlx::PgConnection,
    by: &By,
    stored: &StoredPasskey,
    suspend: Suspend,
) -> Result<Result<Proof, Refusal>, VerifyError> {
    tracing::warn!(user_id = %stored.user_id, passkey = %stored.id, "passkey counter went back");
    if suspend == Suspend::Yes {
        store::suspect_clone(conn, stored).await?;
    }
    let event = AuditEvent::PasskeyCloneSuspected {
        user: stored.user_id,
        name: &stored.name,
    };
    by.record(conn, event).await?;
    Ok(Err(Refusal::CloneSuspected))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
