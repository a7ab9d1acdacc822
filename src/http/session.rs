//! [`TypedSession`] as an extractor: the session the session layer attached to the request,
//! wrapped. It lives here because only `http` knows axum; the wrapper itself is in
//! [`crate::sessions`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use crate::sessions::TypedSession;

impl<S: Send + Sync> FromRequestParts<S> for TypedSession {
    type Rejection = <Session as FromRequestParts<S>>::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Session::from_request_parts(parts, state)
            .await
            .map(TypedSession)
    }
}
