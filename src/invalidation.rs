//! Replicas tell each other what changed over Redis pub/sub (`<prefix>invalidate`): a client
//! (`client:<id>`) or the signing keys (`keys`). Each replica listens on its own connection and
//! reconnects on its own; after a gap it drops its whole client cache, since it may have missed
//! messages. Time-to-live and the key tick bound staleness even when Redis is down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use tokio_util::sync::CancellationToken;

use crate::clients::cache::ClientCache;
use crate::error::Result;
use crate::keys::KeyRing;
use crate::storage::{Redis, RedisKey};

/// What changed.
pub enum Change<'a> {
    Client(&'a str),
    Keys,
}

impl Change<'_> {
    fn message(&self) -> String {
        match self {
            Change::Client(id) => format!("client:{id}"),
            Change::Keys => "keys".to_owned(),
        }
    }
}

/// Tells every replica (this one included) about `change`.
pub async fn announce(redis: &Redis, change: Change<'_>) -> Result<()> {
    let mut conn = redis.conn.clone();
    conn.publish::<_, _, ()>(redis.key(RedisKey::Invalidation), change.message())
        .await
        .map_err(Into::into)
}

/// Listens until `stop`, applying what other replicas announce.
pub fn spawn_listener(
    redis: Redis,
    clients: Arc<ClientCache>,
    keys: Arc<KeyRing>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let listened = tokio::select! {
                _ = stop.cancelled() => return,
                result = listen(&redis, &clients, &keys) => result,
            };
            if let Err(e) = listened {
                tracing::warn!(error = %e, "lost the invalidation channel; retrying");
            }
            clients.clear();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}

async fn listen(redis: &Redis, clients: &ClientCache, keys: &KeyRing) -> Result<()> {
    let mut pubsub = redis.client.get_async_pubsub().await?;
    pubsub.subscribe(redis.key(RedisKey::Invalidation)).await?;
    // Anything announced before the subscription took effect may be missed: start clean.
    clients.clear();
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Ok(text) = message.get_payload::<String>() else {
            continue;
        };
        if let Some(id) = text.strip_prefix("client:") {
            clients.forget(id);
        } else if text == "keys"
            && let Err(e) = keys.reload().await
        {
            tracing::warn!(error = %crate::error::chain(&e), "key reload after an announcement failed");
        }
    }
    Ok(())
}
