//! The outbox worker, one on every replica. It delivers what is due, one message per
//! transaction: the row is locked with `for update skip locked` (another replica skips it, so a
//! message is sent once), the mail's link is made in a savepoint, the mail is handed to SMTP, and
//! the row is marked sent in the same transaction. A failure rolls the link back and sets the
//! next attempt after a backoff (2 s, doubling, at most 5 minutes); a permanent refusal (a 5xx
//! reply), or failures for longer than `PORTCULLIS_MAIL_GIVE_UP_AFTER`, gives up with a
//! `mail.failed` audit event. Between rounds it sleeps until woken by `pg_notify` (a message was
//! queued), until the next retry is due, or for [`POLL`] at most.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::CHANNEL;
use crate::audit::{Actor, AuditEvent, By};
use crate::error::Result;
use crate::mail::compose::{Addressee, compose};
use crate::mail::transport::SendError;
use crate::mail::{Letter, Mailer, links};
use crate::metrics::Metrics;

/// The longest sleep between two looks at the outbox (a missed notification costs this much).
pub const POLL: Duration = Duration::from_secs(30);

/// The first retry comes after this; each later one after twice the one before.
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(300);

/// The longest `last_error` kept.
const ERROR_LEN: usize = 500;

/// What the worker needs.
#[derive(Clone)]
pub struct Worker {
    pub db: PgPool,
    pub mailer: Mailer,
    /// The configured issuer: the origin of every link and the site name in every mail.
    pub issuer: String,
    pub give_up_after: Duration,
    pub metrics: Arc<Metrics>,
}

/// Starts this replica's worker, stopped by `stop`.
pub fn spawn(state: &crate::state::AppState, stop: CancellationToken) {
    let config = &state.config;
    // `serve --demo` never mails anyone: its mails go to the log, so its flows can be tried.
    let smtp = config.smtp_url.as_ref().filter(|_| !config.demo);
    let mailer = match Mailer::new(smtp, config.mail_from.clone()) {
        Ok(mailer) => mailer,
        Err(e) => {
            // The URL was checked with the configuration; this is not expected.
            tracing::error!(error = %e, "outbox: no mailer; mail stays queued");
            return;
        }
    };
    if !mailer.sends() {
        tracing::warn!("PORTCULLIS_SMTP_URL is not set: mails are written to the log, not sent");
    }
    let worker = Worker {
        db: state.db.clone(),
        mailer,
        issuer: config.issuer.clone(),
        give_up_after: config.mail_give_up_after,
        metrics: state.metrics.clone(),
    };
    let database_url = config.database_url.expose().clone();
    tokio::spawn(worker.run(database_url, stop));
}

/// How long to wait after `attempts` failures.
pub fn backoff(attempts: u32) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
    doubled.min(LAST_RETRY)
}

/// The site name mails use: the issuer's host (and port, if any).
pub fn site(issuer: &str) -> String {
    url::Url::parse(issuer)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_else(|| issuer.to_owned())
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    recipient: String,
    topic: String,
    payload: serde_json::Value,
    attempts: i32,
    created_at: OffsetDateTime,
}

