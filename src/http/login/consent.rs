//! Step three, when the client asks for it: the person sees which application asks for what, in
//! plain words, and allows or denies. Allowing is remembered; denying sends `access_denied` back.
//! The page and its form carry the id of the one pending request they show, and a decision
//! applies to that request only: a form for a request that is no longer pending (decided, or
//! dropped for newer ones) is refused and approves nothing.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Continue;
use crate::http::csp::allow_form_target;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::page::{see_other, see_other_url};
use crate::oauth::authorize::{self, AuthorizationRequest};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope::Scope;
use crate::sessions::TypedSession;
use crate::sessions::pending::{Pending, RequestId};
use crate::state::AppState;
use crate::urls;

#[derive(Template, WebTemplate)]
#[template(path = "login/consent.html")]
struct ConsentPage {
    csrf: String,
    request: String,
    client_name: String,
    username: String,
    permissions: Vec<String>,
}

const NOTHING_PENDING: &str = "This request is no longer waiting for your approval (it was already answered, or newer sign-ins replaced it). Nothing was allowed. Go back to the application and start again.";

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let (id, request, person) = match pending(&state, &session, next.id()).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let page = ConsentPage {
        csrf: session.csrf_token().await?,
        request: id.as_str().to_owned(),
        client_name: request.client_name.clone(),
        username: person.user.username,
        permissions: request.scopes.iter().map(Scope::describe).collect(),
    };
    // Allow and Deny both end in a 303 to the client.
    Ok(allow_form_target(
        page.into_response(),
        &request.redirect_uri,
    ))
}

type Found = (RequestId, AuthorizationRequest, SignedInPerson);

/// The authorization request `id` waiting for consent and who is signed in, or where to go
/// instead.
async fn pending(
    state: &AppState,
    session: &TypedSession,
    id: Option<RequestId>,
) -> Result<Result<Found, Response>, PageError> {
    let Some(id) = id else {
        return Err(PageError::BadRequest(NOTHING_PENDING.into()));
    };
    let Some(Pending::Authorize(request)) = session.pending(&id).await? else {
        return Err(PageError::BadRequest(NOTHING_PENDING.into()));
    };
    match SignedInPerson::of(state, session).await? {
        Some(person) => Ok(Ok((id, request, person))),
        None => Ok(Err(see_other(
            &urls::login::password().continuing(Some(&id)),
        ))),
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    /// The id of the request the page showed.
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

#[tracing::instrument(name = "sign_in.consent", skip_all)]
pub async fn submit(
    State(state): State<AppState>,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ConsentForm>>,
) -> Result<Response, PageError> {
    let shown = RequestId::parse(&form.request);
    let (id, request, person) = match pending(&state, &session, shown).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    if form.decision != "approve" {
        session.finish(&id).await?;
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
        return Ok(see_other_url(&authorize::error_location(
            &state.config.issuer,
            &request.redirect_uri,
            request.state.as_deref(),
            &error,
        )));
    }
    crate::consent::grant(
        &state.db,
        person.user.id,
        &request.client_id,
        &request.scopes,
    )
    .await?;
    // `prompt=consent` is now satisfied; the stored consent covers the rest.
    let request = AuthorizationRequest {
        prompt_consent: false,
        ..request
    };
    session
        .update_pending(&id, Pending::Authorize(request))
        .await?;
    Ok(see_other(&urls::login::resume().continuing(Some(&id))))
}
