//! The key-encryption key (KEK): 32 bytes from configuration that seal private signing keys and
//! TOTP secrets at rest as compact JWEs (`dir` + `A256GCM`, RFC 7516 §7.1, RFC 7518 §4.5 and
//! §5.3). Every sealed value names the KEK that sealed it in its protected header (`kid`), so
//! opening picks the key by that id, and a value sealed under a key that is not configured is a
//! clear error, never garbage.
//!
//! During a rotation the configuration holds two keys: the current one, which seals everything
//! new, and the previous one, which only opens what it sealed until `portcullis kek rotate` has
//! re-sealed it under the current key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{self, Dir, JweHeader};

use super::sha256;
use crate::secret::Secret;

/// The longest protected header accepted in a sealed value (ours are about 70 characters).
const MAX_HEADER: usize = 512;
/// The longest key id accepted from a sealed value (ours are 12 characters).
const MAX_KEY_ID: usize = 64;

/// One 32-byte key and its id.
#[derive(Clone)]
struct SealingKey {
    key: Secret<[u8; 32]>,
    id: String,
}

impl SealingKey {
    fn new(key: [u8; 32]) -> Self {
        // The id must not reveal the key: a truncated hash of a domain-separated input.
        let mut input = b"portcullis-kek-id:".to_vec();
        input.extend_from_slice(&key);
        let id = URL_SAFE_NO_PAD.encode(&sha256(&input)[..9]);
        Self {
            key: Secret::new(key),
            id,
        }
    }
}

/// The configured key-encryption keys: the current one and, during a rotation, the previous one.
#[derive(Clone)]
pub struct Kek {
    current: SealingKey,
    previous: Option<SealingKey>,
}

/// Why a sealed value did not open. The caller puts the value's name in front ("signing key
/// <kid>: ...", "TOTP secret of user <id>: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    #[error("not a sealed value (a compact JWE naming its key-encryption key)")]
    Malformed,
    #[error(
        "sealed under key-encryption key {0}, which is neither the current nor the previous key"
    )]
    UnknownKey(String),
    #[error(
        "does not open under key-encryption key {0}: the value was altered, or the key configured \
         with this id is not the one that sealed it"
    )]
    Undecryptable(String),
}

/// The key used by `serve --demo` when none is configured. Public, so only for demonstrations.
const DEMO_KEK: [u8; 32] = *b"portcullis-demo-key-not-secret!!";

impl Kek {
    /// A single key, with no previous one.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            current: SealingKey::new(key),
            previous: None,
        }
    }

    /// The same current key, and `previous` to open what it sealed.
    pub fn with_previous(self, previous: [u8; 32]) -> Self {
        Self {
            previous: Some(SealingKey::new(previous)),
            ..self
        }
    }

    pub fn demo() -> Self {
        Self::new(DEMO_KEK)
    }

    /// The id of the current key: what everything sealed now names.
    pub fn id(&self) -> &str {
        &self.current.id
    }

    pub fn previous_id(&self) -> Option<&str> {
        self.previous.as_ref().map(|k| k.id.as_str())
    }

    /// Whether a value sealed under key `id` opens here.
    pub fn holds(&self, id: &str) -> bool {
        self.key(id).is_some()
    }

    fn key(&self, id: &str) -> Option<&SealingKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }

    /// Encrypts `plaintext` under the current key into a compact JWE whose header names its id.
    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_key_id(&self.current.id);
        let encrypter = Dir.encrypter_from_bytes(self.current.key.expose())?;
        Ok(jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    /// Decrypts what [`Kek::seal`] produced, under the key its header names (current or previous).
    pub fn open(&self, sealed: &str) -> Result<Secret<Vec<u8>>, UnsealError> {
        let id = sealed_key_id(sealed)?;
        let key = self
            .key(&id)
            .ok_or_else(|| UnsealError::UnknownKey(id.clone()))?;
        let undecryptable = || UnsealError::Undecryptable(id.clone());
        let decrypter = Dir
            .decrypter_from_bytes(key.key.expose())
            .map_err(|_| undecryptable())?;
        let (plaintext, header) =
            jwe::deserialize_compact(sealed, &decrypter).map_err(|_| undecryptable())?;
        // The header is authenticated (it is the AAD of A256GCM): the id cannot have been swapped.
        if header.key_id() != Some(key.id.as_str()) {
            return Err(undecryptable());
        }
        Ok(Secret::new(plaintext))
    }
}