/// What became of one message.
enum Outcome {
    Sent,
    Retry(String),
    GiveUp(String),
    /// Nothing to send any more (the account is gone, or the address changed since).
    Dropped(&'static str),
    /// A payload this release does not know (queued by a newer replica): left for another.
    Unknown,
}

impl Worker {
    /// Runs until `stop`: delivers what is due, then waits.
    pub async fn run(self, database_url: String, stop: CancellationToken) {
        let mut listener = match PgListener::connect(&database_url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: cannot listen; polling only");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot listen; polling only");
                None
            }
        };
        loop {
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: delivery round failed");
                    FIRST_RETRY
                }
            };
            let notified = async {
                match listener.as_mut() {
                    Some(l) => {
                        if l.recv().await.is_err() {
                            // The listener reconnects on its own; do not spin meanwhile.
                            tokio::time::sleep(FIRST_RETRY).await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = notified => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Sends everything due; returns how long to sleep before the next round.
    pub async fn round(&self) -> Result<Duration> {
        while self.deliver_one().await? {}
        let pending: (i64, Option<f64>) = sqlx::query_as(
            "select count(*), extract(epoch from min(next_attempt_at) - now())::float8 \
             from outbox where sent_at is null and failed_at is null",
        )
        .fetch_one(&self.db)
        .await?;
        self.metrics.outbox_queued.set(pending.0);
        let next = pending.1.map_or(POLL, |s| {
            Duration::from_secs_f64(s.clamp(0.05, POLL.as_secs_f64()))
        });
        Ok(next)
    }

    /// Delivers one due message, if any; `Ok(false)`: nothing was due.
    pub async fn deliver_one(&self) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let due: Option<Due> = sqlx::query_as(
            "select id, recipient, topic, payload, attempts, created_at from outbox \
             where sent_at is null and failed_at is null and next_attempt_at <= now() \
             order by next_attempt_at limit 1 for update skip locked",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(due) = due else {
            return Ok(false);
        };
        let outcome = self.attempt(&mut tx, &due).await?;
        let attempts = u32::try_from(due.attempts).unwrap_or(0).saturating_add(1);
        let expired = OffsetDateTime::now_utc() - due.created_at > self.give_up_after;
        match outcome {
            Outcome::Sent => {
                sqlx::query(
                    "update outbox set sent_at = now(), attempts = attempts + 1, \
                     last_error = null where id = $1",
                )
                .bind(due.id)
                .execute(&mut *tx)
                .await?;
                self.metrics.outbox_sent.inc();
            }
            Outcome::Retry(error) if !expired => {
                tracing::warn!(to = %due.recipient, error = %error, attempts, "mail not sent; will retry");
                let wait = backoff(attempts);
                sqlx::query(
                    "update outbox set attempts = attempts + 1, last_error = $2, \
                     next_attempt_at = now() + make_interval(secs => $3) where id = $1",
                )
                .bind(due.id)
                .bind(crate::limits::truncate(&error, ERROR_LEN))
                .bind(wait.as_secs_f64())
                .execute(&mut *tx)
                .await?;
                self.metrics.outbox_retried.inc();
            }
            Outcome::Retry(error) | Outcome::GiveUp(error) => {
                tracing::error!(to = %due.recipient, error = %error, attempts, "mail given up");
                self.give_up(&mut tx, &due, &error).await?;
                self.metrics.outbox_failed.inc();
            }
            Outcome::Dropped(why) => {
                self.finish_unsent(&mut tx, due.id, why).await?;
            }
            Outcome::Unknown => {
                sqlx::query(
                    "update outbox set next_attempt_at = now() + interval '1 minute' where id = $1",
                )
                .bind(due.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Composes and sends `due`, making its link in a savepoint that a failure rolls back.
    async fn attempt(&self, tx: &mut PgConnection, due: &Due) -> Result<Outcome> {
        let Ok(letter) = serde_json::from_value::<Letter>(due.payload.clone()) else {
            return Ok(Outcome::Unknown);
        };
        let account: Option<(String, Option<String>)> =
            sqlx::query_as("select coalesce(name, username), email from users where id = $1")
                .bind(letter.user())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((name, email)) = account else {
            return Ok(Outcome::Dropped("the account no longer exists"));
        };
        // A verification link for an address the account no longer has would verify nothing.
        if matches!(letter, Letter::VerifyAddress { .. })
            && !email.is_some_and(|e| e.eq_ignore_ascii_case(&due.recipient))
        {
            return Ok(Outcome::Dropped("the account's address changed since"));
        }
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        let link = match letter.link() {
            Some(purpose) => {
                let email =
                    matches!(purpose, links::Purpose::Verify).then_some(due.recipient.as_str());
                let token = links::make(&mut savepoint, letter.user(), purpose, email).await?;
                Some(crate::urls::mail::link(
                    &self.issuer,
                    purpose,
                    token.expose(),
                ))
            }
            None => None,
        };
        let mail = compose(
            &letter,
            &Addressee { name },
            &site(&self.issuer),
            link.as_deref(),
        );
        match self.mailer.send(&due.recipient, &mail).await {
            Ok(()) => {
                savepoint.commit().await?;
                Ok(Outcome::Sent)
            }
            Err(SendError::Transient(e)) => Ok(Outcome::Retry(e)),
            Err(SendError::Permanent(e)) => Ok(Outcome::GiveUp(e)),
        }
    }

    async fn give_up(&self, tx: &mut PgConnection, due: &Due, error: &str) -> Result<()> {
        sqlx::query(
            "update outbox set failed_at = now(), attempts = attempts + 1, last_error = $2 \
             where id = $1",
        )
        .bind(due.id)
        .bind(crate::limits::truncate(error, ERROR_LEN))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::MailFailed {
            message: due.id,
            recipient: &due.recipient,
            topic: &due.topic,
            error,
        };
        By::new(Actor::System, None).record(tx, event).await
    }

    async fn finish_unsent(&self, tx: &mut PgConnection, id: Uuid, why: &str) -> Result<()> {
        sqlx::query("update outbox set failed_at = now(), last_error = $2 where id = $1")
            .bind(id)
            .bind(why)
            .execute(tx)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), Duration::from_secs(300));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn the_site_is_the_issuers_host() {
        assert_eq!(site("https://id.example.com"), "id.example.com");
        assert_eq!(site("http://localhost:8080"), "localhost:8080");
    }
}
