//! `portcullis serve` as a process: demo seeding, signals, logs, the health probe.

use super::{Cli, count, start_demo};
use crate::helpers::Settings;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

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
        report.contains("demo / open-the-portcullis (created now)"),
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

#[tokio::test]
async fn serve_demo_without_its_stores_says_in_one_line_what_is_missing_and_how_to_start_it() {
    let closed = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (pg, redis) = (closed(), closed());
    let cli = Cli::new()
        .await
        .with(
            "PORTCULLIS_DATABASE_URL",
            &format!("postgres://postgres@127.0.0.1:{pg}/portcullis"),
        )
        .with(
            "PORTCULLIS_REDIS_URL",
            &format!("redis://127.0.0.1:{redis}"),
        );
    let started = std::time::Instant::now();
    let out = cli.run(&["serve", "--demo"], None).await;
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting for the stores"
    );
    let line = out.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for part in [
        format!("PostgreSQL is not running at 127.0.0.1:{pg}"),
        format!("Redis is not running at 127.0.0.1:{redis}"),
        "start them with `sudo systemctl start postgresql`".to_owned(),
        "PORTCULLIS_DATABASE_URL".to_owned(),
    ] {
        assert!(line.contains(&part), "`{part}` missing: {line}");
    }

    // With PostgreSQL up, only Redis is named.
    let cli = Cli::new().await.with(
        "PORTCULLIS_REDIS_URL",
        &format!("redis://127.0.0.1:{redis}"),
    );
    let out = cli.run(&["serve", "--demo"], None).await;
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: Redis is not running") && !out.stderr.contains("PostgreSQL"),
        "{}",
        out.stderr
    );
}
