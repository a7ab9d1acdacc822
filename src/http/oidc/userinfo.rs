//! `GET/POST /userinfo` (OIDC Core §5.3): the claims of the access token's subject that its scopes
//! release. The token comes as `Authorization: Bearer` or, for POST, as a form parameter
//! (RFC 6750 §2.1, §2.2); errors follow RFC 6750 §3.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::grants::server_error;
use crate::state::AppState;
use crate::tokens::{check_access_token, denylist, user_claims};
use crate::users::store as users;

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
        .map(|v| v[7..].trim().to_owned());
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
    match claims(&state, &token).await {
        Ok(body) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Json(serde_json::Value::Object(body)),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn claims(
    state: &AppState,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, OAuthError> {
    let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidToken, why);
    let access =
        check_access_token(&state.keys, &state.config.issuer, token).map_err(|e| invalid(e.0))?;
    if denylist::is_denied(&state.redis, &access.jti)
        .await
        .map_err(server_error)?
    {
        return Err(invalid("the access token was revoked"));
    }
    if !access.scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the openid scope is required",
        ));
    }
    let user_id: Uuid = access
        .subject
        .parse()
        .map_err(|_| invalid("the token is not for a person"))?;
    let profile = users::profile(&state.db, user_id)
        .await
        .map_err(server_error)?
        .filter(|p| !p.disabled)
        .ok_or_else(|| invalid("the user is disabled"))?;
    Ok(user_claims(&profile, &access.scopes))
}
