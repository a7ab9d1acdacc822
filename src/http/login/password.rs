//! Step one: username (or email) and password. An unknown user costs one argon2 hash like a wrong
//! password and gets the same message. Failures are throttled per account and per IP address.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Continue, after_sign_in, flash, require_csrf, see_other, take_flash};
use crate::audit::{self, Actor};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::secret::Secret;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::throttle::{self, Kind};
use crate::users::store as users;

#[derive(Template, WebTemplate)]
#[template(path = "login/password.html")]
struct PasswordPage {
    csrf: String,
    /// `/login`, continuing the pending request.
    action: String,
    username: String,
    client_name: Option<String>,
    error: Option<String>,
}

pub async fn show(
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let pending = next.authorization(&session).await?;
    // After a failed attempt the name typed stays; otherwise the client's `login_hint`.
    let typed: Option<String> = session.take(LAST_USERNAME).await?;
    let hint = pending.as_ref().and_then(|p| p.login_hint.clone());
    let page = PasswordPage {
        csrf: session.csrf_token().await?,
        action: next.at("/login"),
        username: typed.or(hint).unwrap_or_default(),
        client_name: pending.as_ref().map(|p| p.client_name.clone()),
        error: take_flash(&session).await?,
    };
    Ok(match pending {
        Some(p) => crate::http::csp::allow_form_target(page.into_response(), &p.redirect_uri),
        None => page.into_response(),
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

const WRONG: &str = "The username or password is not correct.";
const LAST_USERNAME: &str = "last_username";

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Query(next): Query<Continue>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    require_csrf(&session, &form.csrf).await?;
    let login = form.username.trim().to_lowercase();
    if login.is_empty() || form.password.is_empty() {
        flash(&session, "Enter your username and password.").await?;
        return Ok(see_other(&next.at("/login")));
    }
    let ip = peer.ip().to_string();
    let account = format!("login:{login}");
    let subjects = [
        (account.as_str(), throttle::ACCOUNT),
        (ip.as_str(), throttle::ADDRESS),
    ];
    if let Some(wait) = throttle::wait(&state.redis, Kind::Password, &subjects).await? {
        state.metrics.login("throttled");
        return Err(PageError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let user = users::credentials(&state.db, &login).await?;
    let password = Secret::new(form.password);
    let matches = state
        .hasher
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            throttle::failed(&state.redis, Kind::Password, &subjects).await?;
            state.metrics.login("bad_credentials");
            let mut conn = state.db.acquire().await?;
            let event = audit::Event {
                actor: &Actor::System,
                event: "login.failed",
                target: Some(&login),
                ip: Some(peer.ip()),
                details: json!({ "step": "password" }),
            };
            audit::record(&mut conn, event).await?;
            session.put(LAST_USERNAME, &form.username.trim()).await?;
            flash(&session, WRONG).await?;
            return Ok(see_other(&next.at("/login")));
        }
    };
    throttle::clear(&state.redis, Kind::Password, &account).await?;
    if user.totp_secret_sealed.is_some() {
        session.password_verified(user.id).await?;
        return Ok(see_other(&next.at("/login/mfa")));
    }
    super::mfa::complete(&state, &session, user.id, vec!["pwd".into()], peer).await?;
    after_sign_in(&session, &next).await
}
