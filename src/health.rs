//! Whether the two stores answer, as this replica last saw it. A background task pings
//! PostgreSQL and Redis every second (each within a second) and keeps the result, so `/readyz`
//! answers at once from memory: a probe is never slow because a store is, and probes from every
//! load balancer never add load to a store that is struggling.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::storage::Redis;

/// How often the stores are checked, and how long each check may take.
const EVERY: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(1);

/// The last seen state of each store; both up at start (the app connected to them to start).
pub struct StoreHealth {
    postgres: AtomicBool,
    redis: AtomicBool,
}

impl Default for StoreHealth {
    fn default() -> Self {
        StoreHealth {
            postgres: AtomicBool::new(true),
            redis: AtomicBool::new(true),
        }
    }
}

impl StoreHealth {
    pub fn postgres(&self) -> bool {
        self.postgres.load(Ordering::Relaxed)
    }

    pub fn redis(&self) -> bool {
        self.redis.load(Ordering::Relaxed)
    }
}

/// Checks both stores now and records the result in `health`.
pub async fn check(db: &PgPool, redis: &Redis, health: &StoreHealth) {
    let postgres = tokio::time::timeout(TIMEOUT, sqlx::query("select 1").execute(db));
    let redis = tokio::time::timeout(TIMEOUT, redis.ping());
    let (postgres, redis) = tokio::join!(postgres, redis);
    let (postgres, redis) = (matches!(postgres, Ok(Ok(_))), matches!(redis, Ok(Ok(()))));
    for (name, now, flag) in [
        ("PostgreSQL", postgres, &health.postgres),
        ("Redis", redis, &health.redis),
    ] {
        let before = flag.swap(now, Ordering::Relaxed);
        if before && !now {
            tracing::warn!("{name} does not answer; serving what does not need it");
        } else if !before && now {
            tracing::info!("{name} answers again");
        }
    }
}

/// Checks the stores every second until `stop` is cancelled, recording the result in `health`.
pub fn spawn_monitor(db: PgPool, redis: Redis, health: Arc<StoreHealth>, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => check(&db, &redis, &health).await,
            }
        }
    });
}
