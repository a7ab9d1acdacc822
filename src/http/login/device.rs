//! The device flow's pages (RFC 8628 §3.3): the person enters the code shown on the device
//! (prefilled from `verification_uri_complete`), signs in if needed, sees which application on
//! which device asks for what, and allows or denies. The code space is small, so every code typed
//! first reserves an attempt per browser session and per IP address (the cookie alone is dropped
//! by an attacker), and is looked up only once reserved. The device being decided on is a pending
//! request of the session (see [`crate::sessions::pending`]): its id is in the approval page's
//! URL and form, so a decision applies to the device that page showed.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Continue, way_up};
use crate::acr::Level;
use crate::audit::{Actor, AuditEvent, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::page::see_other;
use crate::oauth::scope::Scope;
use crate::oauth::step_up::StepUp;
use crate::sessions::TypedSession;
use crate::sessions::pending::{Pending, RequestId};
use crate::state::AppState;
use crate::throttle::{self, Kind};
use crate::tokens::Authentication;
use crate::tokens::device::{self, DeviceRequest};
use crate::urls;

#[derive(Template, WebTemplate)]
#[template(path = "login/device.html")]
struct EnterPage {
    csrf: String,
    user_code: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Prefill {
    user_code: Option<String>,
}

pub async fn show(
    session: TypedSession,
    Query(prefill): Query<Prefill>,
) -> Result<Response, PageError> {
    let page = EnterPage {
        csrf: session.csrf_token().await?,
        user_code: prefill
            .user_code
            .unwrap_or_default()
            .chars()
            .take(16)
            .collect(),
        error: session.take_flash().await?,
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_code: String,
}

#[tracing::instrument(name = "device.user_code", skip_all, fields(ip = %peer.ip()))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<CodeForm>>,
) -> Result<Response, PageError> {
    // The session is identified by its CSRF token, which every valid post carries: simultaneous
    // posts from one session count against one subject without racing to create one.
    let subjects = throttle::code_from(&form.csrf, peer.ip());
    let reservation = throttle::reserve(&state.redis, Kind::DeviceCode, subjects).await?;
    let found = match device::normalize_user_code(&form.user_code) {
        Some(code) => device::by_user_code(&state.redis, &code).await?,
        None => None,
    };
    let Some((request_id, _)) = found else {
        session
            .set_flash("That code is not valid or has expired. Check the code on your device.")
            .await?;
        return Ok(see_other(&urls::device::enter()));
    };
    reservation.succeeded(&state.redis).await;
    let id = session.begin(Pending::Device(request_id)).await?;
    Ok(see_other(&urls::device::approve().continuing(Some(&id))))
}

#[derive(Template, WebTemplate)]
#[template(path = "login/device_approve.html")]
struct ApprovePage {
    csrf: String,
    request: String,
    client_name: String,
    username: String,
    user_code: String,
    permissions: Vec<String>,
}

/// The device request pending under `id`, if it can still be decided on.
async fn pending(
    state: &AppState,
    session: &TypedSession,
    id: Option<&RequestId>,
) -> Result<Option<(String, DeviceRequest)>, PageError> {
    let Some(id) = id else {
        return Ok(None);
    };
    let Some(Pending::Device(request_id)) = session.pending(id).await? else {
        return Ok(None);
    };
    let request = device::load(&state.redis, &request_id).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(request
        .filter(|r| r.status == device::Status::Pending && r.expires_at > now)
        .map(|r| (request_id, r)))
}

const GONE: &str = "This device request has expired or was already answered, so nothing was approved. Start again on the device.";

pub async fn approve_page(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let Some(id) = next.id() else {
        return Err(PageError::BadRequest(GONE.into()));
    };
    let Some((request_id, request)) = pending(&state, &session, Some(&id)).await? else {
        return Err(PageError::BadRequest(GONE.into()));
    };
    let Some(person) = SignedInPerson::of(&state, &session).await? else {
        return Ok(see_other(&next.at(urls::login::password())));
    };
    if let Some(way) = below_level(&state, &person, &request).await? {
        return step_up(&state, &session, (&id, &request_id), &request, way).await;
    }
    let page = ApprovePage {
        csrf: session.csrf_token().await?,
        request: id.as_str().to_owned(),
        client_name: request.client_name.clone(),
        username: person.user.username,
        user_code: request.user_code.clone(),
        permissions: request.scopes.iter().map(Scope::describe).collect(),
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// The id of the pending request the page showed.
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

#[tracing::instrument(name = "device.decide", skip_all)]
pub async fn decide(
    State(state): State<AppState>,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<DecisionForm>>,
) -> Result<Response, PageError> {
    let Some(id) = RequestId::parse(&form.request) else {
        return Err(PageError::BadRequest(GONE.into()));
    };
    let Some((request_id, request)) = pending(&state, &session, Some(&id)).await? else {
        return Err(PageError::BadRequest(GONE.into()));
    };
    let Some(person) = SignedInPerson::of(&state, &session).await? else {
        return Ok(see_other(&urls::login::password().continuing(Some(&id))));
    };
    let approved = form.decision == "approve";
    if approved && below_level(&state, &person, &request).await?.is_some() {
        // Signed in too weakly for this client: the approval page leads up first.
        return Ok(see_other(&urls::device::approve().continuing(Some(&id))));
    }
    let signed_in = person.signed_in;
    let auth = Authentication {
        user_id: signed_in.user_id,
        auth_time: signed_in.auth_time,
        amr: signed_in.amr.clone(),
        sid: Some(signed_in.sid.clone()),
    };
    device::decide(&state.redis, &request_id, approved.then_some(&auth)).await?;
    session.finish(&id).await?;
    let mut conn = state.db.acquire().await?;
    let (client_id, scopes) = (request.client_id.as_str(), &*request.scopes);
    let event = if approved {
        AuditEvent::DeviceApproved { client_id, scopes }
    } else {
        AuditEvent::DeviceDenied { client_id, scopes }
    };
    By::new(Actor::User(signed_in.user_id), None)
        .record(&mut conn, event)
        .await?;
    Ok(see_other(&urls::device::done(approved)))
}

/// How the signed-in `person` reaches the level the device's client needs (its minimum, and
/// the policy's floor, as at `/authorize`); `None` if they are there. Checked before the
/// approval, so a device is never told "approved" and then refused at the token endpoint.
async fn below_level(
    state: &AppState,
    person: &SignedInPerson,
    request: &DeviceRequest,
) -> Result<Option<StepUp>, PageError> {
    let client_min = crate::clients::store::find(&state.db, &request.client_id)
        .await?
        .map(|c| c.min_level)
        .unwrap_or_default();
    let required = client_min.max(state.config.passkeys.application_floor());
    let reached = Level::of(&person.signed_in.amr);
    way_up(state, &person.user, reached, required, false).await
}

/// Leads the person up to the client's level, coming back to the approval page; a level this
/// server cannot reach denies the device's request (it polls `access_denied`, RFC 8628 §3.5).
async fn step_up(
    state: &AppState,
    session: &TypedSession,
    (id, request_id): (&RequestId, &str),
    request: &DeviceRequest,
    way: StepUp,
) -> Result<Response, PageError> {
    let client = &request.client_name;
    Ok(match way {
        StepUp::Passkey => see_other(&urls::login::passkey().continuing(Some(id))),
        StepUp::SignInAgain => see_other(&urls::login::password().continuing(Some(id))),
        StepUp::Enroll => {
            session
                .set_flash(&format!(
                    "{client} asks you to sign in with a second factor. Set one up here, then \
                     enter the code from the device again."
                ))
                .await?;
            see_other(&urls::account::totp())
        }
        StepUp::Unmet => {
            device::decide(&state.redis, request_id, None).await?;
            session.finish(id).await?;
            return Err(PageError::BadRequest(format!(
                "{client} needs a way of signing in that this server does not offer, so the \
                 device cannot be approved."
            )));
        }
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "login/device_done.html")]
struct DonePage {
    approved: bool,
}

#[derive(Deserialize)]
pub struct Outcome {
    approved: Option<String>,
}

pub async fn done(Query(outcome): Query<Outcome>) -> Response {
    DonePage {
        approved: outcome.approved.is_some(),
    }
    .into_response()
}
