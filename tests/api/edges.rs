//! What the edge keeps out: made-up client ids do not grow the client cache, an over-long
//! username leaves no trace, made-up HTTP methods add no metrics series, `/metrics` can leave the
//! public port, a dual-stack listener still knows its proxy, and device codes and sessions cannot
//! be had in bulk.

use std::collections::HashMap;

use portcullis::{App, Config};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::{Settings, TestApp, csrf};
use crate::oversized::redis_keys;
use crate::signin::browser;

/// A sample of the metrics text, by series name (with labels).
fn series(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Runs `count` requests at once, each built by `request(i)`; returns their statuses and bodies.
async fn all_at_once(
    count: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Vec<(StatusCode, Option<String>, String)> {
    let mut set = JoinSet::new();
    for i in 0..count {
        let request = request(i);
        set.spawn(async move {
            let response = request.send().await.unwrap();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status(), retry, response.text().await.unwrap())
        });
    }
    set.join_all().await
}

#[tokio::test]
async fn made_up_client_ids_are_not_cached() {
    let app = TestApp::spawn().await;
    let service = app.service("Reports", &["reports"], &[]).await;
    let token = |id: String, secret: String| {
        let form = [
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", id),
            ("client_secret", secret),
        ];
        app.http.post(app.url("/token")).form(&form)
    };
    let known = token(service.id.clone(), service.secret.clone().unwrap());
    assert_eq!(known.send().await.unwrap().status(), 200);
    for batch in 0..20 {
        let answers = all_at_once(100, |i| {
            token(format!("made-up-{batch}-{i}"), "wrong".into())
        })
        .await;
        assert!(answers.iter().all(|(status, _, _)| *status == 401));
    }
    // Too long to be an id: refused before any lookup.
    let huge = token("x".repeat(1 << 20), "wrong".into())
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    // The real client once more, so it is cached now even if the cache was cleared meanwhile
    // (it is, whenever the replica's pub/sub connection to Redis is made again).
    let known = token(service.id.clone(), service.secret.clone().unwrap());
    assert_eq!(known.send().await.unwrap().status(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        series(&metrics).get("portcullis_client_cache_entries"),
        Some(&"1".to_owned()),
        "only the one real client is cached, not 2000 made-up ids"
    );
}

#[tokio::test]
async fn an_over_long_username_leaves_no_trace() {
    let app = TestApp::spawn().await;
    let browser = browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    let marker = "overlong";
    for length in [300, 20_000, 1 << 20] {
        let username = format!("{marker}{}", "z".repeat(length));
        let form = [
            ("csrf", token.as_str()),
            ("username", &username),
            ("password", "wrong-password"),
        ];
        let response = browser
            .post(app.url("/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!([400, 413].contains(&status), "{length}: {status}");
        assert!(body.contains("<html"), "a page for the browser");
        assert!(!body.contains(marker), "not echoed");
    }
    let pool = app.db.pool().await;
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where target like '%overlong%' or details::text like '%overlong%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 0, "no audit row holds it");
    let mut conn = app.state.redis.conn.clone();
    for key in redis_keys(&app).await {
        assert!(!key.contains(marker), "no Redis key holds it: {key:.100}");
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if kind == "string" {
            let value: Vec<u8> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            let value = String::from_utf8_lossy(&value);
            assert!(
                !value.contains(marker),
                "no session or counter holds it: {key}"
            );
        }
    }
}

#[tokio::test]
async fn made_up_methods_add_no_metrics_series() {
    let app = TestApp::spawn().await;
    for method in ["FOOBAR", "BAZQUUX", "X-ANYTHING"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.http
            .request(method, app.url("/jwks.json"))
            .send()
            .await
            .unwrap();
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics.contains("FOOBAR") && !metrics.contains("BAZQUUX"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="/jwks.json",method="other",status="405"} 3"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_move_off_the_public_port_when_given_a_listener() {
    let settings = Settings::new()
        .await
        .set("PORTCULLIS_METRICS_LISTEN", "127.0.0.1:0");
    let app = settings.spawn().await;
    app.get("/jwks.json").await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "not on the public port"
    );
    let metrics = app.metrics.clone().expect("a metrics listener");
    let response = app
        .http
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"route="/jwks.json",method="GET",status="200"} 1"#),
        "{text}"
    );
    let other = app
        .http
        .get(format!("{metrics}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
}

#[tokio::test]
async fn a_dual_stack_listener_still_believes_its_ipv4_proxy() {
    // On `[::]`, a connection to 127.0.0.1 arrives from ::ffff:127.0.0.1 (needs IPv6 on the host).
    let settings = Settings::new()
        .await
        .set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1/32");
    let listener = std::net::TcpListener::bind("[::]:0").expect("a dual-stack listener");
    let port = listener.local_addr().unwrap().port();
    let config = Config::from_sources(None, settings.env(port), false).unwrap();
    let app = App::build_with_listener(config, listener).await.unwrap();
    let stop = app.stop_token();
    tokio::spawn(app.run_until_stopped());
    let _stop = stop.drop_guard();

    let base = format!("http://127.0.0.1:{port}");
    let browser = browser();
    let from_client =
        |request: reqwest::RequestBuilder| request.header("x-forwarded-for", "203.0.113.9");
    let page = from_client(browser.get(format!("{base}/login")))
        .send()
        .await
        .unwrap();
    let token = csrf(&page.text().await.unwrap());
    let form = [
        ("csrf", token.as_str()),
        ("username", "nobody"),
        ("password", "not-the-password"),
    ];
    let response = from_client(browser.post(format!("{base}/login")).form(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let ip: String =
        sqlx::query_scalar("select host(ip) from audit_events where event = 'login.failed'")
            .fetch_one(&settings.db.pool().await)
            .await
            .unwrap();
    assert_eq!(
        ip, "203.0.113.9",
        "the address the proxy saw, not the proxy's"
    );
}

#[tokio::test]
async fn device_codes_cannot_be_had_in_bulk() {
    let app = Settings::new()
        .await
        .set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1/32")
        .spawn()
        .await;
    let spec = portcullis::clients::ClientSpec {
        name: "TV".into(),
        public: true,
        grant_types: vec!["urn:ietf:params:oauth:grant-type:device_code".into()],
        ..Default::default()
    };
    let tv = app.register(spec, String::new()).await;
    let start = |from: String| {
        app.http
            .post(app.url("/device_authorization"))
            .header("x-forwarded-for", from)
            .form(&[("client_id", tv.id.as_str()), ("scope", "openid")])
    };
    let codes = |answers: &[(StatusCode, Option<String>, String)]| {
        answers.iter().filter(|(s, _, _)| *s == 200).count()
    };
    // One address: 10 a minute, however many arrive at once.
    let answers = all_at_once(30, |_| start("198.51.100.7".into())).await;
    assert_eq!(codes(&answers), 10);
    for (status, retry, body) in answers.iter().filter(|(s, _, _)| *s != 200) {
        assert_eq!(*status, 429);
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"], "slow_down");
        assert!(retry.as_deref().unwrap().parse::<u64>().unwrap() >= 1);
    }
    // One client, from many addresses: 300 a minute in all.
    let answers = all_at_once(320, |i| start(format!("10.{}.{}.1", i / 200, i % 200))).await;
    assert_eq!(codes(&answers), 290);
    let stored = redis_keys(&app).await;
    let device_codes = stored.iter().filter(|k| k.contains(":device:")).count();
    assert_eq!(
        device_codes, 300,
        "codes are kept only for answered requests"
    );
}

#[tokio::test]
async fn anonymous_requests_cannot_fill_redis_with_sessions() {
    let app = TestApp::spawn().await;
    let person = browser();
    assert_eq!(
        person.get(app.url("/login")).send().await.unwrap().status(),
        200
    );
    // A script that never sends a cookie back: every visit would be a new session.
    let script = reqwest::Client::new();
    let answers = all_at_once(130, |_| script.get(app.url("/login"))).await;
    let shown = answers.iter().filter(|(s, _, _)| *s == 200).count();
    assert_eq!(
        shown, 119,
        "120 new sessions a minute from one address, the person's included"
    );
    assert!(
        answers
            .iter()
            .all(|(s, r, _)| *s == 200 || (*s == 429 && r.is_some()))
    );
    let sessions = redis_keys(&app)
        .await
        .iter()
        .filter(|k| k.contains(":session:"))
        .count();
    assert_eq!(sessions, 120);
    // The person, with a session already, is not held up.
    assert_eq!(
        person.get(app.url("/login")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn pages_without_a_form_leave_no_session_behind() {
    let app = TestApp::spawn().await;
    let script = reqwest::Client::new();
    for path in [
        "/logout/done",
        "/device/done",
        "/no-such-page",
        "/authorize?client_id=nobody&response_type=code",
        "/.well-known/openid-configuration",
    ] {
        script
            .get(app.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
    }
    let sessions: Vec<String> = redis_keys(&app)
        .await
        .into_iter()
        .filter(|k| k.contains(":session:"))
        .collect();
    assert!(sessions.is_empty(), "{sessions:?}");
}
