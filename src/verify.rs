//! Checking what a person types to prove who they are: a password, or a second factor (a TOTP
//! code or a recovery code). Every check here reserves its attempt with [`throttle::reserve`]
//! first and evaluates the guess only once the reservation is held (ASVS 5.0 V6.3.1), so sign-in
//! and the confirmations on `/account` share one limit per account and per address. A right
//! answer takes its attempt back; a wrong one stays counted.

use std::net::IpAddr;

use uuid::Uuid;

use crate::mfa::{recovery, totp};
use crate::secret::Secret;
use crate::state::AppState;
use crate::throttle::{self, Account, Kind, Refused};
use crate::users::store as users;

/// Why a guess could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<crate::error::Error> for VerifyError {
    fn from(e: crate::error::Error) -> Self {
        VerifyError::Unexpected(e.into())
    }
}

/// Checks `typed` against `stored`, the hash of `account`'s password. `None` (an unknown or
/// disabled account) costs one hash too and is never right.
#[tracing::instrument(name = "verify.password", skip_all, fields(known = matches!(account, Account::User(_)), %ip))]
pub async fn password(
    state: &AppState,
    account: Account<'_>,
    stored: Option<String>,
    typed: Secret<String>,
    ip: IpAddr,
) -> Result<bool, VerifyError> {
    let subjects = throttle::guess_at(Kind::Password, account, ip);
    let reservation = throttle::reserve(&state.redis, Kind::Password, subjects).await?;
    let right = state.hasher.verify(typed, stored).await?;
    if right {
        reservation.succeeded(&state.redis).await;
    }
    Ok(right)
}

/// Why a second factor was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongCode {
    /// A right TOTP code that was already used (RFC 6238 §5.2: a code is accepted once).
    Reused,
    Incorrect,
}

impl WrongCode {
    pub fn message(self) -> &'static str {
        match self {
            WrongCode::Reused => "That code was already used. Wait for the next code and enter it.",
            WrongCode::Incorrect => "That code is not correct.",
        }
    }
}

/// Checks a second factor typed by user `user_id`, whose TOTP secret is `sealed`: six digits are
/// a TOTP code, anything else a single-use recovery code (used up when right).
#[tracing::instrument(name = "verify.second_factor", skip_all, fields(%user_id, %ip))]
pub async fn second_factor(
    state: &AppState,
    user_id: Uuid,
    sealed: &str,
    typed: &str,
    ip: IpAddr,
) -> Result<Result<(), WrongCode>, VerifyError> {
    let subjects = throttle::guess_at(Kind::SecondFactor, Account::User(user_id), ip);
    let reservation = throttle::reserve(&state.redis, Kind::SecondFactor, subjects).await?;
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let outcome = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let checked = totp::check(sealed, &code, state.keys.kek())
            .map_err(|e| e.context(format!("user {user_id}")))?;
        match checked {
            Some(step) if users::accept_totp_step(&state.db, user_id, step).await? => Ok(()),
            Some(_) => Err(WrongCode::Reused),
            None => Err(WrongCode::Incorrect),
        }
    } else if recovery::redeem(&state.db, user_id, &code).await? {
        Ok(())
    } else {
        Err(WrongCode::Incorrect)
    };
    if outcome.is_ok() {
        reservation.succeeded(&state.redis).await;
    }
    Ok(outcome)
}
