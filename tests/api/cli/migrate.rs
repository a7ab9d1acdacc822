//! `portcullis migrate`: the dry run lists and changes nothing; a migration never waits long for
//! a lock (so it cannot stall traffic behind it) and is tried again until it gets it; a newer
//! release's migrations do not stop this one.

use std::time::{Duration, Instant};

use portcullis::migrations::MIGRATOR;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::Cli;

/// Creates the CLI's database with the migrations up to `version` applied.
async fn database_at(cli: &Cli, version: i64) -> PgPool {
    cli.db.create().await;
    let pool = cli.pool().await;
    MIGRATOR.run_to(version, &pool).await.unwrap();
    pool
}

/// The database has every migration this binary knows.
async fn assert_fully_migrated(pool: &PgPool) {
    let last = MIGRATOR.iter().map(|m| m.version).max().unwrap();
    let applied: i64 = sqlx::query_scalar("select max(version) from _sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(applied, last);
}

fn versions(list: &serde_json::Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|step| step["version"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_dry_run_lists_the_pending_migrations_and_changes_nothing() {
    let all: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let cli = Cli::new().await;

    // No database yet: everything would run, and the dry run does not create it.
    let out = cli
        .run(&["migrate", "--dry-run", "--json"], None)
        .await
        .json();
    assert_eq!(versions(&out["plan"]["pending"]), all);
    let admin = PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&cli.db.name)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(!exists, "a dry run created the database");

    // Part-way: the rest, in order, for people too; then nothing was applied.
    let pool = database_at(&cli, 2).await;
    let out = cli.run(&["migrate", "--dry-run"], None).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("{} migration(s) would be applied", all.len() - 2)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("0003 client audiences"),
        "{}",
        out.stdout
    );
    let applied: Vec<i64> = sqlx::query_scalar("select version from _sqlx_migrations order by 1")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(applied, vec![1, 2]);

    // Applying them reports what it applied; then the dry run has nothing left.
    let out = cli.run(&["migrate", "--json"], None).await.json();
    assert_eq!(versions(&out["applied"]), all[2..].to_vec());
    let out = cli.run(&["migrate", "--dry-run"], None).await;
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
}

#[tokio::test]
async fn a_newer_releases_migrations_do_not_stop_this_one() {
    let cli = Cli::new().await;
    cli.run(&["migrate"], None).await.json_ok();
    let pool = cli.pool().await;
    // A migration this binary does not know, as a newer release would leave it.
    sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
         values (999999, 'from a newer release', true, '\\x00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let out = cli.run(&["migrate", "--dry-run"], None).await;
    assert!(
        out.stdout.contains("nothing would be applied") && out.stdout.contains("999999"),
        "{}",
        out.stdout
    );
    // Commands that connect (and migrate) still work.
    cli.run(&["migrate", "--json"], None).await.json_ok();
    cli.run(&["user", "list", "--json"], None).await.json_ok();
}

#[tokio::test]
async fn a_migration_waits_for_a_lock_only_briefly_and_tries_again() {
    let cli = Cli::new().await.with("PORTCULLIS_STARTUP_TIMEOUT", "60s");
    let pool = database_at(&cli, 2).await;
    // A long transaction that has read `clients`: migration 3 alters that table, so it must wait.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("lock table clients in access share mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let started = Instant::now();
    let migrate = tokio::spawn({
        let command = cli
            .command(&["migrate", "--json"])
            .env("RUST_LOG", "warn")
            .output();
        async move { command.await.unwrap() }
    });

    // Meanwhile traffic on the table: a migration waiting for its lock queues every later
    // reader behind it, so no read may wait much longer than the migration's lock timeout.
    let reader = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cli.db.url())
        .await
        .unwrap();
    let mut longest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(8) {
        let read = Instant::now();
        sqlx::query("select count(*) from clients")
            .execute(&reader)
            .await
            .unwrap();
        longest = longest.max(read.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        longest < portcullis::migrations::LOCK_TIMEOUT + Duration::from_secs(2),
        "a reader waited {longest:?} behind the migration"
    );
    assert!(
        !migrate.is_finished(),
        "the migration ran while the table was in use"
    );

    blocker.commit().await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(30), migrate)
        .await
        .expect("the migration finishes once the lock is free")
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("trying again"), "{stderr}");
    assert_fully_migrated(&pool).await;
}

#[tokio::test]
async fn an_index_a_concurrent_build_left_invalid_is_built_again() {
    let cli = Cli::new().await;
    cli.run(&["migrate"], None).await.json_ok();
    let pool = cli.pool().await;
    let valid = |pool: PgPool| async move {
        sqlx::query_scalar::<_, bool>(
            "select indisvalid from pg_index where indexrelid = 'refresh_tokens_ended'::regclass",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    // What an interrupted `create index concurrently` leaves behind.
    sqlx::query(
        "update pg_index set indisvalid = false \
         where indexrelid = 'refresh_tokens_ended'::regclass",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(!valid(pool.clone()).await);

    let out = cli.run(&["migrate", "--json"], None).await;
    out.json_ok();
    assert!(
        out.stderr.contains("rebuilding an index") && out.stderr.contains("refresh_tokens_ended"),
        "{}",
        out.stderr
    );
    assert!(valid(pool.clone()).await, "the index is valid again");
}

#[tokio::test]
async fn replicas_migrating_one_database_at_once_all_succeed_and_share_sqlxs_lock() {
    // Four at once on a database that does not exist yet: one creates and migrates it while the
    // others wait for the lock without holding a snapshot (a `create index concurrently` would
    // otherwise deadlock with them), then find nothing left to do.
    let cli = Cli::new().await.with("PORTCULLIS_STARTUP_TIMEOUT", "60s");
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..4 {
        runs.spawn(cli.command(&["migrate", "--json"]).output());
    }
    while let Some(output) = runs.join_next().await {
        let output = output.unwrap().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let pool = cli.pool().await;
    assert_fully_migrated(&pool).await;

    // The lock is sqlx's own: while a release in which sqlx takes it migrates, this one waits.
    use sqlx::migrate::Migrate as _;
    let mut holder = pool.acquire().await.unwrap().detach();
    holder.lock().await.unwrap();
    let out = cli
        .command(&["migrate"])
        .env("PORTCULLIS_STARTUP_TIMEOUT", "1s")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another replica held the migration lock"),
        "{stderr}"
    );
    holder.unlock().await.unwrap();
    cli.run(&["migrate"], None).await.json_ok();
}
