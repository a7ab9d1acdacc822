//! Signing key administration: every key with its state and times, rotate now, revoke. Both
//! change the key ring here at once and tell the other replicas to reload theirs.

use serde::Serialize;
use time::OffsetDateTime;

use crate::audit::By;
use crate::error::{Error, Result};
use crate::invalidation::{self, Change};
use crate::keys::{Alg, store};
use crate::state::AppState;

/// A signing key as an administrator sees it (never its private half).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// `next` (published, not signing yet), `active` (signing), `retiring` (published, verify
    /// only), `expired` or `revoked`.
    pub state: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub activate_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub retire_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expire_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Every key, newest first.
pub async fn list(state: &AppState) -> Result<Vec<KeyView>> {
    let now = OffsetDateTime::now_utc();
    let kek = state.keys.kek();
    let mut rows = store::load_all(&state.db).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    Ok(rows
        .into_iter()
        .map(|row| KeyView {
            state: row.key_times(kek).state(now).as_str(),
            kid: row.kid,
            alg: row.alg,
            created_at: row.created_at,
            activate_at: row.activate_at,
            retire_at: row.retire_at,
            expire_at: row.expire_at,
            revoked_at: row.revoked_at,
        })
        .collect())
}

/// Reloads the key ring here and tells the other replicas.
async fn keys_changed(state: &AppState) -> Result<(), Error> {
    state.keys.reload().await?;
    if let Err(e) = invalidation::announce(&state.redis, Change::Keys).await {
        tracing::warn!(error = %e, "could not announce a key change; replicas see it at their next tick");
    }
    Ok(())
}

/// Starts a rotation of `alg` now.
#[tracing::instrument(name = "admin.keys.rotate", skip_all, fields(%alg, actor = ?by.actor))]
pub async fn rotate(state: &AppState, alg: &str, by: &By) -> Result<(), Error> {
    let alg = Alg::parse(alg).ok_or_else(|| {
        Error::Invalid(format!(
            "`{alg}` is not a signing algorithm; use RS256 or ES256"
        ))
    })?;
    state.keys.rotator().rotate_now(alg, by).await?;
    keys_changed(state).await
}

/// Revokes a key: gone from the JWKS at once, and a new key signs.
#[tracing::instrument(name = "admin.keys.revoke", skip_all, fields(%kid, actor = ?by.actor))]
pub async fn revoke(state: &AppState, kid: &str, by: &By) -> Result<(), Error> {
    state.keys.rotator().revoke(kid, by).await?;
    keys_changed(state).await
}
