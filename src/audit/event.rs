//! Every kind of audit event and its name. The dotted names (`user.created`, `key.rotated`, ...)
//! are what the audit table, the admin page's filter and operators' queries know, so each is
//! written here once and never by a caller. What an event is about and its details are rendered
//! in [`super::details`].

use serde_json::Value;
use uuid::Uuid;

use crate::amr::Amr;
use crate::oauth::scope::Scope;

/// One thing that happened. The variants borrow from the caller; the event is written at once.
#[derive(Debug, Clone)]
pub enum AuditEvent<'a> {
    // People, changed by an administrator, the command line or themselves.
    UserCreated {
        user: Uuid,
        username: &'a str,
        admin: bool,
        totp: bool,
    },
    UserDisabled {
        user: Uuid,
    },
    UserEnabled {
        user: Uuid,
    },
    AdminGranted {
        user: Uuid,
    },
    AdminRemoved {
        user: Uuid,
    },
    ThrottlingCleared {
        user: Uuid,
    },
    UserRolesSet {
        user: Uuid,
        roles: &'a [String],
    },
    UserGroupsSet {
        user: Uuid,
        groups: &'a [String],
    },
    PasswordChanged {
        user: Uuid,
    },
    /// The account signs in with passkeys only from now on.
    PasswordRemoved {
        user: Uuid,
    },
    MfaEnrolled {
        user: Uuid,
    },
    MfaRemoved {
        user: Uuid,
    },
    /// An administrator removed the second factor and the recovery codes.
    MfaReset {
        user: Uuid,
    },
    /// One of the person's sessions was ended by an administrator.
    SessionEnded {
        user: Uuid,
    },
    /// Every session of the person was ended by an administrator.
    SessionsEnded {
        user: Uuid,
    },

    // Signing in and out.
    LoginSucceeded {
        user: Uuid,
        amr: &'a [Amr],
    },
    // Mail: addresses, links and what could not be delivered.
    /// A password reset link was asked for (the mail is queued in the same transaction).
    PasswordResetRequested {
        user: Uuid,
    },
    /// The password was set through a reset link; every session and refresh token ended.
    PasswordReset {
        user: Uuid,
    },
    /// The account's address was set or changed (and is not verified until its link is used).
    EmailChanged {
        user: Uuid,
    },
    /// The person used the link sent to the account's address.
    EmailVerified {
        user: Uuid,
    },
    /// An administrator invited a person: the account exists, without a way in until accepted.
    UserInvited {
        user: Uuid,
        username: &'a str,
        admin: bool,
    },
    /// The invited person chose a password or a passkey.
    InvitationAccepted {
        user: Uuid,
    },
    /// A person signed up on the sign-up page.
    UserSignedUp {
        user: Uuid,
        username: &'a str,
    },
    /// An account from the sign-up page whose address was never confirmed while its link worked
    /// was removed, so that a new sign-up could have its username or address.
    SignUpLapsed {
        user: Uuid,
        username: &'a str,
    },
    /// The outbox gave up on a mail (refused for good, or undeliverable too long).
    MailFailed {
        message: Uuid,
        recipient: &'a str,
        topic: &'a str,
        error: &'a str,
    },

    /// A wrong password (or an unknown name), for the name as typed.
    PasswordFailed {
        login: &'a str,
    },
    /// A wrong second factor after a right password.
    SecondFactorFailed {
        user: Uuid,
    },
    /// A signed-in person entered a second factor again before a change.
    SteppedUp {
        user: Uuid,
    },

    // Passkeys, by name (the name the person gave it).
    PasskeyAdded {
        user: Uuid,
        name: &'a str,
    },
    PasskeyRenamed {
        user: Uuid,
        name: &'a str,
    },
    PasskeyRemoved {
        user: Uuid,
        name: &'a str,
    },
    /// A passkey signed in, confirmed a password, or stepped a session up.
    PasskeyUsed {
        user: Uuid,
        name: &'a str,
    },
    /// A passkey answered with a signature counter that did not grow (WebAuthn §6.1.1): the
    /// authenticator may have been cloned. The use was refused.
    PasskeyCloneSuspected {
        user: Uuid,
        name: &'a str,
    },
    /// A passkey's answer did not verify.
    PasskeyFailed {
        user: Uuid,
    },
    Logout {
        user: Uuid,
    },
    LogoutEverywhere {
        user: Uuid,
    },

    // What a person allowed a client.
    ConsentGiven {
        client_id: &'a str,
        scopes: &'a [Scope],
    },
    ConsentRevoked {
        client_id: &'a str,
    },
    DeviceApproved {
        client_id: &'a str,
        scopes: &'a [Scope],
    },
    DeviceDenied {
        client_id: &'a str,
        scopes: &'a [Scope],
    },

    // Clients.
    /// `settings`: the client's settings as the clients store describes them (no secret).
    ClientCreated {
        client_id: &'a str,
        settings: Value,
    },
    ClientUpdated {
        client_id: &'a str,
        settings: Value,
    },
    ClientEnabled {
        client_id: &'a str,
    },
    ClientDisabled {
        client_id: &'a str,
    },
    ClientSecretRotated {
        client_id: &'a str,
    },
    ClientDeleted {
        client_id: &'a str,
        name: &'a str,
    },
    ClientRolesSet {
        client_id: &'a str,
        roles: &'a [String],
    },

    // Role and group definitions.
    RoleDefined {
        name: &'a str,
        description: &'a str,
    },
    GroupDefined {
        name: &'a str,
        description: &'a str,
    },
    RoleDeleted {
        name: &'a str,
    },
    GroupDeleted {
        name: &'a str,
    },

    // Signing keys; times are unix seconds.
    KeyCreated {
        kid: &'a str,
        alg: &'static str,
        activate_at: i64,
    },
    /// A key's times changed: by a rotation an administrator asked for, or by the schedule.
    KeyTimesChanged {
        kid: &'a str,
        alg: &'static str,
        activate_at: i64,
        retire_at: i64,
        cause: KeyChange,
    },
    KeyRevoked {
        kid: &'a str,
        alg: &'static str,
    },
    /// An expired key was deleted by the cleanup, past the grace.
    KeyDeleted {
        kid: &'a str,
        alg: &'a str,
    },
    /// Values sealed under an older key-encryption key were re-sealed under `kek_id` (ids only:
    /// they do not reveal the keys).
    KekRotated {
        kek_id: &'a str,
        previous: Option<&'a str>,
        signing_keys: u64,
        totp_secrets: u64,
    },
}

