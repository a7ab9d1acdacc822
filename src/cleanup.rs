//! The background cleanup that keeps the tables bounded. Every replica runs it every
//! `PORTCULLIS_CLEANUP_INTERVAL`, but only one at a time: a run first takes a PostgreSQL advisory
//! lock (`pg_try_advisory_xact_lock`, held by a transaction of its own, so a replica that dies
//! mid-run releases it) and a replica that does not get it skips its turn. A run deletes in small
//! batches, each its own statement by index, with a pause between them as long as the batch took,
//! so it never holds locks for long, never loads many rows and leaves the database at least half
//! its time for requests. What it deletes, each by the store that owns the table:
//!
//! - refresh tokens whose whole family ended longer than `PORTCULLIS_CLEANUP_GRACE` ago
//!   ([`crate::tokens::purge`]; reuse detection keeps working while a family lives),
//! - signing keys that expired longer than the grace ago ([`crate::keys::store::purge_expired`]),
//! - audit events older than `PORTCULLIS_AUDIT_RETENTION`, unless it is `0`
//!   ([`crate::audit::purge_before`]),
//! - links sent by mail once expired ([`crate::mail::links::PURGE_BATCH`]),
//! - outbox messages sent or given up longer than the grace ago ([`crate::outbox::PURGE_BATCH`]).
//!
//! Consents of a deleted client need nothing here: the foreign key deletes them with the client.
//! The cutoffs come from the database's clock, the one that stamped the rows.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::metrics::{Metrics, OutcomeLabels, TableLabels};
use crate::state::AppState;
use crate::tokens::purge::{self, Cursor};

/// The advisory lock of the cleanup (beside the key rotation's `0x706f_7274_000n`).
pub const LOCK_ID: i64 = 0x706f_7274_0100;

/// The shortest pause between two batches.
const MIN_PAUSE: Duration = Duration::from_millis(10);

/// The first run comes this long after start at the latest, so replicas that restart more often
/// than the interval still clean up.
const FIRST_RUN: Duration = Duration::from_secs(30);

/// What the cleanup keeps, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long ended refresh tokens and expired keys are kept.
    pub grace: Duration,
    /// How long audit events are kept; `None`: forever.
    pub audit_retention: Option<Duration>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything due was deleted.
    Done,
    /// Another replica holds the lock: its run does the work.
    Skipped,
    /// The server is stopping; the rest waits for the next run.
    Stopped,
}

/// A run in progress: where it counts what it deleted, and what stops it.
struct Run<'a> {
    db: &'a PgPool,
    metrics: &'a Metrics,
    stop: &'a CancellationToken,
}

impl Run<'_> {
    /// Counts a batch's rows; if `more` may be due, pauses as long as the batch took. True when
    /// the run goes on with the next batch; false when nothing more is due or the server stops.
    async fn after_batch(
        &self,
        table: &'static str,
        deleted: u64,
        started: Instant,
        more: bool,
    ) -> bool {
        self.metrics
            .cleanup_deleted
            .get_or_create(&TableLabels { table })
            .inc_by(deleted);
        if !more {
            return false;
        }
        let pause = started.elapsed().max(MIN_PAUSE);
        tokio::select! {
            () = self.stop.cancelled() => false,
            () = tokio::time::sleep(pause) => true,
        }
    }

    async fn refresh_tokens(&self, cutoff: OffsetDateTime) -> Result<()> {
        let mut cursor = Some(Cursor::start());
        while let Some(after) = cursor {
            let started = Instant::now();
            let batch = purge::purge_batch(self.db, cutoff, after).await?;
            cursor = batch.next;
            let more = batch.next.is_some();
            if !self
                .after_batch("refresh_tokens", batch.deleted, started, more)
                .await
            {
                break;
            }
        }
        Ok(())
    }

    async fn signing_keys(&self, cutoff: OffsetDateTime) -> Result<()> {
        loop {
            let started = Instant::now();
            let deleted = crate::keys::store::purge_expired(self.db, cutoff).await?;
            let more = deleted >= crate::keys::store::PURGE_LIMIT;
            if !self
                .after_batch("signing_keys", deleted, started, more)
                .await
            {
                return Ok(());
            }
        }
    }

    async fn audit_events(&self, cutoff: OffsetDateTime) -> Result<()> {
        loop {
            let started = Instant::now();
            let deleted = crate::audit::purge_before(self.db, cutoff).await?;
            let more = deleted >= crate::audit::PURGE_LIMIT;
            if !self
                .after_batch("audit_events", deleted, started, more)
                .await
            {
                return Ok(());
            }
        }
    }
}

