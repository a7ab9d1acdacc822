//! `/admin/api/v1/users`: the same operations as the user pages, as JSON.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clients::Names;
use super::{ApiCaller, ApiError, ApiJson, ListQuery, Page, done};
use crate::admin::users::{self as ops, NewUserSpec};
use crate::http::admin::paginate;
use crate::rbac::Kind;
use crate::sessions::index::LiveSession;
use crate::state::AppState;
use crate::users::store::{self, UserSummary};

/// A new user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    /// At least 8 characters, hard to guess, without the username or email (see the password
    /// policy). Left out: the person is invited instead (`email` is then required; the
    /// invitation mail lets them choose a password or a passkey). `username` may then be empty:
    /// the address is used.
    #[serde(default)]
    password: String,
    #[serde(default)]
    is_admin: bool,
}

/// `{"id": ...}` of what was created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    id: Uuid,
}

/// `{"value": bool}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    value: bool,
}

/// `{"email": ...}`: the new address, or `null` to remove it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmail {
    email: Option<String>,
}

/// `{"password": ...}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    password: String,
}

#[utoipa::path(get, path = "/admin/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, description = "A page of users", body = Page<UserSummary>)))]
pub async fn list(
    _: ApiCaller,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (items, paging) = paginate(query.page, |offset, limit| {
        store::page(&state.db, &query.q, offset, limit)
    })
    .await?;
    Ok(axum::Json(Page::new(items, paging)).into_response())
}

#[utoipa::path(post, path = "/admin/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = CreatedUser), (status = 400, body = super::ApiErrorBody),
        (status = 409, body = super::ApiErrorBody)))]
pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Response, ApiError> {
    let spec = NewUserSpec {
        username: input.username,
        email: input.email,
        name: input.name,
        password: input.password,
        is_admin: input.is_admin,
    };
    let id = ops::create(&state, spec, &caller.by).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedUser { id })).into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}", tag = "users",
    responses((status = 200, body = UserSummary), (status = 404, body = super::ApiErrorBody)))]
pub async fn get(
    _: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    match store::summary(&state.db, id).await? {
        Some(user) => Ok(axum::Json(user).into_response()),
        None => Err(crate::error::Error::NotFound("there is no such user".into()).into()),
    }
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/disabled", tag = "users", request_body = Flag,
    responses((status = 204, description = "Disabling ends their sessions and revokes their refresh tokens"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn set_disabled(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(flag): ApiJson<Flag>,
) -> Result<Response, ApiError> {
    ops::set_disabled(&state, id, flag.value, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/admin", tag = "users", request_body = Flag,
    responses((status = 204, description = "Admin role granted or removed"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn set_admin(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(flag): ApiJson<Flag>,
) -> Result<Response, ApiError> {
    ops::set_admin(&state, id, flag.value, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/password", tag = "users", request_body = NewPassword,
    responses((status = 204, description = "Set; their sessions and refresh tokens end"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn reset_password(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<Response, ApiError> {
    ops::reset_password(&state, id, body.password, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/email", tag = "users", request_body = NewEmail,
    responses((status = 204, description = "Set (not confirmed until the link sent to it is used; a confirmed old address is told) or removed"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody),
        (status = 409, body = super::ApiErrorBody)))]
pub async fn set_email(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<NewEmail>,
) -> Result<Response, ApiError> {
    ops::set_email(&state, id, body.email.as_deref(), &caller.by).await?;
    Ok(done())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/mfa", tag = "users",
    responses((status = 204, description = "TOTP and recovery codes removed"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn reset_mfa(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    ops::reset_mfa(&state, id, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/throttling", tag = "users",
    responses((status = 204, description = "The account's failed sign-in counts cleared"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn clear_throttling(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    ops::clear_throttling(&state, id, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}/sessions", tag = "users",
    responses((status = 200, body = Vec<LiveSession>), (status = 404, body = super::ApiErrorBody)))]
pub async fn sessions(
    _: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(ops::sessions(&state, id).await?).into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/sessions", tag = "users",
    responses((status = 204, description = "Every session ended"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn end_sessions(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    ops::end_sessions(&state, id, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/sessions/{handle}", tag = "users",
    params(("handle" = String, Path, description = "A session's `handle` from the sessions list")),
    responses((status = 204, description = "The session ended"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn end_session(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path((id, handle)): Path<(Uuid, String)>,
) -> Result<Response, ApiError> {
    ops::end_session(&state, id, &handle, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/roles", tag = "users", request_body = Names,
    responses((status = 204, description = "Replaced; tokens issued from now on carry them"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn set_roles(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Names>,
) -> Result<Response, ApiError> {
    ops::set_names(&state, id, Kind::Role, &body.names, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/groups", tag = "users", request_body = Names,
    responses((status = 204, description = "Replaced; tokens issued from now on carry them"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn set_groups(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Names>,
) -> Result<Response, ApiError> {
    ops::set_names(&state, id, Kind::Group, &body.names, &caller.by).await?;
    Ok(done())
}
