//! `GET/POST /userinfo` (OIDC Core §5.3): the claims of the access token's subject that its scopes
//! release. The token comes as `Authorization: Bearer` or, for POST, as a form parameter
//! (RFC 6750 §2.1, §2.2); errors follow RFC 6750 §3. The token is checked by
//! [`access::accept`], the same check introspection makes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::extract::bearer_token;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::server_error;
use crate::state::AppState;
use crate::tokens::access::{self, Rejected};
use crate::tokens::user_claims;
use crate::users::store as users;

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let from_header = bearer_token(&headers).map(str::to_owned);
    let from_body = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return OAuthError::new(ErrorCode::InvalidRequest, "send the token one way only")
                .into_response();
        }
        (Some(t), None) | (None, Some(t)) => t,
        // RFC 6750 §3.1: no credentials, no error code.
        (None, None) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            )
                .into_response();
        }
    };
    let (answer, client_id) = match claims(&state, &token).await {
        Ok((body, client_id)) => (
            (
                [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                Json(serde_json::Value::Object(body)),
            )
                .into_response(),
            Some(client_id),
        ),
        Err((error, client_id)) => (error.into_response(), client_id),
    };
    // A browser-based client may read the answer cross-origin (the token's client decides).
    crate::http::cors::for_client(answer, client_id)
}

type Claims = serde_json::Map<String, serde_json::Value>;

/// The claims, and the token's client; or the error, and the client of a token of ours that is
/// no longer good.
async fn claims(
    state: &AppState,
    token: &str,
) -> Result<(Claims, String), (OAuthError, Option<String>)> {
    let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidToken, why);
    let access = access::accept(&state.issuer(), &state.stores(), token)
        .await
        .map_err(|e| match e {
            Rejected::Invalid { why, client_id } => (invalid(why), client_id),
            Rejected::Unavailable(e) => (server_error(e), None),
        })?;
    let client_id = Some(access.client_id.clone());
    if !access.scopes.contains(&crate::oauth::scope::Scope::OPENID) {
        let error = OAuthError::new(ErrorCode::InsufficientScope, "the openid scope is required");
        return Err((error, client_id));
    }
    let Some(user_id) = access.person else {
        return Err((invalid("the token is not for a person"), client_id));
    };
    let profile = match users::profile(&state.db, user_id).await {
        Ok(Some(profile)) if !profile.disabled => profile,
        Ok(_) => return Err((invalid("the user is disabled"), client_id)),
        Err(e) => return Err((server_error(e), client_id)),
    };
    Ok((user_claims(&profile, &access.scopes), access.client_id))
}
