//! Discovery (OIDC Discovery §4, RFC 8414 §3) and the JWKS. Both are served from bytes built
//! ahead of time: discovery once at start, the JWKS once per key change, with an `ETag` so
//! verifiers can revalidate cheaply (`If-None-Match` → 304). Browser-based relying parties fetch
//! both cross-origin: both allow any origin.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Discovery metadata changes only with a new release: cacheable for a few minutes.
const DISCOVERY_CACHE: &str = "public, max-age=300";

/// Public documents, readable from any origin (set here rather than by a layer: one less boxed
/// service on the two most-fetched routes).
const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");

pub async fn discovery(State(state): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(DISCOVERY_CACHE),
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN),
        ],
        state.discovery.clone(),
    )
        .into_response()
}

/// The request itself, not a `HeaderMap` extractor: that would copy every header to read one.
pub async fn jwks(State(state): State<AppState>, request: Request) -> Response {
    let jwks = state.keys.jwks();
    let mut response = if etag_matches(request.headers(), jwks.etag.as_bytes()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            jwks.body,
        )
            .into_response()
    };
    let out = response.headers_mut();
    out.insert(header::ETAG, jwks.etag);
    // At most the pre-publish period (checked at start): a new key is in every cached copy
    // before it signs.
    out.insert(header::CACHE_CONTROL, state.jwks_cache_control.clone());
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
    response
}

/// RFC 9110 §13.1.2: a list of entity tags (weak comparison) or `*`.
fn etag_matches(headers: &HeaderMap, etag: &[u8]) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut headers = HeaderMap::new();
        assert!(!etag_matches(&headers, b"\"abc\""));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(etag_matches(&headers, b"\"abc\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!etag_matches(&headers, b"\"abc\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(etag_matches(&headers, b"\"abc\""));
    }
}
