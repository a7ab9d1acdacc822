//! The machine's limits, measured with the code the server runs: ES256 signatures per second on
//! one core (the ceiling of `client_credentials`), and the time of one argon2id password
//! verification at the default parameters (the ceiling of password sign-ins). Run by
//! `tests/bench/run`.

#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use josekit::jwk::KeyPair as _;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use portcullis::config::Argon2Params;
use portcullis::crypto::PasswordHasher;
use portcullis::secret::Secret;

fn main() {
    let jwk = EcKeyPair::generate(EcCurve::P256)
        .expect("key")
        .to_jwk_key_pair();
    let signer = ES256.signer_from_jwk(&jwk).expect("signer");
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("bench");
    let mut payload = JwtPayload::new();
    payload.set_issuer("http://127.0.0.1:8080");
    payload.set_subject("bench-client");
    payload.set_jwt_id("0123456789abcdef0123456789abcdef");
    let started = Instant::now();
    let mut signatures = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        jwt::encode_with_signer(&payload, &header, &signer).expect("sign");
        signatures += 1;
    }
    let per_second = signatures as f64 / started.elapsed().as_secs_f64();
    println!("es256_signatures_per_second_per_core {per_second:.0}");

    let hasher = PasswordHasher::new(Argon2Params {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    })
    .expect("hasher");
    let password = Secret::new("correct horse battery staple".to_owned());
    let stored = hasher.hash_blocking(&password).expect("hash");
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        assert!(hasher.verify_blocking(&password, &stored));
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    println!("argon2id_hash_ms {ms:.1}");
}
