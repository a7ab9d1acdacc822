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
    /// A serialized origin (RFC 6454 §6.2), exactly as a browser sends it: `scheme://host[:port]`
    /// with no path, no trailing slash and no default port; `null` is not an origin anyone
    /// registers. At most [`crate::limits::URI`] bytes, like the redirect URI it comes from.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > crate::limits::URI {
            return Err(format!(
                "a web origin may be at most {} bytes long",
                crate::limits::URI
            ));
        }
        let origin = url::Url::parse(raw).ok().map(|u| u.origin());
        match origin {
            Some(origin) if origin.is_tuple() && origin.ascii_serialization() == raw => {
                Ok(Self(raw.to_owned()))
            }
            _ => Err(format!(
                "`{raw}` is not a serialized origin (scheme://host[:port])"
            )),
        }
    }

    /// The origin of a registered redirect URI.
    pub fn of(uri: &RedirectUri) -> Option<Self> {
        let origin = url::Url::parse(uri.as_str()).ok()?.origin();
        if !origin.is_tuple() {
            return None;
        }
        // Checked as a stored origin is, so every origin registered decodes again.
        Self::parse(&origin.ascii_serialization()).ok()
    }

    /// An `Origin` request header, if it is a well-formed tuple origin exactly as a browser
    /// sends it.
    pub fn from_header(raw: &str) -> Option<Self> {
        if raw.len() > MAX_ORIGIN_LEN {
            return None;
        }
        Self::parse(raw).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::types::as_str_serde_and_display!(WebOrigin);

/// The distinct origins of `uris`, in order.
pub fn of_redirect_uris(uris: &[RedirectUri]) -> Vec<WebOrigin> {
    let mut origins: Vec<WebOrigin> = Vec::new();
    for origin in uris.iter().filter_map(WebOrigin::of) {
        if !origins.contains(&origin) {
            origins.push(origin);
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
        let origins: Vec<String> = of_redirect_uris(&uris)
            .iter()
            .map(WebOrigin::to_string)
            .collect();
        assert_eq!(
            origins,
            ["https://app.example.com", "http://127.0.0.1:8080"]
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

    #[test]
    fn a_stored_origin_is_parsed_as_browsers_serialize_it() {
        let origin = WebOrigin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(origin.as_str(), "http://127.0.0.1:8080");
        assert_eq!(
            serde_json::to_value(&origin).unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "https://app.example.com/cb",
            "https://app.example.com#x",
            "app.example.com",
            "null",
            "data:text/plain,x",
            "",
        ] {
            assert!(WebOrigin::parse(bad).is_err(), "{bad}");
        }
        let longest = format!("https://{}.com", "a".repeat(crate::limits::URI - 12));
        assert!(WebOrigin::parse(&longest).is_ok());
        let oversized = format!("https://{}.com", "a".repeat(crate::limits::URI));
        let error = WebOrigin::parse(&oversized).unwrap_err();
        assert!(
            !error.contains(&oversized),
            "an oversized value is not echoed"
        );
    }
}
