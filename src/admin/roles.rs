//! Role and group administration: define a name, delete one. Deleting a role changes what every
//! client that held it releases, so those clients are announced to every replica.

use crate::audit::By;
use crate::error::Error;
use crate::rbac::{self, Kind, Name};
use crate::state::AppState;

/// Defines a role or group named `name` (parsed by [`Name::parse`]).
pub async fn define(
    state: &AppState,
    kind: Kind,
    name: &str,
    description: &str,
    by: &By,
) -> Result<(), Error> {
    let name = Name::parse(kind, name).map_err(Error::Invalid)?;
    rbac::store::define(&state.db, kind, &name, description, by).await
}

/// Deletes a role or group: everyone who held it loses it.
pub async fn remove(state: &AppState, kind: Kind, name: &str, by: &By) -> Result<(), Error> {
    for client_id in rbac::store::remove(&state.db, kind, name, by).await? {
        super::client_changed(state, &client_id).await;
    }
    Ok(())
}
