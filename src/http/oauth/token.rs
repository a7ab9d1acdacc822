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
    let issued = grants::exchange(&state.issuer(), &state.stores(), &client, &request).await;
    let response = match issued {
        Ok(response) => {
            // Counted here, not in the grants: the protocol core records no metrics.
            if let Ok(grant) = request.grant_type() {
                state.metrics.token_issued(grant.as_str());
            }
            no_store(response)
        }
        Err(error) => error.into_response(),
    };
    // Errors too: a single-page app must be able to read why (see `cors`).
    cors::for_client(response, Some(client.client_id.to_string()))
}

/// A JSON answer that must not be cached (RFC 6749 §5.1, RFC 7662 §2.2).
pub fn no_store(body: impl serde::Serialize) -> Response {
    let mut response = Json(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
