//! Health, readiness, metrics, headers and errors; and what keeps answering when a store is cut
//! off.

use std::time::Duration;

use crate::helpers::{Settings, TestApp, TestDb, eventually};
use crate::proxy::TcpProxy;

#[tokio::test]
async fn health_and_readiness_answer_when_both_stores_are_up() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["postgres"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    for path in [
        "/jwks.json",
        "/healthz",
        "/nowhere",
        "/.well-known/openid-configuration",
    ] {
        let response = app.get(path).await;
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(!h["x-request-id"].is_empty(), "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS on a plain-http issuer"
        );
    }
    let echoed = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_paths_get_a_page_for_browsers_and_json_for_programs() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/no/such/page"))
        .header("accept", "text/html,*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Page not found") && html.contains("/static/portcullis.css"),
        "{html}"
    );
    let api = app.get("/no/such/endpoint").await;
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let css = app.get("/static/portcullis.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/jwks.json").await;
    }
    app.get("/missing-1").await;
    app.get("/missing-2").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"portcullis_http_requests_total{route="/jwks.json",method="GET",status="200"} 3"#
        ),
        "{text}"
    );
    // Unknown paths share one label value instead of growing the label set.
    assert!(
        text.contains(
            r#"portcullis_http_requests_total{route="unmatched",method="GET",status="404"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains("portcullis_http_request_duration_seconds_bucket{"),
        "{text}"
    );
}

/// Which store a test cuts off.
#[derive(Clone, Copy)]
enum Store {
    Postgres,
    Redis,
}

/// Starts an app whose connection to `store` goes through a proxy, cuts it, and checks what keeps
/// answering and that readiness recovers on its own once the store is back.
async fn cut_off(store: Store) {
    let target = match store {
        Store::Postgres => "127.0.0.1:5432",
        Store::Redis => "127.0.0.1:6379",
    };
    let proxy = TcpProxy::start(target).await;
    let db = TestDb::new().await;
    let mut settings = Settings::on(db.clone());
    let (name, other) = match store {
        Store::Postgres => {
            settings.database_url = Some(format!(
                "postgres://postgres@127.0.0.1:{}/{}",
                proxy.port, db.name
            ));
            ("postgres", "redis")
        }
        Store::Redis => {
            settings.redis_url = format!("redis://127.0.0.1:{}", proxy.port);
            ("redis", "postgres")
        }
    };
    let app = settings.spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.cut();
    // Reported (within the second between background checks), but the replica stays in
    // rotation: the store is shared by every replica.
    let body = eventually(Duration::from_secs(3), "readiness reports it", || async {
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 200);
        let body: serde_json::Value = ready.json().await.unwrap();
        (body["status"] == "degraded").then_some(body)
    })
    .await;
    assert_eq!(body["checks"][name], "unavailable");
    assert_eq!(body["checks"][other], "ok");
    assert_eq!(app.get("/jwks.json").await.status(), 200);
    assert_eq!(
        app.get("/.well-known/openid-configuration").await.status(),
        200
    );

    proxy.restore();
    eventually(Duration::from_secs(10), "readiness recovers", || async {
        (app.get_json("/readyz").await["status"] == "ready").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_readiness_reports_it_and_discovery_and_jwks_keep_serving() {
    cut_off(Store::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_postgres_readiness_reports_it_and_discovery_and_jwks_keep_serving() {
    cut_off(Store::Postgres).await;
}

#[tokio::test]
async fn an_unreachable_store_at_start_is_retried_then_named_without_its_password() {
    let mut settings = Settings::new()
        .await
        .set("PORTCULLIS_STARTUP_TIMEOUT", "1s");
    settings.database_url = Some("postgres://postgres:hunter2@127.0.0.1:1/nowhere".into());
    let started = std::time::Instant::now();
    let error = format!(
        "{:#}",
        settings
            .try_spawn()
            .await
            .err()
            .expect("no database, no start")
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it retried"
    );
    assert!(
        error.contains("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/nowhere"),
        "{error}"
    );
    assert!(!error.contains("hunter2"));

    let mut settings = Settings::new()
        .await
        .set("PORTCULLIS_STARTUP_TIMEOUT", "1s");
    settings.redis_url = "redis://127.0.0.1:1".into();
    let error = format!(
        "{:#}",
        settings
            .try_spawn()
            .await
            .err()
            .expect("no Redis, no start")
    );
    assert!(
        error.contains("cannot reach Redis at redis://127.0.0.1:1"),
        "{error}"
    );
}

#[tokio::test]
async fn stopping_finishes_cleanly() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let address = app.url("/healthz");
    app.stop().await;
    assert!(reqwest::get(address).await.is_err(), "no longer listening");
}
