//! Deleting refresh tokens that have ended, family by family, for the background cleanup
//! ([`crate::cleanup`]).
//!
//! Reuse detection (RFC 9700 §4.14.2) finds a used token by its hash and revokes its family: a
//! used token must therefore stay as long as its family could still be harmed, that is as long as
//! any token of the family is live. A token *ended* at the first of its `used_at`, `revoked_at`
//! and `expires_at`; a family is deleted, all its rows at once, only once every one of its tokens
//! ended before the cutoff (now minus the grace). A family with one live token keeps every used
//! token, so replaying any of them still revokes it.
//!
//! The batch walks the `refresh_tokens_ended` index in order from a cursor, so a run reads each
//! ended token once, however many of them belong to families still alive. Whether a family has
//! ended is a correlated subquery over its rows, read by the family index: not a join over the
//! table, and not `max()`, which the planner would answer by walking the end-time index.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// How many ended tokens one batch looks at (the families they belong to go with them).
pub const BATCH: u64 = 1000;

/// One batch: `$1` the cutoff, `($2, $3)` the cursor (the last token the previous batch looked
/// at). Returns how many rows were deleted, how many tokens were looked at, and the new cursor.
pub const PURGE_BATCH: &str = "with candidates as ( \
       select id, family_id, least(used_at, revoked_at, expires_at) as ended_at \
       from refresh_tokens \
       where least(used_at, revoked_at, expires_at) < $1 \
         and (least(used_at, revoked_at, expires_at), id) > ($2, $3) \
       order by least(used_at, revoked_at, expires_at), id \
       limit 1000), \
     ended as ( \
       select f.family_id from (select distinct family_id from candidates) as f \
       where (select bool_and(least(t.used_at, t.revoked_at, t.expires_at) < $1) \
              from refresh_tokens t where t.family_id = f.family_id)), \
     deleted as ( \
       delete from refresh_tokens where family_id = any(array(select family_id from ended)) \
       returning 1), \
     last as (select ended_at, id from candidates order by ended_at desc, id desc limit 1) \
     select (select count(*) from deleted), (select count(*) from candidates), \
       (select ended_at from last), (select id from last)";

/// Where the walk through ended tokens is: the end time and id of the last token looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    ended_at: OffsetDateTime,
    id: Uuid,
}

impl Cursor {
    /// Before every token (none ended before 1970).
    pub fn start() -> Self {
        Cursor {
            ended_at: OffsetDateTime::UNIX_EPOCH,
            id: Uuid::nil(),
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    /// Rows deleted (every token of each family that had ended).
    pub deleted: u64,
    /// Where the next batch starts; `None` once every ended token has been looked at.
    pub next: Option<Cursor>,
}

/// Deletes the families among the next [`BATCH`] tokens (after `after`) that ended before `cutoff`.
#[tracing::instrument(skip(pool))]
pub async fn purge_batch(pool: &PgPool, cutoff: OffsetDateTime, after: Cursor) -> Result<Batch> {
    let mut tx = crate::storage::by_index(pool).await?;
    let (deleted, scanned, ended_at, id): (i64, i64, Option<OffsetDateTime>, Option<Uuid>) =
        sqlx::query_as(PURGE_BATCH)
            .bind(cutoff)
            .bind(after.ended_at)
            .bind(after.id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    let next = match (ended_at, id) {
        (Some(ended_at), Some(id)) if scanned.unsigned_abs() >= BATCH => {
            Some(Cursor { ended_at, id })
        }
        _ => None,
    };
    Ok(Batch {
        deleted: deleted.unsigned_abs(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_size_is_the_one_in_the_query() {
        assert!(PURGE_BATCH.contains(&format!("limit {BATCH})")));
        assert!(
            crate::keys::store::PURGE_BATCH
                .contains(&format!("limit {})", crate::keys::store::PURGE_LIMIT))
        );
    }
}
