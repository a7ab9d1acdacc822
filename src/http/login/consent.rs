//! Step three, when the client asks for it: the person sees which application asks for what, in
//! plain words, and allows or denies. Allowing is remembered; denying sends `access_denied` back.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{PENDING_AUTHORIZATION, require_csrf, see_other};
use crate::http::error::PageError;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::scope;
use crate::sessions::{SignedIn, TypedSession};
use crate::state::AppState;
use crate::users::store as users;

#[derive(Template, WebTemplate)]
#[template(path = "login/consent.html")]
struct ConsentPage {
    csrf: String,
    client_name: String,
    username: String,
    permissions: Vec<String>,
}

const NOTHING_PENDING: &str =
    "There is no request waiting for your approval. Go back to the application and start again.";

pub async fn show(
    State(state): State<AppState>,
    session: TypedSession,
) -> Result<Response, PageError> {
    let (request, signed_in) = match pending(&state, &session).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(redirect),
    };
    let profile = users::profile(&state.db, signed_in.user_id).await?;
    let page = ConsentPage {
        csrf: session.csrf_token().await?,
        client_name: request.client_name.clone(),
        username: profile.map(|p| p.username).unwrap_or_default(),
        permissions: request.scopes.iter().map(|s| scope::describe(s)).collect(),
    };
    Ok(page.into_response())
}

/// The request waiting for consent and who is signed in, or where to go instead.
async fn pending(
    state: &AppState,
    session: &TypedSession,
) -> Result<Result<(AuthorizationRequest, SignedIn), Response>, PageError> {
    let Some(request) = session
        .get::<AuthorizationRequest>(PENDING_AUTHORIZATION)
        .await?
    else {
        return Err(PageError::BadRequest(NOTHING_PENDING.into()));
    };
    match session
        .signed_in(state.config.session_lifetime, &state.redis)
        .await?
    {
        Some(signed_in) => Ok(Ok((request, signed_in))),
        None => Ok(Err(see_other("/login"))),
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

pub async fn submit(
    State(state): State<AppState>,
    session: TypedSession,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    require_csrf(&session, &form.csrf).await?;
    let (request, signed_in) = match pending(&state, &session).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(redirect),
    };
    if form.decision != "approve" {
        session
            .take::<AuthorizationRequest>(PENDING_AUTHORIZATION)
            .await?;
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
        return Ok(crate::http::oauth::authorize::redirect_error(
            &state,
            &request.redirect_uri,
            request.state.as_deref(),
            &error,
        ));
    }
    crate::consent::grant(
        &state.db,
        signed_in.user_id,
        &request.client_id,
        &request.scopes,
    )
    .await?;
    // `prompt=consent` is now satisfied; the stored consent covers the rest.
    let request = AuthorizationRequest {
        prompt_consent: false,
        ..request
    };
    session.put(PENDING_AUTHORIZATION, &request).await?;
    Ok(see_other("/authorize/resume"))
}
