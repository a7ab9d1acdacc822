//! What a replica costs its stores while nobody uses it: the health checks, the key ring's tick
//! and reload, and the dashboard's tally are all it should send. A release binary on a database
//! and a Redis of its own, so every transaction and command counted is its own.

use std::time::Duration;

use super::stores::PrivateRedis;
use super::{Replica, Scratch, free_port};
use crate::helpers::{Settings, TestDb, random_kek};

/// The window over which the rates are measured. PostgreSQL reports an idle connection's
/// transactions up to 10 s late, so the window is long against that.
const WINDOW: Duration = Duration::from_secs(30);

/// Transactions committed or rolled back in `db` so far (every query outside a transaction
/// is one), as PostgreSQL's statistics report them.
async fn transactions(db: &TestDb) -> i64 {
    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar(
        "select (xact_commit + xact_rollback)::bigint from pg_stat_database where datname = $1",
    )
    .bind(&db.name)
    .fetch_one(&admin)
    .await
    .unwrap();
    admin.close().await;
    count
}

/// Commands the Redis server has processed so far (this `INFO` included).
async fn commands(redis: &PrivateRedis) -> i64 {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_commands_processed:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("total_commands_processed")
}

#[tokio::test]
async fn an_idle_replica_sends_a_few_queries_a_second_to_its_stores() {
    let scratch = Scratch::new();
    let redis = PrivateRedis::start(&scratch.0).await;
    let db = TestDb::new().await;
    let mut settings = Settings::replica(&db, &random_kek());
    settings.redis_url = redis.url();
    let _replica = Replica::start("idle", settings.env(free_port()), &scratch.0).await;
    // Past start-up (migrations, the first keys) and PostgreSQL's reporting delay.
    tokio::time::sleep(Duration::from_secs(12)).await;

    let (pg_before, redis_before) = (transactions(&db).await, commands(&redis).await);
    tokio::time::sleep(WINDOW).await;
    let (pg_after, redis_after) = (transactions(&db).await, commands(&redis).await);

    let seconds = WINDOW.as_secs_f64();
    let pg = (pg_after - pg_before) as f64 / seconds;
    // One INFO of ours is in the count.
    let redis = (redis_after - redis_before - 1) as f64 / seconds;
    eprintln!("an idle replica: {pg:.2} PostgreSQL transactions/s, {redis:.2} Redis commands/s");
    // A health check a second to each store, the key ring's look every 5 s: about 1.5 and 1.
    // Measured 2.4 to 3.5 PostgreSQL transactions a second on a busy machine (the statistics
    // collector's own timing moves a second's worth in or out of the window); a regression (a
    // query per second more) shows above 4.
    assert!(
        pg < 4.0,
        "{pg:.2} PostgreSQL transactions a second while idle"
    );
    assert!(redis < 2.5, "{redis:.2} Redis commands a second while idle");
}
