//! `portcullis keys ...`, `migrate`, and what every command does with bad configuration or an
//! unreachable database.

use super::{Cli, count};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn keys_list_rotate_and_revoke() {
    let cli = Cli::new().await;
    let keys = cli.run(&["keys", "list", "--json"], None).await.json();
    let keys = keys.as_array().unwrap().clone();
    assert_eq!(keys.len(), 4);
    let active_es = keys
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "active")
        .unwrap();
    let next_es = keys
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "next")
        .unwrap();

    // Rotating now moves the next key's activation to one pre-publish period (1d) after its creation.
    let rotated = cli
        .run(&["keys", "rotate", "--alg", "ES256", "--json"], None)
        .await
        .json();
    let next_after = rotated
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == next_es["kid"])
        .unwrap();
    assert_ne!(next_after["activate_at"], next_es["activate_at"]);
    let activate = time::OffsetDateTime::parse(
        next_after["activate_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_a_day = time::OffsetDateTime::now_utc() + Duration::from_secs(86_400);
    assert!(
        (activate - in_a_day).abs() < time::Duration::seconds(60),
        "{activate}"
    );

    // Revoking the active key makes the next one active at once.
    let kid = active_es["kid"].as_str().unwrap();
    let after = cli
        .run(&["keys", "revoke", kid, "--json"], None)
        .await
        .json();
    let state = |kid: &Value| {
        after
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == *kid)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(&active_es["kid"]), "revoked");
    assert_eq!(state(&next_es["kid"]), "active");

    let again = cli.run(&["keys", "revoke", kid], None).await;
    assert_eq!(again.status, 1);
    assert!(again.stderr.contains("no live key"), "{}", again.stderr);
    let bad_alg = cli.run(&["keys", "rotate", "--alg", "HS256"], None).await;
    assert_eq!(bad_alg.status, 1);
    assert!(bad_alg.stderr.contains("RS256 or ES256"));
}

#[tokio::test]
async fn bad_configuration_exits_with_status_2_and_names_the_setting() {
    let cli = Cli::new()
        .await
        .with("PORTCULLIS_KEY_ROTATION_PERIOD", "forever");
    let out = cli.run(&["user", "list"], None).await;
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("PORTCULLIS_KEY_ROTATION_PERIOD") && out.stderr.contains("like 90s"),
        "{}",
        out.stderr
    );

    let mut cli = Cli::new().await;
    cli.env
        .retain(|(k, _)| k != "PORTCULLIS_KEY_ENCRYPTION_KEY");
    let out = cli.run(&["migrate"], None).await;
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("PORTCULLIS_KEY_ENCRYPTION_KEY"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&cli.kek));
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let cli = Cli::new()
        .await
        .with(
            "PORTCULLIS_DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/nowhere",
        )
        .with("PORTCULLIS_STARTUP_TIMEOUT", "1s");
    let out = cli.run(&["user", "list"], None).await;
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/nowhere"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2"));
}

#[tokio::test]
async fn migrate_creates_the_database_and_its_tables() {
    let cli = Cli::new().await;
    let out = cli.run(&["migrate", "--json"], None).await.json();
    assert_eq!(out["migrated"], true);
    let pool = cli.pool().await;
    for table in [
        "users",
        "clients",
        "signing_keys",
        "refresh_tokens",
        "consents",
        "audit_events",
    ] {
        assert_eq!(count(&pool, table).await, 0, "{table}");
    }
    // Again: nothing to do, still fine.
    assert_eq!(
        cli.run(&["migrate", "--json"], None).await.json()["migrated"],
        true
    );
}
