//! The passkey harness at work, browser side only: in an app whose issuer is
//! `http://localhost:<port>` (where a person signs in as on 127.0.0.1), a virtual authenticator
//! registers a discoverable credential for RP ID `localhost` from made-up options, signs in with
//! it (no credential named), and its counter goes up; a copy of its private key with a lower
//! counter, planted in another authenticator, still signs in, as a cloned authenticator would
//! (WebAuthn L3 §6.1.1: telling that apart is the relying party's job, from the counter).

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{Settings, TestApp};
use crate::webdriver::{AuthenticatorOptions, Browser, VirtualCredential};

const USER_HANDLE: &str = "dXNlci0x";

/// An app with the localhost issuer and a browser on its sign-in page, with an authenticator made
/// with `options` (its id).
async fn at_login(options: AuthenticatorOptions) -> (TestApp, Browser, String) {
    let app = Settings::new().await.set_localhost_issuer().spawn().await;
    assert!(
        app.address.starts_with("http://localhost:"),
        "{}",
        app.address
    );
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], app.address.as_str());
    let browser = Browser::start().await;
    browser.goto(&app.url("/login")).await;
    assert!(browser.url().await.starts_with(&app.url("/login")));
    let secure = browser
        .execute("return window.isSecureContext", json!([]))
        .await;
    assert_eq!(secure, true, "http://localhost is a secure context");
    let authenticator = browser.add_virtual_authenticator(&options).await;
    (app, browser, authenticator)
}

/// Creation options as a relying party sends them (webauthn-rs's JSON), with a made-up challenge.
fn creation_options() -> Value {
    json!({ "publicKey": {
        "rp": { "id": "localhost", "name": "Portcullis" },
        "user": { "id": USER_HANDLE, "name": "alice", "displayName": "Alice Example" },
        "challenge": "bWFkZS11cC1yZWdpc3RyYXRpb24tY2hhbGxlbmdl",
        "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }, { "type": "public-key", "alg": -257 }],
        "timeout": 10000,
        "attestation": "none",
        "authenticatorSelection": { "residentKey": "required", "userVerification": "required" },
    }})
}

/// Request options for a discoverable credential: none named.
fn request_options() -> Value {
    json!({ "publicKey": {
        "challenge": "bWFkZS11cC1hdXRoZW50aWNhdGlvbi1jaGFsbGVuZ2U",
        "rpId": "localhost",
        "allowCredentials": [],
        "userVerification": "required",
        "timeout": 10000,
    }})
}

/// An assertion's authenticator data (WebAuthn L3 §6.1): RP ID hash, flags, counter.
fn authenticator_data(assertion: &Value) -> Vec<u8> {
    let data = assertion["response"]["authenticatorData"].as_str().unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data)
        .unwrap()
}

/// The signature counter (bytes 33..37, big-endian).
fn sign_count(assertion: &Value) -> u32 {
    u32::from_be_bytes(authenticator_data(assertion)[33..37].try_into().unwrap())
}

/// The flags byte: UP 0x01, UV 0x04, BE 0x08, BS 0x10.
fn flags(assertion: &Value) -> u8 {
    authenticator_data(assertion)[32]
}

/// Registers the passkey; the one credential the authenticator then holds.
async fn register(browser: &Browser, authenticator: &str) -> VirtualCredential {
    let created = browser
        .create_credential(&creation_options())
        .await
        .unwrap();
    assert_eq!(created["type"], "public-key");
    assert_eq!(created["authenticatorAttachment"], "platform");
    let held = browser.credentials(authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    let credential = held.into_iter().next().unwrap();
    assert_eq!(created["id"], credential.credential_id);
    assert!(credential.is_resident_credential);
    assert_eq!(credential.rp_id, "localhost");
    assert_eq!(credential.user_handle.as_deref(), Some(USER_HANDLE));
    credential
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_virtual_authenticator_registers_a_passkey_at_localhost_and_signs_in_with_it() {
    let (app, browser, authenticator) = at_login(AuthenticatorOptions::synced()).await;
    // The session cookie and the redirects work on localhost too.
    let user = app.user("alice", false).await;
    browser.type_into("#username", "alice").await;
    browser.type_into("#password", &user.password).await;
    browser.click_to("button[type=submit]", "/account").await;
    assert!(browser.url().await.starts_with(&app.url("/account")));

    let registered = register(&browser, &authenticator).await;
    assert_eq!(registered.backup_eligibility, Some(true));
    assert_eq!(registered.backup_state, Some(true));

    let assertion = browser.get_credential(&request_options()).await.unwrap();
    assert_eq!(assertion["id"], registered.credential_id);
    assert_eq!(assertion["response"]["userHandle"], USER_HANDLE);
    let after = &browser.credentials(&authenticator).await[0];
    assert!(after.sign_count > registered.sign_count, "{after:?}");
    assert_eq!(sign_count(&assertion), after.sign_count);
    assert_eq!(flags(&assertion) & 0x1d, 0x1d, "UP, UV, BE and BS");

    // Without user verification the browser refuses at once.
    browser.set_user_verified(&authenticator, false).await;
    let refused = browser.get_credential(&request_options()).await;
    assert!(refused.unwrap_err().starts_with("NotAllowedError"));

    browser.remove_all_credentials(&authenticator).await;
    assert!(browser.credentials(&authenticator).await.is_empty());
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_passkey_with_a_lower_counter_still_signs_in_in_the_browser() {
    let (_app, browser, authenticator) = at_login(AuthenticatorOptions::default()).await;
    register(&browser, &authenticator).await;
    let first = browser.get_credential(&request_options()).await.unwrap();
    assert_eq!(
        flags(&first) & 0x18,
        0,
        "a device-bound passkey: neither BE nor BS"
    );
    let original = browser.credentials(&authenticator).await.remove(0);

    // Chromium holds one `internal` authenticator at a time: the old one goes first.
    browser.remove_virtual_authenticator(&authenticator).await;
    let copy = browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    let planted = VirtualCredential {
        sign_count: 0,
        ..original.clone()
    };
    browser.add_credential(&copy, &planted).await;

    let cloned = browser.get_credential(&request_options()).await.unwrap();
    assert_eq!(cloned["id"], original.credential_id);
    assert!(
        sign_count(&cloned) < sign_count(&first),
        "the copy signs with a counter below the one the server saw last"
    );
    browser.quit().await;
}
