//! Accepting an invitation: the page a mailed invitation link opens ([`show`]) lets the person
//! choose a password ([`accept`]) or, where passkeys are on, register a passkey ([`options`],
//! [`accept_passkey`]). Either uses the link once, verifies the address it reached, and signs the
//! person in: with the password (`pwd`), or with the new passkey, which is multi-factor by itself.
//! Administrators are sent on to set up a second factor. Opening the page does not use the link.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use uuid::Uuid;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::passkey::{problem, relying_party};
use crate::amr::Amr;
use crate::audit::{Actor, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::links::{LinkToken, NewPasswordForm, Unusable, unusable, usable};
use crate::http::page::see_other;
use crate::mail::links::{self, Purpose as LinkPurpose, Taken};
use crate::passkeys::ceremony::{self, Purpose};
use crate::passkeys::registration;
use crate::passkeys::store::{self as passkeys, PasskeyName};
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::reset::{self, Reset};

#[derive(Template, WebTemplate)]
#[template(path = "login/invitation.html")]
struct InvitationPage {
    csrf: String,
    token: String,
    username: String,
    /// The passkey choice, unless passkeys are off.
    passkeys: bool,
    error: Option<String>,
}

/// The invited account: its id, username and whether it is an administrator.
async fn invited(
    state: &AppState,
    token: &str,
) -> Result<Result<(Uuid, String, bool), Unusable>, PageError> {
    let user = match usable(reset::peek(state, token, LinkPurpose::Invite).await?) {
        Ok(used) => used.user_id,
        Err(why) => return Ok(Err(why)),
    };
    let row: Option<(String, bool)> =
        sqlx::query_as("select username, is_admin from users where id = $1")
            .bind(user)
            .fetch_optional(&state.db)
            .await
            .map_err(crate::error::Error::from)?;
    Ok(row
        .map(|(username, admin)| (user, username, admin))
        .ok_or(Unusable::Invalid))
}

async fn page(
    state: &AppState,
    session: &TypedSession,
    token: &str,
    username: String,
    error: Option<String>,
) -> Result<InvitationPage, PageError> {
    Ok(InvitationPage {
        csrf: session.csrf_token().await?,
        token: token.to_owned(),
        username,
        passkeys: state.passkeys.is_some(),
        error,
    })
}

/// `GET /invitation?token=`: who is invited, and the two ways to set up the account.
pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(link): Query<LinkToken>,
) -> Result<Response, PageError> {
    let Some(token) = link.get() else {
        return Ok(unusable(LinkPurpose::Invite, Unusable::Invalid));
    };
    let (_, username, _) = match invited(&state, token).await? {
        Ok(found) => found,
        Err(why) => return Ok(unusable(LinkPurpose::Invite, why)),
    };
    session.set_invitation(token).await?;
    Ok(page(&state, &session, token, username, None)
        .await?
        .into_response())
}

/// Signs the person in after accepting, and sends an administrator on to a second factor.
async fn welcome(
    state: &AppState,
    session: &TypedSession,
    user: Uuid,
    amr: Vec<Amr>,
    peer: std::net::SocketAddr,
    admin_needs_factor: bool,
) -> Result<Response, PageError> {
    super::mfa::complete(state, session, user, amr, peer).await?;
    if admin_needs_factor {
        session
            .set_account_notice("Welcome. Administrators need a second factor: set one up now.")
            .await?;
        return Ok(see_other(&urls::account::totp()));
    }
    session
        .set_account_notice("Welcome. Your account is ready.")
        .await?;
    Ok(see_other(&urls::account::overview()))
}

