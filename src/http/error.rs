//! How errors reach the caller. Browser pages get a friendly HTML page ([`PageError`]); OAuth
//! endpoints get RFC 6749 §5.2 JSON ([`OAuthError`]). Unexpected failures are shown only as an
//! opaque "something went wrong"; the response carries the failure (a [`Failure`] extension), and
//! [`super::failure::log`], run by the edge around every route, logs every 5xx once with its
//! whole source chain, the method, the matched route and (from the request span) the request id.
//! Nothing else logs them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::failure::Failure;
use crate::oauth::error::{ErrorCode, OAuthError};

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

/// An error on a browser route, shown as an HTML page.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    BadRequest(String),
    /// A form without this session's CSRF token.
    Forbidden(String),
    /// Signed in, but not allowed here (403).
    NotAllowed(String),
    /// Throttled: try again after this many seconds.
    TooManyAttempts(u64),
    /// A store we depend on does not answer (503); the cause is kept for the log.
    Unavailable(String, Option<Source>),
    Internal(anyhow::Error),
}

pub use crate::error::Source;

const SIGN_IN_UNAVAILABLE: &str =
    "Sign-in is temporarily unavailable. Please try again in a minute.";

impl PageError {
    /// Redis (sessions, codes, throttling) does not answer: 503 with `Retry-After`, and a page
    /// that says so, never a sign-out.
    pub fn sign_in_unavailable() -> Self {
        PageError::Unavailable(SIGN_IN_UNAVAILABLE.into(), None)
    }

    /// [`PageError::sign_in_unavailable`] because of `cause`, kept for the failure log.
    pub fn sign_in_unavailable_because(cause: impl Into<anyhow::Error>) -> Self {
        let cause = crate::error::source(cause);
        PageError::Unavailable(SIGN_IN_UNAVAILABLE.into(), Some(cause))
    }
}

impl From<crate::sessions::SessionError> for PageError {
    fn from(e: crate::sessions::SessionError) -> Self {
        PageError::sign_in_unavailable_because(e)
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        PageError::Internal(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::Internal(e.into())
    }
}

impl From<redis::RedisError> for PageError {
    fn from(e: redis::RedisError) -> Self {
        PageError::sign_in_unavailable_because(e)
    }
}

impl From<crate::throttle::Refused> for PageError {
    fn from(e: crate::throttle::Refused) -> Self {
        use crate::throttle::Refused;
        match e {
            Refused::Wait(wait) => PageError::TooManyAttempts(
                wait.as_millis()
                    .div_ceil(1000)
                    .max(1)
                    .try_into()
                    .unwrap_or(u64::MAX),
            ),
            Refused::Unavailable(e) => e.into(),
        }
    }
}

impl From<crate::verify::VerifyError> for PageError {
    fn from(e: crate::verify::VerifyError) -> Self {
        use crate::verify::VerifyError;
        match e {
            VerifyError::Refused(refused) => refused.into(),
            VerifyError::Unexpected(e) => PageError::Internal(e),
        }
    }
}

impl From<crate::error::Error> for PageError {
    fn from(e: crate::error::Error) -> Self {
        use crate::error::Error;
        match e {
            Error::NotFound(_) => PageError::NotFound,
            Error::Conflict(m) | Error::Invalid(m) => PageError::BadRequest(m),
            Error::Redis(e) => e.into(),
            other if other.is_redis() => PageError::sign_in_unavailable_because(other),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = |title: &str, message: String| ErrorPage {
            title: title.to_owned(),
            message,
        };
        match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                page("Page not found", "There is nothing at this address.".into()),
            )
                .into_response(),
            PageError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                page("Something is wrong with this request", message),
            )
                .into_response(),
            PageError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                page("This form has expired", message),
            )
                .into_response(),
            PageError::NotAllowed(message) => {
                (StatusCode::FORBIDDEN, page("Not allowed", message)).into_response()
            }
            PageError::TooManyAttempts(seconds) => {
                let message = format!(
                    "Too many attempts. Please wait {seconds} seconds before trying again."
                );
                let retry = [(header::RETRY_AFTER, seconds.to_string())];
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    retry,
                    page("Please wait", message),
                )
                    .into_response()
            }
            PageError::Unavailable(message, source) => {
                let retry = [(header::RETRY_AFTER, "30")];
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    retry,
                    page("Temporarily unavailable", message),
                )
                    .into_response();
                if let Some(source) = source {
                    response.extensions_mut().insert(Failure(source));
                }
                response
            }
            PageError::Internal(error) => {
                let message = "The server could not complete this request.".to_owned();
                let mut response = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page("Something went wrong", message),
                )
                    .into_response();
                response.extensions_mut().insert(Failure::new(error));
                response
            }
        }
    }
}

/// tower-sessions answers a bare 500 (no headers, no body) when it cannot save the session at
/// the end of a request, which here means Redis stopped answering. That becomes the same 503 page,
/// with `Retry-After`, as any other session-store outage; the cookie is left alone.
pub async fn session_store_outage(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && response.headers().is_empty() {
        return PageError::sign_in_unavailable().into_response();
    }
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let description = if self.code == ErrorCode::ServerError {
            crate::oauth::error::SERVER_ERROR.to_owned()
        } else {
            self.description
        };
        let body =
            serde_json::json!({ "error": self.code.as_str(), "error_description": description });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1: token responses, including errors, must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED || self.code == ErrorCode::InsufficientScope {
            // RFC 6749 §5.2 (invalid_client) and RFC 6750 §3 (invalid_token).
            let challenge = match self.code {
                ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                    format!("Bearer error=\"{}\"", self.code.as_str())
                }
                _ => "Basic realm=\"portcullis\"".to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(source) = self.source {
            response.extensions_mut().insert(Failure(source));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn a_session_that_cannot_be_saved_is_a_503_page_not_a_bare_500() {
        let bare = || async { StatusCode::INTERNAL_SERVER_ERROR.into_response() };
        let ours = || async { PageError::Internal(anyhow::anyhow!("broken")).into_response() };
        let app = axum::Router::new()
            .route("/bare", axum::routing::get(bare))
            .route("/ours", axum::routing::get(ours))
            .layer(axum::middleware::from_fn(session_store_outage));
        let call = |path: &'static str| {
            let request = Request::builder().uri(path).body(axum::body::Body::empty());
            app.clone().oneshot(request.unwrap_or_default())
        };
        let response = call("/bare").await.unwrap_or_default();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        let response = call("/ours").await.unwrap_or_default();
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "our own 500 stays"
        );
    }

    #[test]
    fn oauth_errors_are_rfc6749_json() {
        let response = OAuthError::new(ErrorCode::InvalidClient, "unknown client").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        let response = OAuthError::new(ErrorCode::InvalidGrant, "code used").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
