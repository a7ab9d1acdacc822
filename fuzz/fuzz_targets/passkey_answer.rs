//! A passkey's answer as the browser posts it (`credential`, WebAuthn L3 §5.1
//! `PublicKeyCredential` as JSON, binary members in base64url): any bytes parse as an assertion
//! or a registration, or are refused. One that parses goes through every check that needs no
//! database: the user handle of a discoverable answer, an authentication against a fresh
//! ceremony of each kind for a known passkey, and a registration against a fresh ceremony, the
//! client data and the CBOR of the authenticator data and attestation decoded on the way. None
//! may panic; a made-up answer never verifies (its challenge cannot be the fresh one).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis::passkeys::{RelyingParty, registration};
use uuid::Uuid;
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, RegisterPublicKeyCredential};

/// The relying party of a test app on `http://localhost:8080`.
fn rp() -> &'static RelyingParty {
    static RP: OnceLock<RelyingParty> = OnceLock::new();
    RP.get_or_init(
        || match RelyingParty::new("http://localhost:8080", "localhost") {
            Ok(rp) => rp,
            Err(e) => panic!("the relying party: {e}"),
        },
    )
}

/// A passkey as the store keeps it (registered by a virtual authenticator at localhost).
const PASSKEY: &str = include_str!("passkey.json");

fn passkey() -> &'static Passkey {
    static PASSKEY_PARSED: OnceLock<Passkey> = OnceLock::new();
    PASSKEY_PARSED.get_or_init(|| match serde_json::from_str(PASSKEY) {
        Ok(passkey) => passkey,
        Err(e) => panic!("the stored passkey: {e}"),
    })
}

fuzz_target!(|body: &[u8]| {
    let webauthn = rp().webauthn();
    if let Ok(answer) = serde_json::from_slice::<PublicKeyCredential>(body) {
        let _ = answer.get_credential_id();
        let _ = webauthn.identify_discoverable_authentication(&answer);
        if let Ok((_, state)) = webauthn.start_discoverable_authentication() {
            let checked = webauthn.finish_discoverable_authentication_v2(&answer, state, passkey());
            assert!(checked.is_err(), "a made-up answer verified");
        }
        if let Ok((_, state)) = webauthn.start_passkey_authentication(&[passkey().clone()]) {
            let checked = webauthn.finish_passkey_authentication(&answer, &state);
            assert!(checked.is_err(), "a made-up answer verified");
        }
    }
    if let Ok(answer) = serde_json::from_slice::<RegisterPublicKeyCredential>(body) {
        let existing = [];
        if let Ok((_, state)) =
            registration::options(rp(), Uuid::nil(), "alice", "Alice", &existing)
        {
            let checked = registration::finish(rp(), &answer, &state);
            assert!(checked.is_err(), "a made-up registration verified");
        }
    }
});
