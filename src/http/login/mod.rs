//! The sign-in pages, one file per step: [`password`], [`mfa`] (second factor), [`consent`];
//! and [`reset`], for a forgotten password.
//! Every form carries the session's CSRF token; every POST answers 303 (or an error page). What a
//! person is signing in for stays in the session, never in a user-controlled parameter: pages carry
//! only the random id of a pending request ([`Continue`]).

pub mod awaiting;
pub mod consent;
pub mod device;
pub mod invitation;
pub mod mfa;
pub mod passkey;
pub mod password;
pub mod reset;

use axum::response::Response;
use serde::Deserialize;

use super::error::PageError;
use super::page::{see_other, see_other_url};
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

/// Where a page's passkey form posts and fetches its options, continuing the pending request;
/// `None` when passkeys are off.
pub struct PasskeyForm {
    pub action: Href,
    pub options: Href,
}

impl PasskeyForm {
    pub fn continuing(state: &crate::state::AppState, next: &Continue) -> Option<PasskeyForm> {
        state.passkeys.as_ref().map(|_| PasskeyForm {
            action: next.at(urls::login::passkey()),
            options: next.at(urls::login::passkey_options()),
        })
    }
}

/// A sign-in page: its form may end, through redirects, at the client of the pending
/// authorization, so the CSP allows that origin too ([`crate::http::csp::allow_form_target`]).
pub fn sign_in_page(
    page: impl axum::response::IntoResponse,
    pending: Option<&AuthorizationRequest>,
) -> Response {
    let page = page.into_response();
    match pending {
        Some(p) => crate::http::csp::allow_form_target(page, &p.redirect_uri),
        None => page,
    }
}

/// How `user`, signed in at `reached`, gets to `required` ([`crate::oauth::step_up::step_up`]); `None` if they are there.
pub async fn way_up(
    state: &crate::state::AppState,
    user: &crate::users::store::Credentials,
    reached: crate::acr::Level,
    required: crate::acr::Level,
    prompt_none: bool,
) -> Result<Option<crate::oauth::step_up::StepUp>, PageError> {
    let passkeys = state.config.passkeys.enabled();
    let totp = user.totp_secret_sealed.is_some() && user.password_hash.is_some();
    // Whether a passkey could be the second factor: asked only where that decides the way.
    let passkey_decides = passkeys && !prompt_none && !totp && reached < required;
    let enrolled = crate::oauth::step_up::Enrolled {
        totp,
        passkey: passkey_decides && crate::passkeys::store::any(&state.db, user.id).await?,
    };
    Ok(crate::oauth::step_up::step_up(
        reached,
        required,
        prompt_none,
        passkeys,
        enrolled,
    ))
}

/// A sign-in check that could not run, as a page; a refusal by the throttle is counted.
pub fn not_checked(state: &crate::state::AppState, e: crate::verify::VerifyError) -> PageError {
    use crate::throttle::Refused;
    if matches!(e, crate::verify::VerifyError::Refused(Refused::Wait(_))) {
        state.metrics.login("throttled");
    }
    e.into()
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
    // Back to the admin page that sent the person to sign in (only ever an `/admin` path), or to
    // the passkeys page that asked for a fresh second factor.
    if let Some(back) = session.take_return_to().await?
        && (back.starts_with(urls::admin::dashboard().as_str())
            || back == urls::account::passkeys().as_str())
    {
        return Ok(see_other_url(&back));
    }
    Ok(see_other(&urls::account::overview()))
}
