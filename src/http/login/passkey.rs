//! Passkeys at sign-in, in three ways: alone from `/login` (a discoverable credential, the button
//! or the browser's autofill; no password and no second step, since a user-verified passkey is
//! multi-factor by itself), as the second factor after a password, and as a step-up of a signed-in
//! session to phishing-resistant sign-in ([`show`], when an application asks for it). The script
//! (`static/passkeys.js`) fetches the ceremony's options from [`options`] and posts the answer to
//! [`submit`] as an ordinary form, so every outcome is a 303 like the other steps.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use super::{Continue, after_sign_in, not_checked};
use crate::amr::Amr;
use crate::audit::{Actor, AuditEvent, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::page::see_other;
use crate::passkeys::assertion::{self, Expect};
use crate::passkeys::ceremony::{self, Purpose};
use crate::passkeys::{RelyingParty, store as passkeys};
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::store as users;

/// The relying party, or 404 when passkeys are off.
pub fn relying_party(state: &AppState) -> Result<&RelyingParty, PageError> {
    state.passkeys.as_deref().ok_or(PageError::NotFound)
}

/// Whose passkey a confirmation asks for: the person who just entered their password, else the
/// person signed in.
async fn confirming(state: &AppState, session: &TypedSession) -> Result<Option<Uuid>, PageError> {
    if let Some(pending) = super::mfa::pending_step(session).await? {
        return Ok(Some(pending.user_id));
    }
    Ok(SignedInPerson::of(state, session)
        .await?
        .map(|p| p.signed_in.user_id))
}

#[derive(Deserialize)]
pub struct OptionsForm {
    /// `signin` (any discoverable passkey) or `confirm` (this person's passkeys).
    #[serde(default)]
    purpose: String,
}

/// The options of a new ceremony, as JSON for the script; the state stays in Redis
/// ([`ceremony`]).
pub async fn options(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
    Csrf(Form(form)): Csrf<Form<OptionsForm>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let (options, purpose) = match form.purpose.as_str() {
        "signin" => {
            let (options, state) = rp
                .webauthn()
                .start_discoverable_authentication()
                .map_err(|e| anyhow::anyhow!("passkey options: {e}"))?;
            (options, Purpose::SignIn { state })
        }
        "confirm" => {
            let Some(user_id) = confirming(&state, &session).await? else {
                return Ok(problem(StatusCode::CONFLICT, "Sign in first."));
            };
            let held = passkeys::credentials(&state.db, user_id).await?;
            if held.is_empty() {
                return Ok(problem(
                    StatusCode::CONFLICT,
                    "This account has no passkey.",
                ));
            }
            let keys: Vec<_> = held.into_iter().map(|p| p.credential.0).collect();
            let (options, state) = rp
                .webauthn()
                .start_passkey_authentication(&keys)
                .map_err(|e| anyhow::anyhow!("passkey options: {e}"))?;
            (options, Purpose::Confirm { user_id, state })
        }
        _ => return Ok(problem(StatusCode::BAD_REQUEST, "Unknown purpose.")),
    };
    ceremony::begin(&state.redis, &session, next.id().as_ref(), purpose).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(options)).into_response())
}

/// A JSON refusal for the script, which shows `message`.
pub fn problem(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login/passkey.html")]
struct ConfirmPage {
    csrf: String,
    /// `/login/passkey` and its options, continuing the pending request.
    action: Href,
    options: Href,
    client_name: Option<String>,
    has_passkey: bool,
    restart: Href,
    error: Option<String>,
}

/// The page that asks a signed-in person to confirm with a passkey (a step-up to
/// phishing-resistant sign-in for an application that asked for it).
pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    relying_party(&state)?;
    let Some(user_id) = confirming(&state, &session).await? else {
        return Ok(see_other(&next.at(urls::login::password())));
    };
    let pending = next.authorization(&session).await?;
    let page = ConfirmPage {
        csrf: session.csrf_token().await?,
        action: next.at(urls::login::passkey()),
        options: next.at(urls::login::passkey_options()),
        client_name: pending.as_ref().map(|p| p.client_name.clone()),
        has_passkey: passkeys::any(&state.db, user_id).await?,
        restart: next.at(urls::login::password()),
        error: session.take_flash().await?,
    };
    Ok(super::sign_in_page(page, pending.as_ref()))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    /// The `PublicKeyCredential` as JSON (WebAuthn §5.1), binary members in base64url.
    #[serde(default)]
    credential: String,
}

/// The answer of a ceremony begun by [`options`]: checked, then the person is signed in,
/// their password confirmed, or their session raised.
#[tracing::instrument(name = "sign_in.passkey", skip_all, fields(ip = %peer.ip()))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Query(next): Query<Continue>,
    Csrf(Form(form)): Csrf<Form<AnswerForm>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let back = match super::mfa::pending_step(&session).await? {
        Some(_) => next.at(urls::login::second_factor()),
        None if SignedInPerson::of(&state, &session).await?.is_some() => {
            next.at(urls::login::passkey())
        }
        None => next.at(urls::login::password()),
    };
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(&form.credential) else {
        return refuse(&session, &back, "The passkey did not answer. Try again.").await;
    };
    let Some(purpose) = ceremony::take(&state.redis, &session, next.id().as_ref()).await? else {
        return refuse(&session, &back, "The passkey request expired. Try again.").await;
    };
    let expect = match purpose {
        Purpose::SignIn { state } => Expect::Anyone(state),
        Purpose::Confirm { user_id, state } => Expect::User(user_id, state),
        Purpose::Register { .. } => {
            return refuse(&session, &back, "The passkey request expired. Try again.").await;
        }
    };
    let confirming = matches!(expect, Expect::User(..));
    let proof = assertion::check(&state, rp, expect, &answer, peer.ip())
        .await
        .map_err(|e| not_checked(&state, e))?;
    let proof = match proof {
        Ok(proof) => proof,
        Err(refusal) => {
            state.metrics.login("bad_passkey");
            return refuse(&session, &back, refusal.message()).await;
        }
    };
    let enabled = users::credentials_by_id(&state.db, proof.user_id)
        .await?
        // An account still waiting for its address has no passkey yet; were one added
        // otherwise, it would not sign in either.
        .is_some_and(|u| !u.disabled && !u.awaiting_verification);
    if !enabled {
        return refuse(&session, &back, assertion::Refusal::NotRecognised.message()).await;
    }
    if !confirming {
        // Alone: the passkey is the whole sign-in.
        super::mfa::complete(&state, &session, proof.user_id, proof.amr.to_vec(), peer).await?;
        return after_sign_in(&session, &next).await;
    }
    match super::mfa::pending_step(&session).await? {
        Some(pending) if !pending.step_up && pending.user_id == proof.user_id => {
            let mut amr = vec![Amr::Pwd];
            amr.extend(proof.amr);
            super::mfa::complete(&state, &session, proof.user_id, amr, peer).await?;
        }
        _ => {
            if !session.raise(proof.user_id, &proof.amr).await? {
                session.set_flash("Please sign in again.").await?;
                return Ok(see_other(&next.at(urls::login::password())));
            }
            let mut conn = state.db.acquire().await?;
            By::new(Actor::User(proof.user_id), Some(peer.ip()))
                .record(
                    &mut conn,
                    AuditEvent::SteppedUp {
                        user: proof.user_id,
                    },
                )
                .await?;
        }
    }
    after_sign_in(&session, &next).await
}

/// Back to the step the answer came from, saying why it was refused.
async fn refuse(session: &TypedSession, back: &Href, message: &str) -> Result<Response, PageError> {
    session.set_flash(message).await?;
    Ok(see_other(back))
}
