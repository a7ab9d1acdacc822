//! ES256 (ECDSA with P-256 and SHA-256, RFC 7518 §3.4) through `ring`, as josekit signers and
//! verifiers, so that the rest of the key ring and every token path stay on josekit's types.
//!
//! Every access token is signed with ES256, and every introspection and userinfo call verifies
//! one: the signature is the floor of the token endpoint. josekit signs through OpenSSL 3's
//! `EVP_DigestSign`, which sets up a new context for every signature; `ring` signs the same
//! P-256 with about half the work. The keys are the same JWKs (RFC 7518 §6.2: `d`, `x`, `y`),
//! and the signatures are the fixed-width `r || s` JWS needs, which any ES256 verifier (josekit's
//! included, in the tests) accepts.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsAlgorithm, JwsSigner, JwsVerifier};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, UnparsedPublicKey,
};

/// The length of an ES256 signature: `r` and `s`, 32 bytes each (RFC 7518 §3.4).
const SIGNATURE_LEN: usize = 64;

/// Signs ES256 with a P-256 private key.
#[derive(Clone)]
pub struct Signer {
    pair: Arc<EcdsaKeyPair>,
    rng: SystemRandom,
    kid: Option<String>,
}

impl std::fmt::Debug for Signer {
    // Never the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("es256::Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// From a private EC JWK on P-256; `ring` checks that `d` and the public point agree.
    pub fn from_jwk(jwk: &Jwk) -> anyhow::Result<Signer> {
        let d = coordinate(jwk, "d")?;
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &d,
            &public_point(jwk)?,
            &rng,
        )
        .map_err(|e| anyhow!("not a P-256 key pair: {e}"))?;
        Ok(Signer {
            pair: Arc::new(pair),
            rng,
            kid: jwk.key_id().map(str::to_owned),
        })
    }
}

impl JwsSigner for Signer {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &ES256
    }

    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn signature_len(&self) -> usize {
        SIGNATURE_LEN
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        self.pair
            .sign(&self.rng, message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|e| JoseError::InvalidSignature(anyhow!("cannot sign: {e}")))
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

/// Verifies ES256 with a P-256 public key.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The uncompressed point: `0x04 || x || y`.
    point: Arc<[u8]>,
    kid: Option<String>,
}

impl Verifier {
    /// From an EC JWK on P-256 (public members only are read).
    pub fn from_jwk(jwk: &Jwk) -> anyhow::Result<Verifier> {
        Ok(Verifier {
            point: public_point(jwk)?.into(),
            kid: jwk.key_id().map(str::to_owned),
        })
    }
}

impl JwsVerifier for Verifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &ES256
    }

    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &*self.point)
            .verify(message, signature)
            .map_err(|_| JoseError::InvalidSignature(anyhow!("the signature does not verify")))
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

/// `0x04 || x || y` (SEC 1 §2.3.3) from the JWK's `crv`, `x` and `y` (RFC 7518 §6.2.1).
fn public_point(jwk: &Jwk) -> anyhow::Result<Vec<u8>> {
    if jwk.key_type() != "EC" || jwk.curve() != Some("P-256") {
        return Err(anyhow!("not an EC key on P-256"));
    }
    let mut point = Vec::with_capacity(1 + 2 * 32);
    point.push(0x04);
    point.extend(coordinate(jwk, "x")?);
    point.extend(coordinate(jwk, "y")?);
    Ok(point)
}

/// A 32-byte member of a P-256 JWK, base64url without padding (RFC 7518 §6.2.1.2).
fn coordinate(jwk: &Jwk, name: &str) -> anyhow::Result<Vec<u8>> {
    let text = jwk
        .parameter(name)
        .and_then(|v| v.as_str())
        .with_context(|| format!("the JWK has no `{name}`"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .with_context(|| format!("the JWK's `{name}` is not base64url"))?;
    if bytes.len() != 32 {
        return Err(anyhow!("the JWK's `{name}` is not 32 bytes"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use josekit::jwk::alg::ec::EcCurve;
    use josekit::jws::JwsHeader;
    use josekit::jwt::{self, JwtPayload};

    use super::*;

    fn pair() -> anyhow::Result<(Jwk, Jwk)> {
        let pair = josekit::jwk::alg::ec::EcKeyPair::generate(EcCurve::P256)?;
        let (mut private, mut public) = (pair.to_jwk_key_pair(), pair.to_jwk_public_key());
        private.set_key_id("k1");
        public.set_key_id("k1");
        Ok((private, public))
    }

    fn token(signer: &dyn JwsSigner) -> anyhow::Result<String> {
        let mut payload = JwtPayload::new();
        payload.set_subject("someone");
        Ok(jwt::encode_with_signer(
            &payload,
            &JwsHeader::new(),
            signer,
        )?)
    }

    #[test]
    fn what_ring_signs_josekit_verifies_and_the_other_way_round() -> anyhow::Result<()> {
        let (private, public) = pair()?;
        let ours = Signer::from_jwk(&private)?;
        assert_eq!(ours.key_id(), Some("k1"));
        let theirs = ES256.verifier_from_jwk(&public)?;
        let (payload, _) = jwt::decode_with_verifier(&token(&ours)?, &theirs)?;
        assert_eq!(payload.subject(), Some("someone"));

        let verifier = Verifier::from_jwk(&public)?;
        let signed_by_josekit = token(&ES256.signer_from_jwk(&private)?)?;
        let (payload, _) = jwt::decode_with_verifier(&signed_by_josekit, &verifier)?;
        assert_eq!(payload.subject(), Some("someone"));
        Ok(())
    }

    #[test]
    fn another_keys_signature_and_a_changed_message_are_refused() -> anyhow::Result<()> {
        let (private, _) = pair()?;
        let (_, other_public) = pair()?;
        let signer = Signer::from_jwk(&private)?;
        let signature = signer.sign(b"message")?;
        assert_eq!(signature.len(), SIGNATURE_LEN);
        assert!(
            Verifier::from_jwk(&other_public)?
                .verify(b"message", &signature)
                .is_err()
        );
        let own = Verifier::from_jwk(&private)?;
        assert!(own.verify(b"message", &signature).is_ok());
        assert!(own.verify(b"messagE", &signature).is_err());
        assert!(own.verify(b"message", &signature[..63]).is_err());
        Ok(())
    }

    #[test]
    fn keys_that_are_not_p256_or_do_not_match_are_refused() -> anyhow::Result<()> {
        let (private, _) = pair()?;
        let (other, _) = pair()?;
        let mut mismatched = private.clone();
        if let Some(d) = other.parameter("d").cloned() {
            mismatched.set_parameter("d", Some(d))?;
        }
        assert!(Signer::from_jwk(&mismatched).is_err(), "d of another key");
        let mut short = private.clone();
        short.set_parameter("x", Some("AAAA".into()))?;
        assert!(Verifier::from_jwk(&short).is_err());
        let mut curve = private;
        curve.set_parameter("crv", Some("P-384".into()))?;
        assert!(Verifier::from_jwk(&curve).is_err());
        Ok(())
    }
}
