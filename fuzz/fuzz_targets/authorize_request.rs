//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) as a query string, checked
//! against a registered public and confidential client. Whatever is accepted keeps only a
//! registered redirect URI and scopes the client may have, and at least the client's minimum
//! authentication level.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::oauth::authorize::{self, AuthorizeParams, Rejection};
use portcullis_fuzz::client;

fuzz_target!(|query: &[u8]| {
    for public in [false, true] {
        let Ok(params) = serde_urlencoded::from_bytes::<AuthorizeParams>(query) else {
            return;
        };
        let client = client(public);
        match authorize::check(params, Some(&client), 1_700_000_000) {
            Ok(request) => {
                assert!(
                    client
                        .redirect_uris
                        .iter()
                        .any(|u| u.as_str() == request.redirect_uri)
                        || public
                );
                assert!(!request.scopes.is_empty());
                assert!(request.scopes.iter().all(|s| client.scopes.contains(s)));
                // `acr_values` may ask for more than the client's minimum, never for less.
                assert!(request.min_level >= client.min_level);
            }
            Err(Rejection::Redirect { redirect_uri, .. }) => {
                // An error goes back only to an address the client registered (RFC 6749 §4.1.2.1);
                // public clients may use any loopback port (RFC 8252 §7.3).
                assert!(
                    client
                        .redirect_uris
                        .iter()
                        .any(|u| u.as_str() == redirect_uri)
                        || public
                );
            }
            Err(Rejection::Page(_)) => {}
        }
    }
});
