//! The `clients` table.

use sqlx::PgPool;

pub use super::model::Client;
use super::origin::WebOrigin;
use super::{ClientId, ClientType, ResourceUri, ValidClient, strings};
use crate::audit::{AuditEvent, By};
use crate::crypto::{random_token, sha256};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The result of creating a client: the secret exists only here, once.
#[derive(Debug)]
pub struct Created {
    pub client_id: ClientId,
    pub client_secret: Option<Secret<String>>,
}

pub async fn create(pool: &PgPool, client: &ValidClient, by: &By) -> Result<Created, Error> {
    let client_id = ClientId::generate();
    let secret = (client.client_type == ClientType::Confidential).then(random_token);
    let secret_hash = secret
        .as_ref()
        .map(|s| sha256(s.expose().as_bytes()).to_vec());
    let mut tx = pool.begin().await?;
    let insert = sqlx::query(
        "insert into clients (name, redirect_uris, post_logout_redirect_uris, grant_types, scopes, \
         require_consent, audiences, id_token_alg, access_token_ttl_secs, refresh_token_ttl_secs, \
         resource_uri, web_origins, min_level, client_id, client_type, secret_hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    );
    bind_settings(insert, client)
        .bind(client_id.as_str())
        .bind(client.client_type.as_str())
        .bind(secret_hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, client))?;
    let event = AuditEvent::ClientCreated {
        client_id: &client_id,
        settings: described(client),
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Created {
        client_id,
        client_secret: secret,
    })
}

/// The columns of [`Client`], for `concat!` (sqlx wants static SQL strings).
macro_rules! columns {
    () => {
        "client_id, name, client_type, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, \
         scopes, audiences, resource_uri, web_origins, require_consent, id_token_alg, \
         access_token_ttl_secs, refresh_token_ttl_secs, min_level, enabled, created_at, \
         array(select r.role from client_roles r where r.client_id = clients.client_id order by r.role) as roles"
    };
}

pub async fn list(pool: &PgPool) -> Result<Vec<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients order by lower(name)"
    ))
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

pub async fn find_by_name(pool: &PgPool, name: &str) -> Result<Option<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where lower(name) = lower($1)"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds a client's settings as `$1` to `$13`, in the order both `create` and `update` use.
fn bind_settings<'q>(query: PgQuery<'q>, client: &ValidClient) -> PgQuery<'q> {
    query
        .bind(client.name.clone())
        .bind(strings(&client.redirect_uris))
        .bind(strings(&client.post_logout_redirect_uris))
        .bind(strings(&client.grant_types))
        .bind(strings(&client.scopes))
        .bind(client.require_consent)
        .bind(strings(&client.audiences))
        .bind(client.id_token_alg.as_str())
        .bind(client.access_token_ttl_secs)
        .bind(client.refresh_token_ttl_secs)
        .bind(client.resource_uri.as_ref().map(ResourceUri::to_string))
        .bind(strings(&client.web_origins))
        .bind(client.min_level.as_str())
}

fn name_taken(e: sqlx::Error, client: &ValidClient) -> Error {
    let resource = client
        .resource_uri
        .as_ref()
        .map(ResourceUri::as_str)
        .unwrap_or_default();
    Error::from_unique(
        e,
        &[
            (
                "clients_name_key",
                format!("a client named `{}` already exists", client.name),
            ),
            (
                "clients_resource_uri_key",
                format!("another client is already the resource server `{resource}`"),
            ),
        ],
    )
}

/// What an audit event says of a client's settings (never its secret).
fn described(client: &ValidClient) -> serde_json::Value {
    let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    serde_json::json!({
        "name": client.name,
        "type": client.client_type.as_str(),
        "grant_types": grants,
        "redirect_uris": strings(&client.redirect_uris),
        "scopes": client.scopes,
        "resource_uri": client.resource_uri,
        "min_level": client.min_level,
    })
}

fn no_client(client_id: &str) -> Error {
    Error::NotFound(format!("no client with id `{client_id}`"))
}

