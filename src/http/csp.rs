//! The Content-Security-Policy of every response, and its one variation. Pages allow no inline
//! script and no framing, load only the one stylesheet (and `data:` images, for QR codes), and
//! submit forms only to this server (`form-action 'self'`). Chromium applies `form-action` to
//! every redirect that follows a form submission (CSP Level 3 §6.4.1), and after sign-in,
//! consent or sign-out that chain ends at the client (a 303 to its redirect URI); so a page whose
//! form may end there also allows that one origin ([`allow_form_target`]).

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// Scripts only from this server (the one passkey script; never inline), which may fetch only
/// from this server (a ceremony's options).
pub const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of everything that is not an HTML page (JSON, the stylesheet): it loads nothing and
/// nothing may frame it (OWASP REST Security Cheat Sheet, "Security Headers"). Shorter than
/// [`CSP`], which matters on the JWKS and discovery, fetched far more often than any page.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// `response` with a CSP whose `form-action` also allows the origin of `redirect_uri` (a URI the
/// client registered, already matched). An unusable URI leaves the strict policy in place.
pub fn allow_form_target(mut response: Response, redirect_uri: &str) -> Response {
    let policy = source_of(redirect_uri)
        .map(|source| {
            CSP.replace(
                "form-action 'self'",
                &format!("form-action 'self' {source}"),
            )
        })
        .and_then(|policy| HeaderValue::from_str(&policy).ok());
    if let Some(policy) = policy {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// The CSP source expression for the origin of `uri`: `scheme://host:port` for http(s), the bare
/// `scheme:` for a native app's private-use scheme (RFC 8252 §7.1). `None` if it is not a URL or
/// would not be a plain source expression (CSP Level 3 §2.3.1).
fn source_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let source = match url.scheme() {
        "http" | "https" => url.origin().ascii_serialization(),
        scheme => format!("{scheme}:"),
    };
    let plain = source
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".:/-+[]".contains(&b));
    plain.then_some(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_origins_only() {
        assert_eq!(
            source_of("https://rp.example.com/cb?x=1#f").as_deref(),
            Some("https://rp.example.com")
        );
        assert_eq!(
            source_of("http://127.0.0.1:8080/cb").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            source_of("com.example.app:/oauth").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(source_of("not a url"), None);
    }
}
