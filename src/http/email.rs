//! `/email/verify`: where a verification link leads. Opening the link only shows a button (a GET
//! changes nothing: mail scanners and link previews open links, RFC 9110 §9.2.1 safe methods);
//! the button posts the token back with the session's CSRF token, and only that uses the link
//! ([`crate::users::email::verify`]). Nobody needs to be signed in. A link that is too long,
//! unknown, used, replaced or expired gets a page that says so and what to do, never a 500.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::mail::links::{self, Purpose, Taken};
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::email::{self, Verified};

/// The longest token a link may carry: ours are 43 characters (256 bits in base64url), so more
/// than this is not one of ours and is refused before any lookup.
pub const MAX_TOKEN: usize = 128;

/// `?token=` of the link, or the hidden field of the form.
#[derive(Deserialize)]
pub struct TokenField {
    #[serde(default)]
    token: String,
}

/// The page with the button.
#[derive(Template, WebTemplate)]
#[template(path = "email/verify.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
}

/// What became of a link: confirmed, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Confirmed,
    Expired,
    Invalid,
}

#[derive(Template, WebTemplate)]
#[template(path = "email/verified.html")]
struct OutcomePage {
    outcome: Outcome,
    /// The address confirmed.
    email: String,
}

fn outcome(outcome: Outcome, email: String) -> Response {
    let status = match outcome {
        Outcome::Confirmed => StatusCode::OK,
        // The link existed but its time is over.
        Outcome::Expired => StatusCode::GONE,
        Outcome::Invalid => StatusCode::BAD_REQUEST,
    };
    (status, OutcomePage { outcome, email }).into_response()
}

/// The token as presented, if it can be one of ours at all.
fn bounded(token: &str) -> Result<&str, PageError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(PageError::BadRequest(
            "This link is incomplete. Open the link from the mail as it is, or ask for a new one from your account page.".into(),
        ));
    }
    if token.len() > MAX_TOKEN {
        return Err(PageError::BadRequest(
            "This link is not valid: it is too long. Open the link from the mail as it is, or ask for a new one from your account page.".into(),
        ));
    }
    Ok(token)
}

/// Shows the button, or at once why the link cannot work; the link is looked at, never used.
pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(query): Query<TokenField>,
) -> Result<Response, PageError> {
    let token = bounded(&query.token)?;
    let mut conn = state.db.acquire().await?;
    match links::peek(&mut conn, token, Purpose::Verify).await? {
        Taken::Valid(_) => Ok(ConfirmPage {
            csrf: session.csrf_token().await?,
            token: token.to_owned(),
        }
        .into_response()),
        Taken::Expired => Ok(outcome(Outcome::Expired, String::new())),
        Taken::Unknown => Ok(outcome(Outcome::Invalid, String::new())),
    }
}

/// Uses the link: the address is confirmed if the account still has it.
pub async fn confirm(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    Csrf(Form(form)): Csrf<Form<TokenField>>,
) -> Result<Response, PageError> {
    let token = bounded(&form.token)?;
    Ok(
        match email::verify(&state.db, token, Some(peer.ip())).await? {
            Verified::Now { email, .. } => outcome(Outcome::Confirmed, email),
            Verified::Expired => outcome(Outcome::Expired, String::new()),
            Verified::Invalid => outcome(Outcome::Invalid, String::new()),
        },
    )
}
