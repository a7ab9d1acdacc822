//! `GET /authorize` and `GET /authorize/resume?request=<id>`. The request is checked, kept in the
//! session under a random id of its own (see [`crate::sessions::pending`]), and the person is led
//! through whatever is missing (sign-in, a fresher sign-in, a stronger one, consent), each page
//! carrying that id; then a code goes back to the client with `state` and `iss` (RFC 9207).

use axum::extract::{Query, State};
use axum::response::Response;

use crate::acr::Level;
use crate::clients::store as clients;
use crate::http::error::PageError;
use crate::http::extract::SignedInPerson;
use crate::http::login::{Continue, way_up};
use crate::http::page::{see_other, see_other_url};
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeParams, Rejection};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::step_up::StepUp;
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
            let request = request.at_least(state.config.passkeys.application_floor());
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

/// The next step for the pending request `id`: sign in, step up, consent, or the code.
async fn proceed(
    state: &AppState,
    session: &TypedSession,
    id: &RequestId,
) -> Result<Response, PageError> {
    let Some(Pending::Authorize(request)) = session.pending(id).await? else {
        return Err(no_request());
    };
    let person = SignedInPerson::of(state, session).await?.filter(|p| {
        request
            .auth_not_before
            .is_none_or(|t| p.signed_in.auth_time >= t)
    });
    let fail = |code: ErrorCode, description: &str| {
        redirect_error(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &OAuthError::new(code, description),
        )
    };
    let Some(SignedInPerson { signed_in, user }) = person else {
        if request.prompt_none {
            session.finish(id).await?;
            return Ok(fail(ErrorCode::LoginRequired, "the user is not signed in"));
        }
        return Ok(see_other(&urls::login::password().continuing(Some(id))));
    };
    let reached = Level::of(&signed_in.amr);
    if reached < request.min_level {
        return below_level(state, session, id, &request, reached, &user).await;
    }
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

/// The person signed in below the level `request` needs ([`crate::oauth::step_up::step_up`]): the passkey page, the
/// sign-in again (both come back here), the page to set up a second factor, or
/// `unmet_authentication_requirements` for the client.
async fn below_level(
    state: &AppState,
    session: &TypedSession,
    id: &RequestId,
    request: &AuthorizationRequest,
    reached: Level,
    user: &crate::users::store::Credentials,
) -> Result<Response, PageError> {
    let passkeys = state.config.passkeys.enabled();
    let required = request.min_level;
    let way = way_up(state, user, reached, required, request.prompt_none).await?;
    Ok(match way {
        Some(StepUp::Passkey) => see_other(&urls::login::passkey().continuing(Some(id))),
        Some(StepUp::SignInAgain) => see_other(&urls::login::password().continuing(Some(id))),
        Some(StepUp::Enroll) => {
            let client = &request.client_name;
            let or_passkey = if passkeys { " (or add a passkey)" } else { "" };
            session
                .set_flash(&format!(
                    "{client} asks you to sign in with a second factor. Set up an authenticator \
                     app here{or_passkey}, then go back to {client}."
                ))
                .await?;
            see_other(&urls::account::totp())
        }
        // `None` cannot be (the person is below the level); refused rather than sent round again.
        None | Some(StepUp::Unmet) => {
            session.finish(id).await?;
            let description = if request.prompt_none {
                format!(
                    "the user signed in with {}, and this request needs {}",
                    reached.describe(),
                    required.describe()
                )
            } else {
                format!(
                    "this request needs {}, which this server does not offer",
                    required.describe()
                )
            };
            redirect_error(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                &OAuthError::new(ErrorCode::UnmetAuthenticationRequirements, description),
            )
        }
    })
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
