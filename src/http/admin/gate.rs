//! The gate every admin page passes. [`Admin`]: a signed-in user with the admin role whose session
//! used a second factor (a TOTP code or a passkey), and a passkey when the passkey policy's
//! [`admin_floor`](crate::passkeys::Policy::admin_floor) asks for phishing-resistant sign-in;
//! anyone else is sent to sign in (anonymous), to set up TOTP or a passkey (an admin without
//! either, or without the passkey required), to confirm with their passkey, or refused with 403
//! (everyone else). A change needs more: a second factor entered within
//! `PORTCULLIS_ADMIN_STEP_UP` (10 minutes by default; ASVS 5.0 V6.4 step-up for sensitive
//! operations). Every POST under `/admin` is a change, and the pages that lead to one (confirmation
//! pages and forms) ask for [`FreshAdmin`]. Older than that, the admin enters a code again on the
//! second-factor step (or confirms with a passkey) and comes back to the page; nothing changes
//! until then.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};

use crate::acr::Level;
use crate::audit::{Actor, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::SignedInPerson;
use crate::http::page::see_other;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;

/// A signed-in administrator, checked for this request.
pub struct Admin {
    pub username: String,
    pub session: TypedSession,
    pub csrf: String,
    /// For audit events: this admin, from this address.
    pub by: By,
}

/// An administrator who entered a second factor recently enough to change things: for the pages
/// that lead to a change (every POST asks for it through [`Admin`] already).
pub struct FreshAdmin(pub Admin);

impl std::ops::Deref for FreshAdmin {
    type Target = Admin;

    fn deref(&self) -> &Admin {
        &self.0
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let change = !matches!(parts.method, Method::GET | Method::HEAD);
        extract(parts, state, change).await
    }
}

impl FromRequestParts<AppState> for FreshAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        extract(parts, state, true).await.map(FreshAdmin)
    }
}

async fn extract(parts: &mut Parts, state: &AppState, change: bool) -> Result<Admin, Response> {
    let session = TypedSession::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let ip = Some(ClientAddr::of(parts, &state.config.trusted_proxies).0.ip());
    let back = page_to_return_to(&parts.method, &parts.uri);
    match gate(state, session, ip, &back, change).await {
        Ok(Ok(admin)) => Ok(admin),
        Ok(Err(response)) => Err(response),
        Err(error) => Err(error.into_response()),
    }
}

/// Where to come back to after signing in again: the page itself for a GET; for a POST (which
/// cannot be repeated by a redirect) the page its form is on: the object's page
/// (`/admin/users/{id}` for `/admin/users/{id}/disable`), or the form itself (`.../new`,
/// `.../edit`). The raw (still encoded) path, so segments stay as they were.
fn page_to_return_to(method: &Method, uri: &Uri) -> String {
    let dashboard = urls::admin::dashboard();
    if matches!(*method, Method::GET | Method::HEAD) {
        return uri
            .path_and_query()
            .map_or(dashboard.as_str(), |p| p.as_str())
            .to_owned();
    }
    let path = uri.path();
    match path.rsplit_once('/') {
        Some((_, "new" | "edit")) => path.to_owned(),
        Some((parent, _)) if parent.starts_with(dashboard.as_str()) => parent.to_owned(),
        _ => dashboard.to_string(),
    }
}

/// Sends the browser to confirm with a passkey (the page says so) and come back to `back`, or,
/// without a passkey, to add one first.
async fn confirm_with_passkey(
    session: &TypedSession,
    has_passkey: bool,
    back: &str,
) -> Result<Response, PageError> {
    if has_passkey {
        session.set_return_to(back).await?;
        return Ok(see_other(&urls::login::passkey()));
    }
    session
        .set_flash("Administrators need a passkey. Add one here to open the admin pages.")
        .await?;
    Ok(see_other(&urls::account::passkeys()))
}

/// Sends the browser to sign in, coming back to `back` afterwards.
async fn sign_in_first(session: &TypedSession, back: &str) -> Result<Response, PageError> {
    session.set_return_to(back).await?;
    Ok(see_other(&urls::login::password()))
}

