//! How errors reach the caller. Browser pages get a friendly HTML page ([`PageError`]); OAuth
//! endpoints get RFC 6749 §5.2 JSON ([`OAuthError`]). Unexpected failures are logged in full with
//! the request id and shown only as an opaque "something went wrong".

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
    Unavailable(String),
    Internal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError::Internal(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.".to_owned(),
            ),
            PageError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "Something is wrong with this request",
                message,
            ),
            PageError::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                message,
            ),
            PageError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete this request.".to_owned(),
                )
            }
        };
        (
            status,
            ErrorPage {
                title: title.to_owned(),
                message,
            },
        )
            .into_response()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if self.code == ErrorCode::ServerError {
            tracing::error!(error = %self.description, "OAuth endpoint failed");
        }
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let description = if self.code == ErrorCode::ServerError {
            "The server could not complete this request.".to_owned()
        } else {
            self.description
        };
        let body =
            serde_json::json!({ "error": self.code.as_str(), "error_description": description });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1: token responses, including errors, must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2 (invalid_client) and RFC 6750 §3 (invalid_token).
            let challenge = match self.code {
                ErrorCode::InvalidToken => format!("Bearer error=\"{}\"", self.code.as_str()),
                _ => "Basic realm=\"portcullis\"".to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
