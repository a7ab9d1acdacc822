//! Scopes (RFC 6749 §3.3): space-separated, order-insensitive sets of tokens. The scopes that
//! mean something here are the constants of [`Scope`]; no other module spells one, so what the
//! code releases for a scope and what discovery advertises are the same values.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::Serialize;

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

    pub fn parse(raw: &str) -> Result<Scope, String> {
        let ok = !raw.is_empty()
            && raw.len() <= crate::limits::SCOPE_TOKEN
            && raw
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Scope(Cow::Owned(raw.to_owned())))
        } else {
            Err(format!("`{raw}` is not a valid scope"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this scope is one of `scopes` (a granted or requested list).
    pub fn is_in<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        scopes.iter().any(|s| s.as_ref() == self.as_str())
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

impl PartialEq<String> for Scope {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Scope> for String {
    fn eq(&self, other: &Scope) -> bool {
        self == other.as_str()
    }
}

/// The scopes a client may ask for, in the order registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses every token of `raw` (as stored: one scope per element).
    pub fn parse_all<S: AsRef<str>>(raw: &[S]) -> Result<Scopes, String> {
        raw.iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes)
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// The scopes as strings (for the database).
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl From<Vec<Scope>> for Scopes {
    fn from(scopes: Vec<Scope>) -> Scopes {
        Scopes(scopes)
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

/// The requested scopes that `allowed` permits, in the order requested, without duplicates.
pub fn grantable(requested: &str, allowed: &Scopes) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in requested.split_whitespace() {
        if allowed.contains(scope) && !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// Whether every scope in `wanted` is in `granted` (a refresh may only narrow scope).
pub fn is_subset(wanted: &[String], granted: &[String]) -> bool {
    wanted.iter().all(|w| granted.contains(w))
}

/// The `granted` scopes that the client may still use (`allowed`), in their order.
pub fn still_allowed(granted: &[String], allowed: &Scopes) -> Vec<String> {
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
    asked: Option<&[String]>,
    granted: &[String],
    allowed: &Scopes,
) -> Result<Vec<String>, &'static str> {
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

/// The scopes as one space-separated string.
pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// What a scope lets an application do, in plain words, for the consent page.
pub fn describe(scope: &str) -> String {
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
    match known.into_iter().find(|(s, _)| s == scope) {
        Some((_, words)) => words.into(),
        None => format!("Use the permission “{scope}”"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(scopes: &[Scope]) -> Vec<String> {
        scopes.iter().map(|s| s.as_str().to_owned()).collect()
    }

    #[test]
    fn only_allowed_scopes_are_granted_once_each() {
        let allowed = Scopes::from(vec![Scope::OPENID, Scope::EMAIL]);
        assert_eq!(
            grantable("email openid email admin", &allowed),
            strings(&[Scope::EMAIL, Scope::OPENID])
        );
        assert!(grantable(Scope::ADMIN.as_str(), &allowed).is_empty());
        let allowed = allowed.to_strings();
        assert!(is_subset(&strings(&[Scope::EMAIL]), &allowed));
        assert!(!is_subset(&strings(&[Scope::PROFILE]), &allowed));
    }

    #[test]
    fn a_refresh_keeps_what_was_asked_and_is_still_allowed() {
        let granted = strings(&[Scope::OPENID, Scope::EMAIL, Scope::OFFLINE_ACCESS]);
        let allowed = Scopes::from(vec![Scope::OPENID, Scope::OFFLINE_ACCESS]);
        assert_eq!(
            refreshed(None, &granted, &allowed).unwrap(),
            strings(&[Scope::OPENID, Scope::OFFLINE_ACCESS])
        );
        let all = Scopes::parse_all(&granted).unwrap();
        assert_eq!(
            refreshed(Some(&strings(&[Scope::OPENID])), &granted, &all).unwrap(),
            strings(&[Scope::OPENID])
        );
        assert!(refreshed(Some(&strings(&[Scope::PROFILE])), &granted, &allowed).is_err());
        assert!(refreshed(Some(&strings(&[Scope::EMAIL])), &granted, &allowed).is_err());
    }

    #[test]
    fn scope_tokens_follow_rfc_6749() {
        for good in ["openid", "a:b/c", "!#[]~"] {
            assert_eq!(Scope::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert!(Scope::parse(&"s".repeat(crate::limits::SCOPE_TOKEN + 1)).is_err());
        // The constants are valid tokens, and a parsed token equals its constant.
        for known in Scope::SUPPORTED.into_iter().chain([Scope::ADMIN]) {
            assert_eq!(Scope::parse(known.as_str()), Ok(known));
        }
    }

    #[test]
    fn scopes_print_space_separated_and_serialize_as_strings() {
        let scopes = Scopes::from(Scope::CLIENT_DEFAULT.to_vec());
        assert_eq!(scopes.to_string(), "openid profile email offline_access");
        assert_eq!(
            serde_json::to_value(&scopes).unwrap(),
            serde_json::json!(["openid", "profile", "email", "offline_access"])
        );
        assert!(scopes.contains("email") && !scopes.contains("roles"));
        assert!(Scope::EMAIL.is_in(&["email".to_owned()]));
    }
}