/// Why a key's times changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    /// An administrator (or the command line) rotated now.
    Rotated,
    /// The rotation tick moved the schedule along.
    Rescheduled,
}

impl AuditEvent<'_> {
    /// The dotted name stored in `audit_events.event`.
    pub fn name(&self) -> &'static str {
        use AuditEvent::*;
        match self {
            UserCreated { .. } => "user.created",
            UserDisabled { .. } => "user.disabled",
            UserEnabled { .. } => "user.enabled",
            AdminGranted { .. } => "user.admin_granted",
            AdminRemoved { .. } => "user.admin_removed",
            ThrottlingCleared { .. } => "user.throttling_cleared",
            UserRolesSet { .. } => "user.roles_set",
            UserGroupsSet { .. } => "user.groups_set",
            PasswordChanged { .. } => "password.changed",
            PasswordRemoved { .. } => "password.removed",
            MfaEnrolled { .. } => "mfa.enrolled",
            MfaRemoved { .. } => "mfa.removed",
            MfaReset { .. } => "mfa.reset",
            SessionEnded { .. } => "session.ended",
            SessionsEnded { .. } => "session.ended_all",
            LoginSucceeded { .. } => "login.succeeded",
            PasswordFailed { .. } | SecondFactorFailed { .. } => "login.failed",
            PasswordResetRequested { .. } => "password.reset_requested",
            PasswordReset { .. } => "password.reset",
            EmailChanged { .. } => "email.changed",
            EmailVerified { .. } => "email.verified",
            UserInvited { .. } => "user.invited",
            InvitationAccepted { .. } => "user.invitation_accepted",
            UserSignedUp { .. } => "user.signed_up",
            SignUpLapsed { .. } => "user.signup_lapsed",
            MailFailed { .. } => "mail.failed",
            SteppedUp { .. } => "login.stepped_up",
            PasskeyAdded { .. } => "passkey.added",
            PasskeyRenamed { .. } => "passkey.renamed",
            PasskeyRemoved { .. } => "passkey.removed",
            PasskeyUsed { .. } => "passkey.used",
            PasskeyCloneSuspected { .. } => "passkey.clone_suspected",
            PasskeyFailed { .. } => "login.failed",
            Logout { .. } => "logout",
            LogoutEverywhere { .. } => "logout.everywhere",
            ConsentGiven { .. } => "consent.given",
            ConsentRevoked { .. } => "consent.revoked",
            DeviceApproved { .. } => "device.approved",
            DeviceDenied { .. } => "device.denied",
            ClientCreated { .. } => "client.created",
            ClientUpdated { .. } => "client.updated",
            ClientEnabled { .. } => "client.enabled",
            ClientDisabled { .. } => "client.disabled",
            ClientSecretRotated { .. } => "client.secret_rotated",
            ClientDeleted { .. } => "client.deleted",
            ClientRolesSet { .. } => "client.roles_set",
            RoleDefined { .. } => "role.defined",
            GroupDefined { .. } => "group.defined",
            RoleDeleted { .. } => "role.deleted",
            GroupDeleted { .. } => "group.deleted",
            KeyCreated { .. } => "key.created",
            KeyTimesChanged {
                cause: KeyChange::Rotated,
                ..
            } => "key.rotated",
            KeyTimesChanged {
                cause: KeyChange::Rescheduled,
                ..
            } => "key.rescheduled",
            KeyRevoked { .. } => "key.revoked",
            KeyDeleted { .. } => "key.deleted",
            KekRotated { .. } => "kek.rotated",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_targets_and_details_are_those_the_log_already_holds() {
        let user = Uuid::nil();
        let amr = [Amr::Pwd, Amr::Otp];
        let scopes = [Scope::OPENID];
        let cases = [
            (
                AuditEvent::UserCreated {
                    user,
                    username: "ada",
                    admin: true,
                    totp: false,
                },
                "user.created",
                user.to_string(),
                json!({ "username": "ada", "admin": true, "totp": false }),
            ),
            (
                AuditEvent::LoginSucceeded { user, amr: &amr },
                "login.succeeded",
                user.to_string(),
                json!({ "amr": ["pwd", "otp"] }),
            ),
            (
                AuditEvent::PasswordFailed { login: "ada" },
                "login.failed",
                "ada".into(),
                json!({ "step": "password" }),
            ),
            (
                AuditEvent::SecondFactorFailed { user },
                "login.failed",
                user.to_string(),
                json!({ "step": "mfa" }),
            ),
            (
                AuditEvent::PasskeyCloneSuspected {
                    user,
                    name: "Laptop",
                },
                "passkey.clone_suspected",
                user.to_string(),
                json!({ "name": "Laptop" }),
            ),
            (
                AuditEvent::PasskeyFailed { user },
                "login.failed",
                user.to_string(),
                json!({ "step": "passkey" }),
            ),
            (
                AuditEvent::DeviceDenied {
                    client_id: "tv",
                    scopes: &scopes,
                },
                "device.denied",
                "tv".into(),
                json!({ "client_id": "tv", "scopes": ["openid"] }),
            ),
            (
                AuditEvent::SessionsEnded { user },
                "session.ended_all",
                user.to_string(),
                json!({}),
            ),
            (
                AuditEvent::KeyTimesChanged {
                    kid: "k1",
                    alg: "ES256",
                    activate_at: 1,
                    retire_at: 2,
                    cause: KeyChange::Rotated,
                },
                "key.rotated",
                "k1".into(),
                json!({ "alg": "ES256", "activate_at": 1, "retire_at": 2 }),
            ),
            (
                AuditEvent::KekRotated {
                    kek_id: "new-id",
                    previous: Some("old-id"),
                    signing_keys: 4,
                    totp_secrets: 2,
                },
                "kek.rotated",
                "new-id".into(),
                json!({ "previous": "old-id", "signing_keys": 4, "totp_secrets": 2 }),
            ),
            (
                AuditEvent::GroupDeleted { name: "ops" },
                "group.deleted",
                "ops".into(),
                json!({}),
            ),
        ];
        for (event, name, target, details) in cases {
            assert_eq!(event.name(), name);
            assert_eq!(event.target(), target, "{name}");
            assert_eq!(event.details(), details, "{name}");
        }
    }

    #[test]
    fn a_rescheduled_key_is_not_a_rotation() {
        let event = AuditEvent::KeyTimesChanged {
            kid: "k1",
            alg: "RS256",
            activate_at: 1,
            retire_at: 2,
            cause: KeyChange::Rescheduled,
        };
        assert_eq!(event.name(), "key.rescheduled");
    }
}
