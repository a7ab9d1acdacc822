//! Step two: a TOTP code (RFC 6238; one step of skew; each code accepted once) or a single-use
//! recovery code. Failures are throttled separately from passwords.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::{after_sign_in, flash, require_csrf, see_other, take_flash};
use crate::audit::{self, Actor};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::forms::CodeForm;
use crate::mfa::{recovery, totp};
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::throttle::{self, Kind};
use crate::users::store as users;

/// How long the password step stays good for the second step.
const PASSWORD_STEP_VALID_SECS: i64 = 300;

#[derive(Template, WebTemplate)]
#[template(path = "login/mfa.html")]
struct MfaPage {
    csrf: String,
    error: Option<String>,
}

pub async fn show(session: TypedSession) -> Result<Response, PageError> {
    if session.pending_second_factor().await?.is_none() {
        return Ok(see_other("/login"));
    }
    let page = MfaPage {
        csrf: session.csrf_token().await?,
        error: take_flash(&session).await?,
    };
    Ok(page.into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    require_csrf(&session, &form.csrf).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let Some(pending) = session
        .pending_second_factor()
        .await?
        .filter(|p| now - p.at < PASSWORD_STEP_VALID_SECS)
    else {
        flash(&session, "Please sign in again.").await?;
        return Ok(see_other("/login"));
    };
    let ip = peer.ip().to_string();
    let account = format!("user:{}", pending.user_id);
    let subjects = [
        (account.as_str(), throttle::ACCOUNT),
        (ip.as_str(), throttle::ADDRESS),
    ];
    if let Some(wait) = throttle::wait(&state.redis, Kind::SecondFactor, &subjects).await? {
        state.metrics.login("throttled");
        return Err(PageError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let user = users::credentials_by_id(&state.db, pending.user_id)
        .await?
        .filter(|u| !u.disabled);
    let Some(sealed) = user.and_then(|u| u.totp_secret_sealed) else {
        return Ok(see_other("/login"));
    };
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let outcome = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        match totp::check(&sealed, &code, state.keys.kek())? {
            Some(step) if users::accept_totp_step(&state.db, pending.user_id, step).await? => {
                Ok("otp")
            }
            Some(_) => Err("That code was already used. Wait for the next code and enter it."),
            None => Err("That code is not correct."),
        }
    } else if recovery::redeem(&state.db, pending.user_id, &code).await? {
        Ok("otp")
    } else {
        Err("That code is not correct.")
    };
    match outcome {
        Ok(method) => {
            throttle::clear(&state.redis, Kind::SecondFactor, &account).await?;
            if pending.step_up {
                return step_up(&state, &session, pending.user_id, peer).await;
            }
            complete(
                &state,
                &session,
                pending.user_id,
                vec!["pwd".into(), method.into()],
                peer,
            )
            .await?;
            after_sign_in(&session).await
        }
        Err(message) => {
            throttle::failed(&state.redis, Kind::SecondFactor, &subjects).await?;
            state.metrics.login("bad_second_factor");
            let mut conn = state.db.acquire().await?;
            let event = audit::Event {
                actor: &Actor::User(pending.user_id),
                event: "login.failed",
                target: Some(&pending.user_id.to_string()),
                ip: Some(peer.ip()),
                details: json!({ "step": "mfa" }),
            };
            audit::record(&mut conn, event).await?;
            flash(&session, message).await?;
            Ok(see_other("/login/mfa"))
        }
    }
}

/// A signed-in person entered a second factor again (an admin before a change, ASVS 5.0 V6.4):
/// recorded, and back to the page that asked. Signed out meanwhile: sign in again.
async fn step_up(
    state: &AppState,
    session: &TypedSession,
    user_id: Uuid,
    peer: SocketAddr,
) -> Result<Response, PageError> {
    if !session.stepped_up(user_id).await? {
        flash(session, "Please sign in again.").await?;
        return Ok(see_other("/login"));
    }
    let mut conn = state.db.acquire().await?;
    let event = audit::Event {
        actor: &Actor::User(user_id),
        event: "login.stepped_up",
        target: Some(&user_id.to_string()),
        ip: Some(peer.ip()),
        details: json!({}),
    };
    audit::record(&mut conn, event).await?;
    after_sign_in(session).await
}

/// Signs the user in (a new session id) and records it.
pub async fn complete(
    state: &AppState,
    session: &TypedSession,
    user_id: Uuid,
    amr: Vec<String>,
    peer: SocketAddr,
) -> Result<(), PageError> {
    let signed_in = session.sign_in(user_id, amr).await?;
    state.metrics.login("success");
    let mut conn = state.db.acquire().await?;
    let event = audit::Event {
        actor: &Actor::User(user_id),
        event: "login.succeeded",
        target: Some(&user_id.to_string()),
        ip: Some(peer.ip()),
        details: json!({ "amr": signed_in.amr }),
    };
    audit::record(&mut conn, event).await?;
    Ok(())
}
