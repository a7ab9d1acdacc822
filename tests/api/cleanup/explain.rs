//! The queries that run on every request, and each batch of the cleanup, read big tables by
//! index: on tables filled and analyzed, no plan has a sequential scan of one. Each query is the
//! constant the server runs, with example arguments; adding one is one line.

use portcullis::admin::audit_log;
use portcullis::tokens::{purge, refresh};
use serde_json::Value;
use sqlx::Connection as _;

use super::old_audit_events;
use crate::helpers::Settings;

/// The tables that grow with use.
const BIG: [&str; 4] = ["refresh_tokens", "audit_events", "users", "consents"];

/// The relations a plan reads with a sequential scan.
fn seq_scans(plan: &Value, found: &mut Vec<String>) {
    if plan["Node Type"] == "Seq Scan" {
        found.push(plan["Relation Name"].as_str().unwrap_or("?").to_owned());
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        seq_scans(child, found);
    }
}

#[tokio::test]
async fn hot_queries_and_cleanup_batches_read_big_tables_by_index() {
    let app = Settings::new()
        .await
        .set("PORTCULLIS_CLEANUP_INTERVAL", "7d")
        .spawn()
        .await;
    let client = app.client("App", false, true).await;
    let db = &app.state.db;
    sqlx::raw_sql(
        "insert into users (id, username, password_hash) \
         select gen_random_uuid(), 'user-' || i, 'x' from generate_series(1, 20000) as i",
    )
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "insert into consents (user_id, client_id, scopes) select id, $1, '{openid}' from users",
    )
    .bind(&client.id)
    .execute(db)
    .await
    .unwrap();
    // Families of four across the users: the first three tokens used, some families ended.
    sqlx::query(
        "insert into refresh_tokens (id, token_hash, family_id, client_id, user_id, scope, \
         auth_time, expires_at, used_at, revoked_at) \
         select gen_random_uuid(), sha256(convert_to('t' || i, 'UTF8')), \
         ('00000000-0000-4000-8000-' || lpad(to_hex(i / 4), 12, '0'))::uuid, $1, u.id, 'openid', \
         now(), now() + interval '30 days', \
         case when i % 4 < 3 then now() - (i % 97) * interval '1 hour' end, \
         case when i % 40 = 3 then now() - interval '2 days' end \
         from generate_series(0, 99999) as i \
         join (select id, row_number() over (order by id) - 1 as n from users) u on u.n = (i / 4) % 20000",
    )
    .bind(&client.id)
    .execute(db)
    .await
    .unwrap();
    old_audit_events(db, 100_000, "1 day", "test.filled").await;
    sqlx::raw_sql("analyze").execute(db).await.unwrap();

    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'user-42'")
        .fetch_one(db)
        .await
        .unwrap();
    let user = format!("'{user}'");
    let family = "'00000000-0000-4000-8000-000000000007'";
    let epoch = "'epoch', '00000000-0000-0000-0000-000000000000'";
    // (what, the query the server runs, its arguments as SQL): one line each.
    #[rustfmt::skip]
    let queries: &[(&str, &str, String)] = &[
        ("refresh-token lookup by hash", refresh::FIND, "'\\x00'".into()),
        ("refresh rotation", refresh::USE, "'\\x00'".into()),
        ("family revocation", refresh::REVOKE_FAMILY, family.into()),
        ("a user's grants revoked", refresh::REVOKE_USER_GRANTS, format!("{user}, null")),
        ("consent lookup", portcullis::consent::COVERS, format!("{user}, '{}'", client.id)),
        ("user lookup by username", portcullis::users::store::CREDENTIALS, "'user-42'".into()),
        ("audit page", audit_log::PAGE, "'%%', '%', null, null, 0, 50".into()),
        ("audit page 10", audit_log::PAGE, "'%%', '%', null, null, 450, 50".into()),
        ("audit page by event", audit_log::PAGE, "'%%', 'login.%', null, null, 0, 50".into()),
        ("audit page by event group", audit_log::PAGE, "'%%', 'test.%', null, null, 0, 50".into()),
        ("audit page by actor and time", audit_log::PAGE, "'%user-42%', '%', now() - interval '1 day 2 minutes', now() - interval '1 day', 0, 50".into()),
        ("audit count", audit_log::COUNT, "'%%', '%', null, null".into()),
        ("audit count by event", audit_log::COUNT, "'%%', 'test.%', null, null".into()),
        ("audit event names", audit_log::EVENT_NAMES, String::new()),
        ("refresh-token cleanup batch", purge::PURGE_BATCH, format!("now() - interval '1 day', {epoch}")),
        ("audit retention batch", portcullis::audit::PURGE_BATCH, "now() - interval '400 days'".into()),
        ("expired keys batch", portcullis::keys::store::PURGE_BATCH, "now() - interval '1 day'".into()),
    ];

    let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
    let mut failures = vec![];
    for (what, sql, args) in queries {
        let arguments = if args.is_empty() {
            String::new()
        } else {
            format!("({args})")
        };
        let explain = format!(
            "prepare q as {sql}; \
             explain (format json) execute q{arguments}"
        );
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(explain))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        sqlx::raw_sql("deallocate q")
            .execute(&mut conn)
            .await
            .unwrap();
        let plan: Value = sqlx::Row::get(&rows[0], 0);
        let mut scanned = vec![];
        seq_scans(&plan[0]["Plan"], &mut scanned);
        scanned.retain(|table| BIG.contains(&table.as_str()));
        if !scanned.is_empty() {
            failures.push(format!(
                "{what} reads {scanned:?} from end to end:\n{plan:#}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
