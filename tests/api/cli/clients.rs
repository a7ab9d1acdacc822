//! `portcullis client ...`.

use super::{Cli, count};
use portcullis::crypto::sha256;

#[tokio::test]
async fn client_create_shows_the_secret_once_and_stores_only_its_hash() {
    let cli = Cli::new().await;
    let out = cli
        .run(
            &[
                "client",
                "create",
                "--name",
                "Billing",
                "--redirect-uri",
                "https://billing.example.com/cb",
                "--post-logout-redirect-uri",
                "https://billing.example.com/",
                "--scope",
                "openid",
                "--scope",
                "profile",
                "--json",
            ],
            None,
        )
        .await;
    let created = out.json();
    let client_id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    let pool = cli.pool().await;
    let stored: Vec<u8> =
        sqlx::query_scalar("select secret_hash from clients where client_id = $1")
            .bind(client_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, sha256(secret.as_bytes()).to_vec());

    let public = cli
        .run(
            &[
                "client",
                "create",
                "--name",
                "Mobile",
                "--public",
                "--redirect-uri",
                "http://127.0.0.1/callback",
                "--json",
            ],
            None,
        )
        .await
        .json();
    assert!(public.get("client_secret").is_none(), "{public}");

    let service = cli
        .run(
            &[
                "client",
                "create",
                "--name",
                "Worker",
                "--grant-type",
                "client_credentials",
                "--json",
            ],
            None,
        )
        .await
        .json();
    assert!(service["client_secret"].as_str().is_some());

    let list = cli.run(&["client", "list", "--json"], None).await.json();
    let billing = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Billing")
        .unwrap();
    assert_eq!(billing["client_type"], "confidential");
    assert_eq!(
        billing["redirect_uris"],
        serde_json::json!(["https://billing.example.com/cb"])
    );
    assert_eq!(billing["scopes"], serde_json::json!(["openid", "profile"]));
    assert_eq!(
        billing["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(billing["require_consent"], true);
    assert!(billing.get("secret_hash").is_none());
    let mobile = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Mobile")
        .unwrap();
    assert_eq!(mobile["client_type"], "public");

    let disabled = cli
        .run(&["client", "disable", client_id, "--json"], None)
        .await
        .json();
    assert_eq!(disabled["disabled"], client_id);
    let enabled: bool = sqlx::query_scalar("select enabled from clients where client_id = $1")
        .bind(client_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!enabled);
}

#[tokio::test]
async fn refused_client_commands_say_why_and_change_nothing() {
    let cli = Cli::new().await;
    cli.run(
        &[
            "client",
            "create",
            "--name",
            "Billing",
            "--redirect-uri",
            "https://b.example.com/cb",
        ],
        None,
    )
    .await
    .json_ok();
    let pool = cli.pool().await;
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "client",
                "create",
                "--name",
                "billing",
                "--redirect-uri",
                "https://b.example.com/cb",
            ],
            "already exists",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "A",
                "--redirect-uri",
                "/relative",
            ],
            "`/relative` is not an absolute URI",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "B",
                "--redirect-uri",
                "https://b.example.com/cb#x",
            ],
            "fragment",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "C",
                "--redirect-uri",
                "https://*.example.com/cb",
            ],
            "wildcard",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "D",
                "--redirect-uri",
                "http://d.example.com/cb",
            ],
            "only https is allowed",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "E",
                "--redirect-uri",
                "https://e.example.com/cb",
                "--post-logout-redirect-uri",
                "nope",
            ],
            "`nope`",
        ),
        (
            &["client", "create", "--name", "F"],
            "needs at least one redirect URI",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "G",
                "--public",
                "--grant-type",
                "client_credentials",
            ],
            "public client",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "H",
                "--grant-type",
                "password",
                "--redirect-uri",
                "https://h.example.com/cb",
            ],
            "not a grant type",
        ),
        (
            &["client", "disable", "no-such-client"],
            "no client with id",
        ),
    ];
    for (args, message) in cases {
        let out = cli.run(args, None).await;
        assert_eq!(out.status, 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    assert_eq!(count(&pool, "clients").await, 1);
}
