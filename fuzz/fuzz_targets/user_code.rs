//! Device-flow user codes as a person types them (RFC 8628 §6.1): any text normalises to a valid
//! stored code or to nothing, and a normalised code normalises to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::tokens::device::{USER_CODE_ALPHABET, normalize_user_code};

fuzz_target!(|data: &[u8]| {
    let typed = String::from_utf8_lossy(data);
    if let Some(code) = normalize_user_code(&typed) {
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
        assert_eq!(normalize_user_code(&code).as_deref(), Some(code.as_str()));
        // As shown to people, `XXXX-XXXX`, in any case.
        let shown = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(normalize_user_code(&shown).as_deref(), Some(code.as_str()));
    }
});
