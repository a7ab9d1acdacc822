//! Web origins (RFC 6454) for CORS. A browser-based public client may call the token, userinfo
//! and revocation endpoints from the origins of its registered redirect URIs, and only from
//! those. Origins are compared as the browser serializes them in the `Origin` header: scheme and
//! host in lower case (IDNA hosts in punycode), the port only when it is not the default.

use super::RedirectUri;

/// The longest `Origin` header considered: a scheme, a 253-character DNS name and a port fit.
pub const MAX_ORIGIN_LEN: usize = 300;

/// A serialized tuple origin, such as `https://app.example.com` or `http://127.0.0.1:8080`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebOrigin(String);

impl WebOrigin {
    /// The origin of a registered redirect URI.
    pub fn of(uri: &RedirectUri) -> Option<Self> {
        let origin = url::Url::parse(uri.as_str()).ok()?.origin();
        origin
            .is_tuple()
            .then(|| Self(origin.ascii_serialization()))
    }

    /// An `Origin` request header, if it is a well-formed tuple origin exactly as a browser
    /// sends it (no path, no trailing slash; `null` is not an origin anyone registers).
    pub fn from_header(raw: &str) -> Option<Self> {
        if raw.len() > MAX_ORIGIN_LEN {
            return None;
        }
        let origin = url::Url::parse(raw).ok()?.origin();
        let serialized = origin.ascii_serialization();
        (origin.is_tuple() && serialized == raw).then_some(Self(serialized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The distinct origins of `uris`, in order.
pub fn of_redirect_uris(uris: &[RedirectUri]) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for origin in uris.iter().filter_map(WebOrigin::of) {
        if !origins.contains(&origin.0) {
            origins.push(origin.0);
        }
    }
    origins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_serialized_as_browsers_send_them() {
        let uris = [
            "https://App.Example.com:443/cb",
            "https://app.example.com/other",
            "http://127.0.0.1:8080/native",
        ]
        .map(|u| RedirectUri::parse(u).unwrap());
        assert_eq!(
            of_redirect_uris(&uris),
            vec!["https://app.example.com", "http://127.0.0.1:8080"]
        );
        assert!(WebOrigin::from_header("https://app.example.com").is_some());
        for bad in [
            "https://app.example.com/",
            "https://APP.example.com",
            "null",
            "https://app.example.com:443",
            "",
        ] {
            assert!(WebOrigin::from_header(bad).is_none(), "{bad}");
        }
        let long = format!("https://{}.com", "a".repeat(MAX_ORIGIN_LEN));
        assert!(WebOrigin::from_header(&long).is_none());
    }
}