/// The id of the key that sealed `sealed`, read from its protected header without decrypting.
pub fn sealed_key_id(sealed: &str) -> Result<String, UnsealError> {
    let mut parts = sealed.split('.');
    let header = parts.next().filter(|h| h.len() <= MAX_HEADER);
    if parts.count() != 4 {
        return Err(UnsealError::Malformed);
    }
    let header = header
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .ok_or(UnsealError::Malformed)?;
    match header.get("kid").and_then(|kid| kid.as_str()) {
        Some(kid) if !kid.is_empty() && kid.len() <= MAX_KEY_ID => Ok(kid.to_owned()),
        _ => Err(UnsealError::Malformed),
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Kek {{ id: {}, previous: {:?}, key: [redacted] }}",
            self.id(),
            self.previous_id()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random_bytes;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let kek = Kek::new(random_bytes());
        let sealed = kek.seal(b"private key").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(kek.open(&sealed).unwrap().expose(), b"private key");
        assert_eq!(sealed_key_id(&sealed).unwrap(), kek.id());
        let other = Kek::new(random_bytes());
        assert_eq!(
            other.open(&sealed).unwrap_err(),
            UnsealError::UnknownKey(kek.id().to_owned())
        );
        // Any altered byte fails authentication.
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            kek.open(&String::from_utf8(tampered).unwrap()).unwrap_err(),
            UnsealError::Undecryptable(kek.id().to_owned())
        );
    }

    #[test]
    fn the_previous_key_opens_what_it_sealed_and_the_current_key_seals() {
        let (old, new) = (random_bytes(), random_bytes());
        let before = Kek::new(old).seal(b"totp").unwrap();
        let both = Kek::new(new).with_previous(old);
        assert_eq!(both.open(&before).unwrap().expose(), b"totp");
        let after = both.seal(b"totp").unwrap();
        assert_eq!(sealed_key_id(&after).unwrap(), Kek::new(new).id());
        assert!(Kek::new(new).open(&after).is_ok());
        let message = Kek::new(new).open(&before).unwrap_err().to_string();
        assert!(
            message.contains(Kek::new(old).id()) && message.contains("neither"),
            "{message}"
        );
        assert!(both.holds(Kek::new(old).id()) && both.holds(both.id()));
        assert!(!Kek::new(new).holds(Kek::new(old).id()));
    }

    #[test]
    fn what_is_not_a_sealed_value_is_malformed_not_a_panic() {
        let kek = Kek::new(random_bytes());
        let long_header = format!("{}.a.b.c.d", "e".repeat(MAX_HEADER + 1));
        let long_kid = format!(
            "{}..a.b.c",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"kid":"{}"}}"#, "k".repeat(65)))
        );
        for bad in ["", "a.b.c", "....", "!!!!.a.b.c.d", &long_header, &long_kid] {
            assert_eq!(kek.open(bad).unwrap_err(), UnsealError::Malformed, "{bad}");
        }
    }

    #[test]
    fn kek_debug_and_id_do_not_reveal_the_key() {
        let kek = Kek::new([7u8; 32]).with_previous([9u8; 32]);
        let shown = format!("{kek:?}");
        assert!(shown.contains("redacted") && shown.contains(Kek::new([9u8; 32]).id()));
        assert_eq!(kek.id().len(), 12);
        assert_ne!(kek.id(), Kek::new([8u8; 32]).id());
    }
}
