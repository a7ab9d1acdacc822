//! The password policy on any input (zxcvbn's matchers on arbitrary Unicode): it answers without
//! a panic, and a password equal to the username or the email address is never accepted.
//! Input: username, email and password separated by NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::users::password_policy::{Owner, check};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let (username, email, password) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let owner = Owner {
        username,
        email: Some(email),
    };
    if let Err(why) = check(password, owner) {
        assert!(!why.is_empty());
    }
    if !username.trim().is_empty() {
        assert!(check(username, owner).is_err(), "the username was accepted");
    }
    if !email.trim().is_empty() {
        assert!(
            check(email, owner).is_err(),
            "the email address was accepted"
        );
    }
});
