//! Hundreds of thousands of rows, made in SQL, come back down in batches while tokens are served.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Families, audit_count, deleted, every_second, old_audit_events, runs};
use crate::helpers::{Settings, eventually};
use crate::machines::client_credentials;
use crate::signin::{token, tokens_for};

const ENDED: Families = Families {
    prefix: "00000000-0000-4000-8000",
    count: 16_000,
    tokens: 5,
    used: "2 days",
    last_live: false,
};
/// Ended within the grace: kept.
const RECENT: Families = Families {
    prefix: "00000000-0000-4000-8001",
    count: 1_000,
    tokens: 5,
    used: "10 minutes",
    last_live: false,
};
/// Old used tokens, but the newest of each family is live: kept.
const LIVE: Families = Families {
    prefix: "00000000-0000-4000-8002",
    count: 5_000,
    tokens: 5,
    used: "2 days",
    last_live: true,
};
const OLD_EVENTS: i64 = 80_000;
const RECENT_EVENTS: i64 = 10_000;

/// Requests a worker made, and whether any failed.
#[derive(Default)]
struct Served {
    ok: AtomicU64,
    failed: AtomicBool,
}

#[tokio::test]
async fn the_cleanup_brings_filled_tables_down_in_batches_while_tokens_are_served() {
    let app = every_second(Settings::new().await, "1h").spawn().await;
    let db = &app.state.db;
    let (client, tokens) = tokens_for(&app, "filler", "openid offline_access").await;
    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'filler'")
        .fetch_one(db)
        .await
        .unwrap();
    // Everything a run may find is in place before the first run can start, in one statement per
    // table; three signing keys expired long ago.
    tokio::join!(
        ENDED.insert(db, user, &client.id),
        async {
            RECENT.insert(db, user, &client.id).await;
            LIVE.insert(db, user, &client.id).await;
        },
        old_audit_events(db, OLD_EVENTS, "500 days", "test.old"),
        async {
            old_audit_events(db, RECENT_EVENTS, "10 days", "test.recent").await;
            sqlx::query(
                "insert into signing_keys (kid, alg, public_jwk, private_jwk_sealed, kek_id, \
                 created_at, activate_at, retire_at, expire_at) \
                 select 'expired-' || i, 'ES256', '{}', 'sealed', 'old', now() - interval '90 days', \
                 now() - interval '90 days', now() - interval '60 days', now() - interval '59 days' \
                 from generate_series(1, 3) as i",
            )
            .execute(db)
            .await
            .unwrap();
        },
    );
    let jwks_before = app.get_json("/jwks.json").await;

    // Tokens are served all along: a service asks for tokens, a person's app refreshes.
    let service = app.service("Worker", &[], &[]).await;
    let served = Arc::new(Served::default());
    let stop = Arc::new(AtomicBool::new(false));
    let machine = {
        let (app, served, stop) = (&app, served.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = client_credentials(app, &service, &[]).await;
                match status {
                    200 => served.ok.fetch_add(1, Ordering::Relaxed),
                    _ => {
                        eprintln!("client_credentials failed: {status} {body}");
                        served.failed.store(true, Ordering::Relaxed);
                        return;
                    }
                };
            }
        }
    };
    let person = {
        let (app, client, served, stop) = (&app, &client, served.clone(), stop.clone());
        let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        async move {
            while !stop.load(Ordering::Relaxed) {
                let form = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
                let (status, body) = token(app, client, &form).await;
                match body["refresh_token"].as_str() {
                    Some(next) if status == 200 => refresh = next.to_owned(),
                    _ => {
                        eprintln!("refresh failed: {status} {body}");
                        served.failed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                served.ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    // Meanwhile the deleted-rows counter is read often: it grows a batch at a time.
    let watch = async {
        let seen = Mutex::new(BTreeSet::new());
        let ended_rows = (ENDED.count * ENDED.tokens).unsigned_abs();
        eventually(
            Duration::from_secs(60),
            "the cleanup deleted everything due",
            || async {
                let (tokens, events) = (
                    deleted(&app, "refresh_tokens").await,
                    deleted(&app, "audit_events").await,
                );
                if seen.lock().unwrap().insert(tokens) {
                    eprintln!("deleted: {tokens} refresh tokens, {events} audit events");
                }
                (tokens == ended_rows && events == OLD_EVENTS.unsigned_abs()).then_some(())
            },
        )
        .await;
        stop.store(true, Ordering::Relaxed);
        seen.into_inner().unwrap()
    };
    let (seen, (), ()) = tokio::join!(watch, machine, person);

    let steps: Vec<_> = seen.into_iter().filter(|n| *n > 0).collect();
    assert!(
        steps.len() >= 5,
        "the refresh tokens went in many batches, not at once: {steps:?}"
    );
    assert!(
        !served.failed.load(Ordering::Relaxed),
        "a token request failed"
    );
    assert!(
        served.ok.load(Ordering::Relaxed) >= 20,
        "tokens were served during the cleanup"
    );
    // What is due is gone; what is not is all there.
    assert_eq!(ENDED.left(db).await, 0);
    assert_eq!(RECENT.left(db).await, RECENT.count * RECENT.tokens);
    assert_eq!(LIVE.left(db).await, LIVE.count * LIVE.tokens);
    assert_eq!(audit_count(db, "test.old").await, 0);
    assert_eq!(audit_count(db, "test.recent").await, RECENT_EVENTS);
    eventually(
        Duration::from_secs(5),
        "the expired keys are deleted",
        || async { (deleted(&app, "signing_keys").await == 3).then_some(()) },
    )
    .await;
    let (expired, deletions): (i64, i64) = sqlx::query_as(
        "select (select count(*) from signing_keys where kid like 'expired-%'), \
         (select count(*) from audit_events where event = 'key.deleted' and target like 'expired-%')",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!((expired, deletions), (0, 3), "each deletion is audited");
    assert_eq!(app.get_json("/jwks.json").await, jwks_before);
    assert_eq!(runs(&app, "failed").await, 0);
    assert!(super::metric(&app, "portcullis_cleanup_last_run_seconds").await > 0.0);
}
