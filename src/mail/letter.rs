//! What a mail is about: a [`Letter`] is the outbox payload of one mail, a topic and the account
//! it concerns, and never a secret. The worker ([`crate::outbox::worker`]) turns it into words
//! ([`super::compose`]) and, for a letter that carries a link, makes the link when it sends.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::links::Purpose;
use crate::audit::AuditEvent;

/// One mail to one address, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "topic", rename_all = "snake_case")]
pub enum Letter {
    /// A link that proves the address is the account's (sent to the address to verify).
    VerifyAddress { user: Uuid },
    /// A link to choose a new password (sent to the account's verified address).
    ResetPassword { user: Uuid },
    /// A link to accept an invitation: set a password or a passkey.
    Invitation { user: Uuid },
    /// To the old address, after the account's address was changed.
    AddressChanged { user: Uuid, new_address: String },
    /// Something security-relevant happened to the account (sent to its verified address).
    Notice { user: Uuid, notice: Notice },
}

/// A security notice: a change the account's owner should hear about, whoever made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    PasswordChanged,
    PasswordRemoved,
    SecondFactorAdded,
    SecondFactorRemoved,
    PasskeyAdded,
    PasskeyRemoved,
    AccountDisabled,
}

impl Notice {
    /// The notice an audit event calls for, and whose account it concerns: recorded with the
    /// event, in its transaction ([`crate::outbox::notices`]), so no way of making the change can
    /// forget to tell the owner.
    pub fn for_event(event: &AuditEvent<'_>) -> Option<(Uuid, Notice)> {
        use AuditEvent as E;
        let (user, notice) = match *event {
            E::PasswordChanged { user } | E::PasswordReset { user } => {
                (user, Notice::PasswordChanged)
            }
            E::PasswordRemoved { user } => (user, Notice::PasswordRemoved),
            E::MfaEnrolled { user } => (user, Notice::SecondFactorAdded),
            E::MfaRemoved { user } | E::MfaReset { user } => (user, Notice::SecondFactorRemoved),
            E::PasskeyAdded { user, .. } => (user, Notice::PasskeyAdded),
            E::PasskeyRemoved { user, .. } => (user, Notice::PasskeyRemoved),
            E::UserDisabled { user } => (user, Notice::AccountDisabled),
            _ => return None,
        };
        Some((user, notice))
    }

    fn name(self) -> &'static str {
        match self {
            Notice::PasswordChanged => "password_changed",
            Notice::PasswordRemoved => "password_removed",
            Notice::SecondFactorAdded => "second_factor_added",
            Notice::SecondFactorRemoved => "second_factor_removed",
            Notice::PasskeyAdded => "passkey_added",
            Notice::PasskeyRemoved => "passkey_removed",
            Notice::AccountDisabled => "account_disabled",
        }
    }
}

impl Letter {
    /// The account the letter concerns.
    pub fn user(&self) -> Uuid {
        match *self {
            Letter::VerifyAddress { user }
            | Letter::ResetPassword { user }
            | Letter::Invitation { user }
            | Letter::AddressChanged { user, .. }
            | Letter::Notice { user, .. } => user,
        }
    }

    /// The outbox's `topic` column: `verify`, `reset`, `invite`, `address_changed` or
    /// `notice.<what>`.
    pub fn topic(&self) -> String {
        match self {
            Letter::VerifyAddress { .. } => "verify".into(),
            Letter::ResetPassword { .. } => "reset".into(),
            Letter::Invitation { .. } => "invite".into(),
            Letter::AddressChanged { .. } => "address_changed".into(),
            Letter::Notice { notice, .. } => format!("notice.{}", notice.name()),
        }
    }

    /// The link the mail carries, if any.
    pub fn link(&self) -> Option<Purpose> {
        match self {
            Letter::VerifyAddress { .. } => Some(Purpose::Verify),
            Letter::ResetPassword { .. } => Some(Purpose::Reset),
            Letter::Invitation { .. } => Some(Purpose::Invite),
            Letter::AddressChanged { .. } | Letter::Notice { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_keep_their_wire_form() {
        let user = Uuid::nil();
        let letter = Letter::Notice {
            user,
            notice: Notice::PasskeyAdded,
        };
        let json = serde_json::to_value(&letter).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"topic": "notice", "user": user, "notice": "passkey_added"})
        );
        assert_eq!(serde_json::from_value::<Letter>(json).unwrap(), letter);
        assert_eq!(letter.topic(), "notice.passkey_added");
        assert_eq!(Letter::ResetPassword { user }.link(), Some(Purpose::Reset));
    }
}
