//! Every URL the server writes (redirects, form actions, links in pages) is made here, from typed
//! pieces: [`Href`] joins path segments, percent-encoding each one (RFC 3986 §3.3: only the
//! unreserved characters of §2.3 stay as they are), so a value with `/`, `?`, `#` or `%` stays
//! one segment and can never climb into another route. Absolute URLs take their origin from the
//! configured issuer ([`Href::absolute`]), never from the request. The typed constructors below
//! name each page and action; templates call them and never join path pieces themselves.
//!
//! A segment that is only dots (`.`, `..`) cannot be addressed at all: browsers treat `%2E%2E`
//! like `..` (WHATWG URL, "double-dot URL path segment"). The builder still encodes it, and no
//! identifier that reaches a URL can be one: ids are UUIDs or generated, role names start with a
//! letter or digit.

use std::fmt::{self, Display};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 §2.3 unreserved characters (`ALPHA DIGIT - . _ ~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path on this server (always starting with `/`), with an optional query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Href(String);

impl Href {
    /// `/`, to which segments are added.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A path of fixed segments (written by us, never from input), like `["admin", "users"]`.
    pub fn of(segments: &[&str]) -> Self {
        segments.iter().fold(Self::root(), |href, s| href.seg(s))
    }

    /// Adds one segment, percent-encoded so it stays one segment whatever it holds.
    pub fn seg(mut self, segment: impl Display) -> Self {
        let raw = segment.to_string();
        self.0.push('/');
        if !raw.is_empty() && raw.bytes().all(|b| b == b'.') {
            // `.` is unreserved and would be left as is; encode it so nothing here writes a dot
            // segment literally (see the module note: such ids never reach a URL).
            self.0.push_str(&"%2E".repeat(raw.len()));
        } else {
            self.0.extend(utf8_percent_encode(&raw, SEGMENT));
        }
        self
    }

    /// Adds a query string (`application/x-www-form-urlencoded`, WHATWG URL §5).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        if self.0.is_empty() {
            self.0.push('/');
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if !query.is_empty() {
            self.0.push('?');
            self.0.push_str(&query);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "/" } else { &self.0 }
    }

    /// The absolute URL under `issuer` (the configured origin, without a trailing slash).
    pub fn absolute(&self, issuer: &str) -> String {
        format!("{}{}", issuer.trim_end_matches('/'), self.as_str())
    }
}

impl Display for Href {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sign-in steps and the account pages.
pub mod login {
    use super::Href;

    pub fn password() -> Href {
        Href::of(&["login"])
    }

    pub fn second_factor() -> Href {
        Href::of(&["login", "mfa"])
    }

    pub fn account() -> Href {
        Href::of(&["account"])
    }

    pub fn account_totp() -> Href {
        Href::of(&["account", "totp"])
    }
}

/// The admin pages and the actions they post to.
pub mod admin {
    use std::fmt::Display;

    use super::Href;
    use crate::admin::actions::{ClientAction, KeyAction, UserAction};
    use crate::rbac::Kind;

    pub fn dashboard() -> Href {
        Href::of(&["admin"])
    }

    pub fn clients() -> Href {
        Href::of(&["admin", "clients"])
    }

    pub fn new_client() -> Href {
        clients().seg("new")
    }

    pub fn client(client_id: impl Display) -> Href {
        clients().seg(client_id)
    }

    pub fn edit_client(client_id: impl Display) -> Href {
        client(client_id).seg("edit")
    }

    pub fn client_action(client_id: impl Display, action: ClientAction) -> Href {
        client(client_id).seg(action.as_str())
    }

    pub fn users() -> Href {
        Href::of(&["admin", "users"])
    }

    pub fn new_user() -> Href {
        users().seg("new")
    }

    pub fn user(id: impl Display) -> Href {
        users().seg(id)
    }

    pub fn user_action(id: impl Display, action: UserAction) -> Href {
        user(id).seg(action.as_str())
    }

    pub fn roles() -> Href {
        Href::of(&["admin", "roles"])
    }

    /// Where a new role or group is posted.
    pub fn define(kind: Kind) -> Href {
        roles().seg(kind.plural())
    }

    pub fn role(kind: Kind, name: impl Display) -> Href {
        define(kind).seg(name)
    }

    pub fn delete_role(kind: Kind, name: impl Display) -> Href {
        role(kind, name).seg("delete")
    }

    pub fn keys() -> Href {
        Href::of(&["admin", "keys"])
    }

    pub fn key_action(action: &KeyAction) -> Href {
        keys().seg(action)
    }

    pub fn audit() -> Href {
        Href::of(&["admin", "audit"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[&str]) -> String {
        segments
            .iter()
            .fold(Href::root(), |h, s| h.seg(s))
            .to_string()
    }

    /// What a browser makes of `href` on this server: the segments it would request, decoded.
    fn resolved(href: &str) -> Vec<String> {
        let url = url::Url::parse("https://idp.example/admin/page")
            .and_then(|base| base.join(href))
            .unwrap();
        url.path_segments()
            .unwrap()
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn every_segment_stays_one_segment_and_decodes_to_itself() {
        for value in [
            "x/../../users/1/grant-admin",
            "a?b=c",
            "a#frag",
            "100%",
            "%2F",
            "ops/eu",
            "grüße 東京",
            "a b+c",
            "\\..\\",
            "..x",
            "",
        ] {
            let href = path(&["admin", "roles", value, "delete"]);
            assert_eq!(
                resolved(&href),
                ["admin", "roles", value, "delete"],
                "{value} as {href}"
            );
            assert!(!href.contains('?') && !href.contains('#'), "{href}");
        }
    }

    #[test]
    fn known_characters_are_encoded_as_rfc_3986_says() {
        assert_eq!(
            path(&["a/b", "c?d", "e#f", "g%h"]),
            "/a%2Fb/c%3Fd/e%23f/g%25h"
        );
        assert_eq!(path(&["ü"]), "/%C3%BC");
        assert_eq!(path(&["a-b_c.d~e"]), "/a-b_c.d~e");
    }

    #[test]
    fn dot_segments_are_never_written_literally() {
        assert_eq!(path(&["admin", ".."]), "/admin/%2E%2E");
        assert_eq!(path(&["."]), "/%2E");
    }

    #[test]
    fn queries_are_form_encoded_and_absolute_urls_use_the_issuer() {
        let href = admin::users().query(&[("q", "a&b=c d"), ("page", "2")]);
        assert_eq!(href.as_str(), "/admin/users?q=a%26b%3Dc+d&page=2");
        assert_eq!(Href::root().as_str(), "/");
        assert_eq!(
            login::account().absolute("https://idp.example/"),
            "https://idp.example/account"
        );
    }

    #[test]
    fn the_attack_path_stays_inside_the_keys_page() {
        let kid = "x/../../users/00000000-0000-0000-0000-000000000000/grant-admin";
        let href = admin::key_action(&crate::admin::actions::KeyAction::Revoke(kid.into()));
        assert_eq!(
            resolved(href.as_str()),
            ["admin", "keys", &format!("revoke-{kid}")]
        );
    }
}
