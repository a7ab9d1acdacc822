//! What the cleanup keeps, and how replicas share it.

use std::time::Duration;

use sqlx::Connection as _;

use super::{Families, audit_count, deleted, every_second, old_audit_events, runs};
use crate::admin::admin_browser;
use crate::helpers::{Settings, TestApp, TestClient, TestDb, eventually, random_kek};
use crate::signin::{token, tokens_for};

/// Presents a refresh token.
async fn refresh(app: &TestApp, client: &TestClient, presented: &str) -> (u16, serde_json::Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", presented),
    ];
    token(app, client, &form).await
}

/// Waits until `app` has finished `more` cleanup runs after now.
async fn runs_done(app: &TestApp, more: u64) {
    let before = runs(app, "done").await;
    eventually(Duration::from_secs(15), "cleanup runs", || async {
        (runs(app, "done").await >= before + more).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_family_with_a_live_token_keeps_its_used_tokens_and_replay_still_revokes_it() {
    let app = every_second(Settings::new().await, "1s").spawn().await;
    let (client, tokens) = tokens_for(&app, "ruth", "openid offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, rotated) = refresh(&app, &client, first).await;
    assert_eq!(status, 200);
    let second = rotated["refresh_token"].as_str().unwrap();
    // The first token was used long ago; the second is live.
    let db = &app.state.db;
    sqlx::query(
        "update refresh_tokens set used_at = now() - interval '2 days' where used_at is not null",
    )
    .execute(db)
    .await
    .unwrap();
    runs_done(&app, 2).await;
    let rows = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from refresh_tokens")
            .fetch_one(db)
            .await
            .unwrap()
    };
    assert_eq!(
        rows().await,
        2,
        "the used token stays while its family lives"
    );

    let (status, body) = refresh(&app, &client, first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&app, &client, second).await;
    assert_eq!(status, 400, "the replay revoked the whole family");

    // Now the family has ended: once the grace has passed, it goes, all of it.
    eventually(
        Duration::from_secs(15),
        "the ended family is deleted",
        || async { (rows().await == 0).then_some(()) },
    )
    .await;
    assert_eq!(deleted(&app, "refresh_tokens").await, 2);
}

#[tokio::test]
async fn with_audit_retention_0_the_audit_log_is_kept_forever() {
    let app = every_second(Settings::new().await, "1d")
        .set("PORTCULLIS_AUDIT_RETENTION", "0")
        .spawn()
        .await;
    let db = &app.state.db;
    old_audit_events(db, 2_000, "3000 days", "test.ancient").await;
    runs_done(&app, 2).await;
    assert_eq!(audit_count(db, "test.ancient").await, 2_000);
    assert_eq!(deleted(&app, "audit_events").await, 0);
    assert_eq!(runs(&app, "failed").await, 0);
}

#[tokio::test]
async fn replicas_on_one_database_take_turns_and_delete_each_row_once() {
    let db = TestDb::new().await;
    let kek = random_kek();
    let replica = || every_second(Settings::replica(&db, &kek), "1s").spawn();
    let one = replica().await;
    let two = replica().await;
    let user = one.user("olga", false).await;
    let client = one.client("App", false, true).await;
    let ended = Families {
        prefix: "00000000-0000-4000-8003",
        count: 3_000,
        tokens: 2,
        used: "1 day",
        last_live: false,
    };

    // While something else holds the cleanup's lock, neither replica deletes anything.
    let mut holder = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    sqlx::query("select pg_advisory_lock($1)")
        .bind(portcullis::cleanup::LOCK_ID)
        .execute(&mut holder)
        .await
        .unwrap();
    ended.insert(&one.state.db, user.id, &client.id).await;
    old_audit_events(&one.state.db, 5_000, "500 days", "test.old").await;
    for app in [&one, &two] {
        let before = runs(app, "skipped").await;
        eventually(Duration::from_secs(15), "runs skipped", || async {
            (runs(app, "skipped").await >= before + 2).then_some(())
        })
        .await;
    }
    assert_eq!(ended.left(&one.state.db).await, 6_000);
    assert_eq!(
        deleted(&one, "refresh_tokens").await + deleted(&two, "refresh_tokens").await,
        0
    );

    sqlx::query("select pg_advisory_unlock($1)")
        .bind(portcullis::cleanup::LOCK_ID)
        .execute(&mut holder)
        .await
        .unwrap();
    let total = |table: &'static str| {
        let (one, two) = (&one, &two);
        async move { deleted(one, table).await + deleted(two, table).await }
    };
    eventually(
        Duration::from_secs(20),
        "everything due is deleted",
        || async {
            (total("refresh_tokens").await == 6_000 && total("audit_events").await == 5_000)
                .then_some(())
        },
    )
    .await;
    assert_eq!(ended.left(&one.state.db).await, 0);
    assert_eq!(audit_count(&one.state.db, "test.old").await, 0);
    // Later runs find nothing more to count: each row was deleted, and counted, once.
    runs_done(&one, 1).await;
    runs_done(&two, 1).await;
    assert_eq!(total("refresh_tokens").await, 6_000);
    assert_eq!(total("audit_events").await, 5_000);
    for app in [&one, &two] {
        assert_eq!(runs(app, "failed").await, 0);
    }
}

#[tokio::test]
async fn the_consents_of_a_deleted_client_go_with_it() {
    let app = TestApp::spawn().await;
    let user = app.user("vera", false).await;
    let client = app.client("Gone", false, false).await;
    let db = &app.state.db;
    let openid = [portcullis::oauth::scope::Scope::OPENID];
    portcullis::consent::grant(db, user.id, &client.id, &openid)
        .await
        .unwrap();
    let consents = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from consents")
            .fetch_one(db)
            .await
            .unwrap()
    };
    assert_eq!(consents().await, 1);
    let by = portcullis::audit::By::new(portcullis::audit::Actor::Cli, None);
    portcullis::clients::store::delete(db, &client.id, &by)
        .await
        .unwrap();
    assert_eq!(consents().await, 0, "nothing is left for the cleanup");
}

#[tokio::test]
async fn the_dashboard_shows_the_sizes_of_the_tables() {
    let app = Settings::new().await.spawn().await;
    let (browser, _) = admin_browser(&app).await;
    old_audit_events(&app.state.db, 20_000, "1 day", "test.filled").await;
    sqlx::raw_sql("analyze audit_events")
        .execute(&app.state.db)
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("select count(*) from audit_events")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let page = browser.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let table = &html[html.find("id=\"table-sizes\"").expect("a table of sizes")..];
    for name in portcullis::admin::dashboard::MAIN_TABLES {
        assert!(table.contains(&format!("<code>{name}</code>")), "{name}");
    }
    let row = &table[table.find("<code>audit_events</code>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(&format!("<td>{events}</td>")), "{row}");
    assert!(
        row.contains(" MB</td>") || row.contains(" kB</td>"),
        "{row}"
    );
}
