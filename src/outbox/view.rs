//! The outbox as administrators see it (`/admin/outbox`): what is waiting, what was sent and what
//! was given up, newest first, with each message's attempts and the server's last answer. Rows
//! hold no secret (a mail's link is made when it is sent), so nothing shown here can be replayed.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// One message in the outbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: Uuid,
    pub recipient: String,
    pub topic: String,
    pub created_at: OffsetDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub failed_at: Option<OffsetDateTime>,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Waiting,
    Sent,
    GivenUp,
}

impl Message {
    pub fn status(&self) -> Status {
        match (self.sent_at, self.failed_at) {
            (Some(_), _) => Status::Sent,
            (None, Some(_)) => Status::GivenUp,
            (None, None) => Status::Waiting,
        }
    }
}

/// How many messages are waiting, sent and given up (those the cleanup has not deleted yet).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Counts {
    pub waiting: i64,
    pub sent: i64,
    pub given_up: i64,
}

pub async fn counts(pool: &PgPool) -> Result<Counts> {
    sqlx::query_as(
        "select count(*) filter (where sent_at is null and failed_at is null) as waiting, \
         count(*) filter (where sent_at is not null) as sent, \
         count(*) filter (where sent_at is null and failed_at is not null) as given_up \
         from outbox",
    )
    .fetch_one(pool)
    .await
    .map_err(Into::into)
}

/// One page of messages, newest first, and how many there are.
pub async fn page(pool: &PgPool, offset: i64, limit: i64) -> Result<(Vec<Message>, i64)> {
    let total: i64 = sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query_as(
        "select id, recipient, topic, created_at, attempts, last_error, next_attempt_at, \
         sent_at, failed_at from outbox order by created_at desc, id desc offset $1 limit $2",
    )
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok((rows, total))
}
