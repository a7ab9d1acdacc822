//! An account made on the sign-up page signs in only once its address is verified
//! ([`crate::users::signup`]). A right password for an account still waiting leads here instead
//! of signing in: the page says to use the link and offers to send it again (a few times an hour
//! per account). The session remembers which account gave its right password, so the link goes
//! to that account's own address and nobody can ask for another's.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::error::PageError;
use crate::http::extract::{Csrf, NoFields};
use crate::http::page::see_other;
use crate::ratelimit;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::signup::RESENDS_PER_ACCOUNT;
use crate::users::store as users;

#[derive(Template, WebTemplate)]
#[template(path = "login/confirm_address.html")]
struct AwaitingPage {
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
}

/// The account this session gave the right password for, while it still waits for its address.
async fn waiting(
    state: &AppState,
    session: &TypedSession,
) -> Result<Option<uuid::Uuid>, PageError> {
    let Some(user) = session.awaiting_address().await? else {
        return Ok(None);
    };
    let still = users::credentials_by_id(&state.db, user)
        .await?
        .is_some_and(|u| u.awaiting_verification && !u.disabled);
    Ok(still.then_some(user))
}

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
) -> Result<Response, PageError> {
    if waiting(&state, &session).await?.is_none() {
        return Ok(see_other(&urls::login::password()));
    }
    let page = AwaitingPage {
        csrf: session.csrf_token().await?,
        notice: session.take_sign_in_notice().await?,
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

/// Sends the link again, within the account's limit.
pub async fn resend(
    State(state): State<AppState>,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    let Some(user) = waiting(&state, &session).await? else {
        return Ok(see_other(&urls::login::password()));
    };
    let subject = user.to_string();
    match ratelimit::take(&state.redis, &[(RESENDS_PER_ACCOUNT, &subject)]).await? {
        Some(wait) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            let message = format!(
                "A link was sent several times already. Use the newest one, or ask again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            session.set_flash(&message).await?;
        }
        None => {
            crate::users::email::resend(&state.db, user).await?;
            session
                .set_sign_in_notice("We sent a new link. Earlier links no longer work.")
                .await?;
        }
    }
    Ok(see_other(&urls::login::confirm_address()))
}
