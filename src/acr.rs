//! The authentication ladder: how well a person proved who they are, as one ordered level,
//! `password` < `two-factor` < `phishing-resistant`. Each level is published as an `acr` value
//! (OIDC Core §2, §5.5.1.1) and follows from the RFC 8176 `amr` methods a sign-in used. Everything
//! that asks "is this person signed in well enough" compares levels: `acr_values` at `/authorize`
//! (OIDC Core §3.1.2.1), a client's minimum, the admin console, step-up before sensitive changes.

use serde::{Deserialize, Serialize};

use crate::amr::Amr;

/// One rung of the ladder; the derived order is the ladder's.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// A password alone.
    #[default]
    Password,
    /// A password and a second factor (a one-time code).
    TwoFactor,
    /// A user-verified passkey: bound to the origin, so a look-alike site cannot relay it
    /// (NIST SP 800-63B §5.2.5 verifier impersonation resistance).
    PhishingResistant,
}

impl Level {
    /// Every level, lowest first. Discovery advertises their `acr` values
    /// (`acr_values_supported`, OIDC Discovery §3).
    pub const ALL: [Level; 3] = [Level::Password, Level::TwoFactor, Level::PhishingResistant];

    /// The `acr` value (OIDC Core §2).
    pub const fn acr(self) -> &'static str {
        match self {
            Level::Password => "urn:portcullis:acr:password",
            Level::TwoFactor => "urn:portcullis:acr:mfa",
            Level::PhishingResistant => "urn:portcullis:acr:phishing-resistant",
        }
    }

    /// The level whose `acr` value is `value`.
    pub fn from_acr(value: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.acr() == value)
    }

    /// The short name used in settings and the admin pages (`password`, `two-factor`,
    /// `phishing-resistant`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Password => "password",
            Level::TwoFactor => "two-factor",
            Level::PhishingResistant => "phishing-resistant",
        }
    }

    /// The level named `value` in settings or forms ([`Level::as_str`]).
    pub fn parse(value: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == value)
    }

    /// The level a sign-in with these methods reached.
    pub fn of(methods: &[Amr]) -> Level {
        if Amr::passkey_used(methods) {
            Level::PhishingResistant
        } else if Amr::second_factor(methods) {
            Level::TwoFactor
        } else {
            Level::Password
        }
    }

    /// What a person reads: "a password", "two factors", "a passkey".
    pub const fn describe(self) -> &'static str {
        match self {
            Level::Password => "a password",
            Level::TwoFactor => "a password and a second factor",
            Level::PhishingResistant => "a passkey",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Level;
    use crate::amr::Amr;

    #[test]
    fn the_ladder_is_ordered() {
        assert!(Level::Password < Level::TwoFactor);
        assert!(Level::TwoFactor < Level::PhishingResistant);
        assert_eq!(Level::ALL.iter().max(), Some(&Level::PhishingResistant));
    }

    #[test]
    fn methods_give_their_level() {
        assert_eq!(Level::of(&[Amr::Pwd]), Level::Password);
        assert_eq!(Level::of(&[Amr::Pwd, Amr::Otp]), Level::TwoFactor);
        assert_eq!(Level::of(&Amr::passkey(true)), Level::PhishingResistant);
        let mut after_password = vec![Amr::Pwd];
        after_password.extend(Amr::passkey(false));
        assert_eq!(Level::of(&after_password), Level::PhishingResistant);
    }

    #[test]
    fn values_round_trip_and_nothing_else_parses() {
        for level in Level::ALL {
            assert_eq!(Level::from_acr(level.acr()), Some(level));
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::from_acr("urn:portcullis:acr:other"), None);
        assert_eq!(Level::parse("Password"), None);
        // The values tokens carried before the ladder had a third rung.
        assert_eq!(Level::TwoFactor.acr(), "urn:portcullis:acr:mfa");
        assert_eq!(Level::Password.acr(), "urn:portcullis:acr:password");
    }
}
