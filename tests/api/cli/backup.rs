//! Backup and restore as the README describes them: `pg_dump` of a server's database, restored
//! with `psql` into a new database; a new server on it, with the same key-encryption key and a
//! Redis namespace of its own (Redis is not backed up), serves the same JWKS, accepts the tokens
//! issued before and lets a person with TOTP sign in.

use std::process::Stdio;

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use super::kek::two_step_tokens;
use crate::helpers::{Settings, TestDb};
use crate::signin::token;
use crate::token_access::userinfo;

#[tokio::test]
async fn a_database_dump_restored_elsewhere_serves_the_same_keys_tokens_and_second_factors() {
    let settings = Settings::new().await;
    let kek = settings.kek.clone();
    let app = settings.spawn().await;
    let alice = app.user("alice", true).await;
    let client = app.client("App", false, true).await;
    let tokens = two_step_tokens(&app, &client, &alice).await;
    let jwks = app.get_json("/jwks.json").await;

    let dump = Command::new("pg_dump")
        .args(["--no-owner", "--dbname", &app.db.url()])
        .output()
        .await
        .expect("pg_dump (the PostgreSQL client) is installed");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    // The restored server takes the place of this one: the same address, so the same issuer.
    let port = app.port();
    app.stop().await;

    let restored = TestDb::new().await;
    restored.create().await;
    let mut psql = Command::new("psql")
        .args([
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
            &restored.url(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = psql.stdin.take().unwrap();
    input.write_all(&dump.stdout).await.unwrap();
    drop(input);
    let restore = psql.wait_with_output().await.unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );

    let copy = Settings::replica(&restored, &kek)
        .try_spawn_at(port)
        .await
        .unwrap();
    assert_eq!(copy.get_json("/jwks.json").await, jwks);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&copy, access).await.0, 200);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, body) = token(&copy, &client, &refreshed).await;
    assert_eq!(status, 200, "{body}");
    two_step_tokens(&copy, &client, &alice).await;
}
