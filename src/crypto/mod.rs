//! The few cryptographic operations Portcullis needs, each a thin call into a well-kept crate:
//! random tokens, SHA-256 fingerprints compared in constant time, and sealing small secrets at
//! rest under the key-encryption key (a compact JWE, `dir` + `A256GCM`, from josekit). Password
//! hashing (argon2id, on its own threads) is in [`password`].

mod password;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{self, Dir, JweHeader};
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

/// The key-encryption key: 32 bytes from configuration that seal private signing keys and TOTP
/// secrets at rest. Its id (a short fingerprint) is stored next to everything it sealed, so a
/// rotated or wrong key is noticed instead of producing garbage.
#[derive(Clone)]
pub struct Kek {
    key: Secret<[u8; 32]>,
    id: String,
}

/// The key used by `serve --demo` when none is configured. Public, so only for demonstrations.
const DEMO_KEK: [u8; 32] = *b"portcullis-demo-key-not-secret!!";

impl Kek {
    pub fn new(key: [u8; 32]) -> Self {
        // The id must not reveal the key: a truncated hash of a domain-separated input.
        let mut input = b"portcullis-kek-id:".to_vec();
        input.extend_from_slice(&key);
        let id = URL_SAFE_NO_PAD.encode(&sha256(&input)[..9]);
        Self {
            key: Secret::new(key),
            id,
        }
    }

    pub fn demo() -> Self {
        Self::new(DEMO_KEK)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext` into a compact JWE whose header names this key's id.
    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_key_id(&self.id);
        let encrypter = Dir.encrypter_from_bytes(self.key.expose())?;
        Ok(jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    /// Decrypts what [`Kek::seal`] produced; fails if it was sealed under another key or altered.
    pub fn open(&self, sealed: &str) -> anyhow::Result<Secret<Vec<u8>>> {
        let decrypter = Dir.decrypter_from_bytes(self.key.expose())?;
        let (plaintext, header) = jwe::deserialize_compact(sealed, &decrypter)
            .context("cannot decrypt with the configured key-encryption key")?;
        anyhow::ensure!(
            header.key_id() == Some(self.id.as_str()),
            "sealed under another key-encryption key"
        );
        Ok(Secret::new(plaintext))
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek {{ id: {}, key: [redacted] }}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let kek = Kek::new(random_bytes());
        let sealed = kek.seal(b"private key").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(kek.open(&sealed).unwrap().expose(), b"private key");
        let other = Kek::new(random_bytes());
        assert!(other.open(&sealed).is_err());
        // Any altered byte fails authentication.
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(kek.open(&String::from_utf8(tampered).unwrap()).is_err());
    }

    #[test]
    fn kek_debug_and_id_do_not_reveal_the_key() {
        let kek = Kek::new([7u8; 32]);
        let shown = format!("{kek:?}");
        assert!(shown.contains("redacted"));
        assert_eq!(kek.id().len(), 12);
        assert_ne!(kek.id(), Kek::new([8u8; 32]).id());
    }

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
