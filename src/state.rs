//! The state every handler can reach: configuration, the stores, the key ring, metrics and the
//! password hasher. Built once by `App::build`; a clone is one reference count, since the router
//! clones it for every handler on every request.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use sqlx::PgPool;

use crate::clients::cache::ClientCache;
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::health::StoreHealth;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::passkeys::RelyingParty;
use crate::storage::Redis;
use crate::tokens::Issuer;
use crate::tokens::stores::Stores;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub config: Arc<Config>,
    pub db: PgPool,
    pub redis: Redis,
    pub keys: Arc<KeyRing>,
    pub clients: Arc<ClientCache>,
    pub metrics: Arc<Metrics>,
    pub hasher: PasswordHasher,
    /// The discovery document, serialized once.
    pub discovery: Bytes,
    /// The JWKS's `Cache-Control`, built once from the configured maximum age.
    pub jwks_cache_control: http::HeaderValue,
    /// Whether the stores answered at the last check ([`crate::health`]).
    pub health: Arc<StoreHealth>,
    /// Set at SIGTERM: `/readyz` fails from then on, so load balancers stop sending requests.
    pub draining: AtomicBool,
    /// The WebAuthn relying party; `None` when passkeys are off (`PORTCULLIS_PASSKEYS`).
    pub passkeys: Option<Arc<RelyingParty>>,
}

impl Shared {
    /// The signing handle the protocol core mints and checks tokens with.
    pub fn issuer(&self) -> Issuer<'_> {
        Issuer::new(&self.config, &self.keys)
    }

    /// The stores the protocol core reads and writes.
    pub fn stores(&self) -> Stores<'_> {
        Stores::new(
            &self.db,
            &self.redis,
            &self.clients,
            self.config.access_token_ttl,
        )
    }
}
