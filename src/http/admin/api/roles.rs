//! `/admin/api/v1/roles` and `/admin/api/v1/groups`: define, list and delete names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiCaller, ApiError, ApiJson, done};
use crate::admin::roles as ops;
use crate::rbac::Kind;
use crate::rbac::store::{self, Definition};
use crate::state::AppState;

/// A role or group to define.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definable {
    /// 1 to 64 letters, digits and `. _ : / -`, starting with a letter or digit.
    name: String,
    #[serde(default)]
    description: String,
}

async fn list(state: &AppState, kind: Kind) -> Result<Response, ApiError> {
    Ok(axum::Json(store::list(&state.db, kind).await?).into_response())
}

async fn define(
    state: &AppState,
    kind: Kind,
    caller: &ApiCaller,
    input: Definable,
) -> Result<Response, ApiError> {
    ops::define(state, kind, &input.name, &input.description, &caller.by).await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove(
    state: &AppState,
    kind: Kind,
    caller: &ApiCaller,
    name: &str,
) -> Result<Response, ApiError> {
    ops::remove(state, kind, name, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(get, path = "/admin/api/v1/roles", tag = "roles",
    responses((status = 200, body = Vec<Definition>)))]
pub async fn list_roles(_: ApiCaller, State(state): State<AppState>) -> Result<Response, ApiError> {
    list(&state, Kind::Role).await
}

#[utoipa::path(post, path = "/admin/api/v1/roles", tag = "roles", request_body = Definable,
    responses((status = 201, description = "Defined"), (status = 400, body = super::ApiErrorBody),
        (status = 409, body = super::ApiErrorBody)))]
pub async fn create_role(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Definable>,
) -> Result<Response, ApiError> {
    define(&state, Kind::Role, &caller, input).await
}

#[utoipa::path(delete, path = "/admin/api/v1/roles/{name}", tag = "roles",
    responses((status = 204, description = "Deleted with every assignment"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn delete_role(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    remove(&state, Kind::Role, &caller, &name).await
}

#[utoipa::path(get, path = "/admin/api/v1/groups", tag = "groups",
    responses((status = 200, body = Vec<Definition>)))]
pub async fn list_groups(
    _: ApiCaller,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    list(&state, Kind::Group).await
}

#[utoipa::path(post, path = "/admin/api/v1/groups", tag = "groups", request_body = Definable,
    responses((status = 201, description = "Defined"), (status = 400, body = super::ApiErrorBody),
        (status = 409, body = super::ApiErrorBody)))]
pub async fn create_group(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Definable>,
) -> Result<Response, ApiError> {
    define(&state, Kind::Group, &caller, input).await
}

#[utoipa::path(delete, path = "/admin/api/v1/groups/{name}", tag = "groups",
    responses((status = 204, description = "Deleted with every assignment"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn delete_group(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    remove(&state, Kind::Group, &caller, &name).await
}
