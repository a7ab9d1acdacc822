//! Changing the password: the current one is required (and guesses are throttled like sign-in);
//! the new one must pass the password policy (`users::password_policy`). Other sessions and all
//! refresh tokens end.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::notice;
use crate::audit::Actor;
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::page::see_other;
use crate::secret::Secret;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::throttle::Account;
use crate::urls;
use crate::users::password_policy::check_new_password;
use crate::users::store::{self as users, Credentials};
use crate::verify;

#[derive(Template, WebTemplate)]
#[template(path = "account/password.html")]
struct PasswordPage {
    csrf: String,
    error: Option<String>,
}

pub async fn show(_: SignedInPerson, session: TypedSession) -> Result<Response, PageError> {
    let page = PasswordPage {
        csrf: session.csrf_token().await?,
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

/// Checks the signed-in user's current password behind the same throttle as sign-in.
pub async fn current_password_ok(
    state: &AppState,
    user: &Credentials,
    password: String,
    peer: SocketAddr,
) -> Result<bool, PageError> {
    let account = Account::User(user.id);
    let stored = user.password_hash.clone();
    Ok(verify::password(state, account, stored, Secret::new(password), peer.ip()).await?)
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ChangeForm>>,
) -> Result<Response, PageError> {
    let new = Secret::new(form.new);
    let problem = if form.confirm != *new.expose() {
        Some("The new passwords do not match.".to_owned())
    } else {
        let email = users::summary(&state.db, signed_in.user_id)
            .await?
            .and_then(|u| u.email);
        check_new_password(&new, &user.username, email.as_deref())
            .await
            .err()
            .map(|why| as_sentence(&why))
    };
    if let Some(problem) = problem {
        session.set_flash(&problem).await?;
        return Ok(see_other(&urls::account::password()));
    }
    if !current_password_ok(&state, &user, form.current, peer).await? {
        session
            .set_flash("The current password is not correct.")
            .await?;
        return Ok(see_other(&urls::account::password()));
    }
    let hash = state.hasher.hash(new).await?;
    users::set_password(
        &state.db,
        signed_in.user_id,
        &hash,
        &crate::audit::By::new(Actor::User(signed_in.user_id), Some(peer.ip())),
    )
    .await?;
    // Other sessions and every refresh token end (RFC 9700 §4.14.2), as after an administrator's
    // reset; this session continues under a new id.
    crate::admin::users::cut_off(&state, signed_in.user_id).await?;
    session
        .sign_in(signed_in.user_id, signed_in.amr.clone())
        .await?;
    notice(
        &session,
        "Your password was changed. Other sessions were signed out and applications must ask again.",
    )
    .await
}

/// A policy message as a sentence on the page: capitalised, with a full stop.
pub(crate) fn as_sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}
