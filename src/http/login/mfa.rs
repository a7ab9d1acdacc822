//! Step two: a TOTP code (RFC 6238; one step of skew; each code accepted once) or a single-use
//! recovery code, checked behind a throttle reservation ([`crate::verify`]) counted separately
//! from passwords.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use uuid::Uuid;

use super::{Continue, PasskeyForm, after_sign_in, not_checked};
use crate::amr::Amr;
use crate::audit::{Actor, AuditEvent, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::forms::CodeForm;
use crate::http::page::see_other;
use crate::passkeys::store as passkeys;
use crate::sessions::{PasswordVerified, TypedSession};
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::store as users;
use crate::verify;

/// How long the password step stays good for the second step.
const PASSWORD_STEP_VALID_SECS: i64 = 300;

#[derive(Template, WebTemplate)]
#[template(path = "login/mfa.html")]
struct MfaPage {
    csrf: String,
    /// `/login/mfa` and `/login`, continuing the pending request.
    action: Href,
    restart: Href,
    /// The account has TOTP: the code form.
    totp: bool,
    /// The account has a passkey: its button.
    passkey: Option<PasskeyForm>,
    error: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let Some(pending) = session.pending_second_factor().await? else {
        return Ok(see_other(&next.at(urls::login::password())));
    };
    let user = users::credentials_by_id(&state.db, pending.user_id).await?;
    let totp = user.is_some_and(|u| u.totp_secret_sealed.is_some());
    let passkey = match PasskeyForm::continuing(&state, &next) {
        Some(form) if passkeys::any(&state.db, pending.user_id).await? => Some(form),
        _ => None,
    };
    let page = MfaPage {
        csrf: session.csrf_token().await?,
        action: next.at(urls::login::second_factor()),
        // Neither (both removed meanwhile): the code form, which then says sign in again.
        totp: totp || passkey.is_none(),
        passkey,
        restart: next.at(urls::login::password()),
        error: session.take_flash().await?,
    };
    let pending = next.authorization(&session).await?;
    Ok(super::sign_in_page(page, pending.as_ref()))
}

/// The first factor this session passed, while it is still good for the second step.
pub async fn pending_step(session: &TypedSession) -> Result<Option<PasswordVerified>, PageError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(session
        .pending_second_factor()
        .await?
        .filter(|p| now - p.at < PASSWORD_STEP_VALID_SECS))
}

#[tracing::instrument(name = "sign_in.second_factor", skip_all, fields(ip = %peer.ip()))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Query(next): Query<Continue>,
    Csrf(Form(form)): Csrf<Form<CodeForm>>,
) -> Result<Response, PageError> {
    let Some(pending) = pending_step(&session).await? else {
        session.set_flash("Please sign in again.").await?;
        return Ok(see_other(&next.at(urls::login::password())));
    };
    let user = users::credentials_by_id(&state.db, pending.user_id)
        .await?
        .filter(|u| !u.disabled);
    let Some(sealed) = user.and_then(|u| u.totp_secret_sealed) else {
        return Ok(see_other(&next.at(urls::login::password())));
    };
    let outcome = verify::second_factor(&state, pending.user_id, &sealed, &form.code, peer.ip())
        .await
        .map_err(|e| not_checked(&state, e))?;
    match outcome {
        Ok(()) => {
            if pending.step_up {
                return step_up(&state, &session, pending.user_id, peer, &next).await;
            }
            complete(
                &state,
                &session,
                pending.user_id,
                vec![Amr::Pwd, Amr::Otp],
                peer,
            )
            .await?;
            after_sign_in(&session, &next).await
        }
        Err(wrong) => {
            state.metrics.login("bad_second_factor");
            let mut conn = state.db.acquire().await?;
            let user = pending.user_id;
            By::new(Actor::User(user), Some(peer.ip()))
                .record(&mut conn, AuditEvent::SecondFactorFailed { user })
                .await?;
            session.set_flash(wrong.message()).await?;
            Ok(see_other(&next.at(urls::login::second_factor())))
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
    next: &Continue,
) -> Result<Response, PageError> {
    if !session.stepped_up(user_id).await? {
        session.set_flash("Please sign in again.").await?;
        return Ok(see_other(&urls::login::password()));
    }
    let mut conn = state.db.acquire().await?;
    By::new(Actor::User(user_id), Some(peer.ip()))
        .record(&mut conn, AuditEvent::SteppedUp { user: user_id })
        .await?;
    after_sign_in(session, next).await
}

/// Signs the user in (a new session id) and records it.
#[tracing::instrument(name = "sign_in.complete", skip_all, fields(%user_id, ip = %peer.ip()))]
pub async fn complete(
    state: &AppState,
    session: &TypedSession,
    user_id: Uuid,
    amr: Vec<Amr>,
    peer: SocketAddr,
) -> Result<(), PageError> {
    let signed_in = session.sign_in(user_id, amr).await?;
    state.metrics.login("success");
    let mut conn = state.db.acquire().await?;
    let event = AuditEvent::LoginSucceeded {
        user: user_id,
        amr: &signed_in.amr,
    };
    By::new(Actor::User(user_id), Some(peer.ip()))
        .record(&mut conn, event)
        .await?;
    Ok(())
}
