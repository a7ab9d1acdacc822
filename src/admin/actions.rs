//! The actions an administrator can take on one object, one enum per resource. A path segment is
//! parsed into one of them or refused (404), so no handler ever acts on a string it matched
//! loosely, and the URL builder ([`crate::urls::admin`]) writes each back from the same names.

use std::fmt;

use crate::keys::Alg;

/// Declares an action enum with its path segments, `parse` and `as_str`.
macro_rules! actions {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $segment:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The path segment naming this action.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $segment),+
                }
            }

            /// The action a path segment names; `None` (a 404) for anything else.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.as_str() == raw)
            }
        }
    };
}

actions! {
    /// What can be done to a client on its page.
    ClientAction {
        RotateSecret => "rotate-secret",
        Disable => "disable",
        Enable => "enable",
        Delete => "delete",
        Roles => "roles",
    }
}

actions! {
    /// What can be done to a user on their page.
    UserAction {
        Disable => "disable",
        Enable => "enable",
        GrantAdmin => "grant-admin",
        RemoveAdmin => "remove-admin",
        ResetMfa => "reset-mfa",
        ClearThrottling => "clear-throttling",
        Password => "password",
        Email => "email",
        EndSessions => "end-sessions",
        EndSession => "end-session",
        RemovePasskey => "remove-passkey",
        Roles => "roles",
        Groups => "groups",
    }
}

/// What can be done on the keys page: start a rotation of one algorithm, or revoke one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    Rotate(Alg),
    Revoke(String),
}

impl KeyAction {
    /// `rotate-<alg>` or `revoke-<kid>`; whether the key exists is for the caller to check.
    pub fn parse(raw: &str) -> Option<Self> {
        if let Some(alg) = raw.strip_prefix("rotate-") {
            Alg::parse(alg).map(KeyAction::Rotate)
        } else {
            raw.strip_prefix("revoke-")
                .filter(|kid| !kid.is_empty())
                .map(|kid| KeyAction::Revoke(kid.to_owned()))
        }
    }
}

/// The path segment (encoded by the URL builder, like every segment).
impl fmt::Display for KeyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAction::Rotate(alg) => write!(f, "rotate-{}", alg.as_str()),
            KeyAction::Revoke(kid) => write!(f, "revoke-{kid}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_back_from_its_segment_and_nothing_else_does() {
        for a in UserAction::ALL {
            assert_eq!(UserAction::parse(a.as_str()), Some(*a));
        }
        for a in ClientAction::ALL {
            assert_eq!(ClientAction::parse(a.as_str()), Some(*a));
        }
        assert_eq!(UserAction::parse("grant-admin/"), None);
        assert_eq!(ClientAction::parse("Delete"), None);
        assert_eq!(KeyAction::parse("rotate-HS256"), None);
        assert_eq!(KeyAction::parse("revoke-"), None);
        assert_eq!(
            KeyAction::parse("rotate-ES256"),
            Some(KeyAction::Rotate(Alg::ES256))
        );
        let action = KeyAction::parse("revoke-k1").unwrap();
        assert_eq!(action.to_string(), "revoke-k1");
    }
}
