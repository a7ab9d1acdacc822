//! Durations in configuration (`90s`, `10m`, `1h`, `30d`, `500ms`): any text parses or is refused
//! with a message; a parsed duration prints back in a form that parses to the same duration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::config::duration::{Human, parse_duration};

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    match parse_duration(&raw) {
        Ok(duration) => {
            let printed = Human(duration).to_string();
            assert_eq!(
                parse_duration(&printed),
                Ok(duration),
                "{raw:?} printed as {printed}"
            );
        }
        Err(message) => assert!(!message.is_empty()),
    }
});
