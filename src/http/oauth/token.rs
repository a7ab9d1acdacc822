//! `POST /token`: reads the form, authenticates the client, runs the grant. Every answer, good
//! or bad, carries `Cache-Control: no-store` (RFC 6749 §5.1) and errors are RFC 6749 §5.2 JSON.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::cors;
use crate::http::extract::AuthenticatedClient;
use crate::oauth::grants;
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    AuthenticatedClient { client, request }: AuthenticatedClient,
) -> Response {
    let response = match grants::exchange(&state, &client, &request).await {
        Ok(response) => no_store(response),
        Err(error) => error.into_response(),
    };
    // Errors too: a single-page app must be able to read why (see `cors`).
    cors::for_client(response, Some(client.client_id.clone()))
}

/// A JSON answer that must not be cached (RFC 6749 §5.1, RFC 7662 §2.2).
pub fn no_store(body: impl serde::Serialize) -> Response {
    let mut response = Json(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
