//! The TOTP secrets of the `users` table as a key-encryption key rotation sees them: counted by
//! the key that sealed them, read in locked batches, and replaced one by one. `totp_kek_id` is
//! `None` for a secret written by a release that did not record it yet (see migration 0007).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::Result;

/// How many TOTP secrets each key-encryption key sealed (`None`: not recorded).
pub async fn count_by_kek(pool: &PgPool) -> Result<Vec<(Option<String>, i64)>> {
    sqlx::query_as(
        "select totp_kek_id, count(*) from users where totp_secret_sealed is not null \
         group by totp_kek_id order by totp_kek_id nulls first",
    )
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// Up to `limit` TOTP secrets recorded as sealed under `kek_id` (`None`: not recorded), of users
/// after `after`, as (user id, sealed secret), locked for the rest of the transaction. Rows
/// another transaction holds are skipped, so rotations running at once share the work.
pub async fn lock_sealed(
    conn: &mut PgConnection,
    kek_id: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Uuid, String)>> {
    // Two statements rather than `is not distinct from`, which no index serves.
    let query = match kek_id {
        Some(_) => sqlx::query_as(
            "select id, totp_secret_sealed from users \
             where totp_secret_sealed is not null and totp_kek_id = $1 \
             and ($2::uuid is null or id > $2) order by id limit $3 for update skip locked",
        ),
        None => sqlx::query_as(
            "select id, totp_secret_sealed from users \
             where totp_secret_sealed is not null and totp_kek_id is null and $1::text is null \
             and ($2::uuid is null or id > $2) order by id limit $3 for update skip locked",
        ),
    };
    query
        .bind(kek_id)
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(Into::into)
}

/// Replaces a user's sealed TOTP secret if it is still `old`; returns whether it was.
pub async fn reseal(
    conn: &mut PgConnection,
    id: Uuid,
    old: &str,
    sealed: &str,
    kek_id: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "update users set totp_secret_sealed = $3, totp_kek_id = $4 \
         where id = $1 and totp_secret_sealed = $2",
    )
    .bind(id)
    .bind(old)
    .bind(sealed)
    .bind(kek_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
