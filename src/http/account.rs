//! `/account`: who is signed in, and a way to sign out. (Self-service for the second factor,
//! recovery codes, password and approved applications grows here.)

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::error::PageError;
use crate::http::login::see_other;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::users::store as users;

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    csrf: String,
    username: String,
    name: Option<String>,
    totp_enrolled: bool,
    method: String,
}

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
) -> Result<Response, PageError> {
    let Some(signed_in) = session.signed_in(state.config.session_lifetime).await? else {
        return Ok(see_other("/login"));
    };
    let Some(user) = users::credentials_by_id(&state.db, signed_in.user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        session.sign_out().await?;
        return Ok(see_other("/login"));
    };
    let profile = users::profile(&state.db, signed_in.user_id).await?;
    let method = if signed_in.amr.iter().any(|m| m == "otp") {
        "password and authentication code"
    } else {
        "password"
    };
    let page = AccountPage {
        csrf: session.csrf_token().await?,
        username: user.username,
        name: profile.and_then(|p| p.name),
        totp_enrolled: user.totp_secret_sealed.is_some(),
        method: method.into(),
    };
    Ok(page.into_response())
}
