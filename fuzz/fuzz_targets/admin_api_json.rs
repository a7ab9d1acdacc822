//! The admin API's JSON bodies (`deny_unknown_fields`): clients, users, passwords, flags, roles
//! and key rotations. Any bytes deserialize or are refused; a client that deserializes is
//! validated as on save, never with a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::clients::ClientSpec;
use portcullis::http::admin::api::{clients, keys, roles, users};

fuzz_target!(|body: &[u8]| {
    if let Ok(spec) = serde_json::from_slice::<ClientSpec>(body) {
        if let Err(message) = spec.validate() {
            assert!(!message.is_empty());
        }
    }
    let _ = serde_json::from_slice::<clients::Enabled>(body);
    let _ = serde_json::from_slice::<clients::Names>(body);
    let _ = serde_json::from_slice::<users::UserInput>(body);
    let _ = serde_json::from_slice::<users::Flag>(body);
    let _ = serde_json::from_slice::<users::NewPassword>(body);
    let _ = serde_json::from_slice::<roles::Definable>(body);
    let _ = serde_json::from_slice::<keys::Rotation>(body);
});