/// `POST /invitation`: a password chosen; the link is used in the same transaction.
pub async fn accept(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<NewPasswordForm>>,
) -> Result<Response, PageError> {
    let link = form.link();
    let Some(token) = link.get() else {
        return Ok(unusable(LinkPurpose::Invite, Unusable::Invalid));
    };
    let (_, username, admin) = match invited(&state, token).await? {
        Ok(found) => found,
        Err(why) => return Ok(unusable(LinkPurpose::Invite, why)),
    };
    let again = |error: String| async {
        let page = page(&state, &session, token, username.clone(), Some(error)).await?;
        Ok::<_, PageError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let password = match form.password() {
        Ok(password) => password,
        Err(why) => return again(why.into()).await,
    };
    match reset::through_link(&state, token, LinkPurpose::Invite, password, peer.ip()).await? {
        Reset::Done { user } => welcome(&state, &session, user, vec![Amr::Pwd], peer, admin).await,
        Reset::Weak(why) => again(why).await,
        Reset::Expired => Ok(unusable(LinkPurpose::Invite, Unusable::Expired)),
        Reset::Invalid => Ok(unusable(LinkPurpose::Invite, Unusable::Invalid)),
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// `POST /invitation/passkey/options`: a registration ceremony for the invited account whose
/// page this session opened.
pub async fn options(
    State(state): State<AppState>,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<NameForm>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let name = match PasskeyName::parse(&form.name) {
        Ok(name) => name,
        Err(why) => return Ok(problem(StatusCode::BAD_REQUEST, &why)),
    };
    let expired = || {
        problem(
            StatusCode::FORBIDDEN,
            "The invitation page expired: open the link again.",
        )
    };
    let Some(token) = session.take_invitation().await? else {
        return Ok(expired());
    };
    let Ok((user, username, _)) = invited(&state, &token).await? else {
        return Ok(expired());
    };
    // Kept for another try (a cancelled prompt asks for options again).
    session.set_invitation(&token).await?;
    let (options, registration) =
        registration::options(rp, user, &username, &username, &[]).map_err(anyhow::Error::msg)?;
    let purpose = Purpose::Register {
        user_id: user,
        name: name.as_str().to_owned(),
        state: registration,
    };
    ceremony::begin(&state.redis, &session, None, purpose).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(options),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct PasskeyAnswer {
    #[serde(default)]
    token: String,
    #[serde(default)]
    credential: String,
}

/// `POST /invitation/passkey`: the browser's answer; the passkey is stored and the link used.
pub async fn accept_passkey(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<PasskeyAnswer>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let link = LinkToken { token: form.token };
    let Some(token) = link.get() else {
        return Ok(unusable(LinkPurpose::Invite, Unusable::Invalid));
    };
    let (user, username, _) = match invited(&state, token).await? {
        Ok(found) => found,
        Err(why) => return Ok(unusable(LinkPurpose::Invite, why)),
    };
    let refused = |why: &'static str| async {
        let page = page(&state, &session, token, username.clone(), Some(why.into())).await?;
        Ok::<_, PageError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(&form.credential) else {
        return refused("Setting up a passkey needs JavaScript in this browser.").await;
    };
    let Some(Purpose::Register {
        user_id,
        name,
        state: ceremony_state,
    }) = ceremony::take(&state.redis, &session, None).await?
    else {
        return refused("The passkey request expired. Try again.").await;
    };
    if user_id != user {
        return refused("The passkey request expired. Try again.").await;
    }
    let registered = match registration::finish(rp, &answer, &ceremony_state) {
        Ok(registered) => registered,
        Err(e) => {
            tracing::info!(%user, error = %e, "passkey registration at an invitation refused");
            return refused(
                "The passkey could not be set up: the browser's answer did not check out.",
            )
            .await;
        }
    };
    let name = PasskeyName::parse(&name).map_err(anyhow::Error::msg)?;
    let by = By::new(Actor::User(user), Some(peer.ip()));
    // The link is used first, in its own transaction with the acceptance: a second answer with
    // the same link finds it gone.
    let mut tx = state.db.begin().await.map_err(crate::error::Error::from)?;
    match links::take(&mut tx, token, LinkPurpose::Invite).await? {
        Taken::Valid(used) if used.user_id == user => {}
        Taken::Expired => return Ok(unusable(LinkPurpose::Invite, Unusable::Expired)),
        _ => return Ok(unusable(LinkPurpose::Invite, Unusable::Invalid)),
    }
    crate::users::invite::accepted(&mut tx, user, &by).await?;
    tx.commit().await.map_err(crate::error::Error::from)?;
    passkeys::add(
        &state.db,
        user,
        &name,
        &registered.passkey,
        registered.backup_eligible,
        &by,
    )
    .await
    .map_err(|e| anyhow::anyhow!("storing the invited person's passkey: {e:?}"))?;
    session.take_invitation().await?;
    let amr = Amr::passkey(registered.backup_eligible).to_vec();
    // A passkey is a second factor (and phishing-resistant): an administrator needs no other.
    welcome(&state, &session, user, amr, peer, false).await
}