async fn gate(
    state: &AppState,
    session: TypedSession,
    ip: Option<std::net::IpAddr>,
    back: &str,
    change: bool,
) -> Result<Result<Admin, Response>, PageError> {
    let Some(SignedInPerson { signed_in, user }) = SignedInPerson::of(state, &session).await?
    else {
        return Ok(Err(sign_in_first(&session, back).await?));
    };
    if !user.is_admin {
        return Err(PageError::NotAllowed(
            "These pages are for administrators. Ask an administrator if you need access.".into(),
        ));
    }
    let passkey_required = state.config.passkeys.admin_floor() == Level::PhishingResistant;
    let has_totp = user.totp_secret_sealed.is_some();
    // A passkey counts only while passkeys are on (one kept from before cannot be used now), and
    // is looked up only where it decides the way.
    let passkeys = state.config.passkeys.enabled();
    let has_passkey = passkeys
        && (passkey_required || !has_totp)
        && crate::passkeys::store::any(&state.db, user.id).await?;
    if passkey_required && Level::of(&signed_in.amr) < Level::PhishingResistant {
        // `PORTCULLIS_PASSKEYS=required-for-admins` or `required`: phishing-resistant sign-in
        // for the console (NIST SP 800-63B §5.2.5), whatever second factor the session used.
        return Ok(Err(confirm_with_passkey(&session, has_passkey, back).await?));
    }
    if !has_totp && !has_passkey {
        let message = if passkeys {
            "Administrators need two-step verification. Set up an authenticator app here (or add \
             a passkey) to open the admin pages."
        } else {
            "Administrators need two-step verification. Set it up here to open the admin pages."
        };
        session.set_flash(message).await?;
        return Ok(Err(see_other(&urls::account::totp())));
    }
    let Some(second_factor_at) = session.second_factor_at(&signed_in).await? else {
        // Enrolled after signing in with a password alone: sign in again with the second factor.
        session.sign_out().await?;
        session
            .set_flash("Sign in again with your second factor to open the admin pages.")
            .await?;
        return Ok(Err(sign_in_first(&session, back).await?));
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let window = i64::try_from(state.config.admin_step_up.as_secs()).unwrap_or(i64::MAX);
    if change && now.saturating_sub(second_factor_at) >= window {
        // ASVS 5.0 V6.4: a fresh second factor before a sensitive change, checked (and
        // throttled) by the step that then comes back here: the passkey where one is required or
        // is the only second factor, else the authenticator code.
        if !has_totp || passkey_required {
            return Ok(Err(confirm_with_passkey(&session, has_passkey, back).await?));
        }
        session.set_return_to(back).await?;
        session.ask_step_up(user.id).await?;
        session.set_flash("Enter a code from your authenticator app to confirm it is you before changing anything.",
        )
        .await?;
        return Ok(Err(see_other(&urls::login::second_factor())));
    }
    let csrf = session.csrf_token().await?;
    Ok(Ok(Admin {
        username: user.username,
        session,
        csrf,
        by: By::new(Actor::User(user.id), ip),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_comes_back_to_the_page_its_form_is_on() {
        let back = |method: Method, uri: &str| page_to_return_to(&method, &uri.parse().unwrap());
        assert_eq!(back(Method::GET, "/admin/users?q=a"), "/admin/users?q=a");
        assert_eq!(
            back(Method::POST, "/admin/users/1/disable"),
            "/admin/users/1"
        );
        assert_eq!(back(Method::POST, "/admin/users/new"), "/admin/users/new");
        assert_eq!(
            back(Method::POST, "/admin/clients/c/edit"),
            "/admin/clients/c/edit"
        );
        assert_eq!(
            back(Method::POST, "/admin/roles/roles/ops%2Feu/delete"),
            "/admin/roles/roles/ops%2Feu"
        );
        assert_eq!(back(Method::POST, "/admin"), "/admin");
    }
}
