//! `GET /authorize` and `GET /authorize/resume?request=<id>`. The request is checked, kept in the
//! session under a random id of its own (see [`crate::sessions::pending`]), and the person is led
//! through whatever is missing (sign-in, a fresher sign-in, consent), each page carrying that id;
//! then a code goes back to the client with `state` and `iss` (RFC 9207).

use axum::extract::{Query, State};
use axum::response::Response;

use crate::clients::store as clients;
use crate::http::error::PageError;
use crate::http::extract::SignedInPerson;
use crate::http::login::Continue;
use crate::http::page::{see_other, see_other_url};
use crate::oauth::authorize::{self, AuthorizeParams, Rejection};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::sessions::TypedSession;
use crate::sessions::pending::{Pending, RequestId};
use crate::state::AppState;
use crate::tokens::Authentication;
use crate::tokens::codes::{self, CodeGrant};
use crate::urls;

pub async fn start(
    State(state): State<AppState>,
    session: TypedSession,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, PageError> {
    let client = match params.client_id.as_deref() {
        Some(id) => clients::find(&state.db, id).await?,
        None => None,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match authorize::check(params, client.as_ref(), now) {
        Err(Rejection::Page(message)) => Err(PageError::BadRequest(message)),
        Err(Rejection::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => Ok(redirect_error(
            &state,
            &redirect_uri,
            client_state.as_deref(),
            &error,
        )),
        Ok(request) => {
            let id = session.begin(Pending::Authorize(request)).await?;
            proceed(&state, &session, &id).await
        }
    }
}

pub async fn resume(
    State(state): State<AppState>,
    session: TypedSession,
    Query(next): Query<Continue>,
) -> Result<Response, PageError> {
    let Some(id) = next.id() else {
        return Err(no_request());
    };
    proceed(&state, &session, &id).await
}

fn no_request() -> PageError {
    PageError::BadRequest(
        "There is no sign-in in progress. Go back to the application and start again.".into(),
    )
}

/// The next step for the pending request `id`: sign in, consent, or the code.
async fn proceed(
    state: &AppState,
    session: &TypedSession,
    id: &RequestId,
) -> Result<Response, PageError> {
    let Some(Pending::Authorize(request)) = session.pending(id).await? else {
        return Err(no_request());
    };
    let signed_in = SignedInPerson::of(state, session)
        .await?
        .map(|person| person.signed_in)
        .filter(|s| request.auth_not_before.is_none_or(|t| s.auth_time >= t));
    let fail = |code: ErrorCode, description: &str| {
        redirect_error(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &OAuthError::new(code, description),
        )
    };
    let Some(signed_in) = signed_in else {
        if request.prompt_none {
            session.finish(id).await?;
            return Ok(fail(ErrorCode::LoginRequired, "the user is not signed in"));
        }
        return Ok(see_other(&urls::login::password().continuing(Some(id))));
    };
    let needs_consent = request.require_consent
        && (request.prompt_consent
            || !crate::consent::covers(
                &state.db,
                signed_in.user_id,
                &request.client_id,
                &request.scopes,
            )
            .await?);
    if needs_consent {
        if request.prompt_none {
            session.finish(id).await?;
            return Ok(fail(
                ErrorCode::ConsentRequired,
                "the user has not allowed this application",
            ));
        }
        return Ok(see_other(&urls::login::consent().continuing(Some(id))));
    }
    session.finish(id).await?;
    let grant = CodeGrant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth: Authentication {
            user_id: signed_in.user_id,
            auth_time: signed_in.auth_time,
            amr: signed_in.amr.clone(),
            sid: Some(signed_in.sid.clone()),
        },
    };
    let code = codes::issue(&state.redis, &grant, state.config.authorization_code_ttl).await?;
    Ok(see_other_url(&authorize::code_location(
        &state.config.issuer,
        &request.redirect_uri,
        request.state.as_deref(),
        code.expose(),
    )))
}

/// An error sent back to the client ([`authorize::error_location`]).
pub fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &OAuthError,
) -> Response {
    see_other_url(&authorize::error_location(
        &state.config.issuer,
        redirect_uri,
        client_state,
        error,
    ))
}
