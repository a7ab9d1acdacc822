//! Step one: username (or email) and password. An unknown user costs one argon2 hash like a wrong
//! password and gets the same message. Every attempt is reserved with the throttle before the
//! password is checked ([`crate::verify`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Continue, PasskeyForm, after_sign_in, not_checked};
use crate::amr::Amr;
use crate::audit::{Actor, AuditEvent, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::page::see_other;
use crate::passkeys::store as passkeys;
use crate::secret::Secret;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::throttle::Account;
use crate::urls::{self, Href};
use crate::users::store as users;
use crate::verify;

#[derive(Template, WebTemplate)]
#[template(path = "login/password.html")]
struct PasswordPage {
    csrf: String,
    /// `/login`, continuing the pending request.
    action: Href,
    username: String,
    client_name: Option<String>,
    /// The passkey button and autofill, unless passkeys are off.
    passkey: Option<PasskeyForm>,
    /// "Create an account", when anyone may sign up.
    signup: Option<Href>,
    error: Option<String>,
    /// Good news from the page before (a new password is set).
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let pending = next.authorization(&session).await?;
    // After a failed attempt the name typed stays; otherwise the client's `login_hint`.
    let typed = session.take_last_username().await?;
    let hint = pending.as_ref().and_then(|p| p.login_hint.clone());
    let page = PasswordPage {
        csrf: session.csrf_token().await?,
        action: next.at(urls::login::password()),
        username: typed.or(hint).unwrap_or_default(),
        client_name: pending.as_ref().map(|p| p.client_name.clone()),
        passkey: PasskeyForm::continuing(&state, &next),
        signup: (state.config.signup == crate::users::signup::Mode::Open).then(urls::mail::signup),
        error: session.take_flash().await?,
        notice: session.take_sign_in_notice().await?,
    };
    Ok(super::sign_in_page(page, pending.as_ref()))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

const WRONG: &str = "The username or password is not correct.";

#[tracing::instrument(name = "sign_in.password", skip_all, fields(ip = %peer.ip()))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Query(next): Query<Continue>,
    Csrf(Form(form)): Csrf<Form<PasswordForm>>,
) -> Result<Response, PageError> {
    let login = form.username.trim().to_lowercase();
    if login.is_empty() || form.password.is_empty() {
        session
            .set_flash("Enter your username and password.")
            .await?;
        return Ok(see_other(&next.at(urls::login::password())));
    }
    // Counted by account (whatever name or email was typed), from this address and from
    // anywhere; a name that matches nobody is counted the same way under that name.
    let user = users::credentials(&state.db, &login).await?;
    let account = match &user {
        Some(user) => Account::User(user.id),
        None => Account::Unknown(&login),
    };
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        // A passkey-only account has no password: any password is wrong, at the same cost.
        .and_then(|u| u.password_hash.clone());
    let password = Secret::new(form.password);
    let right = verify::password(&state, account, stored, password, peer.ip())
        .await
        .map_err(|e| not_checked(&state, e))?;
    let user = match user {
        Some(user) if right => user,
        _ => {
            state.metrics.login("bad_credentials");
            let mut conn = state.db.acquire().await?;
            By::new(Actor::System, Some(peer.ip()))
                .record(&mut conn, AuditEvent::PasswordFailed { login: &login })
                .await?;
            session.set_last_username(form.username.trim()).await?;
            session.set_flash(WRONG).await?;
            return Ok(see_other(&next.at(urls::login::password())));
        }
    };
    // An account from the sign-up page signs in once its address is verified; the right
    // password leads to the page that says so (and may send the link again), never further.
    if user.awaiting_verification {
        state.metrics.login("awaiting_verification");
        session.set_awaiting_address(user.id).await?;
        return Ok(see_other(&urls::login::confirm_address()));
    }
    // A second factor follows when the account has one: a TOTP code or a passkey.
    let passkey = state.passkeys.is_some() && passkeys::any(&state.db, user.id).await?;
    if user.totp_secret_sealed.is_some() || passkey {
        session.password_verified(user.id).await?;
        return Ok(see_other(&next.at(urls::login::second_factor())));
    }
    super::mfa::complete(&state, &session, user.id, vec![Amr::Pwd], peer).await?;
    after_sign_in(&session, &next).await
}
