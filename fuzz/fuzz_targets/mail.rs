//! What the mail code reads from outside or from storage: an outbox payload (a [`Letter`] as JSON,
//! which a newer or older replica may have written), a display name that goes into the greeting,
//! a link token from a URL, and the two mail settings (`PORTCULLIS_SMTP_URL`,
//! `PORTCULLIS_MAIL_FROM`). None may panic; a composed mail's subject is one line, its HTML never
//! holds the name's markup unescaped, a token that passes the edge check is base64url of a
//! bounded length, and a sender that parses renders without a line break (no header injection).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::http::links::{LinkToken, TOKEN_MAX};
use portcullis::mail::Letter;
use portcullis::mail::compose::{Addressee, compose};
use portcullis::mail::transport::{parse_from, parse_smtp_url};

fuzz_target!(|body: &[u8]| {
    let text = String::from_utf8_lossy(body);
    let (head, tail) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(letter) = serde_json::from_slice::<Letter>(body) {
        let _ = letter.topic();
        let to = Addressee { name: tail.to_owned() };
        let mail = compose(&letter, &to, "id.example.com", Some("https://id.example.com/l?token=x"));
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        if tail.contains(['<', '>', '&', '"']) {
            let raw = format!("Hello {tail},");
            assert!(!mail.html.contains(&raw), "the name went into the HTML unescaped");
        }
    }
    for letter in [
        Letter::ResetPassword { user: uuid::Uuid::nil() },
        Letter::AddressChanged { user: uuid::Uuid::nil(), new_address: head.to_owned() },
    ] {
        let to = Addressee { name: tail.to_owned() };
        let mail = compose(&letter, &to, head, Some(tail));
        assert!(mail.text.contains(tail));
    }
    let token = LinkToken { token: text.to_string() };
    if let Some(t) = token.get() {
        assert!(t.len() <= TOKEN_MAX);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
    let _ = parse_smtp_url(&text);
    if let Ok(from) = parse_from(&text) {
        let rendered = from.to_string();
        assert!(!rendered.contains('\n') && !rendered.contains('\r'), "{rendered:?}");
    }
});
