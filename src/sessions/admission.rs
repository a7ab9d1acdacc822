//! A limit on new browser sessions per client address ([`ratelimit::sessions_per_address`]), so
//! that anonymous requests cannot fill Redis with sessions. Only a session that is really created
//! counts: the store's `create` takes one from the limit (atomically, in Redis) at the moment a
//! new record would be written. A request that keeps no session, or uses one it has, costs
//! nothing. The HTTP layer runs each browser request inside [`admit`], which tells the store
//! where the request comes from and reports a refusal back, to be answered with 429.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ratelimit;
use crate::storage::Redis;

tokio::task_local! {
    static REQUEST: Request;
}

/// The request being served: where it came from, and whether creating its session was refused.
struct Request {
    from: IpAddr,
    /// Seconds to wait, when refused; 0 otherwise.
    refused: Arc<AtomicU64>,
}

/// Runs `serve` (a request) so that a session it creates counts against `from`. Returns what
/// `serve` returned, and `Some(wait)` if a new session was refused.
pub async fn admit<F: Future>(from: IpAddr, serve: F) -> (F::Output, Option<Duration>) {
    let refused = Arc::new(AtomicU64::new(0));
    let request = Request {
        from: from.to_canonical(),
        refused: refused.clone(),
    };
    let output = REQUEST.scope(request, serve).await;
    let wait = refused.load(Ordering::SeqCst);
    (output, (wait > 0).then(|| Duration::from_secs(wait)))
}

/// Called by the store before it creates a session: `Ok(())` to go ahead, `Err` if this
/// address has made too many sessions lately. Outside [`admit`] (the command line), no limit.
pub(super) async fn new_session(redis: &Redis, per_minute: u32) -> Result<(), String> {
    let Ok(from) = REQUEST.try_with(|r| r.from) else {
        return Ok(());
    };
    let from = from.to_string();
    let limit = [(ratelimit::sessions_per_address(per_minute), from.as_str())];
    match ratelimit::take(redis, &limit).await {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => {
            let _ = REQUEST.try_with(|r| r.refused.store(wait.as_secs().max(1), Ordering::SeqCst));
            Err(format!("too many new sessions from {from}"))
        }
        Err(e) => Err(e.to_string()),
    }
}
