//! Bearer access tokens (RFC 6750 §2.1, RFC 9068): what `/userinfo`, `/introspect` and resource
//! servers are handed. Any text is refused without a panic (nothing forges a signature); a token
//! we minted for a fuzzed subject and scope verifies with those claims; the same token with one
//! character changed does not.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use portcullis::keys::KeyRing;
use portcullis::oauth::scope::{Scope, Scopes};
use portcullis::tokens::access::verify_jwt as check_access_token;
use portcullis::tokens::{AccessGrant, Rbac, mint_access_token};
use portcullis_fuzz::config;

const ISSUER: &str = "https://idp.example.com";

fn ring() -> &'static Arc<KeyRing> {
    static RING: OnceLock<(tokio::runtime::Runtime, Arc<KeyRing>)> = OnceLock::new();
    &RING
        .get_or_init(|| {
            let runtime = match tokio::runtime::Builder::new_current_thread().build() {
                Ok(runtime) => runtime,
                Err(e) => panic!("no runtime: {e}"),
            };
            let ring = {
                let _inside = runtime.enter();
                match KeyRing::ephemeral(config()) {
                    Ok(ring) => ring,
                    Err(e) => panic!("no key ring: {e}"),
                }
            };
            (runtime, ring)
        })
        .1
}

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fuzz_target!(|data: &[u8]| {
    let keys = ring();
    let text = String::from_utf8_lossy(data);
    assert!(check_access_token(keys, ISSUER, &text).is_err());

    let (subject, scope) = text.split_once('\0').unwrap_or((&text, "openid"));
    // What cannot be a scope never reaches a token: the grants parse it first.
    let scopes = Scopes::parse(scope).unwrap_or_else(|_| Scopes::from(vec![Scope::OPENID]));
    let grant = AccessGrant {
        issuer: ISSUER,
        client_id: "app",
        subject,
        audience: &["api".to_owned()],
        scopes: &scopes,
        ttl: Duration::from_secs(60),
        person: None,
        rbac: Rbac::default(),
        grant: None,
    };
    let token = match mint_access_token(keys, grant) {
        Ok(token) => token.token,
        Err(e) => panic!("minting failed: {e}"),
    };
    let claims = match check_access_token(keys, ISSUER, &token) {
        Ok(claims) => claims,
        Err(e) => panic!("our own token refused: {e}"),
    };
    assert_eq!(claims.subject, subject);
    assert_eq!(claims.scopes, scopes);
    assert!(check_access_token(keys, "https://other.example.com", &token).is_err());

    // One character changed, anywhere, to another base64url character.
    let seed = data.iter().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(*b))
    });
    let mut bytes = token.into_bytes();
    let at = seed % bytes.len();
    if bytes[at] != b'.' {
        let replacement = BASE64URL[(seed / bytes.len()) % BASE64URL.len()];
        if replacement != bytes[at] {
            bytes[at] = replacement;
            let tampered = String::from_utf8_lossy(&bytes);
            assert!(
                check_access_token(keys, ISSUER, &tampered).is_err(),
                "{tampered}"
            );
        }
    }
});
