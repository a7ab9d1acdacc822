//! `/account/passkeys`: a person's passkeys, with when each was added and last used; adding one
//! (named; the script runs the registration ceremony and posts its answer), renaming, removing.
//! Adding and removing change how the account signs in, so when the account already has a second
//! factor they need one entered within `PORTCULLIS_ADMIN_STEP_UP` (ASVS 5.0 V6.4.3: a new
//! authenticator only after the person proved they hold an existing one); older, the person is
//! asked again and comes back here. The last passkey of an account without a password stays; an
//! account with a passkey may stop using its password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use crate::audit::{Actor, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, NoFields, SignedInPerson};
use crate::http::login::passkey::{problem, relying_party};
use crate::http::page::{filters, see_other};
use crate::passkeys::ceremony::{self, Purpose};
use crate::passkeys::registration;
use crate::passkeys::store::{self as passkeys, AddError, PasskeyName, PasskeySummary, Removed};
use crate::sessions::{SignedIn, TypedSession};
use crate::state::AppState;
use crate::urls::{self, Href};
use crate::users::store::Credentials;

#[derive(Template, WebTemplate)]
#[template(path = "account/passkeys.html")]
struct PasskeysPage {
    csrf: String,
    passkeys: Vec<PasskeySummary>,
    /// A second factor must be entered again before adding or removing.
    confirm_first: bool,
    full: bool,
    /// The account has a password, which it could stop using (it has a passkey).
    has_password: bool,
    notice: Option<String>,
    error: Option<String>,
}

impl PasskeysPage {
    fn rename(&self, id: &Uuid) -> Href {
        urls::account::rename_passkey(*id)
    }

    fn remove(&self, id: &Uuid) -> Href {
        urls::account::remove_passkey(*id)
    }
}

/// Whether adding or removing a passkey must wait for a fresh second factor: the account has one
/// (a TOTP secret or a passkey) and this session last entered it too long ago.
async fn stale(
    state: &AppState,
    session: &TypedSession,
    signed_in: &SignedIn,
    user: &Credentials,
) -> Result<bool, PageError> {
    Ok(has_second_factor(state, user).await?
        && !recent_second_factor(state, session, signed_in).await?)
}

/// Whether the account has a second factor: a TOTP secret or a passkey.
pub async fn has_second_factor(state: &AppState, user: &Credentials) -> Result<bool, PageError> {
    Ok(user.totp_secret_sealed.is_some() || passkeys::any(&state.db, user.id).await?)
}

/// Whether this session entered a second factor within `PORTCULLIS_ADMIN_STEP_UP`.
pub async fn recent_second_factor(
    state: &AppState,
    session: &TypedSession,
    signed_in: &SignedIn,
) -> Result<bool, PageError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let window = i64::try_from(state.config.admin_step_up.as_secs()).unwrap_or(i64::MAX);
    Ok(session
        .second_factor_at(signed_in)
        .await?
        .is_some_and(|at| now.saturating_sub(at) < window))
}

