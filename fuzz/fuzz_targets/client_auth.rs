//! Client authentication (RFC 6749 §2.3.1): the `Authorization: Basic` header, whose id and
//! secret are form-urlencoded before base64, and the `client_id`/`client_secret` form fields.
//! Any text: no panic. An id and a secret (split at the first NUL) that are encoded as a client
//! would encode them come back unchanged.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use portcullis::oauth::client_auth::presented;

fn form_encode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The header as it arrives, alone, with a body client_id, and the form fields alone.
    let _ = presented(Some(&text), None, None);
    let _ = presented(Some(&text), Some("app"), None);
    let _ = presented(None, Some(&text), Some(&text));
    if let Some((id, secret)) = text.split_once('\0') {
        let pair = format!("{}:{}", form_encode(id), form_encode(secret));
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        let got = match presented(Some(&header), None, None) {
            Ok(got) => got,
            Err(e) => panic!("well-formed Basic credentials refused: {e:?}"),
        };
        assert_eq!(got.client_id.as_deref(), Some(id));
        assert_eq!(
            got.secret.as_ref().map(|s| s.expose().as_str()),
            Some(secret)
        );
    }
});
