//! Resource identifiers (RFC 8707 §2) in a client's registration: the [`Audience`]s a client may
//! ask tokens for (with `resource` or `audience` at the token endpoint), and the [`ResourceUri`]
//! a resource server is known by, which lets it introspect tokens issued for it. Both are
//! parsed once, from what an operator typed or from the row, and serialize as the string they
//! were parsed from.

use super::types::as_str_serde_and_display;

/// The longest identifier registered: an honest URI fits, and a flood of them costs little.
pub const MAX_LEN: usize = 2000;

fn oversized(what: &str) -> String {
    format!("{what} may be at most {MAX_LEN} bytes long")
}

/// A resource server a client may name as `resource` or `audience` when it asks for a token
/// for itself: an absolute URI (RFC 8707 §2, its logical name), which becomes the token's `aud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(String);

impl Audience {
    pub fn parse(raw: &str) -> Result<Audience, String> {
        if raw.len() > MAX_LEN {
            return Err(oversized("an audience"));
        }
        match url::Url::parse(raw) {
            Ok(_) => Ok(Audience(raw.to_owned())),
            Err(_) => Err(format!("audience `{raw}` is not an absolute URI")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The resource a resource server is (RFC 8707 §2): an absolute URI without a fragment. A token
/// whose `aud` is this URI may be introspected by the client registered with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUri(String);

impl ResourceUri {
    pub fn parse(raw: &str) -> Result<ResourceUri, String> {
        if raw.len() > MAX_LEN {
            return Err(oversized("a resource URI"));
        }
        match url::Url::parse(raw) {
            Ok(_) if !raw.contains('#') => Ok(ResourceUri(raw.to_owned())),
            _ => Err(format!(
                "resource URI `{raw}` must be an absolute URI without a fragment"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

as_str_serde_and_display!(Audience);
as_str_serde_and_display!(ResourceUri);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audience_is_an_absolute_uri() {
        for good in [
            "https://api.example.com",
            "urn:example:api",
            "https://a.example/x#y",
        ] {
            assert_eq!(Audience::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "api.example.com", "/relative", "not a uri"] {
            assert!(Audience::parse(bad).is_err(), "{bad}");
        }
        let longest = format!("https://a.example/{}", "p".repeat(MAX_LEN - 18));
        assert!(Audience::parse(&longest).is_ok());
        let error = Audience::parse(&format!("{longest}p")).unwrap_err();
        assert!(
            !error.contains(&longest),
            "an oversized value is not echoed"
        );
    }

    #[test]
    fn a_resource_uri_is_absolute_without_a_fragment() {
        let uri = ResourceUri::parse("https://api.example.com/v1").unwrap();
        assert_eq!(uri.to_string(), "https://api.example.com/v1");
        assert_eq!(
            serde_json::to_value(&uri).unwrap(),
            "https://api.example.com/v1"
        );
        for bad in ["https://api.example.com/#x", "api.example.com", "", "#"] {
            assert!(ResourceUri::parse(bad).is_err(), "{bad}");
        }
        let longest = format!("https://a.example/{}", "p".repeat(MAX_LEN - 18));
        assert!(ResourceUri::parse(&longest).is_ok());
        assert!(ResourceUri::parse(&format!("{longest}p")).is_err());
    }
}
