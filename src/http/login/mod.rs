//! The sign-in pages, one file per step: [`password`], [`mfa`] (second factor), [`consent`].
//! Every form carries the session's CSRF token; every POST answers 303 (or an error page). What a
//! person is signing in for stays in the session, never in a user-controlled parameter: pages carry
//! only the random id of a pending request ([`Continue`]).

pub mod consent;
pub mod device;
pub mod mfa;
pub mod password;

use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::PageError;
use crate::oauth::authorize::AuthorizationRequest;
use crate::sessions::TypedSession;
use crate::sessions::pending::{Pending, RequestId};
use crate::urls::{self, Href};

/// `?request=<id>`: the pending request (see [`crate::sessions::pending`]) a page continues.
/// Sign-in carries it from page to page, so each tab resumes its own request.
#[derive(Debug, Default, Deserialize)]
pub struct Continue {
    #[serde(default)]
    request: Option<String>,
}

impl Continue {
    pub fn id(&self) -> Option<RequestId> {
        self.request.as_deref().and_then(RequestId::parse)
    }

    /// `page`, continuing the same request.
    pub fn at(&self, page: Href) -> Href {
        page.continuing(self.id().as_ref())
    }

    /// The authorization request this page continues, while it is pending.
    pub async fn authorization(
        &self,
        session: &TypedSession,
    ) -> Result<Option<AuthorizationRequest>, PageError> {
        let Some(id) = self.id() else {
            return Ok(None);
        };
        Ok(match session.pending(&id).await? {
            Some(Pending::Authorize(request)) => Some(request),
            _ => None,
        })
    }
}

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
    Ok(session.set_flash(message).await?)
}

pub async fn take_flash(session: &TypedSession) -> Result<Option<String>, PageError> {
    Ok(session.take_flash().await?)
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

pub fn see_other(location: &Href) -> Response {
    Redirect::to(location.as_str()).into_response()
}

/// 303 to a URL this server did not route: a client's redirect URI (made by
/// [`urls::client_redirect`]) or the admin page that sent the person to sign in.
pub fn see_other_url(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Where to go once signed in: the request this sign-in continues (an authorization or a device
/// to approve), back to the admin page that asked, or the account page.
pub async fn after_sign_in(session: &TypedSession, next: &Continue) -> Result<Response, PageError> {
    if let Some(id) = next.id() {
        match session.pending(&id).await? {
            Some(Pending::Authorize(_)) => {
                return Ok(see_other(&urls::login::resume().continuing(Some(&id))));
            }
            Some(Pending::Device(_)) => {
                return Ok(see_other(&urls::device::approve().continuing(Some(&id))));
            }
            None => {}
        }
    }
    // Back to the admin page that sent the person to sign in (only ever an `/admin` path).
    if let Some(back) = session.take_return_to().await?
        && back.starts_with(urls::admin::dashboard().as_str())
    {
        return Ok(see_other_url(&back));
    }
    Ok(see_other(&urls::account::overview()))
}
