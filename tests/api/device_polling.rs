//! Device polling (RFC 8628 §3.5) for clients that start out of step with the server: one poll
//! the client does not count drew `slow_down` before it began. A client that follows §3.5 (5 s
//! more per `slow_down`) must still get its tokens within one of its intervals after the person
//! approves. First a compliant poller written here, then the certified relying-party library
//! openid-client 6 (tests/rp, installed with `npm ci --prefix tests/rp`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::device::{decide, fast, start, tv_app};
use crate::helpers::TestApp;

/// How long a test waits for tokens before it calls the client stuck.
const STUCK: Duration = Duration::from_secs(20);
/// Time for the request and its answer on top of the interval.
const SLACK: Duration = Duration::from_millis(700);

/// One poll of the token endpoint; the `error`, or `None` when tokens came.
async fn poll_once(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    code: &str,
) -> Option<String> {
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", code),
        ("client_id", client_id),
    ];
    let response = http.post(token_url).form(&form).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    match body["error"].as_str() {
        Some(error) => Some(error.to_owned()),
        None => {
            assert!(body["access_token"].is_string(), "{body}");
            None
        }
    }
}

#[tokio::test]
async fn a_compliant_client_that_starts_out_of_step_gets_tokens_within_one_interval() {
    let app = fast().await.spawn().await;
    let user = app.user("erin", false).await;
    let tv = tv_app(&app).await;
    let (_, codes) = start(&app, &tv, "openid").await;
    let device_code = codes["device_code"].as_str().unwrap().to_owned();
    let user_code = codes["user_code"].as_str().unwrap().to_owned();
    let announced = codes["interval"].as_u64().unwrap();
    let token_url = app.url("/token");
    let http = reqwest::Client::new();

    // The client's first poll, and a stray one it never saw the answer of (a retry, a restart).
    let first = poll_once(&http, &token_url, &tv.id, &device_code).await;
    assert_eq!(first.as_deref(), Some("authorization_pending"));
    let stray = poll_once(&http, &token_url, &tv.id, &device_code).await;
    assert_eq!(stray.as_deref(), Some("slow_down"));

    // The compliant client: waits its interval, adds 5 s on every slow_down (RFC 8628 §3.5).
    let poller = {
        let (http, token_url, client_id) = (http.clone(), token_url.clone(), tv.id.clone());
        tokio::spawn(async move {
            let mut interval = announced;
            let started = Instant::now();
            while started.elapsed() < STUCK {
                tokio::time::sleep(Duration::from_secs(interval)).await;
                match poll_once(&http, &token_url, &client_id, &device_code).await {
                    None => return Some((Instant::now(), interval)),
                    Some(e) if e == "slow_down" => interval += 5,
                    Some(e) => assert_eq!(e, "authorization_pending"),
                }
            }
            None
        })
    };
    let response = decide(&app, &user, &user_code, "approve").await;
    let approved = Instant::now();
    assert_eq!(
        crate::helpers::location(&response),
        "/device/done?approved=1"
    );
    let (tokens_at, interval) = poller
        .await
        .unwrap()
        .expect("the client got its tokens (it was answered slow_down on every poll)");
    let waited = tokens_at.saturating_duration_since(approved);
    assert!(
        waited <= Duration::from_secs(interval) + SLACK,
        "tokens {waited:?} after approval, with an interval of {interval} s"
    );
}

/// `tests/rp` with its packages installed (`npm ci`, as `.ci/run` does).
fn relying_parties() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rp");
    if !dir.join("node_modules/openid-client").exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm is installed");
        assert!(status.success(), "npm ci in tests/rp");
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_starting_out_of_step_gets_tokens_within_one_interval() {
    let app: TestApp = fast().await.spawn().await;
    let user = app.user("fred", false).await;
    let tv = tv_app(&app).await;
    let dir = relying_parties();
    let mut node = tokio::process::Command::new("node")
        .arg("device_flow.mjs")
        .arg(&app.address)
        .arg(&tv.id)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node is installed");
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let deadline = tokio::time::Instant::now() + STUCK;
    let mut next = async || -> Value {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("openid-client is stuck polling (slow_down on every poll)")
            .unwrap()
            .expect("the script ended early");
        serde_json::from_str(&line).unwrap()
    };

    let codes = next().await;
    assert_eq!(codes["event"], "codes", "{codes}");
    let interval = codes["interval"].as_u64().unwrap();
    let early = next().await;
    assert_eq!(early["event"], "early");
    assert_eq!(
        early["errors"],
        serde_json::json!(["authorization_pending", "slow_down"]),
        "the script starts out of step"
    );
    let response = decide(&app, &user, codes["user_code"].as_str().unwrap(), "approve").await;
    let approved = Instant::now();
    assert_eq!(
        crate::helpers::location(&response),
        "/device/done?approved=1"
    );
    let tokens = loop {
        let event = next().await;
        if event["event"] == "tokens" {
            break event;
        }
        assert_eq!(event["event"], "poll", "{event}");
    };
    let waited = approved.elapsed();
    assert_eq!(tokens["access_token"], true, "{tokens}");
    assert_eq!(tokens["sub"], user.id.to_string());
    // openid-client got no slow_down of its own, so its interval is the announced one.
    assert!(
        waited <= Duration::from_secs(interval) + SLACK,
        "tokens {waited:?} after approval, with an interval of {interval} s"
    );
    assert!(node.wait().await.unwrap().success());
}
