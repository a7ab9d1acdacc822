//! The headers every response carries unless its handler set them: the content security policy of
//! [`super::csp`] (the page policy on HTML, the short API policy on everything else), `nosniff`,
//! no referrer, no framing, and HSTS under an https issuer; and `Cache-Control: no-store` on every
//! HTML page. Static values: nothing is allocated per request.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use super::csp;

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The security headers besides the CSP, each with the value it gets when the handler did not set
/// one.
const SECURITY: [(HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Adds what `headers` lacks; `https` adds HSTS (RFC 6797 §7.2: only over a secure transport).
pub fn apply(headers: &mut HeaderMap, https: bool) {
    let html = is_html(headers);
    let policy = if html { csp::CSP } else { csp::API_CSP };
    default(headers, header::CONTENT_SECURITY_POLICY, policy);
    for (name, value) in SECURITY {
        default(headers, name, value);
    }
    if https {
        default(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    if html {
        no_store(headers);
    }
}

/// Sets `name` to `value` unless the handler set it (one lookup).
fn default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert_with(|| HeaderValue::from_static(value));
}

/// Every HTML page may show something private (a TOTP secret, recovery codes, a client secret,
/// who is signed in): no cache, shared or private, keeps a copy (RFC 9111 §5.2.2.5). By content
/// type, so no page, error pages included, can be forgotten; JSON endpoints set their own.
fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.trim_start().get(..9))
        .is_some_and(|t| t.eq_ignore_ascii_case("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handlers_own_header_wins_and_html_is_never_stored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Text/HTML; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public"));
        apply(&mut headers, false);
        assert_eq!(headers[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], csp::CSP);
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }

    #[test]
    fn json_keeps_its_cache_control_and_https_adds_hsts() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        apply(&mut headers, true);
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], HSTS);
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], csp::API_CSP);
    }
}
