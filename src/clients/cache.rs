//! An in-process cache of clients, so the token endpoint's common case touches neither Postgres
//! nor Redis. Entries (including "no such client") live for a short TTL; a change on any replica
//! is announced on Redis pub/sub ([`crate::invalidation`]) and drops the entry everywhere at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::store::{self, Client};

/// A cached lookup: the client (or that there is none) and when it was read.
type Entry = (Option<Arc<Client>>, Instant);

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
    pub async fn get(&self, client_id: &str) -> sqlx::Result<Option<Arc<Client>>> {
        if let Ok(entries) = self.entries.read()
            && let Some((client, at)) = entries.get(client_id)
            && at.elapsed() < self.ttl
        {
            return Ok(client.clone());
        }
        let loaded = store::find(&self.db, client_id).await?.map(Arc::new);
        if let Ok(mut entries) = self.entries.write() {
            // Ids that are not clients are cached too, but bounded: a flood of random ids must
            // not grow memory without limit.
            if loaded.is_some() || entries.len() < 10_000 {
                entries.insert(client_id.to_owned(), (loaded.clone(), Instant::now()));
            }
        }
        Ok(loaded)
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
