//! The admin page's client form (form-encoded, checkboxes repeated) read into a client spec and
//! validated as on save: any body is accepted or refused with a message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::http::admin::FormData;
use portcullis::http::admin::client_form::spec;

fuzz_target!(|body: &[u8]| {
    let form = FormData::parse(body);
    if let Ok(spec) = spec(&form) {
        match spec.validate() {
            Ok(client) => {
                assert!(!client.name.is_empty());
                assert!(!client.grant_types.is_empty());
            }
            Err(message) => assert!(!message.is_empty()),
        }
    }
});
