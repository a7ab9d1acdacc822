//! Portcullis, an OAuth 2.0 / OpenID Connect identity provider.
//!
//! # Layout
//! Protocol and domain logic live in plain modules (`keys`, `users`, `clients`, `oauth`, `oidc`,
//! `mfa`), each with a `store` submodule for its SQL; only `http` knows axum. `app` wires the
//! pieces together for the binary and for the black-box tests in `tests/api`.

/// The authentication ladder: levels and their `acr` values.
pub mod acr;
/// Administration shared by the admin pages and the admin API.
pub mod admin;
/// How a person authenticated (RFC 8176 `amr` values).
pub mod amr;
/// Building and running the server.
pub mod app;
/// Audit events.
pub mod audit;
/// The background cleanup that keeps the tables bounded.
pub mod cleanup;
/// The command line: serve, migrate, user, client, keys, kek.
pub mod cli;
/// OAuth clients.
pub mod clients;
/// Typed, validated configuration.
pub mod config;
/// Remembered consents.
pub mod consent;
/// Random tokens, hashes, sealing under the key-encryption key, argon2id.
pub mod crypto;
/// Seeding for `serve --demo`.
pub mod demo;
/// The domain error type.
pub mod error;
/// Whether PostgreSQL and Redis answer, checked in the background for `/readyz`.
pub mod health;
/// Routers, handlers and middleware.
pub mod http;
/// Replicas announcing changes to each other (Redis pub/sub).
pub mod invalidation;
/// Key-encryption key rotation: what each key sealed, re-sealing in batches, the check at start.
pub mod kek;
/// The rotating signing-key ring.
pub mod keys;
/// Checks that the layering above holds.
#[cfg(test)]
mod layering;
/// The longest value accepted for each input from outside.
pub mod limits;
/// Mail: letters, their words, single-use links, SMTP.
pub mod mail;
/// Prometheus metrics.
pub mod metrics;
/// Second factors (TOTP).
pub mod mfa;
/// The schema's migrations and the rules that make upgrades safe.
pub mod migrations;
/// OAuth 2.0 protocol logic.
pub mod oauth;
/// OpenID Connect protocol logic.
pub mod oidc;
/// Everything sent to the outside, queued in PostgreSQL and delivered by a worker.
pub mod outbox;
/// Passkeys (WebAuthn): the relying party, stored credentials, ceremonies.
pub mod passkeys;
/// Rate limits on requests that create state (device codes, sessions).
pub mod ratelimit;
/// Roles and groups, carried in tokens for RBAC at resource servers.
pub mod rbac;
/// Redacting wrapper for secrets.
pub mod secret;
/// Browser sessions in Redis.
pub mod sessions;
/// Handler state.
pub mod state;
/// PostgreSQL and Redis connections.
pub mod storage;
/// Logging.
pub mod telemetry;
/// Throttling of guesses: an attempt is reserved atomically before it is evaluated.
pub mod throttle;
/// Access tokens, ID tokens, codes, refresh tokens.
pub mod tokens;
/// The one builder of the URLs the server writes.
pub mod urls;
/// People who sign in.
pub mod users;
/// Checking passwords and second factors, each behind a throttle reservation.
pub mod verify;

pub use app::App;
pub use config::Config;
