//! Forgotten passwords, the pages. `/password/forgot` asks for a username or address and answers
//! the same whatever it matched (the mail, if any, is queued apart from the answer by
//! [`crate::users::reset::request`]); too many requests from one address or for one name get a
//! 429 page, for a known name as for an unknown one. `/password/reset?token=` is where the mail's
//! link leads: opening it only looks the link up (mail scanners open links), and the form posts
//! the token back with the new password, which uses the link once. The token's shape and the
//! page of a link that cannot be used are those of every mail link ([`crate::http::links`]).
//! A reset never signs anyone in: it ends on the sign-in page with a notice (ASVS 5.0 V6.4.3:
//! the second factor is asked for as before).

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::account::password::as_sentence;
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::links::{LinkToken, NewPasswordForm, Unusable, unusable, usable};
use crate::http::page::see_other;
use crate::mail::compose::hours;
use crate::mail::links::Purpose;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::reset::{self, Refused, Reset};

#[derive(Template, WebTemplate)]
#[template(path = "login/forgot.html")]
struct ForgotPage {
    csrf: String,
    error: Option<String>,
}

/// A page with a message and the way back to sign-in: a link was sent, or too many were.
#[derive(Template, WebTemplate)]
#[template(path = "login/reset_note.html")]
struct NotePage {
    title: &'static str,
    message: String,
    hint: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "login/reset.html")]
struct NewPasswordPage {
    csrf: String,
    /// Where the form posts: the link's page, without the token (it travels in the body).
    action: Href,
    token: String,
    error: Option<String>,
}

/// `?sent=1`: the page after a request.
#[derive(Deserialize)]
pub struct Sent {
    #[serde(default)]
    sent: Option<String>,
}

pub async fn forgot(session: TypedSession, Query(q): Query<Sent>) -> Result<Response, PageError> {
    if q.sent.is_some() {
        let page = NotePage {
            title: "Check your mail",
            message: format!(
                "If an account with that name or address exists, we sent a link to its address. \
                 It works for {}.",
                hours(Purpose::Reset)
            ),
            hint: Some(
                "Nothing after a few minutes? Look in your spam folder, or ask your administrator."
                    .into(),
            ),
        };
        return Ok(page.into_response());
    }
    let page = ForgotPage {
        csrf: session.csrf_token().await?,
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    username: String,
}

#[tracing::instrument(name = "password_reset.request", skip_all, fields(ip = %peer.ip()))]
pub async fn ask(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ForgotForm>>,
) -> Result<Response, PageError> {
    let login = form.username.trim();
    if login.is_empty() {
        session
            .set_flash("Enter your username or email address.")
            .await?;
        return Ok(see_other(&urls::mail::forgot_password()));
    }
    match reset::request(&state, login, peer.ip()).await {
        Ok(()) => Ok(see_other(&urls::mail::forgot_password_sent())),
        Err(Refused::Throttled(wait)) => Ok(throttled(wait)),
    }
}

/// 429 with `Retry-After` (RFC 6585 §4), in words a person can act on.
fn throttled(wait: Duration) -> Response {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let page = NotePage {
        title: "Please try again later",
        message: format!(
            "Too many reset links were asked for. Please try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
        hint: Some(format!(
            "If you asked a moment ago, the link may already be in your mail: it works for {}.",
            hours(Purpose::Reset)
        )),
    };
    let retry = [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())];
    (StatusCode::TOO_MANY_REQUESTS, retry, page).into_response()
}

/// The link's page: the form for a live link, or why there is none.
pub async fn link(
    State(state): State<AppState>,
    session: TypedSession,
    Query(link): Query<LinkToken>,
) -> Result<Response, PageError> {
    let Some(token) = link.get() else {
        return Ok(unusable(Purpose::Reset, Unusable::Invalid));
    };
    match live(&state, token).await? {
        Ok(()) => form_page(&session, token, None).await,
        Err(why) => Ok(unusable(Purpose::Reset, why)),
    }
}

/// Whether the reset link `token` can be used, without using it.
async fn live(state: &AppState, token: &str) -> Result<Result<(), Unusable>, PageError> {
    Ok(usable(reset::check_link(state, token).await?).map(|_| ()))
}

#[tracing::instrument(name = "password_reset.reset", skip_all, fields(ip = %peer.ip()))]
pub async fn set_password(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<NewPasswordForm>>,
) -> Result<Response, PageError> {
    let link = form.link();
    let Some(token) = link.get() else {
        return Ok(unusable(Purpose::Reset, Unusable::Invalid));
    };
    // A dead link says so before anything about the password.
    if let Err(why) = live(&state, token).await? {
        return Ok(unusable(Purpose::Reset, why));
    }
    let again = |error: String| async {
        let page = form_page(&session, token, Some(error)).await?;
        Ok::<_, PageError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let password = match form.password() {
        Ok(password) => password,
        Err(why) => return again(why.into()).await,
    };
    match reset::reset(&state, token, password, peer.ip()).await? {
        Reset::Done { .. } => {
            session
                .set_sign_in_notice("Your password was changed. Sign in with it.")
                .await?;
            Ok(see_other(&urls::login::password()))
        }
        Reset::Weak(why) => again(as_sentence(&why)).await,
        Reset::Expired => Ok(unusable(Purpose::Reset, Unusable::Expired)),
        Reset::Invalid => Ok(unusable(Purpose::Reset, Unusable::Invalid)),
    }
}

async fn form_page(
    session: &TypedSession,
    token: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let page = NewPasswordPage {
        csrf: session.csrf_token().await?,
        action: urls::mail::link_page(Purpose::Reset),
        token: token.to_owned(),
        error,
    };
    Ok(page.into_response())
}
