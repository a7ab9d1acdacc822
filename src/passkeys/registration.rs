//! Registering a passkey (WebAuthn §7.1), without HTTP: the options for the browser and the check
//! of its answer. The options ask for a discoverable credential (`residentKey: required`,
//! WebAuthn §5.4.6), so the passkey can later sign in without a username, and for user
//! verification; the account's own passkeys are excluded, so one authenticator is not registered
//! twice. No attestation is asked for: any authenticator the person trusts will do.

use serde_json::Value;
use uuid::Uuid;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential};

use super::RelyingParty;
use super::store::StoredPasskey;

/// The options to send the browser (`PublicKeyCredentialCreationOptions` in their JSON form) and
/// the state to keep until the answer.
pub fn options(
    rp: &RelyingParty,
    user_id: Uuid,
    username: &str,
    display_name: &str,
    existing: &[StoredPasskey],
) -> Result<(Value, PasskeyRegistration), String> {
    let exclude = existing
        .iter()
        .map(|p| p.credential.0.cred_id().clone())
        .collect::<Vec<_>>();
    let (options, state) = rp
        .webauthn()
        .start_passkey_registration(user_id, username, display_name, Some(exclude))
        .map_err(|e| format!("passkey registration options: {e}"))?;
    let mut options = serde_json::to_value(options).map_err(|e| e.to_string())?;
    // A discoverable credential, so the passkey signs in without a name (WebAuthn §5.4.6).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    Ok((options, state))
}

/// A passkey the browser created, once its answer checks out.
pub struct Registered {
    pub passkey: Passkey,
    /// May be synced between devices (WebAuthn §6.1.3, `BE`).
    pub backup_eligible: bool,
}

/// Checks the browser's `answer` against the ceremony `state`.
pub fn finish(
    rp: &RelyingParty,
    answer: &RegisterPublicKeyCredential,
    state: &PasskeyRegistration,
) -> Result<Registered, String> {
    let passkey = rp
        .webauthn()
        .finish_passkey_registration(answer, state)
        .map_err(|e| e.to_string())?;
    // The library keeps the flag inside the credential; its serialised form is the stable view.
    let backup_eligible = serde_json::to_value(&passkey)
        .ok()
        .and_then(|v| v.pointer("/cred/backup_eligible").and_then(Value::as_bool))
        .unwrap_or(false);
    Ok(Registered {
        passkey,
        backup_eligible,
    })
}
