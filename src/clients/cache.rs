//! An in-process cache of clients, so the token endpoint's common case touches neither Postgres
//! nor Redis. Entries live for a short TTL; a change on any replica is announced on Redis pub/sub
//! ([`crate::invalidation`]) and drops the entry everywhere at once. Only clients that exist are
//! cached: an id that names no client is never kept, so a flood of made-up ids costs an indexed
//! lookup each and no memory, and an id longer than [`limits::CLIENT_ID`] is not even looked up.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::store::{self, Client};
use crate::error::Result;
use crate::limits;

/// A cached client and when it was read.
type Entry = (Arc<Client>, Instant);

pub struct ClientCache {
    db: PgPool,
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
}

impl ClientCache {
    pub fn new(db: PgPool, ttl: Duration) -> Self {
        Self {
            db,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The enabled client with this id, from memory when fresh.
    #[tracing::instrument(name = "clients.cache.get", level = "debug", skip_all)]
    pub async fn get(&self, client_id: &str) -> Result<Option<Arc<Client>>> {
        if let Ok(entries) = self.entries.read()
            && let Some((client, at)) = entries.get(client_id)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(client.clone()));
        }
        if client_id.len() > limits::CLIENT_ID {
            return Ok(None);
        }
        let loaded = store::find(&self.db, client_id).await?.map(Arc::new);
        // Never a negative entry: it would be keyed by whatever a caller sent.
        if let Some(client) = &loaded
            && let Ok(mut entries) = self.entries.write()
        {
            entries.insert(client_id.to_owned(), (client.clone(), Instant::now()));
        }
        Ok(loaded)
    }

    /// How many clients are cached (exposed as a metric).
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |entries| entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn forget(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(client_id);
        }
    }

    /// Drops everything (after missing messages while disconnected from Redis).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
