//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). With a valid `id_token_hint`
//! (verified with our keys even if expired, §2) the session ends at once and the browser goes back
//! to `post_logout_redirect_uri` if that client registered it, with `state`. Without a valid hint
//! the person is asked to confirm, so no site can sign people out by linking here.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::clients::store as clients;
use crate::http::error::PageError;
use crate::http::forms::CsrfForm;
use crate::http::login::{require_csrf, see_other};
use crate::oauth::redirect;
use crate::sessions::TypedSession;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "logout.html")]
struct LogoutPage {
    csrf: String,
    signed_out: bool,
    client_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

/// Where to send the browser after signing out.
#[derive(Debug, Serialize, Deserialize)]
struct AfterLogout {
    uri: String,
    state: Option<String>,
}

const PENDING_LOGOUT: &str = "logout";

/// The client named by a valid ID token of ours (expiry ignored), if any.
fn hinted_client(state: &AppState, hint: &str) -> Option<String> {
    let (payload, _) = state.keys.verify(hint).ok()?;
    if payload.issuer() != Some(state.config.issuer.as_str()) {
        return None;
    }
    payload.claim("aud").and_then(|aud| match aud {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    })
}

pub async fn start(
    State(state): State<AppState>,
    session: TypedSession,
    Query(params): Query<LogoutParams>,
) -> Result<Response, PageError> {
    let hinted = params
        .id_token_hint
        .as_deref()
        .and_then(|h| hinted_client(&state, h));
    let client_id = hinted.clone().or(params.client_id.clone());
    let client = match &client_id {
        Some(id) => clients::find(&state.db, id).await?,
        None => None,
    };
    let after = match (&client, &params.post_logout_redirect_uri) {
        // Only a URI the client registered, matched exactly.
        (Some(c), Some(uri)) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
            Some(AfterLogout {
                uri: uri.clone(),
                state: params.state.clone(),
            })
        }
        (_, Some(_)) => {
            return Err(PageError::BadRequest(
                "The application asked to send you to an address it has not registered.".into(),
            ));
        }
        _ => None,
    };
    if hinted.is_some() {
        end_session(&state, &session).await?;
        return Ok(match after {
            Some(after) => back_to_client(&after),
            None => see_other("/logout/done"),
        });
    }
    match &after {
        Some(after) => session.put(PENDING_LOGOUT, after).await?,
        None => {
            session.take::<AfterLogout>(PENDING_LOGOUT).await?;
        }
    }
    let page = LogoutPage {
        csrf: session.csrf_token().await?,
        signed_out: false,
        client_name: client.map(|c| c.name),
    };
    Ok(page.into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    session: TypedSession,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    require_csrf(&session, &form.csrf).await?;
    let after: Option<AfterLogout> = session.take(PENDING_LOGOUT).await?;
    end_session(&state, &session).await?;
    Ok(match after {
        Some(after) => back_to_client(&after),
        None => see_other("/logout/done"),
    })
}

pub async fn done() -> Result<Response, PageError> {
    Ok(LogoutPage {
        csrf: String::new(),
        signed_out: true,
        client_name: None,
    }
    .into_response())
}

fn back_to_client(after: &AfterLogout) -> Response {
    let params: Vec<(&str, &str)> = after
        .state
        .as_deref()
        .map(|s| vec![("state", s)])
        .unwrap_or_default();
    see_other(&redirect::with_params(&after.uri, &params))
}

/// Deletes the session from Redis (and the cookie) and records it.
async fn end_session(state: &AppState, session: &TypedSession) -> Result<(), PageError> {
    let who = session
        .signed_in(state.config.session_lifetime, &state.redis)
        .await?;
    session.sign_out().await?;
    if let Some(who) = who {
        let mut conn = state.db.acquire().await?;
        audit::record_simple(
            &mut conn,
            &Actor::User(who.user_id),
            "logout",
            &who.user_id.to_string(),
            serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}
