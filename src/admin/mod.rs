//! Administration: the operations behind both the admin pages (`http::admin`) and the admin JSON
//! API (`http::admin::api`), so the two validate, audit and propagate alike. Each operation
//! takes [`By`](crate::audit::By) (who, from where) for its audit event, and tells every replica
//! about changes to what replicas cache (clients, keys) over Redis pub/sub.

pub mod actions;
pub mod audit_log;
pub mod clients;
pub mod dashboard;
pub mod keys;
pub mod roles;
pub mod users;

use crate::invalidation::{self, Change};
use crate::state::AppState;

/// Forgets a client here at once and tells the other replicas. If Redis cannot carry the
/// message, the other replicas still drop their copy when its short time-to-live ends.
pub async fn client_changed(state: &AppState, client_id: &str) {
    state.clients.forget(client_id);
    if let Err(e) = invalidation::announce(&state.redis, Change::Client(client_id)).await {
        tracing::warn!(error = %e, "could not announce a client change; replicas see it after the cache time-to-live");
    }
}
