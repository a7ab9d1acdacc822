//! `/admin/api/v1/clients`: the same operations as the client pages, as JSON.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ApiCaller, ApiError, ApiJson, ListQuery, Page, done};
use crate::admin::clients as ops;
use crate::clients::ClientSpec;
use crate::clients::store::{self, Client};
use crate::http::admin::paginate;
use crate::state::AppState;

/// A new secret, shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Secret {
    client_id: String,
    client_secret: Option<String>,
}

#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "clients", params(ListQuery),
    responses((status = 200, description = "A page of clients", body = Page<Client>)))]
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

#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "clients", request_body = ClientSpec,
    responses((status = 201, description = "Created; a confidential client's secret is in this answer only", body = Secret),
        (status = 400, body = super::ApiErrorBody), (status = 409, body = super::ApiErrorBody)))]
pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<ClientSpec>,
) -> Result<Response, ApiError> {
    let created = ops::create(&state, spec, &caller.by).await?;
    let body = Secret {
        client_id: created.client_id.into(),
        client_secret: created.client_secret.map(|s| s.expose().clone()),
    };
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/clients/{id}", tag = "clients",
    responses((status = 200, body = Client), (status = 404, body = super::ApiErrorBody)))]
pub async fn get(
    _: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match store::get(&state.db, &id).await? {
        Some(client) => Ok(axum::Json(client).into_response()),
        None => Err(crate::error::Error::NotFound(format!("no client with id `{id}`")).into()),
    }
}

#[utoipa::path(put, path = "/admin/api/v1/clients/{id}", tag = "clients", request_body = ClientSpec,
    responses((status = 204, description = "Saved"), (status = 400, body = super::ApiErrorBody),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn update(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<ClientSpec>,
) -> Result<Response, ApiError> {
    ops::update(&state, &id, spec, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(delete, path = "/admin/api/v1/clients/{id}", tag = "clients",
    responses((status = 204, description = "Deleted with its refresh tokens and consents"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn delete(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ops::delete(&state, &id, &caller.by).await?;
    Ok(done())
}

#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/secret", tag = "clients",
    responses((status = 200, description = "The new secret, in this answer only", body = Secret),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn rotate_secret(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let secret = ops::rotate_secret(&state, &id, &caller.by).await?;
    let body = Secret {
        client_id: id,
        client_secret: Some(secret.expose().clone()),
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response())
}

/// `{"enabled": bool}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Enabled {
    enabled: bool,
}

#[utoipa::path(put, path = "/admin/api/v1/clients/{id}/enabled", tag = "clients", request_body = Enabled,
    responses((status = 204, description = "A disabled client gets invalid_client at once on every replica"),
        (status = 404, body = super::ApiErrorBody)))]
pub async fn set_enabled(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Enabled>,
) -> Result<Response, ApiError> {
    ops::set_enabled(&state, &id, body.enabled, &caller.by).await?;
    Ok(done())
}

/// The whole set of names (roles or groups).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Names {
    pub names: Vec<String>,
}

#[utoipa::path(put, path = "/admin/api/v1/clients/{id}/roles", tag = "clients", request_body = Names,
    responses((status = 204, description = "The client's own roles replaced"),
        (status = 400, body = super::ApiErrorBody), (status = 404, body = super::ApiErrorBody)))]
pub async fn set_roles(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Names>,
) -> Result<Response, ApiError> {
    ops::set_roles(&state, &id, &body.names, &caller.by).await?;
    Ok(done())
}
