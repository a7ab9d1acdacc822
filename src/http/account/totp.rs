//! Turning two-step verification on (scan a QR code rendered on the server, confirm with a
//! code; recovery codes are then shown once) and off (with the current password and a current
//! second factor; other sessions end).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{notice, show_codes_once};
use crate::crypto::{Kek, sealed_key_id};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::forms::{CodeForm, ConfirmForm};
use crate::http::page::see_other;
use crate::mfa::totp;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::store as users;

fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template, WebTemplate)]
#[template(path = "account/totp.html")]
struct EnrollPage {
    csrf: String,
    qr_data_uri: String,
    secret: String,
    error: Option<String>,
}

/// Whether a pending enrollment's secret is sealed under a key this server holds (it may have
/// been sealed before a key-encryption key rotation finished).
fn opens(sealed: &str, kek: &Kek) -> bool {
    sealed_key_id(sealed).is_ok_and(|id| kek.holds(&id))
}

pub async fn show(
    State(state): State<AppState>,
    SignedInPerson { user, .. }: SignedInPerson,
    session: TypedSession,
) -> Result<Response, PageError> {
    if user.totp_secret_sealed.is_some() {
        return Ok(see_other(&urls::account::overview()));
    }
    let kek = state.keys.kek();
    let pending = session.pending_totp().await?;
    let enrollment = match pending.filter(|sealed| opens(sealed, kek)) {
        Some(sealed) => totp::reveal(&sealed, &user.username, kek)?,
        // None pending, or sealed under a key-encryption key since removed: start again.
        None => {
            let enrollment = totp::enroll(&user.username, kek)?;
            session.set_pending_totp(&enrollment.sealed).await?;
            enrollment
        }
    };
    let page = EnrollPage {
        csrf: session.csrf_token().await?,
        qr_data_uri: totp::qr_data_uri(enrollment.otpauth_url.expose())?,
        // Groups of four are easier to type; authenticator apps ignore the spaces.
        secret: grouped(enrollment.secret_base32.expose()),
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<CodeForm>>,
) -> Result<Response, PageError> {
    let pending = session.pending_totp().await?;
    let Some(sealed) = pending.filter(|sealed| opens(sealed, state.keys.kek())) else {
        return Ok(see_other(&urls::account::totp()));
    };
    if user.totp_secret_sealed.is_some() {
        return Ok(see_other(&urls::account::overview()));
    }
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp::check(&sealed, &code, state.keys.kek())? else {
        session
            .set_flash(
                "That code is not correct. Check the time on your device and try the next code.",
            )
            .await?;
        return Ok(see_other(&urls::account::totp()));
    };
    users::set_totp(&state.db, signed_in.user_id, Some(&sealed), Some(step)).await?;
    session.clear_pending_totp().await?;
    show_codes_once(&state, &session, signed_in.user_id).await
}

/// Turns the second factor off after [`super::confirm`]; every other session ends.
pub async fn remove(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ConfirmForm>>,
) -> Result<Response, PageError> {
    if let Err(message) = super::confirm(&state, &user, form, peer).await? {
        session
            .set_flash(&format!("{message} Two-step verification is still on."))
            .await?;
        return Ok(see_other(&urls::account::overview()));
    }
    users::set_totp(&state.db, signed_in.user_id, None, None).await?;
    // Sessions that were signed in with the second factor end; this one continues under a new id.
    crate::sessions::sign_out_everywhere(
        &state.redis,
        signed_in.user_id,
        state.config.session_lifetime,
    )
    .await?;
    session
        .sign_in(signed_in.user_id, signed_in.amr.clone())
        .await?;
    notice(
        &session,
        "Two-step verification is off. Other sessions were signed out.",
    )
    .await
}
