//! The state every handler can reach: configuration, the stores, the key ring, metrics and the
//! password hasher. Built once by `App::build` and cloned cheaply (every field is shared).

use std::sync::Arc;

use axum::body::Bytes;
use sqlx::PgPool;

use crate::clients::cache::ClientCache;
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::storage::Redis;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PgPool,
    pub redis: Redis,
    pub keys: Arc<KeyRing>,
    pub clients: Arc<ClientCache>,
    pub metrics: Arc<Metrics>,
    pub hasher: PasswordHasher,
    /// The discovery document, serialized once.
    pub discovery: Bytes,
}
