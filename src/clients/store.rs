//! The `clients` table.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{ClientType, RedirectUri, ValidClient};
use crate::audit::{self, Actor};
use crate::crypto::{random_token, sha256};
use crate::error::StoreError;
use crate::secret::Secret;

/// The result of creating a client: the secret exists only here, once.
#[derive(Debug)]
pub struct Created {
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
}

fn strings(uris: &[RedirectUri]) -> Vec<String> {
    uris.iter().map(|u| u.as_str().to_owned()).collect()
}

pub async fn create(
    pool: &PgPool,
    client: &ValidClient,
    actor: &Actor,
) -> Result<Created, StoreError> {
    let client_id = uuid::Uuid::new_v4().to_string();
    let secret = (client.client_type == ClientType::Confidential).then(random_token);
    let secret_hash = secret
        .as_ref()
        .map(|s| sha256(s.expose().as_bytes()).to_vec());
    let grant_types: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into clients (client_id, name, client_type, secret_hash, redirect_uris, \
         post_logout_redirect_uris, grant_types, scopes, require_consent, audiences) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&client_id)
    .bind(&client.name)
    .bind(client.client_type.as_str())
    .bind(secret_hash)
    .bind(strings(&client.redirect_uris))
    .bind(strings(&client.post_logout_redirect_uris))
    .bind(&grant_types)
    .bind(&client.scopes)
    .bind(client.require_consent)
    .bind(&client.audiences)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::from_unique(
            e,
            &[(
                "clients_name_key",
                format!("a client named `{}` already exists", client.name),
            )],
        )
    })?;
    let details = serde_json::json!({ "name": client.name, "type": client.client_type.as_str(), "grant_types": grant_types });
    audit::record_simple(&mut tx, actor, "client.created", &client_id, details).await?;
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
         scopes, audiences, require_consent, id_token_alg, access_token_ttl_secs, refresh_token_ttl_secs, \
         enabled, created_at"
    };
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients order by lower(name)"
    ))
    .fetch_all(pool)
    .await
}

pub async fn find_by_name(pool: &PgPool, name: &str) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where lower(name) = lower($1)"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await
}

/// Disables a client by id; `NotFound` if there is none.
pub async fn disable(pool: &PgPool, client_id: &str, actor: &Actor) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query("update clients set enabled = false where client_id = $1")
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if found == 0 {
        return Err(StoreError::NotFound(format!(
            "no client with id `{client_id}`"
        )));
    }
    audit::record_simple(
        &mut tx,
        actor,
        "client.disabled",
        client_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A registered client. Serialized (for listings) without its secret hash.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    #[serde(skip_serializing)]
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub require_consent: bool,
    pub id_token_alg: String,
    pub access_token_ttl_secs: Option<i32>,
    pub refresh_token_ttl_secs: Option<i32>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public.as_str()
    }

    pub fn allows_grant(&self, grant: super::GrantType) -> bool {
        self.grant_types.iter().any(|g| g == grant.as_str())
    }
}

/// An enabled client by id (a disabled client is treated as unknown).
pub async fn find(pool: &PgPool, client_id: &str) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where client_id = $1 and enabled"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await
}
