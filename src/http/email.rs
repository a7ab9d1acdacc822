//! `/email/verify`: where a confirmation link leads. Opening the link only shows a button (a GET
//! changes nothing: mail scanners and link previews open links, RFC 9110 §9.2.1 safe methods);
//! the button posts the token back with the session's CSRF token, and only that uses the link
//! ([`crate::users::email::verify`]). Nobody needs to be signed in. A token of the wrong shape,
//! unknown, used, replaced or expired gets the shared page of [`crate::http::links`], never a 500.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::links::{LinkToken, Unusable, unusable, usable};
use crate::mail::links::{self, Purpose};
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::email::{self, Verified};

/// The page with the button.
#[derive(Template, WebTemplate)]
#[template(path = "email/verify.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
}

/// The address is confirmed.
#[derive(Template, WebTemplate)]
#[template(path = "email/verified.html")]
struct ConfirmedPage {
    email: String,
}

/// Shows the button, or at once why the link cannot work; the link is looked at, never used.
pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(link): Query<LinkToken>,
) -> Result<Response, PageError> {
    let Some(token) = link.get() else {
        return Ok(unusable(Purpose::Verify, Unusable::Invalid));
    };
    let mut conn = state.db.acquire().await?;
    Ok(
        match usable(links::peek(&mut conn, token, Purpose::Verify).await?) {
            Ok(_) => ConfirmPage {
                csrf: session.csrf_token().await?,
                token: token.to_owned(),
            }
            .into_response(),
            Err(why) => unusable(Purpose::Verify, why),
        },
    )
}

/// Uses the link: the address is confirmed if the account still has it.
pub async fn confirm(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    Csrf(Form(link)): Csrf<Form<LinkToken>>,
) -> Result<Response, PageError> {
    let Some(token) = link.get() else {
        return Ok(unusable(Purpose::Verify, Unusable::Invalid));
    };
    Ok(
        match email::verify(&state.db, token, Some(peer.ip())).await? {
            Verified::Now { email, .. } => ConfirmedPage { email }.into_response(),
            Verified::Expired => unusable(Purpose::Verify, Unusable::Expired),
            Verified::Invalid => unusable(Purpose::Verify, Unusable::Invalid),
        },
    )
}
