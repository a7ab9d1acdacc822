//! Roles and groups for RBAC at resource servers. Administrators define the names ([`Name`]) and
//! assign roles to users and clients and groups to users ([`store`]). Tokens carry them as the
//! `roles` and `groups` claims when the client was granted the `roles` / `groups` scope, so a
//! resource server can authorize from the JWT alone; a change applies to tokens issued after it.

pub mod store;

use std::fmt;

/// Roles or groups: the two kinds of names, kept in tables of the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Role,
    Group,
}

impl Kind {
    /// The path segment naming the kind: `roles` or `groups`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Role => "roles",
            Kind::Group => "groups",
        }
    }

    /// The kind a path segment names; `None` for anything else.
    pub fn from_plural(raw: &str) -> Option<Self> {
        [Kind::Role, Kind::Group]
            .into_iter()
            .find(|k| k.plural() == raw)
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::Group => "group",
        }
    }
}

/// A role or group name: 1 to 64 letters, digits and `. _ : / -`, starting with a letter or
/// digit (so it reads well in a claim and in a URL).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub fn parse(kind: Kind, raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let mut bytes = raw.bytes();
        let ok = (1..=64).contains(&raw.len())
            && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b));
        if !ok {
            return Err(format!(
                "`{raw}` is not a valid {} name: use 1 to 64 letters, digits and . _ : / -, starting with a letter or digit",
                kind.noun()
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Parses every name, or says which one is wrong.
    pub fn parse_all(kind: Kind, raw: &[String]) -> Result<Vec<Self>, String> {
        let mut names = raw
            .iter()
            .map(|r| Self::parse(kind, r))
            .collect::<Result<Vec<_>, _>>()?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_bounded() {
        assert!(Name::parse(Kind::Role, "billing:admin").is_ok());
        assert!(Name::parse(Kind::Group, "eng/platform-2").is_ok());
        for bad in ["", " ", "-lead", "has space", "é", &"x".repeat(65)] {
            let error = Name::parse(Kind::Role, bad).unwrap_err();
            assert!(error.contains("role name"), "{error}");
        }
        let names = Name::parse_all(Kind::Role, &["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(names, vec![Name("a".into()), Name("b".into())]);
    }
}
