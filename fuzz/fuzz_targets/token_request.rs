//! The token request body (RFC 6749 §3.2: form-encoded, each parameter at most once) and the
//! PKCE verifier check it feeds (RFC 7636 §4.6); a `scope` that parses prints back to the same
//! scopes (RFC 6749 §3.3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::oauth::grants::TokenRequest;
use portcullis::oauth::pkce;
use portcullis::oauth::scope::Scopes;

const NAMES: [&str; 9] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "device_code",
];

fuzz_target!(|body: &[u8]| {
    let Ok(request) = TokenRequest::parse(body) else {
        return;
    };
    for name in NAMES {
        // An empty value counts as absent, so whatever `require` returns is non-empty.
        match request.require(name) {
            Ok(value) => assert_eq!(request.get(name), Some(value)),
            Err(_) => assert!(request.get(name).is_none()),
        }
    }
    if let (Some(verifier), Some(challenge)) = (request.get("code_verifier"), request.get("code")) {
        let _ = pkce::verify_s256(verifier, challenge);
        let _ = pkce::is_s256_challenge(challenge);
    }
    if let Some(Ok(scopes)) = request.get("scope").map(Scopes::parse) {
        assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes));
    }
});
