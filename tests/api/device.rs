//! The device authorization grant (RFC 8628) end to end: a device asks for codes and polls; a
//! person enters the code at `/device`, signs in and approves or denies.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Settings, TestApp, TestClient, location};
use crate::signin::{browser, follow, page, sign_in_at, submit, submit_from};

/// A public client for devices (a TV app), allowed the device grant and refresh tokens.
pub(crate) async fn tv_app(app: &TestApp) -> TestClient {
    let spec = portcullis::clients::ClientSpec {
        name: "Living-room TV".into(),
        public: true,
        grant_types: vec![
            "urn:ietf:params:oauth:grant-type:device_code".into(),
            "refresh_token".into(),
        ],
        ..Default::default()
    };
    app.register(spec, String::new()).await
}

pub(crate) async fn start(app: &TestApp, client: &TestClient, scope: &str) -> (u16, Value) {
    let form = [("client_id", client.id.as_str()), ("scope", scope)];
    let response = app
        .http
        .post(app.url("/device_authorization"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub(crate) async fn poll(app: &TestApp, client: &TestClient, device_code: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
        ("client_id", client.id.as_str()),
    ];
    let response = app
        .http
        .post(app.url("/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub(crate) async fn fast() -> Settings {
    // A 1 s interval keeps the tests short.
    Settings::new()
        .await
        .set("PORTCULLIS_DEVICE_POLL_INTERVAL", "1s")
}

const WAIT: Duration = Duration::from_millis(1100);

/// The person's side: enter the code (typed loosely), sign in, decide.
pub(crate) async fn decide(
    app: &TestApp,
    user: &crate::helpers::TestUser,
    user_code: &str,
    decision: &str,
) -> reqwest::Response {
    let b = browser();
    let typed = user_code.to_lowercase().replace('-', " ");
    let prefilled = page(app, &b, &format!("/device?user_code={user_code}")).await;
    assert!(
        prefilled.contains(&format!("value=\"{user_code}\"")),
        "prefilled from verification_uri_complete"
    );
    let response = submit_from(app, &b, "/device", "/device", &[("user_code", &typed)]).await;
    let approve = location(&response);
    assert!(approve.starts_with("/device/approve?request="), "{approve}");
    let response = follow(app, &b, response).await;
    let request = approve.trim_start_matches("/device/approve");
    let login = location(&response);
    assert_eq!(login, format!("/login{request}"));
    let response = sign_in_at(app, &b, user, &login).await;
    assert_eq!(location(&response), approve);
    let page = page(app, &b, &approve).await;
    assert!(
        page.contains("Living-room TV") && page.contains(user_code),
        "{page}"
    );
    submit_from(
        app,
        &b,
        &approve,
        "/device/approve",
        &[("decision", decision)],
    )
    .await
}

#[tokio::test]
async fn a_device_gets_tokens_once_after_the_person_approves() {
    let app = fast().await.spawn().await;
    let user = app.user("dora", true).await;
    let tv = tv_app(&app).await;
    let (status, codes) = start(&app, &tv, "openid profile offline_access").await;
    assert_eq!(status, 200, "{codes}");
    let user_code = codes["user_code"].as_str().unwrap();
    assert!(
        user_code.len() == 9
            && user_code
                .chars()
                .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(codes["verification_uri"], app.url("/device").as_str());
    assert_eq!(
        codes["verification_uri_complete"],
        format!("{}?user_code={user_code}", app.url("/device")).as_str()
    );
    assert_eq!(codes["expires_in"], 600);
    assert_eq!(codes["interval"], 1);
    let device_code = codes["device_code"].as_str().unwrap();

    let (status, body) = poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    let response = decide(&app, &user, user_code, "approve").await;
    assert_eq!(location(&response), "/device/done?approved=1");

    tokio::time::sleep(WAIT).await;
    let (status, tokens) = poll(&app, &tv, device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    crate::keys::verify(
        &app.get_json("/jwks.json").await,
        tokens["access_token"].as_str().unwrap(),
    )
    .unwrap();
    let claims = crate::signin::payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp"]));

    tokio::time::sleep(WAIT).await;
    let (status, body) = poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "tokens only once"
    );
}

#[tokio::test]
async fn a_denied_request_gets_access_denied() {
    let app = fast().await.spawn().await;
    let user = app.user("dan", false).await;
    let tv = tv_app(&app).await;
    let (_, codes) = start(&app, &tv, "openid").await;
    let response = decide(&app, &user, codes["user_code"].as_str().unwrap(), "deny").await;
    assert_eq!(location(&response), "/device/done");
    let (status, body) = poll(&app, &tv, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
}

#[tokio::test]
async fn polling_too_fast_gets_slow_down_and_the_interval_does_not_compound() {
    let app = fast().await.spawn().await;
    let tv = tv_app(&app).await;
    let (_, codes) = start(&app, &tv, "openid").await;
    let device_code = codes["device_code"].as_str().unwrap();
    assert_eq!(
        poll(&app, &tv, device_code).await.1["error"],
        "authorization_pending"
    );
    assert_eq!(poll(&app, &tv, device_code).await.1["error"], "slow_down");
    assert_eq!(poll(&app, &tv, device_code).await.1["error"], "slow_down");
    // The client adds 5 s per slow_down (RFC 8628 §3.5); the server keeps measuring against the
    // interval it announced, so a poll after that interval is never refused.
    tokio::time::sleep(WAIT).await;
    assert_eq!(
        poll(&app, &tv, device_code).await.1["error"],
        "authorization_pending"
    );
}

#[tokio::test]
async fn expired_codes_are_expired_token_and_refused_at_the_page() {
    let app = fast()
        .await
        .set("PORTCULLIS_DEVICE_CODE_TTL", "1s")
        .spawn()
        .await;
    let tv = tv_app(&app).await;
    let (_, codes) = start(&app, &tv, "openid").await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (status, body) = poll(&app, &tv, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
    let b = browser();
    let response = submit(
        &app,
        &b,
        "/device",
        &[("user_code", codes["user_code"].as_str().unwrap())],
    )
    .await;
    assert_eq!(location(&response), "/device");
    assert!(
        page(&app, &b, "/device")
            .await
            .contains("not valid or has expired")
    );
    let (status, body) = poll(&app, &tv, "never-issued").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = TestApp::spawn().await;
    let b = browser();
    for _ in 0..5 {
        let response = submit(&app, &b, "/device", &[("user_code", "BCDF-GHJK")]).await;
        assert_eq!(location(&response), "/device");
    }
    let response = submit(&app, &b, "/device", &[("user_code", "BCDF-GHJK")]).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_client_without_the_device_grant_or_scopes_is_refused() {
    let app = TestApp::spawn().await;
    let web = app.client("Web", true, true).await;
    let (status, body) = start(&app, &web, "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let tv = tv_app(&app).await;
    let (status, body) = start(&app, &tv, "admin").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}
