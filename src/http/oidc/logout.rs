//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). With an `id_token_hint` issued
//! to this very session (see [`crate::oidc::logout`]; expired is fine, §2) the session ends at once
//! and the browser goes back to `post_logout_redirect_uri` if that client registered it, with
//! `state`. With any other hint, or none, the person is asked to confirm (§4), so no site can sign
//! people out by linking here, not even with a token of its own.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audit::{Actor, AuditEvent, By};
use crate::clients::store as clients;
use crate::http::csp::allow_form_target;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, NoFields};
use crate::http::page::{see_other, see_other_url};
use crate::oidc::logout::IdTokenHint;
use crate::sessions::{AfterLogout, TypedSession};
use crate::state::AppState;
use crate::urls;

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

pub async fn start(
    State(state): State<AppState>,
    session: TypedSession,
    Query(params): Query<LogoutParams>,
) -> Result<Response, PageError> {
    let hint = params
        .id_token_hint
        .as_deref()
        .and_then(|h| IdTokenHint::verify(&state.keys, &state.config.issuer, h));
    // §2: with both, the client_id must be the one the ID token was issued to.
    if let (Some(hint), Some(client_id)) = (&hint, &params.client_id)
        && hint.client_id != *client_id
    {
        return Err(PageError::BadRequest(
            "The sign-out request names two different applications.".into(),
        ));
    }
    let client_id = hint
        .as_ref()
        .map(|h| h.client_id.clone())
        .or(params.client_id.clone());
    let client = match &client_id {
        Some(id) => clients::find(&state.db, id).await?,
        None => None,
    };
    let after = match (&client, &params.post_logout_redirect_uri) {
        // Only a URI the client registered, matched exactly.
        (Some(c), Some(uri))
            if c.post_logout_redirect_uris
                .iter()
                .any(|r| r.as_str() == uri) =>
        {
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
    let signed_in = session
        .signed_in(state.config.session_lifetime, &state.redis)
        .await?;
    let without_asking = match (&hint, &signed_in) {
        (Some(hint), Some(s)) => hint.names_session(&s.user_id.to_string(), &s.sid),
        // Nobody is signed in here: there is nothing to end, only the way back to the client.
        (Some(_), None) => true,
        (None, _) => false,
    };
    if without_asking {
        end_session(&state, &session).await?;
        return Ok(match after {
            Some(after) => back_to_client(&after),
            None => see_other(&urls::login::logged_out()),
        });
    }
    session.set_after_logout(after.as_ref()).await?;
    let page = LogoutPage {
        csrf: session.csrf_token().await?,
        signed_out: false,
        client_name: client.map(|c| c.name),
    }
    .into_response();
    // Signing out ends in a 303 to the client's registered URI.
    Ok(match &after {
        Some(after) => allow_form_target(page, &after.uri),
        None => page,
    })
}

pub async fn confirm(
    State(state): State<AppState>,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    let after = session.take_after_logout().await?;
    end_session(&state, &session).await?;
    Ok(match after {
        Some(after) => back_to_client(&after),
        None => see_other(&urls::login::logged_out()),
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
    see_other_url(&urls::client_redirect(&after.uri, &params))
}

/// Deletes the session from Redis (and the cookie) and records it.
async fn end_session(state: &AppState, session: &TypedSession) -> Result<(), PageError> {
    let who = session
        .signed_in(state.config.session_lifetime, &state.redis)
        .await?;
    session.sign_out().await?;
    if let Some(who) = who {
        let mut conn = state.db.acquire().await?;
        By::new(Actor::User(who.user_id), None)
            .record(&mut conn, AuditEvent::Logout { user: who.user_id })
            .await?;
    }
    Ok(())
}
