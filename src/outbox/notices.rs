//! Security notices: for an audit event that calls for one ([`Notice::for_event`]), a mail to the
//! account's verified address is queued in the event's transaction. [`crate::audit::By::record`]
//! calls [`follow`] for every event, so whichever page, API or command makes the change, the owner
//! hears of it. An account without a verified address gets no notice.

use sqlx::PgConnection;

use crate::audit::AuditEvent;
use crate::error::Result;
use crate::mail::{Letter, Notice};

/// Queues the notice `event` calls for, if any.
pub async fn follow(conn: &mut PgConnection, event: &AuditEvent<'_>) -> Result<()> {
    let Some((user, notice)) = Notice::for_event(event) else {
        return Ok(());
    };
    let address: Option<String> = sqlx::query_scalar(
        "select email from users where id = $1 and email is not null \
         and email_verified_at is not null",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    match address {
        Some(address) => {
            let letter = Letter::Notice { user, notice };
            super::enqueue(conn, &address, &letter).await
        }
        None => Ok(()),
    }
}