/// Enables or disables a client by id; `NotFound` if there is none.
pub async fn set_enabled(
    pool: &PgPool,
    client_id: &str,
    enabled: bool,
    by: &By,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query("update clients set enabled = $2 where client_id = $1")
        .bind(client_id)
        .bind(enabled)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if found == 0 {
        return Err(no_client(client_id));
    }
    let event = if enabled {
        AuditEvent::ClientEnabled { client_id }
    } else {
        AuditEvent::ClientDisabled { client_id }
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a client's settings (its type stays what it was created as).
pub async fn update(
    pool: &PgPool,
    client_id: &str,
    client: &ValidClient,
    by: &By,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let current: Option<String> =
        sqlx::query_scalar("select client_type from clients where client_id = $1 for update")
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
    match current {
        None => return Err(no_client(client_id)),
        Some(kind) if kind != client.client_type.as_str() => {
            return Err(Error::Invalid(format!(
                "this client is {kind}; the type cannot change (create a new client instead)"
            )));
        }
        Some(_) => {}
    }
    let update = sqlx::query(
        "update clients set name = $1, redirect_uris = $2, post_logout_redirect_uris = $3, \
         grant_types = $4, scopes = $5, require_consent = $6, audiences = $7, id_token_alg = $8, \
         access_token_ttl_secs = $9, refresh_token_ttl_secs = $10, resource_uri = $11, \
         web_origins = $12, min_level = $13 where client_id = $14",
    );
    bind_settings(update, client)
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, client))?;
    let event = AuditEvent::ClientUpdated {
        client_id,
        settings: described(client),
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a confidential client a new secret (the old one stops working at once) and returns it:
/// this is the only time it is seen.
pub async fn rotate_secret(
    pool: &PgPool,
    client_id: &str,
    by: &By,
) -> Result<Secret<String>, Error> {
    let secret = random_token();
    let mut tx = pool.begin().await?;
    let kind: Option<String> = sqlx::query_scalar(
        "update clients set secret_hash = case when client_type = 'confidential' then $2 end \
         where client_id = $1 returning client_type",
    )
    .bind(client_id)
    .bind(sha256(secret.expose().as_bytes()).to_vec())
    .fetch_optional(&mut *tx)
    .await?;
    match kind.as_deref() {
        None => return Err(no_client(client_id)),
        Some("confidential") => {}
        Some(_) => {
            return Err(Error::Invalid(
                "a public client has no secret to rotate".into(),
            ));
        }
    }
    by.record(&mut tx, AuditEvent::ClientSecretRotated { client_id })
        .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Deletes a client; its refresh tokens and consents go with it (foreign keys cascade), so
/// nothing it was given still works.
pub async fn delete(pool: &PgPool, client_id: &str, by: &By) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let name: Option<String> =
        sqlx::query_scalar("delete from clients where client_id = $1 returning name")
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(name) = name else {
        return Err(no_client(client_id));
    };
    let event = AuditEvent::ClientDeleted {
        client_id,
        name: &name,
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// One page of clients whose name or id contains `search` (any case), and how many match.
pub async fn page(
    pool: &PgPool,
    search: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Client>, i64)> {
    let pattern = format!("%{}%", crate::storage::like_escape(search));
    let total: i64 = sqlx::query_scalar(
        "select count(*) from clients where name ilike $1 or client_id ilike $1",
    )
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    let clients = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where name ilike $1 or client_id ilike $1 order by lower(name) offset $2 limit $3"
    ))
    .bind(&pattern)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok((clients, total))
}

/// A client by id, enabled or not (for administration).
#[tracing::instrument(name = "store.clients.get", level = "debug", skip_all)]
pub async fn get(pool: &PgPool, client_id: &str) -> Result<Option<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}

/// Whether `origin` is the origin of a redirect URI of some enabled public client (a CORS
/// preflight, which names no client). An indexed lookup (GIN on `web_origins`), not a scan.
pub async fn is_public_origin(pool: &PgPool, origin: &WebOrigin) -> Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from clients where web_origins @> array[$1]::text[] \
         and client_type = 'public' and enabled)",
    )
    .bind(origin.as_str())
    .fetch_one(pool)
    .await
    .map_err(Into::into)
}

/// An enabled client by id (a disabled client is treated as unknown).
#[tracing::instrument(name = "store.clients.find", level = "debug", skip_all)]
pub async fn find(pool: &PgPool, client_id: &str) -> Result<Option<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where client_id = $1 and enabled"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into)
}
