//! An upgrade as an operator runs it (README, "Upgrades"): the previous release (its binary, built
//! by `tests/previous-release/build`) serves on the schema it made, with people, clients and
//! tokens it made; today's `migrate` runs while it serves; today's binary joins on the same
//! database; the old one leaves. Nothing a client does fails on the way, and tokens, keys and
//! clients carry over in both directions (so a rollback would work too).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::load::Counters;
use super::{Replica, Scratch, free_port, release_binary};
use crate::helpers::{Server, Settings, TestClient, TestDb, TestUser, query_param, random_kek};
use crate::machines::client_credentials;
use crate::signin::{authorize, browser, redeem, token};

/// The previous release's binary, built on first use (a no-op when `./test` built it).
fn previous_release() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("bash")
        .arg(root.join("tests/previous-release/build"))
        .status()
        .expect("run tests/previous-release/build");
    assert!(status.success(), "tests/previous-release/build failed");
    root.join("target/previous-release/portcullis")
}

/// Runs `binary` with `args` as the CLI on the replicas' database; its JSON output.
async fn cli(binary: &Path, env: &[(String, String)], args: &[&str], stdin: &str) -> Value {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(binary)
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the CLI");
    let mut input = child.stdin.take().expect("stdin");
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    let out = child.wait_with_output().await.expect("the CLI runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

async fn jwks(server: &impl Server) -> Value {
    let response = server.http().get(server.url("/jwks.json")).send().await;
    response.unwrap().json().await.unwrap()
}

fn pairs<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn test_client(created: &Value, redirect_uri: &str) -> TestClient {
    TestClient {
        id: created["client_id"].as_str().expect("client_id").to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.to_owned(),
    }
}

/// Traffic a service sends while the upgrade happens: tokens, introspection and the JWKS, on
/// every server in `servers`, until `stop`.
async fn traffic(
    servers: Vec<super::Endpoint>,
    service: TestClient,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        for server in &servers {
            let form = [("grant_type", "client_credentials")];
            let issued = counters
                .ok_json(|| {
                    server
                        .http()
                        .post(server.url("/token"))
                        .basic_auth(&service.id, service.secret.as_ref())
                        .form(&form)
                })
                .await;
            let Some(access) = issued.and_then(|t| t["access_token"].as_str().map(str::to_owned))
            else {
                continue;
            };
            let introspected = counters
                .ok_json(|| {
                    server
                        .http()
                        .post(server.url("/introspect"))
                        .basic_auth(&service.id, service.secret.as_ref())
                        .form(&[("token", access.as_str())])
                })
                .await;
            if introspected.is_some_and(|i| i["active"] != true) {
                counters.failed.fetch_add(1, Ordering::Relaxed);
            }
            counters
                .ok_json(|| server.http().get(server.url("/jwks.json")))
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_release_serves_through_todays_migrations_and_beside_todays_binary() {
    let old_binary = tokio::task::spawn_blocking(previous_release);
    let new_binary = tokio::task::spawn_blocking(release_binary);
    let (old_binary, new_binary) = (old_binary.await.unwrap(), new_binary.await.unwrap());
    let scratch = Scratch::new();
    let db = TestDb::new().await;
    let kek = random_kek();
    let settings = Settings::replica(&db, &kek).set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1");
    let (old_port, new_port) = (free_port(), free_port());
    let old_env = settings.env(old_port);

    // The previous release creates its schema, and its CLI creates a person and two clients.
    let mut old = Replica::start_binary("old", &old_binary, old_env.clone(), &scratch.0).await;
    let created = cli(
        &old_binary,
        &old_env,
        &[
            "user",
            "create",
            "--username",
            "alice",
            "--totp",
            "--password-stdin",
            "--json",
        ],
        "amber falcon upgrade",
    )
    .await;
    let alice = TestUser {
        id: created["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("id"),
        username: "alice".into(),
        password: "amber falcon upgrade".into(),
        totp: created["totp_secret"].as_str().map(str::to_owned),
    };
    let notes_uri = "https://notes.example.com/cb";
    let create = |args: &'static [&'static str], redirect: &'static str| {
        let (binary, env) = (old_binary.clone(), old_env.clone());
        async move {
            let mut command = vec!["client", "create", "--json"];
            command.extend_from_slice(args);
            test_client(&cli(&binary, &env, &command, "").await, redirect)
        }
    };
    let notes = create(
        &[
            "--name",
            "Notes",
            "--redirect-uri",
            "https://notes.example.com/cb",
        ],
        notes_uri,
    )
    .await;
    let service = create(
        &["--name", "Billing", "--grant-type", "client_credentials"],
        "",
    )
    .await;

    // Alice signs in to Notes on the old release: a refresh token in the old schema.
    let redirect = authorize(&old, &browser(), &notes, &alice, "openid offline_access").await;
    let code = query_param(&redirect, "code").expect("a code");
    let tokens: Value = redeem(&old, &notes, &code).await.json().await.unwrap();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let old_jwks = jwks(&old).await;

    // Traffic on the old release while today's migrations run.
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let endpoint =
        |replica: &Replica| super::Endpoint::new(replica.base().to_owned(), super::client());
    let first = tokio::spawn(traffic(
        vec![endpoint(&old)],
        service.clone(),
        counters.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let migrated = cli(&new_binary, &old_env, &["migrate", "--json"], "").await;
    assert_eq!(migrated["migrated"], true, "{migrated}");

    // Today's release joins on the same database; traffic goes to both.
    let mut new_env = settings.env(new_port);
    new_env.retain(|(k, _)| k != "PORTCULLIS_ISSUER");
    new_env.push(("PORTCULLIS_ISSUER".into(), old.base().to_owned()));
    let new = Replica::start_binary("new", &new_binary, new_env, &scratch.0).await;
    let second = tokio::spawn(traffic(
        vec![endpoint(&old), endpoint(&new)],
        service.clone(),
        counters.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // What the old release made, today's accepts; what today's makes, the old one accepts.
    let new_jwks = jwks(&new).await;
    assert_eq!(new_jwks, old_jwks, "the same keys are published");
    let refresh = |token: &str| {
        [("grant_type", "refresh_token"), ("refresh_token", token)].map(|(k, v)| (k, v.to_owned()))
    };
    let (status, rotated) = token(&new, &notes, &pairs(&refresh(&refresh_token))).await;
    assert_eq!(
        status, 200,
        "today's release refreshes the old release's token: {rotated}"
    );
    let next = rotated["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    let (status, again) = token(&old, &notes, &pairs(&refresh(&next))).await;
    assert_eq!(
        status, 200,
        "the old release refreshes today's token: {again}"
    );
    let (status, issued) = client_credentials(&new, &service, &[]).await;
    assert_eq!(status, 200, "{issued}");

    stop.store(true, Ordering::Relaxed);
    first.await.unwrap();
    second.await.unwrap();
    let report = counters.report("during the upgrade");
    eprintln!("{report}");
    assert!(counters.sent() > 50, "{report}");
    assert_eq!((counters.errors(), counters.failed()), (0, 0), "{report}");

    // The old release leaves cleanly; nothing went wrong in either log.
    old.signal(libc::SIGTERM);
    assert_eq!(old.exited(Duration::from_secs(20)).await, Some(0));
    for replica in [&old, &new] {
        let log = replica.log();
        assert!(!log.contains("ERROR"), "replica {}:\n{log}", replica.name);
    }
}
