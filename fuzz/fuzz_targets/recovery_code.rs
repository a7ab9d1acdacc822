//! Recovery codes as a person types them at the second step of sign-in: any text normalises to
//! a code of the stored shape (24 or, for codes made before 120 bits, 10 base32 characters) or
//! to nothing, and a normalised code normalises to itself, in either case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::mfa::recovery::{LENGTH, normalize};

fuzz_target!(|data: &[u8]| {
    let typed = String::from_utf8_lossy(data);
    if let Some(code) = normalize(&typed) {
        assert!(code.len() == LENGTH || code.len() == 10, "{code}");
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(normalize(&code).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalize(&code.to_uppercase()).as_deref(),
            Some(code.as_str())
        );
    }
});
