//! Key material: generating RS256 and ES256 key pairs, the public JWK that goes into the JWKS
//! (never a private member), and the signer rebuilt from a private JWK after it is unsealed.
//! Everything here is josekit (OpenSSL) underneath; nothing is hand-made.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair as _};
use josekit::jws::{JwsSigner, JwsVerifier, RS256};
use serde_json::{Map, Value};

use super::es256;
use crate::crypto::random_bytes;
use crate::secret::Secret;

/// A JWS algorithm the key ring keeps keys for: RS256 for ID tokens (every OIDC client supports
/// it), ES256 for access tokens (small and fast to sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    RS256,
    ES256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::RS256, Alg::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
        }
    }

    pub fn parse(raw: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// A distinct advisory-lock id per algorithm, so rotations of the two never wait on each other.
    pub fn lock_id(self) -> i64 {
        match self {
            Alg::RS256 => 0x706f_7274_0001,
            Alg::ES256 => 0x706f_7274_0002,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As its JWS name (RFC 7518 §3.1), for the admin API's JSON.
impl serde::Serialize for Alg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A freshly generated key, before it is sealed and stored.
pub struct NewKey {
    pub kid: String,
    pub alg: Alg,
    pub public_jwk: Value,
    /// The private JWK as JSON bytes.
    pub private_jwk: Secret<Vec<u8>>,
}

/// Generates a key pair. RSA generation takes tens of milliseconds: call it off the async threads.
pub fn generate(alg: Alg) -> anyhow::Result<NewKey> {
    let kid = URL_SAFE_NO_PAD.encode(random_bytes::<12>());
    let mut private = match alg {
        Alg::RS256 => RsaKeyPair::generate(2048)?.to_jwk_key_pair(),
        Alg::ES256 => EcKeyPair::generate(EcCurve::P256)?.to_jwk_key_pair(),
    };
    let mut public = private.to_public_key()?;
    for jwk in [&mut private, &mut public] {
        jwk.set_key_id(&kid);
        jwk.set_algorithm(alg.as_str());
        jwk.set_key_use("sig");
    }
    let public_jwk = Value::Object(public_members(&public));
    Ok(NewKey {
        kid,
        alg,
        public_jwk,
        private_jwk: Secret::new(private.to_string().into_bytes()),
    })
}

/// Only the members a verifier needs; a private member can never slip through.
fn public_members(public: &Jwk) -> Map<String, Value> {
    const PUBLIC: [&str; 9] = ["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"];
    public
        .as_ref()
        .iter()
        .filter(|(k, _)| PUBLIC.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A signer for `alg` from an unsealed private JWK.
pub fn signer(alg: Alg, private_jwk: &[u8]) -> anyhow::Result<Arc<dyn JwsSigner>> {
    let jwk = Jwk::from_bytes(private_jwk)?;
    Ok(match alg {
        Alg::RS256 => Arc::new(RS256.signer_from_jwk(&jwk)?),
        Alg::ES256 => Arc::new(es256::Signer::from_jwk(&jwk)?),
    })
}

/// A verifier for `alg` from a public JWK (as stored in `signing_keys.public_jwk`).
pub fn verifier(alg: Alg, public_jwk: &Value) -> anyhow::Result<Arc<dyn JwsVerifier>> {
    let jwk = Jwk::from_map(public_jwk.as_object().cloned().unwrap_or_default())?;
    Ok(match alg {
        Alg::RS256 => Arc::new(RS256.verifier_from_jwk(&jwk)?),
        Alg::ES256 => Arc::new(es256::Verifier::from_jwk(&jwk)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_jwks_carry_kid_alg_use_and_no_private_member() {
        for alg in Alg::ALL {
            let key = generate(alg).unwrap();
            let jwk = key.public_jwk.as_object().unwrap();
            assert_eq!(jwk["kid"], key.kid.as_str());
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(!jwk.contains_key(private), "{alg}: {private} leaked");
            }
            let expected: &[&str] = match alg {
                Alg::RS256 => &["n", "e"],
                Alg::ES256 => &["crv", "x", "y"],
            };
            for member in expected {
                assert!(jwk.contains_key(*member), "{alg}: {member} missing");
            }
            signer(alg, key.private_jwk.expose()).unwrap();
        }
    }
}
