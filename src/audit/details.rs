//! The target and details columns of an audit event: what it is about (a user id, a typed login
//! name, a client id, a role or group name, a key id) and what else an operator needs to read it.
//! Details never hold a secret. The event kinds and their names are in [`super::event`].

use serde_json::{Value, json};

use super::event::AuditEvent;

impl AuditEvent<'_> {
    /// What the event is about: a user id, a typed login name, a client id, a role or group
    /// name, a key id, or a key-encryption key's id.
    pub fn target(&self) -> String {
        use AuditEvent::*;
        match self {
            UserCreated { user, .. }
            | UserDisabled { user }
            | UserEnabled { user }
            | AdminGranted { user }
            | AdminRemoved { user }
            | ThrottlingCleared { user }
            | UserRolesSet { user, .. }
            | UserGroupsSet { user, .. }
            | PasswordChanged { user }
            | PasswordRemoved { user }
            | MfaEnrolled { user }
            | MfaRemoved { user }
            | MfaReset { user }
            | SessionEnded { user }
            | SessionsEnded { user }
            | LoginSucceeded { user, .. }
            | SecondFactorFailed { user }
            | SteppedUp { user }
            | PasskeyAdded { user, .. }
            | PasskeyRenamed { user, .. }
            | PasskeyRemoved { user, .. }
            | PasskeyUsed { user, .. }
            | PasskeyCloneSuspected { user, .. }
            | PasskeyFailed { user }
            | Logout { user }
            | LogoutEverywhere { user }
            | PasswordResetRequested { user }
            | PasswordReset { user }
            | EmailChanged { user }
            | EmailVerified { user }
            | UserInvited { user, .. }
            | InvitationAccepted { user }
            | UserSignedUp { user, .. }
            | SignUpLapsed { user, .. } => user.to_string(),
            MailFailed { message, .. } => message.to_string(),
            PasswordFailed { login } => (*login).to_owned(),
            ConsentGiven { client_id, .. }
            | ConsentRevoked { client_id }
            | DeviceApproved { client_id, .. }
            | DeviceDenied { client_id, .. }
            | ClientCreated { client_id, .. }
            | ClientUpdated { client_id, .. }
            | ClientEnabled { client_id }
            | ClientDisabled { client_id }
            | ClientSecretRotated { client_id }
            | ClientDeleted { client_id, .. }
            | ClientRolesSet { client_id, .. } => (*client_id).to_owned(),
            RoleDefined { name, .. }
            | GroupDefined { name, .. }
            | RoleDeleted { name }
            | GroupDeleted { name } => (*name).to_owned(),
            KeyCreated { kid, .. }
            | KeyTimesChanged { kid, .. }
            | KeyRevoked { kid, .. }
            | KeyDeleted { kid, .. } => (*kid).to_owned(),
            KekRotated { kek_id, .. } => (*kek_id).to_owned(),
        }
    }

    /// The details column: what else an operator needs to read the event.
    pub fn details(&self) -> Value {
        use AuditEvent::*;
        match self {
            UserCreated {
                username,
                admin,
                totp,
                ..
            } => json!({ "username": username, "admin": admin, "totp": totp }),
            UserInvited {
                username, admin, ..
            } => json!({ "username": username, "admin": admin }),
            UserSignedUp { username, .. } | SignUpLapsed { username, .. } => {
                json!({ "username": username })
            }
            MailFailed {
                recipient,
                topic,
                error,
                ..
            } => json!({ "recipient": recipient, "topic": topic, "error": error }),
            UserRolesSet { roles, .. } => json!({ "roles": roles }),
            UserGroupsSet { groups, .. } => json!({ "groups": groups }),
            LoginSucceeded { amr, .. } => json!({ "amr": amr }),
            PasswordFailed { .. } => json!({ "step": "password" }),
            SecondFactorFailed { .. } => json!({ "step": "mfa" }),
            PasskeyFailed { .. } => json!({ "step": "passkey" }),
            PasskeyAdded { name, .. }
            | PasskeyRenamed { name, .. }
            | PasskeyRemoved { name, .. }
            | PasskeyUsed { name, .. }
            | PasskeyCloneSuspected { name, .. } => json!({ "name": name }),
            ConsentGiven { client_id, scopes }
            | DeviceApproved { client_id, scopes }
            | DeviceDenied { client_id, scopes } => {
                json!({ "client_id": client_id, "scopes": scopes })
            }
            ConsentRevoked { client_id } => json!({ "client_id": client_id }),
            ClientCreated { settings, .. } | ClientUpdated { settings, .. } => settings.clone(),
            ClientDeleted { name, .. } => json!({ "name": name }),
            ClientRolesSet { roles, .. } => json!({ "roles": roles }),
            RoleDefined { description, .. } | GroupDefined { description, .. } => {
                json!({ "description": description })
            }
            KeyCreated {
                alg, activate_at, ..
            } => json!({ "alg": alg, "activate_at": activate_at }),
            KeyTimesChanged {
                alg,
                activate_at,
                retire_at,
                ..
            } => json!({ "alg": alg, "activate_at": activate_at, "retire_at": retire_at }),
            KeyRevoked { alg, .. } => json!({ "alg": alg }),
            KeyDeleted { alg, .. } => json!({ "alg": alg }),
            KekRotated {
                previous,
                signing_keys,
                totp_secrets,
                ..
            } => json!({
                "previous": previous,
                "signing_keys": signing_keys,
                "totp_secrets": totp_secrets,
            }),
            UserDisabled { .. }
            | UserEnabled { .. }
            | AdminGranted { .. }
            | AdminRemoved { .. }
            | ThrottlingCleared { .. }
            | PasswordChanged { .. }
            | PasswordRemoved { .. }
            | MfaEnrolled { .. }
            | MfaRemoved { .. }
            | MfaReset { .. }
            | SessionEnded { .. }
            | SessionsEnded { .. }
            | SteppedUp { .. }
            | Logout { .. }
            | LogoutEverywhere { .. }
            | PasswordResetRequested { .. }
            | PasswordReset { .. }
            | EmailChanged { .. }
            | EmailVerified { .. }
            | InvitationAccepted { .. }
            | ClientEnabled { .. }
            | ClientDisabled { .. }
            | ClientSecretRotated { .. }
            | RoleDeleted { .. }
            | GroupDeleted { .. } => json!({}),
        }
    }
}
