//! The `roles`, `groups`, `user_roles`, `user_groups` and `client_roles` tables. Every change is
//! audited in its transaction. Assignments replace the whole set at once, so the admin form and
//! the API say what the set should be, not how to get there.

use serde::Serialize;
use sqlx::{AssertSqlSafe, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Kind, Name};
use crate::audit::{AuditEvent, By};
use crate::error::{Error, Result};

/// The tables and columns of one kind (fixed strings, never input).
struct Tables {
    definitions: &'static str,
    users: &'static str,
    column: &'static str,
}

fn tables(kind: Kind) -> Tables {
    match kind {
        Kind::Role => Tables {
            definitions: "roles",
            users: "user_roles",
            column: "role",
        },
        Kind::Group => Tables {
            definitions: "groups",
            users: "user_groups",
            column: "group_name",
        },
    }
}

/// A defined role or group, with how many users (and, for roles, clients) hold it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Definition {
    pub name: String,
    pub description: String,
    pub users: i64,
    pub clients: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

pub async fn list(pool: &PgPool, kind: Kind) -> Result<Vec<Definition>> {
    let t = tables(kind);
    let clients = match kind {
        Kind::Role => "(select count(*) from client_roles c where c.role = d.name)",
        Kind::Group => "0::bigint",
    };
    sqlx::query_as(AssertSqlSafe(format!(
        "select d.name, d.description, d.created_at, \
         (select count(*) from {users} u where u.{column} = d.name) as users, {clients} as clients \
         from {definitions} d order by d.name",
        users = t.users,
        column = t.column,
        definitions = t.definitions,
    )))
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// Defines a new role or group.
pub async fn define(
    pool: &PgPool,
    kind: Kind,
    name: &Name,
    description: &str,
    by: &By,
) -> Result<(), Error> {
    let description = description.trim();
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the description must be at most 200 characters without control characters".into(),
        ));
    }
    let t = tables(kind);
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(AssertSqlSafe(format!(
        "insert into {} (name, description) values ($1, $2) on conflict do nothing",
        t.definitions
    )))
    .bind(name.as_str())
    .bind(description)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(Error::Conflict(format!(
            "a {} named `{name}` already exists",
            kind.noun()
        )));
    }
    let name = name.as_str();
    let event = match kind {
        Kind::Role => AuditEvent::RoleDefined { name, description },
        Kind::Group => AuditEvent::GroupDefined { name, description },
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a role or group and every assignment of it. Returns the clients that held the role,
/// whose cached copies must be dropped.
pub async fn remove(pool: &PgPool, kind: Kind, name: &str, by: &By) -> Result<Vec<String>, Error> {
    let t = tables(kind);
    let mut tx = pool.begin().await?;
    let clients: Vec<String> = match kind {
        Kind::Role => {
            sqlx::query_scalar("select client_id from client_roles where role = $1")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?
        }
        Kind::Group => Vec::new(),
    };
    let deleted = sqlx::query(AssertSqlSafe(format!(
        "delete from {} where name = $1",
        t.definitions
    )))
    .bind(name)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted == 0 {
        return Err(Error::NotFound(format!(
            "there is no {} named `{name}`",
            kind.noun()
        )));
    }
    let event = match kind {
        Kind::Role => AuditEvent::RoleDeleted { name },
        Kind::Group => AuditEvent::GroupDeleted { name },
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(clients)
}

/// Fails with a clear message unless every name is defined.
async fn require_defined(
    tx: &mut sqlx::PgConnection,
    kind: Kind,
    names: &[Name],
) -> Result<Vec<String>, Error> {
    let names: Vec<String> = names.iter().map(|n| n.as_str().to_owned()).collect();
    let known: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "select name from {} where name = any($1)",
        tables(kind).definitions
    )))
    .bind(&names)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(unknown) = names.iter().find(|n| !known.contains(n)) {
        return Err(Error::Invalid(format!(
            "there is no {} named `{unknown}`; define it first",
            kind.noun()
        )));
    }
    Ok(names)
}

/// Replaces the roles or groups of a user.
pub async fn set_for_user(
    pool: &PgPool,
    kind: Kind,
    user_id: Uuid,
    names: &[Name],
    by: &By,
) -> Result<(), Error> {
    let t = tables(kind);
    let mut tx = pool.begin().await?;
    let exists: Option<Uuid> = sqlx::query_scalar("select id from users where id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(Error::NotFound("there is no such user".into()));
    }
    let names = require_defined(&mut tx, kind, names).await?;
    sqlx::query(AssertSqlSafe(format!(
        "delete from {} where user_id = $1",
        t.users
    )))
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "insert into {} (user_id, {}) select $1, unnest($2::text[])",
        t.users, t.column
    )))
    .bind(user_id)
    .bind(&names)
    .execute(&mut *tx)
    .await?;
    let event = match kind {
        Kind::Role => AuditEvent::UserRolesSet {
            user: user_id,
            roles: &names,
        },
        Kind::Group => AuditEvent::UserGroupsSet {
            user: user_id,
            groups: &names,
        },
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the roles of a client (a service account). The caller announces the change, since
/// clients are cached on every replica.
pub async fn set_for_client(
    pool: &PgPool,
    client_id: &str,
    names: &[Name],
    by: &By,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let exists: Option<String> =
        sqlx::query_scalar("select client_id from clients where client_id = $1")
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(Error::NotFound(format!("no client with id `{client_id}`")));
    }
    let names = require_defined(&mut tx, Kind::Role, names).await?;
    sqlx::query("delete from client_roles where client_id = $1")
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into client_roles (client_id, role) select $1, unnest($2::text[])")
        .bind(client_id)
        .bind(&names)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::ClientRolesSet {
        client_id,
        roles: &names,
    };
    by.record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}
