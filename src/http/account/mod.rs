//! `/account`: self-service for a signed-in person. The overview ([`show`]) and the small actions
//! live here; the second factor is in [`totp`], the password in [`password`], the email address
//! in [`email`]. Every action is a POST with the CSRF token, answered with 303 and a notice on
//! the overview.

pub mod email;
pub mod invite;
pub mod passkeys;
pub mod password;
pub mod totp;

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, NoFields, SignedInPerson};
use crate::http::forms::ConfirmForm;
use crate::http::page::see_other;
use crate::mfa::recovery;
use crate::oauth::scope::Scope;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::store::{self as users, Credentials};
use crate::verify;
use email::Proof;

/// A message for the overview page, and the way there.
pub async fn notice(session: &TypedSession, message: &str) -> Result<Response, PageError> {
    session.set_account_notice(message).await?;
    Ok(see_other(&urls::account::overview()))
}

struct Application {
    client_id: String,
    name: String,
    scopes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/overview.html")]
struct Overview {
    csrf: String,
    username: String,
    name: Option<String>,
    totp_enrolled: bool,
    recovery_left: i64,
    /// How many passkeys the person has; `None` when passkeys are off.
    passkeys: Option<usize>,
    /// False for an account that signs in with passkeys only.
    has_password: bool,
    applications: Vec<Application>,
    email: email::Section,
    /// The invitation form, with `PORTCULLIS_SIGNUP=invite`.
    invite: Option<invite::InviteBox>,
    notice: Option<String>,
    error: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    session: TypedSession,
) -> Result<Response, PageError> {
    let profile = users::profile(&state.db, signed_in.user_id).await?;
    let applications = crate::consent::list(&state.db, signed_in.user_id)
        .await?
        .into_iter()
        .map(|a| Application {
            client_id: a.client_id,
            name: a.client_name,
            scopes: a
                .scopes
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let email = email::section(&state, &session, &signed_in, &user).await?;
    let page = Overview {
        csrf: session.csrf_token().await?,
        username: user.username,
        name: profile.and_then(|p| p.name),
        totp_enrolled: user.totp_secret_sealed.is_some(),
        has_password: user.password_hash.is_some(),
        recovery_left: recovery::remaining(&state.db, signed_in.user_id).await?,
        passkeys: match state.passkeys {
            Some(_) => Some(
                crate::passkeys::store::list(&state.db, signed_in.user_id)
                    .await?
                    .len(),
            ),
            None => None,
        },
        applications,
        email,
        invite: invite::InviteBox::of(&state),
        notice: session.take_account_notice().await?,
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

/// Ends every session of this person, on every replica, this one included.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    SignedInPerson { signed_in, .. }: SignedInPerson,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    crate::sessions::sign_out_everywhere(
        &state.redis,
        signed_in.user_id,
        state.config.session_lifetime,
    )
    .await?;
    session.sign_out().await?;
    let mut conn = state.db.acquire().await?;
    let user = signed_in.user_id;
    let event = crate::audit::AuditEvent::LogoutEverywhere { user };
    crate::audit::By::new(crate::audit::Actor::User(user), None)
        .record(&mut conn, event)
        .await?;
    Ok(see_other(&urls::login::logged_out()))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    client_id: String,
}

/// Withdraws consent for one application (its refresh and access tokens stop working).
pub async fn revoke_application(
    State(state): State<AppState>,
    SignedInPerson { signed_in, .. }: SignedInPerson,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<RevokeForm>>,
) -> Result<Response, PageError> {
    let withdrawn = crate::consent::revoke(&state.db, signed_in.user_id, &form.client_id).await?;
    crate::tokens::access::deny_grants(&state.stores(), &withdrawn.grants).await?;
    if withdrawn.had_consent {
        notice(
            &session,
            "The application no longer has access to your account.",
        )
        .await
    } else {
        Ok(see_other(&urls::account::overview()))
    }
}

/// Asks again, at this moment, for the password and a current second factor before a change to
/// the second factor (ASVS 5.0 V7.5.1); both are checked behind the sign-in throttle. `Err` is
/// the message to show when either is missing or wrong (or there is no second factor).
pub async fn confirm(
    state: &AppState,
    user: &Credentials,
    form: ConfirmForm,
    peer: SocketAddr,
) -> Result<Result<(), &'static str>, PageError> {
    let Some(sealed) = &user.totp_secret_sealed else {
        return Ok(Err("Two-step verification is not on."));
    };
    if form.password.is_empty() || form.code.trim().is_empty() {
        return Ok(Err(
            "Enter your password and a code from your authenticator app to confirm.",
        ));
    }
    if !password::current_password_ok(state, user, form.password, peer).await? {
        return Ok(Err("The password is not correct; nothing was changed."));
    }
    let code = verify::second_factor(state, user.id, sealed, &form.code, peer.ip()).await?;
    Ok(code.map_err(|_| "The code is not correct; nothing was changed."))
}

/// Replaces the recovery codes and shows the new ones once, after [`confirm`].
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ConfirmForm>>,
) -> Result<Response, PageError> {
    if let Err(message) = confirm(&state, &user, form, peer).await? {
        session.set_flash(message).await?;
        return Ok(see_other(&urls::account::overview()));
    }
    show_codes_once(&state, &session, signed_in.user_id).await
}

/// Makes new recovery codes and sends the browser to the page that shows them, once.
pub async fn show_codes_once(
    state: &AppState,
    session: &TypedSession,
    user_id: uuid::Uuid,
) -> Result<Response, PageError> {
    let codes = recovery::regenerate(&state.db, user_id).await?;
    let codes: Vec<String> = codes.iter().map(|c| c.expose().clone()).collect();
    session.set_new_recovery_codes(&codes).await?;
    Ok(see_other(&urls::account::recovery_codes()))
}

#[derive(Template, WebTemplate)]
#[template(path = "account/codes.html")]
struct CodesPage {
    codes: Vec<String>,
}

pub async fn recovery_codes(session: TypedSession) -> Result<Response, PageError> {
    match session.take_new_recovery_codes().await? {
        Some(codes) => Ok(CodesPage { codes }.into_response()),
        None => Ok(see_other(&urls::account::overview())),
    }
}
