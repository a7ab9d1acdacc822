//! The few cryptographic operations Portcullis needs, each a thin call into a well-kept crate:
//! random tokens, SHA-256 fingerprints compared in constant time, and sealing small secrets at
//! rest under the key-encryption key (in [`kek`], with its rotation). Password hashing (argon2id,
//! on its own threads) is in [`password`].

mod kek;
mod password;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use kek::{Kek, UnsealError, sealed_key_id};
pub use password::{Argon2Params, PasswordHasher};
use rand::RngExt as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::secret::Secret;

/// `n` random bytes from the thread-local CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill(&mut bytes[..]);
    bytes
}

/// A random 256-bit token, base64url without padding (43 characters): client secrets, codes,
/// refresh tokens.
pub fn random_token() -> Secret<String> {
    Secret::new(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// The SHA-256 of `input`: how high-entropy secrets and tokens are stored. They need no slow hash,
/// and a slow hash on every `client_credentials` call would cap throughput.
pub fn sha256(input: &[u8]) -> [u8; 32] {
    Sha256::digest(input).into()
}

/// Compares a presented secret with a stored SHA-256 in constant time.
pub fn matches_sha256(presented: &[u8], stored: &[u8]) -> bool {
    sha256(presented).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_compare() {
        let a = random_token();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), random_token().expose());
        let stored = sha256(a.expose().as_bytes());
        assert!(matches_sha256(a.expose().as_bytes(), &stored));
        assert!(!matches_sha256(b"guess", &stored));
        assert!(!matches_sha256(a.expose().as_bytes(), &stored[..31]));
    }
}
