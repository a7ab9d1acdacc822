//! `portcullis user ...`.

use super::{Cli, count};
use portcullis::crypto::Kek;
use serde_json::Value;

#[tokio::test]
async fn user_create_prints_json_and_the_user_is_listed() {
    let cli = Cli::new().await;
    let password = "correct horse battery";
    let out = cli
        .run(
            &[
                "user",
                "create",
                "--username",
                "alice",
                "--email",
                "alice@example.com",
                "--name",
                "Alice A",
                "--admin",
                "--password-stdin",
                "--json",
            ],
            Some(&format!("{password}\n")),
        )
        .await;
    let created = out.json();
    assert_eq!(created["username"], "alice");
    assert!(created["id"].as_str().is_some());
    assert!(created.get("totp_secret").is_none());
    assert!(!out.stdout.contains(password) && !out.stderr.contains(password));

    let list = cli.run(&["user", "list", "--json"], None).await.json();
    let alice = &list.as_array().unwrap()[0];
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["is_admin"], true);
    assert_eq!(alice["totp_enrolled"], false);
    assert!(alice.get("password_hash").is_none());

    let pool = cli.pool().await;
    let hash: String = sqlx::query_scalar("select password_hash from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where event = 'user.created' and actor = 'cli'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let text = cli.run(&["user", "list"], None).await;
    assert!(
        text.stdout.starts_with("USERNAME") && text.stdout.contains("alice"),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn user_create_with_totp_prints_the_secret_once_and_seals_it() {
    let cli = Cli::new().await;
    let out = cli
        .run(
            &[
                "user",
                "create",
                "--username",
                "bob",
                "--totp",
                "--password-stdin",
                "--json",
            ],
            Some("a long password"),
        )
        .await;
    let created = out.json();
    let secret = created["totp_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let url = created["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/Portcullis:bob?") && url.contains(secret),
        "{url}"
    );

    let pool = cli.pool().await;
    let sealed: String =
        sqlx::query_scalar("select totp_secret_sealed from users where username = 'bob'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!sealed.contains(secret));
    // The code an authenticator app computes from the printed secret is accepted.
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let code = totp.generate_current().to_string();
    let kek_bytes: [u8; 32] =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &cli.kek)
            .unwrap()
            .try_into()
            .unwrap();
    assert!(
        portcullis::mfa::totp::check(&sealed, &code, &Kek::new(kek_bytes))
            .unwrap()
            .is_some()
    );
    let listed = cli.run(&["user", "list", "--json"], None).await.json();
    assert_eq!(listed[0]["totp_enrolled"], true);
}

#[tokio::test]
async fn refused_user_commands_say_why_and_change_nothing() {
    let cli = Cli::new().await;
    cli.run(
        &[
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "a@example.com",
            "--password-stdin",
        ],
        Some("amber falcon one"),
    )
    .await
    .json_ok();
    let pool = cli.pool().await;
    let cases: &[(&[&str], Option<&str>, i32, &str)] = &[
        (
            &["user", "create", "--username", "ALICE", "--password-stdin"],
            Some("amber falcon two"),
            1,
            "already exists",
        ),
        (
            &[
                "user",
                "create",
                "--username",
                "carol",
                "--email",
                "A@example.com",
                "--password-stdin",
            ],
            Some("amber falcon two"),
            1,
            "email",
        ),
        (
            &[
                "user",
                "create",
                "--username",
                "has space",
                "--password-stdin",
            ],
            Some("amber falcon two"),
            1,
            "not a valid username",
        ),
        (
            &[
                "user",
                "create",
                "--username",
                "dave",
                "--email",
                "nope",
                "--password-stdin",
            ],
            Some("amber falcon two"),
            1,
            "not a valid email",
        ),
        (
            &["user", "create", "--username", "erin", "--password-stdin"],
            Some("short"),
            1,
            "at least 8",
        ),
        (
            &["user", "create", "--username", "frank", "--password-stdin"],
            None,
            1,
            "no password on standard input",
        ),
        (
            &["user", "create", "--username", "gina"],
            Some("amber falcon two"),
            2,
            "--password-stdin",
        ),
        (
            &["user", "disable", "nobody"],
            None,
            1,
            "no user named `nobody`",
        ),
    ];
    for (args, stdin, status, message) in cases {
        let out = cli.run(args, *stdin).await;
        assert_eq!(out.status, *status, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"));
    }
    assert_eq!(count(&pool, "users").await, 1);
    // With --json, the error is JSON too.
    let out = cli
        .run(&["user", "disable", "nobody", "--json"], None)
        .await;
    let error: Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert!(error["error"].as_str().unwrap().contains("nobody"));

    let disabled = cli
        .run(&["user", "disable", "alice", "--json"], None)
        .await
        .json();
    assert_eq!(disabled["disabled"], "alice");
    let listed = cli.run(&["user", "list", "--json"], None).await.json();
    assert_eq!(listed[0]["disabled"], true);
}
