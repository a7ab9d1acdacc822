//! Scopes (RFC 6749 §3.3): space-separated, order-insensitive sets of tokens. The scopes that
//! mean something here are the constants of [`Scope`]; no other module spells one, so what the
//! code releases for a scope and what discovery advertises are the same values.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One scope token: printable ASCII except space, `"` and `\` (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Scope(Cow<'static, str>);

impl Scope {
    /// OpenID Connect: the request is for an ID token (OIDC Core §3.1.2.1).
    pub const OPENID: Scope = Scope::known("openid");
    /// `name` and `preferred_username` (OIDC Core §5.4).
    pub const PROFILE: Scope = Scope::known("profile");
    /// `email` and `email_verified` (OIDC Core §5.4).
    pub const EMAIL: Scope = Scope::known("email");
    /// A refresh token, to act while the person is away (OIDC Core §11).
    pub const OFFLINE_ACCESS: Scope = Scope::known("offline_access");
    /// The `roles` claim, for RBAC at resource servers.
    pub const ROLES: Scope = Scope::known("roles");
    /// The `groups` claim.
    pub const GROUPS: Scope = Scope::known("groups");
    /// The admin API, for a client acting for itself (never advertised).
    pub const ADMIN: Scope = Scope::known("admin");

    /// The scopes discovery advertises (`scopes_supported`, OIDC Discovery §3): those that
    /// release claims or tokens to any client allowed them.
    pub const SUPPORTED: [Scope; 6] = [
        Scope::OPENID,
        Scope::PROFILE,
        Scope::EMAIL,
        Scope::OFFLINE_ACCESS,
        Scope::ROLES,
        Scope::GROUPS,
    ];

    /// What a client may ask for when it is registered without a choice.
    pub const CLIENT_DEFAULT: [Scope; 4] = [
        Scope::OPENID,
        Scope::PROFILE,
        Scope::EMAIL,
        Scope::OFFLINE_ACCESS,
    ];

    /// Scopes about a person: meaningless for a client acting for itself (RFC 6749 §4.4).
    pub const ABOUT_A_PERSON: [Scope; 4] = Scope::CLIENT_DEFAULT;

    const fn known(name: &'static str) -> Scope {
        Scope(Cow::Borrowed(name))
    }

    /// A scope token from outside (a request, a registration, a stored row).
    pub fn parse(raw: &str) -> Result<Scope, String> {
        if raw.len() > crate::limits::SCOPE_TOKEN {
            return Err(format!(
                "a scope may be at most {} bytes long",
                crate::limits::SCOPE_TOKEN
            ));
        }
        let ok = !raw.is_empty()
            && raw
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Scope(Cow::Owned(raw.to_owned())))
        } else {
            Err(format!("`{}` is not a valid scope", raw.escape_debug()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What this scope lets an application do, in plain words, for the consent page.
    pub fn describe(&self) -> String {
        let known = [
            (Scope::OPENID, "Know who you are (sign you in)"),
            (Scope::PROFILE, "See your name and username"),
            (Scope::EMAIL, "See your email address"),
            (
                Scope::OFFLINE_ACCESS,
                "Stay signed in and act for you while you are away",
            ),
            (Scope::ROLES, "See your roles"),
            (Scope::GROUPS, "See the groups you belong to"),
        ];
        match known.into_iter().find(|(s, _)| s == self) {
            Some((_, words)) => words.into(),
            None => format!("Use the permission “{self}”"),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Scope {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Read back (a session, a code in Redis) through [`Scope::parse`], so a stored value that is
/// not a scope fails to decode.
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scope, D::Error> {
        let raw = Cow::<'de, str>::deserialize(deserializer)?;
        Scope::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Scopes in order, as requested, granted or registered. Serialized with serde as an array of
/// strings (the admin API, sessions, Redis); [`fmt::Display`] and [`space_separated`] give the
/// wire form of a `scope` parameter, response member or claim: the tokens separated by spaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses every element of `raw` (as stored: one scope per element).
    pub fn parse_all<S: AsRef<str>>(raw: &[S]) -> Result<Scopes, String> {
        raw.iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes)
    }

    /// Parses a space-separated `scope` value (RFC 6749 §3.3); empty gives no scopes.
    pub fn parse(raw: &str) -> Result<Scopes, String> {
        raw.split_whitespace()
            .map(Scope::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes)
    }
}

impl From<Vec<Scope>> for Scopes {
    fn from(scopes: Vec<Scope>) -> Scopes {
        Scopes(scopes)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Scopes {
        Scopes(scopes.into_iter().collect())
    }
}

impl Deref for Scopes {
    type Target = [Scope];

    fn deref(&self) -> &[Scope] {
        &self.0
    }
}

/// Space-separated, as in a `scope` parameter (RFC 6749 §3.3).
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

/// For `#[serde(serialize_with)]`: the scopes as one space-separated string, as a token response
/// (RFC 6749 §5.1) and an introspection response (RFC 7662 §2.2) carry them.
pub fn space_separated<S: Serializer>(scopes: &Scopes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(scopes)
}

/// [`space_separated`], for an optional member (left out with `skip_serializing_if`).
pub fn space_separated_option<S: Serializer>(
    scopes: &Option<Scopes>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match scopes {
        Some(scopes) => serializer.collect_str(scopes),
        None => serializer.serialize_none(),
    }
}

/// The requested scopes (a space-separated `scope` value) that `allowed` permits, in the order
/// requested, without duplicates. Others, including tokens that are not scopes at all, are left
/// out (RFC 6749 §3.3: the server may ignore part of the request).
pub fn grantable(requested: &str, allowed: &[Scope]) -> Scopes {
    let mut out: Vec<Scope> = Vec::new();
    for token in requested.split_whitespace() {
        if let Some(scope) = allowed.iter().find(|s| *s == token)
            && !out.contains(scope)
        {
            out.push(scope.clone());
        }
    }
    Scopes(out)
}

/// Whether every scope in `wanted` is in `granted` (a refresh may only narrow scope).
pub fn is_subset(wanted: &[Scope], granted: &[Scope]) -> bool {
    wanted.iter().all(|w| granted.contains(w))
}

/// The `granted` scopes that the client may still use (`allowed`), in their order.
pub fn still_allowed(granted: &[Scope], allowed: &[Scope]) -> Scopes {
    granted
        .iter()
        .filter(|s| allowed.contains(s))
        .cloned()
        .collect()
}

/// The scope of a refreshed access token (RFC 6749 §6): what was `asked` (or, if nothing, what
/// was `granted`), never more than was granted, and only what the client may still use. A scope
/// the client lost is dropped; if none of those asked for remains, `Err` says why
/// (`invalid_scope`).
pub fn refreshed(
    asked: Option<&[Scope]>,
    granted: &[Scope],
    allowed: &[Scope],
) -> Result<Scopes, &'static str> {
    let asked = asked.unwrap_or(granted);
    if !is_subset(asked, granted) {
        return Err("a refresh can only keep or narrow the scope");
    }
    let kept = still_allowed(asked, allowed);
    if kept.is_empty() {
        return Err("none of the scopes asked for is still allowed for this client");
    }
    Ok(kept)
}

#[cfg(test)]
#[path = "scope_tests.rs"]
mod tests;
