//! The signing handle the protocol core mints and checks tokens with: the issuer URL (`iss`), the
//! key ring and the configured lifetimes. It borrows from the app state, so building one per
//! request costs nothing; a unit test builds one over an in-memory key ring
//! ([`KeyRing::ephemeral`]).

use std::time::Duration;

use crate::config::Config;
use crate::keys::KeyRing;

/// The configured lifetimes of what the grants issue (each client may shorten or lengthen its
/// access and refresh tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: Duration,
    pub id_token: Duration,
    pub refresh_token: Duration,
    /// How long a used refresh token may be presented again without revoking its grant.
    pub refresh_token_grace: Duration,
    pub authorization_code: Duration,
}

impl Lifetimes {
    pub fn from_config(config: &Config) -> Self {
        Lifetimes {
            access_token: config.access_token_ttl,
            id_token: config.id_token_ttl,
            refresh_token: config.refresh_token_ttl,
            refresh_token_grace: config.refresh_token_grace,
            authorization_code: config.authorization_code_ttl,
        }
    }
}

/// Who signs: the issuer identifier, its keys, and the lifetimes of what it issues.
#[derive(Clone, Copy)]
pub struct Issuer<'a> {
    /// The issuer identifier (`iss`, OIDC Discovery §3).
    pub url: &'a str,
    pub keys: &'a KeyRing,
    pub lifetimes: Lifetimes,
}

impl<'a> Issuer<'a> {
    pub fn new(config: &'a Config, keys: &'a KeyRing) -> Self {
        Issuer {
            url: &config.issuer,
            keys,
            lifetimes: Lifetimes::from_config(config),
        }
    }
}
