//! The WebAuthn extension of WebDriver (WebAuthn Level 3 §11 "User Agent Automation"): virtual
//! authenticators in the browser, whose credentials a test can read (private key and signature
//! counter included), plant and remove, and ceremonies (`navigator.credentials.create` and `get`)
//! run in the page from the JSON options a relying party sends. Chromium allows one `internal`
//! authenticator at a time, so a test that swaps devices removes the old one first.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Browser;

/// The parameters of a virtual authenticator (WebAuthn L3 §11 "Virtual Authenticators"); the
/// default is a platform authenticator that holds passkeys: CTAP2, discoverable credentials, user
/// verification that succeeds, and a person who consents.
#[derive(Clone, Debug)]
pub struct AuthenticatorOptions {
    /// `ctap2`, `ctap2_1` or `ctap1/u2f`.
    pub protocol: &'static str,
    /// `internal` (a platform authenticator), `usb`, `nfc`, `ble` or `hybrid`.
    pub transport: &'static str,
    pub has_resident_key: bool,
    pub has_user_verification: bool,
    /// Whether user verification (a PIN, a fingerprint) succeeds.
    pub is_user_verified: bool,
    /// Whether the person confirms the ceremony (user presence). When false, Chromium leaves the
    /// ceremony pending until the options' `timeout`, then rejects it.
    pub is_user_consenting: bool,
    /// The BE flag of new credentials (WebAuthn L3 §6.1, flag bit 3): a synced passkey.
    pub default_backup_eligibility: bool,
    /// The BS flag of new credentials: backed up (synced) already.
    pub default_backup_state: bool,
}

impl Default for AuthenticatorOptions {
    fn default() -> Self {
        AuthenticatorOptions {
            protocol: "ctap2",
            transport: "internal",
            has_resident_key: true,
            has_user_verification: true,
            is_user_verified: true,
            is_user_consenting: true,
            default_backup_eligibility: false,
            default_backup_state: false,
        }
    }
}

impl AuthenticatorOptions {
    /// A passkey provider that syncs its credentials (BE and BS set), like a password manager.
    pub fn synced() -> Self {
        AuthenticatorOptions {
            default_backup_eligibility: true,
            default_backup_state: true,
            ..Self::default()
        }
    }

    fn json(&self) -> Value {
        json!({
            "protocol": self.protocol,
            "transport": self.transport,
            "hasResidentKey": self.has_resident_key,
            "hasUserVerification": self.has_user_verification,
            "isUserVerified": self.is_user_verified,
            "isUserConsenting": self.is_user_consenting,
            "defaultBackupEligibility": self.default_backup_eligibility,
            "defaultBackupState": self.default_backup_state,
        })
    }
}

/// A credential held by a virtual authenticator, as read from it or planted in it (WebAuthn L3 §11
/// "Add Credential", its credential parameters). Binary values are base64url without padding.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualCredential {
    pub credential_id: String,
    /// Discoverable (a passkey), or only usable when the relying party names it.
    pub is_resident_credential: bool,
    pub rp_id: String,
    /// The private key, PKCS#8 DER: whoever holds it can sign as this credential.
    pub private_key: String,
    /// The relying party's user id; required for a resident credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
    /// The signature counter: the next assertion carries this plus one.
    pub sign_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_eligibility: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_state: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_display_name: Option<String>,
}

/// Runs `navigator.credentials[method]` on options in their JSON form, the shape webauthn-rs
/// sends, with or without the `publicKey` wrapper (WebAuthn L3 `parseCreationOptionsFromJSON`,
/// `parseRequestOptionsFromJSON`), and calls back with `{credential}` (its `toJSON()`, the shape
/// a relying party reads) or `{rejected: "NotAllowedError: …"}`.
const CEREMONY: &str = r#"
const [method, options, done] = arguments;
const json = options.publicKey ?? options;
const publicKey = method === 'create'
    ? PublicKeyCredential.parseCreationOptionsFromJSON(json)
    : PublicKeyCredential.parseRequestOptionsFromJSON(json);
navigator.credentials[method]({ publicKey }).then(
    credential => done({ credential: credential.toJSON() }),
    error => done({ rejected: `${error.name}: ${error.message}` }),
);
"#;

impl Browser {
    /// Adds a virtual authenticator to the browser (WebAuthn L3 §11 "Add Virtual
    /// Authenticator"); returns its id.
    pub async fn add_virtual_authenticator(&self, options: &AuthenticatorOptions) -> String {
        let id = self
            .call(
                reqwest::Method::POST,
                "/webauthn/authenticator",
                Some(options.json()),
            )
            .await;
        id.as_str().expect("an authenticator id").to_owned()
    }

    /// Removes an authenticator and the credentials it holds ("Remove Virtual Authenticator").
    pub async fn remove_virtual_authenticator(&self, authenticator: &str) {
        let path = format!("/webauthn/authenticator/{authenticator}");
        self.call(reqwest::Method::DELETE, &path, None).await;
    }

    /// Plants a credential in an authenticator ("Add Credential").
    pub async fn add_credential(&self, authenticator: &str, credential: &VirtualCredential) {
        let path = format!("/webauthn/authenticator/{authenticator}/credential");
        let body = serde_json::to_value(credential).expect("a credential as JSON");
        self.call(reqwest::Method::POST, &path, Some(body)).await;
    }

    /// The credentials an authenticator holds ("Get Credentials").
    pub async fn credentials(&self, authenticator: &str) -> Vec<VirtualCredential> {
        let path = format!("/webauthn/authenticator/{authenticator}/credentials");
        let found = self.call(reqwest::Method::GET, &path, None).await;
        serde_json::from_value(found).expect("credentials as WebAuthn §11 describes them")
    }

    /// Forgets every credential of an authenticator ("Remove All Credentials").
    pub async fn remove_all_credentials(&self, authenticator: &str) {
        let path = format!("/webauthn/authenticator/{authenticator}/credentials");
        self.call(reqwest::Method::DELETE, &path, None).await;
    }

    /// Makes user verification succeed or fail from now on ("Set User Verified").
    pub async fn set_user_verified(&self, authenticator: &str, verified: bool) {
        let path = format!("/webauthn/authenticator/{authenticator}/uv");
        let body = json!({ "isUserVerified": verified });
        self.call(reqwest::Method::POST, &path, Some(body)).await;
    }

    /// Registers a credential in the page from creation options in JSON form (what a relying
    /// party sends); the credential's `toJSON()`, or the name and message of the rejection.
    pub async fn create_credential(&self, options: &Value) -> Result<Value, String> {
        self.ceremony("create", options).await
    }

    /// Signs in with a credential in the page from request options in JSON form; the assertion's
    /// `toJSON()`, or the name and message of the rejection.
    pub async fn get_credential(&self, options: &Value) -> Result<Value, String> {
        self.ceremony("get", options).await
    }

    async fn ceremony(&self, method: &str, options: &Value) -> Result<Value, String> {
        let outcome = self.execute_async(CEREMONY, json!([method, options])).await;
        match outcome["rejected"].as_str() {
            Some(rejected) => Err(rejected.to_owned()),
            None => Ok(outcome["credential"].clone()),
        }
    }
}
