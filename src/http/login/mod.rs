//! The sign-in pages, one file per step: [`password`], [`mfa`] (second factor), [`consent`].
//! Every form carries the session's CSRF token; every POST answers 303 (or an error page). What a
//! person is signing in for stays in the session, never in a user-controlled parameter.

pub mod consent;
pub mod device;
pub mod mfa;
pub mod password;

use axum::response::{IntoResponse, Redirect, Response};

use super::error::PageError;
use crate::sessions::TypedSession;

/// Session key of the pending authorization request.
pub const PENDING_AUTHORIZATION: &str = "authorize";
const FLASH: &str = "flash";

/// Refuses a form whose CSRF token is not this session's.
pub async fn require_csrf(session: &TypedSession, presented: &str) -> Result<(), PageError> {
    if session.csrf_matches(presented).await? {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "This form is no longer valid (it may have been open too long). Go back, reload the page and try again."
                .into(),
        ))
    }
}

/// A message for the next page this session shows.
pub async fn flash(session: &TypedSession, message: &str) -> Result<(), PageError> {
    Ok(session.put(FLASH, &message).await?)
}

pub async fn take_flash(session: &TypedSession) -> Result<Option<String>, PageError> {
    Ok(session.take::<String>(FLASH).await?)
}

/// 303 See Other: after a POST, the browser GETs the next page (RFC 9110 §15.4.4).
/// A sign-in check that could not run, as a page; a refusal by the throttle is counted.
pub fn not_checked(state: &crate::state::AppState, e: crate::verify::VerifyError) -> PageError {
    use crate::throttle::Refused;
    if matches!(e, crate::verify::VerifyError::Refused(Refused::Wait(_))) {
        state.metrics.login("throttled");
    }
    e.into()
}

pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Where to go once signed in: back to the admin page that asked, the device being connected,
/// the pending authorization, or the account page.
pub async fn after_sign_in(session: &TypedSession) -> Result<Response, PageError> {
    // Back to the admin page that sent the person to sign in (only ever an `/admin` path).
    if let Some(back) = session.take::<String>(super::admin::RETURN_TO).await?
        && back.starts_with("/admin")
    {
        return Ok(see_other(&back));
    }
    let authorizing: Option<serde_json::Value> = session.get(PENDING_AUTHORIZATION).await?;
    let device: Option<String> = session.get(device::PENDING_DEVICE).await?;
    Ok(see_other(match (authorizing, device) {
        (_, Some(_)) => "/device/approve",
        (Some(_), None) => "/authorize/resume",
        (None, None) => "/account",
    }))
}
