//! Managed stores speak TLS: PostgreSQL with `sslmode`, Redis with `rediss://`, each checked
//! against a CA (a private one through `SSL_CERT_FILE`), and refused when the certificate does
//! not verify. The local PostgreSQL has TLS on (Debian's snakeoil certificate); Redis gets a CA
//! and a certificate made here with the `openssl` command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Replica, Scratch, free_port, release_binary, spawn_logged};
use crate::helpers::{Settings, TestDb, eventually, location, random_kek};
use crate::signin::{browser, password_step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_sslmode() {
    let db = TestDb::new().await;
    // `require`: encrypted, as a managed database demands.
    let mut settings = Settings::on(db.clone());
    settings.database_url = Some(format!("{}?sslmode=require", db.url()));
    let app = settings.spawn().await;
    let encrypted: bool =
        sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(encrypted, "the app's own connection is TLS");

    // `verify-full` against a CA that did not sign the server's certificate: refused, by name.
    let scratch = Scratch::new();
    let (ca, _) = certificates(&scratch.0).await;
    let mut settings = Settings::on(db.clone()).set("PORTCULLIS_STARTUP_TIMEOUT", "0s");
    settings.database_url = Some(format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        db.url(),
        ca.display()
    ));
    let error = format!("{:#}", settings.try_spawn().await.err().expect("refused"));
    assert!(error.contains("PostgreSQL"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_with_a_private_ca() {
    let scratch = Scratch::new();
    let (ca, (cert, key)) = certificates(&scratch.0).await;
    let port = free_port();
    let mut command = tokio::process::Command::new("redis-server");
    command
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--tls-port",
        ])
        .arg(port.to_string())
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(&ca)
        .args(["--tls-auth-clients", "no"]);
    let _redis = spawn_logged(command, &scratch.0.join("redis.log"));
    let db = TestDb::new().await;
    let kek = random_kek();
    let control = Settings::replica(&db, &kek).spawn().await;
    let user = control.user("dora", false).await;

    // A replica trusting the private CA through SSL_CERT_FILE: sessions live in Redis over TLS.
    let url = format!("rediss://127.0.0.1:{port}");
    let listen = free_port();
    let mut env = Settings::replica(&db, &kek).env(listen);
    env.push(("PORTCULLIS_REDIS_URL".into(), url.clone()));
    env.push(("SSL_CERT_FILE".into(), ca.display().to_string()));
    let replica = Replica::start("tls", env, &scratch.0).await;
    eventually(Duration::from_secs(5), "Redis over TLS answers", || async {
        let ready = replica.readiness().await?;
        (ready["checks"]["redis"] == "ok").then_some(())
    })
    .await;
    let browser = browser();
    let response = password_step(&replica, &browser, &user).await;
    assert_eq!(location(&response), "/account");

    // Without the CA the certificate does not verify: the replica does not start, and says why.
    let mut env = Settings::replica(&db, &kek).env(free_port());
    env.push(("PORTCULLIS_REDIS_URL".into(), url));
    env.push(("PORTCULLIS_STARTUP_TIMEOUT".into(), "0s".into()));
    let output = tokio::process::Command::new(release_binary())
        .arg("serve")
        .env_clear()
        .envs(env)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("Redis at rediss://127.0.0.1"), "{said}");
}

/// A CA, and a certificate it signed for 127.0.0.1 and localhost: (ca.crt, (cert, key)).
async fn certificates(dir: &Path) -> (PathBuf, (PathBuf, PathBuf)) {
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    let new_p256_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!(
            "req -x509 -days 1 -subj /CN=test-ca {new_p256_key} -keyout {} -out {}",
            path("ca.key"),
            path("ca.crt")
        ),
        format!(
            "req -subj /CN=localhost {new_p256_key} -keyout {} -out {}",
            path("store.key"),
            path("store.csr")
        ),
        format!(
            "x509 -req -days 1 -in {} -CA {} -CAkey {} -CAcreateserial -out {} -extfile {}",
            path("store.csr"),
            path("ca.crt"),
            path("ca.key"),
            path("store.crt"),
            path("san.ext")
        ),
    ];
    for step in steps {
        // The scratch directory's path has no spaces.
        let output = tokio::process::Command::new("openssl")
            .args(step.split(' '))
            .output()
            .await
            .expect("openssl");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "openssl {step}: {said}");
    }
    (
        dir.join("ca.crt"),
        (dir.join("store.crt"), dir.join("store.key")),
    )
}
