//! `/admin/api/v1`: the admin JSON API, for scripts. A caller presents a Bearer access token that
//! a client got for itself with `client_credentials` and the `admin` scope (which an
//! administrator must have allowed that client); the client must still be enabled. Requests and
//! answers are JSON; a mistake is 400 with `error` and `error_description` and changes nothing.
//! The operations are [`crate::admin`]'s, shared with the admin pages, so validation and audit
//! are the same. The OpenAPI 3 document at `/admin/api/openapi.json` is generated from these
//! handlers and types (utoipa), not written by hand.

pub mod clients;
pub mod keys;
pub mod roles;
pub mod users;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::audit::{Actor, By};
use crate::error::Error;
use crate::state::AppState;
use crate::tokens::access::{self, Rejected};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/api/openapi.json", get(openapi))
        .route(
            "/admin/api/v1/clients",
            get(clients::list).post(clients::create),
        )
        .route(
            "/admin/api/v1/clients/{id}",
            get(clients::get)
                .put(clients::update)
                .delete(clients::delete),
        )
        .route(
            "/admin/api/v1/clients/{id}/secret",
            post(clients::rotate_secret),
        )
        .route(
            "/admin/api/v1/clients/{id}/enabled",
            put(clients::set_enabled),
        )
        .route("/admin/api/v1/clients/{id}/roles", put(clients::set_roles))
        .route("/admin/api/v1/users", get(users::list).post(users::create))
        .route("/admin/api/v1/users/{id}", get(users::get))
        .route(
            "/admin/api/v1/users/{id}/disabled",
            put(users::set_disabled),
        )
        .route("/admin/api/v1/users/{id}/admin", put(users::set_admin))
        .route(
            "/admin/api/v1/users/{id}/password",
            put(users::reset_password),
        )
        .route(
            "/admin/api/v1/users/{id}/mfa",
            axum::routing::delete(users::reset_mfa),
        )
        .route(
            "/admin/api/v1/users/{id}/throttling",
            axum::routing::delete(users::clear_throttling),
        )
        .route(
            "/admin/api/v1/users/{id}/sessions",
            get(users::sessions).delete(users::end_sessions),
        )
        .route(
            "/admin/api/v1/users/{id}/sessions/{handle}",
            axum::routing::delete(users::end_session),
        )
        // The address: a link goes to the new one.
        .route("/admin/api/v1/users/{id}/email", put(users::set_email))
        .route("/admin/api/v1/users/{id}/roles", put(users::set_roles))
        .route("/admin/api/v1/users/{id}/groups", put(users::set_groups))
        .route(
            "/admin/api/v1/roles",
            get(roles::list_roles).post(roles::create_role),
        )
        .route(
            "/admin/api/v1/roles/{name}",
            axum::routing::delete(roles::delete_role),
        )
        .route(
            "/admin/api/v1/groups",
            get(roles::list_groups).post(roles::create_group),
        )
        .route(
            "/admin/api/v1/groups/{name}",
            axum::routing::delete(roles::delete_group),
        )
        .route("/admin/api/v1/keys", get(keys::list))
        .route("/admin/api/v1/keys/rotate", post(keys::rotate))
        .route("/admin/api/v1/keys/{kid}/revoke", post(keys::revoke))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis admin API",
        description = "Manage clients, users, roles, groups and signing keys. Authenticate with a Bearer access token issued by client_credentials with the `admin` scope."
    ),
    paths(
        clients::list, clients::create, clients::get, clients::update, clients::delete,
        clients::rotate_secret, clients::set_enabled, clients::set_roles,
        users::list, users::create, users::get, users::set_disabled, users::set_admin,
        users::reset_password, users::reset_mfa, users::clear_throttling, users::sessions,
        users::end_sessions, users::end_session, users::set_roles, users::set_groups,
        users::set_email,
        roles::list_roles, roles::create_role, roles::delete_role,
        roles::list_groups, roles::create_group, roles::delete_group,
        keys::list, keys::rotate, keys::revoke,
    ),
    components(schemas(ApiErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build();
            components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        }
    }
}

/// The generated OpenAPI document (public: it describes the API, not its data).
async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::from(Error::Other(e.into())).into_response(),
    }
}

/// An error answer: `{"error": ..., "error_description": ...}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    /// `invalid_request`, `invalid_token`, `insufficient_scope`, `not_found`, `conflict` or
    /// `server_error`.
    error: &'static str,
    error_description: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
    /// Our own failure behind a 500, for the failure log.
    source: Option<crate::http::error::Source>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiErrorBody {
                error,
                error_description: description.into(),
            },
            source: None,
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "not_found", m),
            Error::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            Error::Invalid(m) => Self::bad_request(m),
            other => {
                let mut error = Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "the server could not complete this request",
                );
                error.source = Some(crate::error::source(other));
                error
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(&self.body)).into_response();
        // RFC 6750 §3: the Bearer challenge on 401 and 403.
        let challenge = match self.body.error {
            "invalid_token" if self.body.error_description.is_empty() => Some("Bearer".into()),
            "invalid_token" | "insufficient_scope" => {
                Some(format!("Bearer error=\"{}\"", self.body.error))
            }
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(source) = self.source {
            response
                .extensions_mut()
                .insert(crate::http::failure::Failure(source));
        }
        response
    }
}

/// A JSON body whose problems (wrong type, missing field, not JSON) are 400 with a message.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// The client calling the admin API, checked for this request.
pub struct ApiCaller {
    pub by: By,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized =
            |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", why);
        let Some(token) = crate::http::extract::bearer_token(&parts.headers) else {
            // RFC 6750 §3.1: no error code when no credentials were sent.
            return Err(unauthorized(""));
        };
        // The one access-token check (revoked tokens and grants, disabled clients included).
        let claims = match access::accept(&state.issuer(), &state.stores(), token).await {
            Ok(claims) => claims,
            Err(Rejected::Invalid { why, .. }) => return Err(unauthorized(why)),
            Err(Rejected::Unavailable(e)) => return Err(Error::Other(e).into()),
        };
        let for_itself = claims.subject == claims.client_id && claims.person.is_none();
        if !for_itself || !claims.scopes.contains(&crate::oauth::scope::Scope::ADMIN) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the admin API needs a client_credentials token with the `admin` scope",
            ));
        }
        let ip = Some(
            crate::http::client_addr::ClientAddr::of(parts, &state.config.trusted_proxies)
                .0
                .ip(),
        );
        Ok(Self {
            by: By::new(Actor::Client(claims.client_id), ip),
        })
    }
}

/// The `?q=&page=` of a list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only rows containing this text.
    #[serde(default)]
    q: String,
    /// The page, from 1 (25 rows a page).
    page: Option<i64>,
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, paging: crate::http::admin::Paging) -> Self {
        Self {
            items,
            total: paging.total,
            page: paging.page,
            pages: paging.pages,
        }
    }
}

/// `204 No Content`: done.
pub fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