impl Run<'_> {
    /// Runs `sql` (a batch of at most 1000 deletions, `$1` the cutoff) until a batch deletes
    /// fewer.
    async fn by_batches(
        &self,
        table: &'static str,
        sql: &'static str,
        cutoff: OffsetDateTime,
    ) -> Result<()> {
        loop {
            let started = Instant::now();
            let deleted = sqlx::query(sql)
                .bind(cutoff)
                .execute(self.db)
                .await?
                .rows_affected();
            if !self
                .after_batch(table, deleted, started, deleted >= 1000)
                .await
            {
                return Ok(());
            }
        }
    }
}

/// One run, if no other replica is running one: deletes what is due under `policy`.
#[tracing::instrument(skip_all)]
pub async fn run(
    db: &PgPool,
    metrics: &Metrics,
    policy: Policy,
    stop: &CancellationToken,
) -> Result<Outcome> {
    let mut lock = db.begin().await?;
    let (locked, now): (bool, OffsetDateTime) =
        sqlx::query_as("select pg_try_advisory_xact_lock($1), now()")
            .bind(LOCK_ID)
            .fetch_one(&mut *lock)
            .await?;
    if !locked {
        return Ok(Outcome::Skipped);
    }
    let run = Run { db, metrics, stop };
    let cutoff = now - policy.grace;
    run.refresh_tokens(cutoff).await?;
    if !stop.is_cancelled() {
        run.signing_keys(cutoff).await?;
    }
    if !stop.is_cancelled() {
        run.by_batches("mail_links", crate::mail::links::PURGE_BATCH, now)
            .await?;
    }
    if !stop.is_cancelled() {
        run.by_batches("outbox", crate::outbox::PURGE_BATCH, cutoff)
            .await?;
    }
    if let Some(retention) = policy.audit_retention.filter(|_| !stop.is_cancelled()) {
        run.audit_events(now - retention).await?;
    }
    // Ending the transaction releases the lock.
    lock.rollback().await?;
    Ok(match stop.is_cancelled() {
        true => Outcome::Stopped,
        false => Outcome::Done,
    })
}

/// Runs the cleanup every `PORTCULLIS_CLEANUP_INTERVAL` until `stop`; records each run's
/// outcome and duration in the metrics.
pub fn spawn(state: AppState, stop: CancellationToken) {
    let every = state.config.cleanup_interval;
    let policy = Policy {
        grace: state.config.cleanup_grace,
        audit_retention: state.config.audit_retention,
    };
    tokio::spawn(async move {
        let mut wait = every.min(FIRST_RUN);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = every;
            let started = Instant::now();
            let outcome = match run(&state.db, &state.metrics, policy, &stop).await {
                Ok(Outcome::Done) => "done",
                Ok(Outcome::Skipped) => "skipped",
                Ok(Outcome::Stopped) => return,
                Err(error) => {
                    tracing::warn!(%error, "the cleanup failed; it runs again at the next interval");
                    "failed"
                }
            };
            if outcome == "done" {
                let took = started.elapsed().as_secs_f64();
                state.metrics.cleanup_last_run_seconds.set(took);
                tracing::debug!(seconds = took, "cleanup done");
            }
            state
                .metrics
                .cleanup_runs
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inc();
        }
    });
}
