//! The outbox: everything Portcullis sends to the outside (mail today) is written to the `outbox`
//! table in the transaction of the change that caused it ([`enqueue`], [`notices`]), so a
//! message exists exactly when its change does and is never lost to a crash or an unreachable
//! server. A worker on every replica delivers it ([`worker`]): it locks one due row at a time
//! with `for update skip locked`, so each message is sent by one replica once, retries with
//! backoff while the server is down and gives up, with an audit event, after
//! `PORTCULLIS_MAIL_GIVE_UP_AFTER`. `pg_notify` at commit wakes the workers at once.
//!
//! Rows hold no secret (a mail's link is made when it is sent) and are deleted by the cleanup a
//! while after they were sent or given up ([`PURGE_BATCH`]).

pub mod notices;
pub mod view;
pub mod worker;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::mail::Letter;

/// The channel `pg_notify` wakes the workers on.
pub const CHANNEL: &str = "portcullis_outbox";

/// Writes `letter` to `recipient` into the outbox. Pass the transaction of the change that
/// causes it; the workers are woken when it commits.
pub async fn enqueue(conn: &mut PgConnection, recipient: &str, letter: &Letter) -> Result<()> {
    let payload = serde_json::to_value(letter)
        .map_err(|e| crate::error::Error::Other(anyhow::anyhow!("outbox payload: {e}")))?;
    sqlx::query(
        "insert into outbox (id, kind, recipient, topic, payload) values ($1, 'mail', $2, $3, $4)",
    )
    .bind(Uuid::now_v7())
    .bind(recipient)
    .bind(letter.topic())
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    wake(conn).await
}

/// Wakes the workers when the transaction commits (PostgreSQL delivers notifications then).
async fn wake(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("select pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// One batch of the cleanup: messages sent or given up before `$1`, by the index on that time.
pub const PURGE_BATCH: &str = "delete from outbox where id = any(array( \
       select id from outbox where (sent_at is not null or failed_at is not null) \
       and coalesce(sent_at, failed_at) < $1 order by coalesce(sent_at, failed_at) limit 1000))";
