//! The `portcullis` binary as an operator and a script use it: JSON output, exit statuses, clear
//! messages, and nothing changed by a refused command.

use std::process::Stdio;
use std::time::Duration;

use portcullis::crypto::{Kek, sha256};
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

use crate::helpers::{Settings, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        assert_eq!(self.status, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// The CLI against a fresh database.
struct Cli {
    env: Vec<(String, String)>,
    db: TestDb,
    kek: String,
}

impl Cli {
    async fn new() -> Cli {
        let settings = Settings::new().await;
        Cli {
            env: settings.env(8080),
            db: settings.db.clone(),
            kek: settings.kek.clone(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .args(args);
        command
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).await.unwrap();
        }
        drop(input);
        let output = child.wait_with_output().await.unwrap();
        Out {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn pool(&self) -> PgPool {
        self.db.pool().await
    }

    fn with(mut self, name: &str, value: &str) -> Cli {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

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
        Some("password one"),
    )
    .await
    .json_ok();
    let pool = cli.pool().await;
    let cases: &[(&[&str], Option<&str>, i32, &str)] = &[
        (
            &["user", "create", "--username", "ALICE", "--password-stdin"],
            Some("password two"),
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
            Some("password two"),
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
            Some("password two"),
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
            Some("password two"),
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
            Some("password two"),
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

impl Out {
    fn json_ok(&self) {
        assert_eq!(self.status, 0, "stderr: {}", self.stderr);
    }
}

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

/// Starts `serve --demo` on a free port and reads its output until the demo report is printed.
async fn start_demo(cli: &Cli, port: u16) -> (tokio::process::Child, String) {
    let mut child = cli
        .command(&["serve", "--demo"])
        .env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_ISSUER", format!("http://127.0.0.1:{port}"))
        .env_remove("PORTCULLIS_KEY_ENCRYPTION_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut report = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            report.push_str(&line);
            report.push('\n');
            if line.trim_start().starts_with("curl -s") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the demo starts");
    (child, report)
}

#[tokio::test]
async fn serve_demo_seeds_once_answers_discovery_and_stops_on_sigterm() {
    let cli = Cli::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut child, report) = start_demo(&cli, port).await;
    assert!(
        report.contains("demo / portcullis-demo (created now)"),
        "{report}"
    );
    assert!(
        report.contains("client_secret") && report.contains("shown only now"),
        "{report}"
    );
    let discovery: Value = reqwest::get(format!(
        "http://127.0.0.1:{port}/.well-known/openid-configuration"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(discovery["issuer"], format!("http://127.0.0.1:{port}"));
    let jwks: Value = reqwest::get(format!("http://127.0.0.1:{port}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);

    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("stops")
        .unwrap();
    assert!(status.success(), "{status}");

    // A second start finds the demo data and creates nothing.
    let (mut child, report) = start_demo(&cli, port).await;
    assert!(!report.contains("created now"), "{report}");
    assert!(
        report.contains("shown when it was first seeded"),
        "{report}"
    );
    let pool = cli.pool().await;
    assert_eq!(count(&pool, "users").await, 1);
    assert_eq!(count(&pool, "clients").await, 2);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn serve_logs_json_lines_without_secrets_and_healthcheck_probes_it() {
    let settings = Settings::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Trust authentication ignores the password, so the URL can carry one to look for in the logs.
    let url = format!(
        "postgres://postgres:hunter2@127.0.0.1:5432/{}",
        settings.db.name
    );
    let cli = Cli {
        env: settings.env(port),
        db: settings.db.clone(),
        kek: settings.kek.clone(),
    }
    .with("PORTCULLIS_DATABASE_URL", &url)
    .with("PORTCULLIS_LOG_FORMAT", "json");
    let child = cli
        .command(&["serve"])
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    crate::helpers::eventually(Duration::from_secs(30), "the server answers", || async {
        reqwest::get(format!("{base}/healthz"))
            .await
            .ok()
            .filter(|r| r.status() == 200)
            .map(|_| ())
    })
    .await;
    reqwest::get(format!("{base}/jwks.json?code=SECRETCODE123"))
        .await
        .unwrap();
    let probe = cli.run(&["healthcheck", "--json"], None).await.json();
    assert_eq!(probe["ready"], true);

    let pid = child.id().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success());
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.lines().count() > 5, "{logs}");
    for line in logs.lines() {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(entry.get("level").is_some(), "{line}");
    }
    assert!(
        logs.contains("\"request_id\"") && logs.contains("/jwks.json"),
        "{logs}"
    );
    for secret in ["hunter2", "SECRETCODE123", cli.kek.as_str()] {
        assert!(!logs.contains(secret), "`{secret}` is in the logs");
    }

    // Once it is gone, the probe fails.
    let down = cli.run(&["healthcheck"], None).await;
    assert_eq!(down.status, 1);
    assert!(down.stderr.contains("cannot reach"), "{}", down.stderr);
}
