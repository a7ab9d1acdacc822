//! `/admin/api/v1/keys`: list signing keys, rotate now, revoke.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiCaller, ApiError, ApiJson, done};
use crate::admin::keys::{self as ops, KeyView};
use crate::state::AppState;

/// `{"alg": "ES256"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Rotation {
    /// `RS256` or `ES256`.
    alg: String,
}

#[utoipa::path(get, path = "/admin/api/v1/keys", tag = "keys",
    responses((status = 200, description = "Every key, newest first", body = Vec<KeyView>)))]
pub async fn list(_: ApiCaller, State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(axum::Json(ops::list(&state).await?).into_response())
}

#[utoipa::path(post, path = "/admin/api/v1/keys/rotate", tag = "keys", request_body = Rotation,
    responses((status = 204, description = "A new key is published and signs after the pre-publish period"),
        (status = 400, body = super::ApiErrorBody)))]
pub async fn rotate(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Rotation>,
) -> Result<Response, ApiError> {
    ops::rotate(&state, &body.alg, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(post, path = "/admin/api/v1/keys/{kid}/revoke", tag = "keys",
    responses((status = 204, description = "Gone from the JWKS at once; another key signs"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn revoke(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(kid): Path<String>,
) -> Result<Response, ApiError> {
    ops::revoke(&state, &kid, &caller.by).await?;
    Ok(done())
}
