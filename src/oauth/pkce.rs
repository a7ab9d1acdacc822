//! PKCE (RFC 7636) with S256 only: `plain` gives no protection against a stolen code and is
//! refused (RFC 9700 §2.1.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

use crate::crypto::sha256;
use crate::limits;

/// The code challenge methods served (RFC 7636 §4.3). Discovery advertises exactly
/// [`ChallengeMethod::SUPPORTED`] (`code_challenge_methods_supported`, RFC 8414 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
}

impl ChallengeMethod {
    pub const SUPPORTED: [ChallengeMethod; 1] = [ChallengeMethod::S256];

    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeMethod::S256 => "S256",
        }
    }

    /// A supported method by name; `plain` (and anything else) is `None`.
    pub fn parse(raw: &str) -> Option<ChallengeMethod> {
        ChallengeMethod::SUPPORTED
            .into_iter()
            .find(|m| m.as_str() == raw)
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn is_verifier_syntax(v: &str) -> bool {
    (limits::CODE_VERIFIER_MIN..=limits::CODE_VERIFIER).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// An S256 challenge is the base64url of a SHA-256: exactly 43 characters.
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge`, in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_verifier_syntax(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifies() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_s256_challenge(challenge));
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        assert!(!verify_s256("short", challenge));
        // `plain` (the verifier sent as the challenge) does not verify.
        assert!(!verify_s256(verifier, verifier));
    }
}
