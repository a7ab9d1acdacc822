//! [`Csrf`]: a form body whose `csrf` field is this session's CSRF token, checked before the
//! handler runs. The body is read once: the token is taken from it, then the inner extractor
//! (`Form<T>`, or the admin pages' `FormData`) parses the same bytes with its own rules and
//! rejections, so a form type need not carry the token as a field.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::error::PageError;
use crate::sessions::TypedSession;
use crate::state::AppState;

/// The name of the hidden field that carries the token.
const FIELD: &str = "csrf";

/// A form `F` that carried this session's CSRF token.
pub struct Csrf<F>(pub F);

/// A form with nothing but its CSRF token (a button): `Csrf<Form<NoFields>>`.
#[derive(Deserialize)]
pub struct NoFields {}

impl<F> FromRequest<AppState> for Csrf<F>
where
    F: FromRequest<AppState> + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = TypedSession::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let presented = token_in(&bytes);
        // The same request again (its headers, the bytes already read) for the inner extractor.
        let mut again = Request::new(Body::from(bytes));
        *again.method_mut() = method;
        *again.uri_mut() = uri;
        *again.headers_mut() = headers;
        let form = F::from_request(again, state)
            .await
            .map_err(IntoResponse::into_response)?;
        require(&session, &presented)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(form))
    }
}

/// The first `csrf` value of a form body, or empty.
fn token_in(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Refuses a form whose CSRF token is not this session's.
pub async fn require(session: &TypedSession, presented: &str) -> Result<(), PageError> {
    if session.csrf_matches(presented).await? {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "This form is no longer valid (it may have been open too long). Go back, reload the page and try again."
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_first_csrf_field_decoded() {
        assert_eq!(token_in(b"a=1&csrf=t%2B1&csrf=other"), "t+1");
        assert_eq!(token_in(b"a=1"), "");
        assert_eq!(token_in(b""), "");
    }
}
