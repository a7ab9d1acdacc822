//! Forgotten passwords, the pages. `/password/forgot` asks for a username or address and answers
//! the same whatever it matched (the mail, if any, is queued apart from the answer by
//! [`crate::users::reset::request`]); too many requests from one address or for one name get a
//! 429 page, for a known name as for an unknown one. `/password/reset?token=` is where the mail's
//! link leads: opening it only looks the link up (mail scanners open links), and the form posts
//! the token back with the new password, which uses the link once. A link's token is checked for
//! its shape and length before anything looks it up. A reset never signs anyone in: it ends on
//! the sign-in page with a notice (ASVS 5.0 V6.4.3: the second factor is asked for as before).

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::account::password::as_sentence;
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::page::see_other;
use crate::mail::compose::hours;
use crate::mail::links::{Purpose, Taken};
use crate::secret::Secret;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::reset::{self, Refused, Reset};

/// The longest link token looked at: ours are 43 characters (256 bits in base64url).
const LINK_TOKEN: usize = 128;

#[derive(Template, WebTemplate)]
#[template(path = "login/forgot.html")]
struct ForgotPage {
    csrf: String,
    error: Option<String>,
}

/// A page with a message and where to go next: the link was sent, is used up, has expired.
#[derive(Template, WebTemplate)]
#[template(path = "login/reset_note.html")]
struct NotePage {
    title: &'static str,
    message: String,
    hint: Option<String>,
    /// Offer to ask for a new link (else only the way back to sign-in).
    ask_again: bool,
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
            ask_again: false,
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
        ask_again: false,
    };
    let retry = [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())];
    (StatusCode::TOO_MANY_REQUESTS, retry, page).into_response()
}

/// The link's page: the form for a live link, or why there is none.
pub async fn link(
    State(state): State<AppState>,
    session: TypedSession,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let presented = query.as_deref().and_then(token_in);
    let Some(token) = presented.as_deref().and_then(well_formed) else {
        return Ok(dead_link(Dead::Invalid));
    };
    match reset::check_link(&state, token).await? {
        Taken::Valid(_) => form_page(&session, token, None).await,
        Taken::Expired => Ok(dead_link(Dead::Expired)),
        Taken::Unknown => Ok(dead_link(Dead::Invalid)),
    }
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

#[tracing::instrument(name = "password_reset.reset", skip_all, fields(ip = %peer.ip()))]
pub async fn set_password(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<NewPasswordForm>>,
) -> Result<Response, PageError> {
    let Some(token) = well_formed(&form.token) else {
        return Ok(dead_link(Dead::Invalid));
    };
    // A dead link says so before anything about the password.
    match reset::check_link(&state, token).await? {
        Taken::Valid(_) => {}
        Taken::Expired => return Ok(dead_link(Dead::Expired)),
        Taken::Unknown => return Ok(dead_link(Dead::Invalid)),
    }
    if form.password.is_empty() {
        return form_page(&session, token, Some("Enter a new password.".into())).await;
    }
    if form.password != form.confirm {
        let mismatch = "The new passwords do not match.".to_owned();
        return form_page(&session, token, Some(mismatch)).await;
    }
    let password = Secret::new(form.password);
    match reset::reset(&state, token, password, peer.ip()).await? {
        Reset::Done { .. } => {
            session
                .set_sign_in_notice("Your password was changed. Sign in with it.")
                .await?;
            Ok(see_other(&urls::login::password()))
        }
        Reset::Weak(why) => form_page(&session, token, Some(as_sentence(&why))).await,
        Reset::Expired => Ok(dead_link(Dead::Expired)),
        Reset::Invalid => Ok(dead_link(Dead::Invalid)),
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

/// The first `token` of a query string.
fn token_in(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
}

/// `token` if it could be one of ours: base64url, not empty, not over [`LINK_TOKEN`].
fn well_formed(token: &str) -> Option<&str> {
    let shaped = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (shaped && !token.is_empty() && token.len() <= LINK_TOKEN).then_some(token)
}

/// Why a link leads nowhere.
enum Dead {
    Expired,
    /// Used, replaced by a newer link, of another purpose, unknown or malformed.
    Invalid,
}

/// The page of a dead link: 410 when it has expired, 400 otherwise.
fn dead_link(dead: Dead) -> Response {
    let (status, title, message) = match dead {
        Dead::Expired => (
            StatusCode::GONE,
            "This link has expired",
            format!(
                "A link to reset a password works for {}. Ask for a new one and use it soon.",
                hours(Purpose::Reset)
            ),
        ),
        Dead::Invalid => (
            StatusCode::BAD_REQUEST,
            "This link was already used or is not valid",
            "Each link works once, and a newer link replaces the ones before it. If you still \
             need to reset your password, ask for a new link."
                .to_owned(),
        ),
    };
    let page = NotePage {
        title,
        message,
        hint: None,
        ask_again: true,
    };
    (status, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_token_of_our_shape_and_length_is_looked_up() {
        let ours = "a".repeat(43);
        assert_eq!(well_formed(&ours), Some(ours.as_str()));
        assert_eq!(well_formed("aZ09-_"), Some("aZ09-_"));
        assert_eq!(well_formed(""), None);
        assert_eq!(well_formed(&"a".repeat(LINK_TOKEN + 1)), None);
        assert_eq!(well_formed("a b"), None);
        assert_eq!(well_formed("a%2F"), None);
        assert_eq!(well_formed("ä"), None);
    }

    #[test]
    fn the_first_token_of_the_query_counts() {
        assert_eq!(token_in("token=abc&token=def").as_deref(), Some("abc"));
        assert_eq!(token_in("x=1&token=a%2Db").as_deref(), Some("a-b"));
        assert_eq!(token_in("x=1"), None);
    }
}
