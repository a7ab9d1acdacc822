//! Bounded input at the edge: one check, run by [`super::edge`] in front of every route, that
//! refuses a request whose body is larger than [`limits::BODY`] (413) or whose path segments,
//! `Authorization` header, query parameters, form fields or JSON strings are longer than their
//! maximum in [`crate::limits`] (400, naming the parameter). It runs before any handler, session or
//! throttle, so an over-long value is never looked up, cached, logged, audited or stored, and a
//! field added later is bounded without anyone remembering to.
//!
//! OAuth endpoints and the admin API answer RFC 6749 §5.2 JSON (`invalid_request`); browser
//! pages answer a friendly HTML page.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ErrorPage;
use crate::limits::{self, TooLong};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oidc::discovery::paths;

/// Who is asking, which decides what a refusal looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// OAuth endpoints and the admin API: JSON.
    Machine,
    /// Everything else: an HTML page.
    Browser,
}

impl Audience {
    fn of(path: &str) -> Audience {
        let machine = [
            paths::TOKEN,
            paths::DEVICE_AUTHORIZATION,
            paths::INTROSPECT,
            paths::REVOKE,
            paths::USERINFO,
        ];
        if machine.contains(&path) || path.starts_with("/admin/api/") {
            Audience::Machine
        } else {
            Audience::Browser
        }
    }
}

/// Why a request was refused before it reached its handler.
enum Refusal {
    TooLong(TooLong),
    PathSegment,
    AuthorizationHeader,
    BodyTooLarge,
}

impl Refusal {
    fn message(&self) -> String {
        match self {
            Refusal::TooLong(e) => e.to_string(),
            Refusal::PathSegment => format!(
                "a segment of the path is longer than {} bytes",
                limits::PATH_SEGMENT
            ),
            Refusal::AuthorizationHeader => format!(
                "the Authorization header is longer than {} bytes",
                limits::AUTHORIZATION_HEADER
            ),
            Refusal::BodyTooLarge => {
                format!("the request body is larger than {} bytes", limits::BODY)
            }
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refusal::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn into_response(self, audience: Audience) -> Response {
        let (status, message) = (self.status(), self.message());
        let mut response = match audience {
            Audience::Machine => {
                OAuthError::new(ErrorCode::InvalidRequest, message).into_response()
            }
            Audience::Browser => ErrorPage {
                title: if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "This form is too large".into()
                } else {
                    "Something is wrong with this request".into()
                },
                message: format!("{message}. Please go back and check what you entered."),
            }
            .into_response(),
        };
        *response.status_mut() = status;
        response
    }
}

/// Checks the request line and headers, then reads the body (at most [`limits::BODY`]) and
/// checks its fields: the request to hand on, with the body it read, or the refusal to send.
pub async fn admit(request: Request) -> Result<Request, Response> {
    let refuse = |refusal: Refusal, path: &str| refusal.into_response(Audience::of(path));
    if let Err(refusal) = check_head(&request) {
        return Err(refuse(refusal, request.uri().path()));
    }
    // Most requests (GETs: discovery, the JWKS, pages) have no body: nothing to read or check.
    if axum::body::HttpBody::size_hint(request.body()).exact() == Some(0) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limits::BODY).await else {
        return Err(refuse(Refusal::BodyTooLarge, parts.uri.path()));
    };
    if let Err(refusal) = check_body(&parts.headers, &bytes) {
        return Err(refuse(refusal, parts.uri.path()));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn check_head(request: &Request) -> Result<(), Refusal> {
    let uri = request.uri();
    if uri
        .path()
        .split('/')
        .any(|s| s.len() > limits::PATH_SEGMENT)
    {
        return Err(Refusal::PathSegment);
    }
    if let Some(query) = uri.query() {
        limits::check_form(query.as_bytes()).map_err(Refusal::TooLong)?;
    }
    let authorization = request.headers().get_all(header::AUTHORIZATION);
    if authorization
        .iter()
        .any(|v| v.len() > limits::AUTHORIZATION_HEADER)
    {
        return Err(Refusal::AuthorizationHeader);
    }
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits::BODY as u64) {
        return Err(Refusal::BodyTooLarge);
    }
    Ok(())
}

fn check_body(headers: &axum::http::HeaderMap, body: &Bytes) -> Result<(), Refusal> {
    if body.is_empty() {
        return Ok(());
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json {
        // A body that is not JSON at all is the handler's to refuse.
        return match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => limits::check_json(&value).map_err(Refusal::TooLong),
            Err(_) => Ok(()),
        };
    }
    // Forms, and token requests whatever their content type says.
    limits::check_form(body).map_err(Refusal::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_endpoints_and_the_admin_api_get_json_pages_get_html() {
        assert_eq!(Audience::of("/token"), Audience::Machine);
        assert_eq!(Audience::of("/admin/api/v1/users"), Audience::Machine);
        assert_eq!(Audience::of("/login"), Audience::Browser);
        assert_eq!(Audience::of("/authorize"), Audience::Browser);
    }
}
