//! Client administration: create, edit, rotate the secret, enable or disable, delete, and set a
//! service account's roles. Validation is [`ClientSpec::validate`], the same as the CLI's.

use crate::audit::By;
use crate::clients::ClientSpec;
use crate::clients::store::{self, Created};
use crate::error::Error;
use crate::rbac::{self, Kind, Name};
use crate::secret::Secret;
use crate::state::AppState;

#[tracing::instrument(name = "admin.clients.create", skip_all, fields(actor = ?by.actor))]
pub async fn create(state: &AppState, spec: ClientSpec, by: &By) -> Result<Created, Error> {
    let client = spec.validate().map_err(Error::Invalid)?;
    store::create(&state.db, &client, by).await
}

#[tracing::instrument(name = "admin.clients.update", skip_all, fields(%client_id, actor = ?by.actor))]
pub async fn update(
    state: &AppState,
    client_id: &str,
    spec: ClientSpec,
    by: &By,
) -> Result<(), Error> {
    let client = spec.validate().map_err(Error::Invalid)?;
    store::update(&state.db, client_id, &client, by).await?;
    super::client_changed(state, client_id).await;
    Ok(())
}

#[tracing::instrument(name = "admin.clients.rotate_secret", skip_all, fields(%client_id, actor = ?by.actor))]
pub async fn rotate_secret(
    state: &AppState,
    client_id: &str,
    by: &By,
) -> Result<Secret<String>, Error> {
    let secret = store::rotate_secret(&state.db, client_id, by).await?;
    super::client_changed(state, client_id).await;
    Ok(secret)
}

/// A disabled client gets `invalid_client` at once here and within a second on every replica.
#[tracing::instrument(name = "admin.clients.set_enabled", skip_all, fields(%client_id, enabled, actor = ?by.actor))]
pub async fn set_enabled(
    state: &AppState,
    client_id: &str,
    enabled: bool,
    by: &By,
) -> Result<(), Error> {
    store::set_enabled(&state.db, client_id, enabled, by).await?;
    super::client_changed(state, client_id).await;
    Ok(())
}

/// Deletes the client with its refresh tokens and consents.
#[tracing::instrument(name = "admin.clients.delete", skip_all, fields(%client_id, actor = ?by.actor))]
pub async fn delete(state: &AppState, client_id: &str, by: &By) -> Result<(), Error> {
    store::delete(&state.db, client_id, by).await?;
    super::client_changed(state, client_id).await;
    Ok(())
}

/// Replaces the client's own roles (released in its `client_credentials` tokens with `roles`).
#[tracing::instrument(name = "admin.clients.set_roles", skip_all, fields(%client_id, actor = ?by.actor))]
pub async fn set_roles(
    state: &AppState,
    client_id: &str,
    roles: &[String],
    by: &By,
) -> Result<(), Error> {
    let roles = Name::parse_all(Kind::Role, roles).map_err(Error::Invalid)?;
    rbac::store::set_for_client(&state.db, client_id, &roles, by).await?;
    super::client_changed(state, client_id).await;
    Ok(())
}
