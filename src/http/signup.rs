//! `/signup` (routed only with `PORTCULLIS_SIGNUP=open`; otherwise there is no such page): the form,
//! and the account it makes, waiting for its address ([`crate::users::signup`]). Every field is
//! bounded at the edge (`crate::limits`) and parsed into its type here; the password meets the
//! one policy. A valid form counts against the client address's sign-ups (atomically, so
//! simultaneous ones cannot slip past the limit) before anything is hashed or stored; a form the
//! password policy refuses gives its count back.
//!
//! The answer to a valid form is "check your mail" whether or not the username or the address
//! was free: what is taken is not told to anyone who asks (ASVS 5.0 V6.3.8), and the page says
//! what to do when no mail comes. The hash is computed either way, so the time does not tell
//! either.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::account::password::as_sentence;
use crate::http::client_addr::ClientAddr;
use crate::http::error::{ErrorPage, PageError};
use crate::http::extract::Csrf;
use crate::ratelimit;
use crate::secret::Secret;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::password_policy::check_new_password;
use crate::users::signup::{self, NewSignUp};
use crate::users::{DisplayName, Email, Username};

#[derive(Template, WebTemplate)]
#[template(path = "signup/form.html")]
struct SignupPage {
    csrf: String,
    action: Href,
    username: String,
    email: String,
    name: String,
    /// `example.com or example.org` when only those are accepted.
    domains: Option<String>,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup/sent.html")]
struct SentPage {
    email: String,
    /// How long the link is valid, in hours.
    hours: u64,
}

fn domains(state: &AppState) -> Option<String> {
    state.config.signup_domains.as_ref().map(|d| d.listed())
}

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
) -> Result<Response, PageError> {
    let page = SignupPage {
        csrf: session.csrf_token().await?,
        action: urls::mail::signup(),
        username: String::new(),
        email: String::new(),
        name: String::new(),
        domains: domains(&state),
        error: None,
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// A form's fields, parsed.
struct Parsed {
    username: Username,
    email: Email,
    name: Option<DisplayName>,
}

/// Parses the fields; `Err` is the sentence the form shows.
fn parse(state: &AppState, form: &SignupForm) -> Result<Parsed, String> {
    let username = Username::parse(&form.username).map_err(|_| {
        "Choose a username of 1 to 64 letters, digits and . _ @ - (no spaces).".to_owned()
    })?;
    let email = Email::parse(&form.email).map_err(|_| "Enter your email address.".to_owned())?;
    if let Some(refused) = signup::outside(state.config.signup_domains.as_ref(), &email) {
        return Err(refused);
    }
    let name = match form.name.trim() {
        "" => None,
        given => Some(DisplayName::parse(given).map_err(|_| {
            "A name must be at most 200 characters, without control characters.".to_owned()
        })?),
    };
    if form.password.is_empty() {
        return Err("Choose a password.".into());
    }
    if form.password != form.confirm {
        return Err("The passwords do not match.".into());
    }
    Ok(Parsed {
        username,
        email,
        name,
    })
}

#[tracing::instrument(name = "signup", skip_all, fields(ip = %peer.ip()))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<SignupForm>>,
) -> Result<Response, PageError> {
    let parsed = match parse(&state, &form) {
        Ok(parsed) => parsed,
        Err(problem) => return again(&state, &session, &form, problem).await,
    };
    let from = peer.ip().to_string();
    let limit = signup::PER_ADDRESS;
    if let Some(wait) = ratelimit::take(&state.redis, &[(limit, &from)]).await? {
        return Ok(too_many(wait.as_secs()));
    }
    let password = Secret::new(form.password.clone());
    let policy = check_new_password(
        &password,
        parsed.username.as_str(),
        Some(parsed.email.as_str()),
    )
    .await;
    if let Err(why) = policy {
        ratelimit::give_back(&state.redis, limit, &from).await?;
        return again(&state, &session, &form, as_sentence(&why)).await;
    }
    let hash = state.hasher.hash(password).await?;
    let new = NewSignUp {
        username: &parsed.username,
        email: &parsed.email,
        name: parsed.name.as_ref(),
        password_hash: &hash,
    };
    let outcome = signup::sign_up(&state.db, new, Some(peer.ip())).await?;
    tracing::debug!(
        created = matches!(outcome, signup::SignedUp::Created(_)),
        "sign-up"
    );
    let hours = crate::mail::links::Purpose::Verify.lifetime().as_secs() / 3600;
    let sent = SentPage {
        email: parsed.email.as_str().to_owned(),
        hours,
    };
    Ok(sent.into_response())
}

/// The form again with what was typed (never the password) and why it was refused.
async fn again(
    state: &AppState,
    session: &TypedSession,
    form: &SignupForm,
    problem: String,
) -> Result<Response, PageError> {
    let page = SignupPage {
        csrf: session.csrf_token().await?,
        action: urls::mail::signup(),
        username: form.username.trim().to_owned(),
        email: form.email.trim().to_owned(),
        name: form.name.trim().to_owned(),
        domains: domains(state),
        error: Some(problem),
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// 429, in words: how long until this network may sign up again.
fn too_many(seconds: u64) -> Response {
    let wait = match seconds.div_ceil(60).max(1) {
        1 => "a minute".to_owned(),
        minutes @ 2..60 => format!("{minutes} minutes"),
        60 => "an hour".to_owned(),
        minutes => format!("{} hours", minutes.div_ceil(60)),
    };
    let page = ErrorPage {
        title: "Please wait".into(),
        message: format!(
            "Too many accounts were made from your network recently. Please try again in {wait}."
        ),
    };
    let retry = [(header::RETRY_AFTER, seconds.to_string())];
    (StatusCode::TOO_MANY_REQUESTS, retry, page).into_response()
}