pub async fn show(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    session: TypedSession,
) -> Result<Response, PageError> {
    relying_party(&state)?;
    let held = passkeys::list(&state.db, user.id).await?;
    let page = PasskeysPage {
        csrf: session.csrf_token().await?,
        full: held.len() >= usize::try_from(crate::passkeys::MAX_PER_USER).unwrap_or(usize::MAX),
        passkeys: held,
        confirm_first: stale(&state, &session, &signed_in, &user).await?,
        has_password: user.password_hash.is_some(),
        notice: session.take_account_notice().await?,
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

/// Sends the person to enter a second factor, coming back here.
pub async fn confirm(
    SignedInPerson { user, .. }: SignedInPerson,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    ask_again(&session, user.id).await
}

async fn ask_again(session: &TypedSession, user_id: Uuid) -> Result<Response, PageError> {
    let why = "Confirm it is you before changing your passkeys.";
    step_up(session, user_id, &urls::account::passkeys(), why).await
}

/// Sends the person to enter a second factor (`why` says for what), coming back to `back`.
pub async fn step_up(
    session: &TypedSession,
    user_id: Uuid,
    back: &Href,
    why: &str,
) -> Result<Response, PageError> {
    session.set_return_to(back.as_str()).await?;
    session.ask_step_up(user_id).await?;
    session.set_flash(why).await?;
    Ok(see_other(&urls::login::second_factor()))
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// The options of a registration ceremony, as JSON for the script.
pub async fn options(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<NameForm>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let name = match PasskeyName::parse(&form.name) {
        Ok(name) => name,
        Err(why) => return Ok(problem(StatusCode::BAD_REQUEST, &why)),
    };
    if stale(&state, &session, &signed_in, &user).await? {
        let why = "Confirm it is you first: reload the page.";
        return Ok(problem(StatusCode::FORBIDDEN, why));
    }
    let held = passkeys::credentials(&state.db, user.id).await?;
    if held.len() >= usize::try_from(crate::passkeys::MAX_PER_USER).unwrap_or(usize::MAX) {
        let why = "You have as many passkeys as an account may hold. Remove one first.";
        return Ok(problem(StatusCode::CONFLICT, why));
    }
    let profile = crate::users::store::profile(&state.db, user.id).await?;
    let display = profile
        .and_then(|p| p.name)
        .unwrap_or_else(|| user.username.clone());
    let (options, registration) =
        registration::options(rp, user.id, &user.username, &display, &held)
            .map_err(anyhow::Error::msg)?;
    let purpose = Purpose::Register {
        user_id: user.id,
        name: name.as_str().to_owned(),
        state: registration,
    };
    ceremony::begin(&state.redis, &session, None, purpose).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(options),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    credential: String,
}

/// The browser's answer to the registration ceremony: checked, then stored under its name.
pub async fn add(
    State(state): State<AppState>,
    SignedInPerson { user, .. }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<AnswerForm>>,
) -> Result<Response, PageError> {
    let rp = relying_party(&state)?;
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(&form.credential) else {
        return problem_page(
            &session,
            "Adding a passkey needs JavaScript in this browser.",
        )
        .await;
    };
    let Some(Purpose::Register {
        user_id,
        name,
        state: registration,
    }) = ceremony::take(&state.redis, &session, None).await?
    else {
        return problem_page(&session, "The passkey request expired. Try again.").await;
    };
    if user_id != user.id {
        return problem_page(&session, "The passkey request expired. Try again.").await;
    }
    let registered = match registration::finish(rp, &answer, &registration) {
        Ok(registered) => registered,
        Err(e) => {
            tracing::info!(%user_id, error = %e, "passkey registration refused");
            let why = "The passkey could not be added: the browser's answer did not check out.";
            return problem_page(&session, why).await;
        }
    };
    let name = PasskeyName::parse(&name).map_err(anyhow::Error::msg)?;
    let by = By::new(Actor::User(user_id), Some(peer.ip()));
    let added = passkeys::add(
        &state.db,
        user_id,
        &name,
        &registered.passkey,
        registered.backup_eligible,
        &by,
    )
    .await;
    match added {
        Ok(_) => {}
        Err(AddError::Exists) => {
            return problem_page(&session, "That passkey is already registered.").await;
        }
        Err(AddError::TooMany) => {
            let why = "You have as many passkeys as an account may hold. Remove one first.";
            return problem_page(&session, why).await;
        }
        Err(AddError::Store(e)) => return Err(e.into()),
    }
    session
        .set_account_notice(&format!(
            "Passkey “{}” added. You can sign in with it now.",
            name.as_str()
        ))
        .await?;
    Ok(see_other(&urls::account::passkeys()))
}

async fn problem_page(session: &TypedSession, message: &str) -> Result<Response, PageError> {
    session.set_flash(message).await?;
    Ok(see_other(&urls::account::passkeys()))
}

fn passkey_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::NotFound)
}

pub async fn rename(
    State(state): State<AppState>,
    SignedInPerson { user, .. }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Path(id): Path<String>,
    Csrf(Form(form)): Csrf<Form<NameForm>>,
) -> Result<Response, PageError> {
    relying_party(&state)?;
    let id = passkey_id(&id)?;
    let name = match PasskeyName::parse(&form.name) {
        Ok(name) => name,
        Err(why) => return problem_page(&session, &why).await,
    };
    let by = By::new(Actor::User(user.id), Some(peer.ip()));
    if !passkeys::rename(&state.db, user.id, id, &name, &by).await? {
        return Err(PageError::NotFound);
    }
    session.set_account_notice("Passkey renamed.").await?;
    Ok(see_other(&urls::account::passkeys()))
}

pub async fn remove(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Path(id): Path<String>,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    relying_party(&state)?;
    let id = passkey_id(&id)?;
    if stale(&state, &session, &signed_in, &user).await? {
        return ask_again(&session, user.id).await;
    }
    let by = By::new(Actor::User(user.id), Some(peer.ip()));
    let name = match passkeys::remove(&state.db, user.id, id, &by).await? {
        Removed::Removed(name) => name,
        Removed::NotFound => return Err(PageError::NotFound),
        Removed::LastWayIn => {
            let why = "This is the only way into your account: add another passkey first.";
            return problem_page(&session, why).await;
        }
    };
    session
        .set_account_notice(&format!("Passkey “{name}” removed."))
        .await?;
    Ok(see_other(&urls::account::passkeys()))
}

/// Stops using the password: the account signs in with its passkeys alone (after a fresh second
/// factor, like any change to how the account signs in).
pub async fn passwordless(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    relying_party(&state)?;
    if stale(&state, &session, &signed_in, &user).await? {
        return ask_again(&session, user.id).await;
    }
    let by = By::new(Actor::User(user.id), Some(peer.ip()));
    if !passkeys::go_passwordless(&state.db, user.id, &by).await? {
        return problem_page(&session, "Add a passkey first.").await;
    }
    session
        .set_account_notice("Your account no longer has a password: sign in with a passkey.")
        .await?;
    Ok(see_other(&urls::account::passkeys()))
}
