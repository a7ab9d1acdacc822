//! Recovery codes: ten single-use codes for when the authenticator is lost, shown once and
//! stored as SHA-256 (each is 50 random bits, so a fast hash is enough). Entered without regard
//! to case, spaces or dashes.

use sqlx::PgPool;
use uuid::Uuid;

use crate::crypto::{random_bytes, sha256};
use crate::secret::Secret;

/// Crockford's base32 alphabet in lower case (no i, l, o, u: fewer look-alikes).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
pub const COUNT: usize = 10;

fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A code like `k7dm2-qx9ta`.
fn generate() -> Secret<String> {
    let bytes = random_bytes::<10>();
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    Secret::new(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// Replaces the user's recovery codes with ten new ones, returned to be shown once.
pub async fn regenerate(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<Secret<String>>> {
    let codes: Vec<Secret<String>> = (0..COUNT).map(|_| generate()).collect();
    let mut tx = pool.begin().await?;
    sqlx::query("delete from recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for code in &codes {
        sqlx::query("insert into recovery_codes (user_id, code_hash) values ($1, $2) on conflict do nothing")
            .bind(user_id)
            .bind(sha256(normalize(code.expose()).as_bytes()).to_vec())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(codes)
}

/// Uses a recovery code: true if it was the user's and unused (it is now used).
pub async fn redeem(pool: &PgPool, user_id: Uuid, code: &str) -> sqlx::Result<bool> {
    let code = normalize(code);
    if code.len() != 10 {
        return Ok(false);
    }
    let used = sqlx::query(
        "update recovery_codes set used_at = now() where user_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(sha256(code.as_bytes()).to_vec())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(used == 1)
}

/// How many unused recovery codes the user has left.
pub async fn remaining(pool: &PgPool, user_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from recovery_codes where user_id = $1 and used_at is null")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_look_right_and_normalize() {
        let code = generate();
        assert_eq!(code.expose().len(), 11);
        assert_eq!(
            normalize(&code.expose().to_uppercase().replace('-', " ")),
            normalize(code.expose())
        );
    }
}
