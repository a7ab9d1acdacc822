//! A tower-sessions store over the app's Redis connection: one key per session,
//! `<prefix>session:<id>`, holding the serialized record and expiring with it (`EXAT`), so Redis
//! forgets sessions on its own. Creating uses `SET NX` so a colliding id is never overwritten.
//! Signed-in sessions are also indexed ([`super::index`]) once written. Every new session first
//! passes the per-address limit of [`super::admission`].

use redis::AsyncCommands as _;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::storage::Redis;

#[derive(Clone)]
pub struct RedisSessionStore {
    redis: Redis,
    /// New sessions per client address and minute.
    new_per_minute: u32,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisSessionStore")
    }
}

impl RedisSessionStore {
    pub fn new(redis: Redis, new_per_minute: u32) -> Self {
        Self {
            redis,
            new_per_minute,
        }
    }

    fn key(&self, id: &Id) -> String {
        super::index::session_key(&self.redis, &id.to_string())
    }

    /// `SET key record EXAT expiry` with `NX` or `XX`; true if Redis wrote it.
    async fn set(&self, record: &Record, condition: &str) -> session_store::Result<bool> {
        let value =
            serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let mut conn = self.redis.conn.clone();
        let written: Option<String> = redis::cmd("SET")
            .arg(self.key(&record.id))
            .arg(value)
            .arg(condition)
            .arg("EXAT")
            .arg(record.expiry_date.unix_timestamp())
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        if written.is_some() {
            let mut pipe = redis::pipe();
            if super::index::add_to(&mut pipe, &self.redis, record) {
                pipe.query_async::<()>(&mut conn).await.map_err(backend)?;
            }
        }
        Ok(written.is_some())
    }
}

fn backend(e: redis::RedisError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    #[tracing::instrument(name = "store.sessions.create", level = "debug", skip_all)]
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        super::admission::new_session(&self.redis, self.new_per_minute)
            .await
            .map_err(session_store::Error::Backend)?;
        // 128-bit random ids practically never collide, but a collision must not take over
        // someone's session.
        while !self.set(record, "NX").await? {
            record.id = Id::default();
        }
        Ok(())
    }

    #[tracing::instrument(name = "store.sessions.save", level = "debug", skip_all)]
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // `XX`: a session that expired (or was deleted) meanwhile stays gone.
        self.set(record, "XX").await.map(|_| ())
    }

    #[tracing::instrument(name = "store.sessions.load", level = "debug", skip_all)]
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut conn = self.redis.conn.clone();
        let value: Option<Vec<u8>> = conn.get(self.key(id)).await.map_err(backend)?;
        value
            .map(|bytes| {
                serde_json::from_slice(&bytes)
                    .map_err(|e| session_store::Error::Decode(e.to_string()))
            })
            .transpose()
    }

    #[tracing::instrument(name = "store.sessions.delete", level = "debug", skip_all)]
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut conn = self.redis.conn.clone();
        let mut pipe = redis::pipe();
        pipe.del(self.key(id)).ignore();
        super::index::remove_from(&mut pipe, &self.redis, &id.to_string());
        pipe.query_async::<()>(&mut conn).await.map_err(backend)?;
        Ok(())
    }
}
