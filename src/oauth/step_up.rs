//! What happens when the person signed in for an authorization request is below the level the
//! request needs ([`AuthorizationRequest::min_level`](super::authorize::AuthorizationRequest)):
//! they confirm with a passkey, sign in again with their second factor, set one up first, or the
//! client is told `unmet_authentication_requirements` (OpenID Connect Core Unmet Authentication
//! Requirements 1.0 §2) when nobody may be asked (`prompt=none`, OIDC Core §3.1.2.1) or the level
//! cannot be reached here. Decided without HTTP; the authorization endpoint carries it out.

use crate::acr::Level;

/// What the person has set up, as far as reaching a level goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enrolled {
    /// A TOTP authenticator (and a password to sign in with before it).
    pub totp: bool,
    /// At least one passkey.
    pub passkey: bool,
}

/// The way up to the level a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    /// Confirm with a passkey: phishing-resistant, and a second factor too. (The page says how
    /// to add one to a person who has none yet.)
    Passkey,
    /// Sign in again: the password, then the authenticator code the session lacks.
    SignInAgain,
    /// No second factor is set up: set one up first.
    Enroll,
    /// Fail with `unmet_authentication_requirements`.
    Unmet,
}

/// How a person signed in at `reached` gets to `required`; `None` if they are there already.
/// `passkeys`: whether passkeys are on (`PORTCULLIS_PASSKEYS` is not `off`).
pub fn step_up(
    reached: Level,
    required: Level,
    prompt_none: bool,
    passkeys: bool,
    enrolled: Enrolled,
) -> Option<StepUp> {
    if reached >= required {
        return None;
    }
    if prompt_none {
        return Some(StepUp::Unmet);
    }
    Some(match required {
        Level::PhishingResistant if passkeys => StepUp::Passkey,
        Level::PhishingResistant => StepUp::Unmet,
        _ if enrolled.totp => StepUp::SignInAgain,
        _ if passkeys && enrolled.passkey => StepUp::Passkey,
        _ => StepUp::Enroll,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTHING: Enrolled = Enrolled {
        totp: false,
        passkey: false,
    };
    const TOTP: Enrolled = Enrolled {
        totp: true,
        passkey: false,
    };
    const PASSKEY: Enrolled = Enrolled {
        totp: false,
        passkey: true,
    };
    const BOTH: Enrolled = Enrolled {
        totp: true,
        passkey: true,
    };

    #[test]
    fn at_or_above_the_level_nothing_is_asked() {
        for required in Level::ALL {
            for reached in Level::ALL.into_iter().filter(|r| *r >= required) {
                assert_eq!(step_up(reached, required, true, true, NOTHING), None);
            }
        }
    }

    #[test]
    fn prompt_none_is_refused_rather_than_asking() {
        for reached in [Level::Password, Level::TwoFactor] {
            let ask = step_up(reached, Level::PhishingResistant, true, true, BOTH);
            assert_eq!(ask, Some(StepUp::Unmet));
        }
        let ask = step_up(Level::Password, Level::TwoFactor, true, true, TOTP);
        assert_eq!(ask, Some(StepUp::Unmet));
    }

    #[test]
    fn a_second_factor_is_the_code_again_or_a_passkey() {
        let two = |enrolled, passkeys| {
            step_up(Level::Password, Level::TwoFactor, false, passkeys, enrolled)
        };
        assert_eq!(two(TOTP, true), Some(StepUp::SignInAgain));
        assert_eq!(two(BOTH, true), Some(StepUp::SignInAgain));
        assert_eq!(two(PASSKEY, true), Some(StepUp::Passkey));
        assert_eq!(two(NOTHING, true), Some(StepUp::Enroll));
        // A passkey kept from before passkeys were turned off is not offered.
        assert_eq!(two(PASSKEY, false), Some(StepUp::Enroll));
    }

    #[test]
    fn phishing_resistance_needs_a_passkey_and_passkeys_on() {
        let strong = |reached, enrolled, passkeys| {
            step_up(reached, Level::PhishingResistant, false, passkeys, enrolled)
        };
        assert_eq!(strong(Level::TwoFactor, BOTH, true), Some(StepUp::Passkey));
        assert_eq!(
            strong(Level::Password, PASSKEY, true),
            Some(StepUp::Passkey)
        );
        // Without one yet, the passkey page says how to add one.
        assert_eq!(strong(Level::TwoFactor, TOTP, true), Some(StepUp::Passkey));
        assert_eq!(
            strong(Level::Password, NOTHING, true),
            Some(StepUp::Passkey)
        );
        assert_eq!(strong(Level::TwoFactor, BOTH, false), Some(StepUp::Unmet));
        assert_eq!(strong(Level::Password, NOTHING, false), Some(StepUp::Unmet));
    }
}
