//! The authorization endpoint's rules: untrusted clients and redirects, PKCE, `prompt`,
//! `max_age`, remembered consent.

use std::time::Duration;

use crate::helpers::{TestApp, location, query_param};
use crate::signin::{
    authorize, authorize_query, browser, follow, json, redeem, sign_in_at, submit, submit_from,
    visit,
};

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_gets_a_page_and_no_redirect() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let mut unknown = authorize_query(&client, "openid");
    unknown[1].1 = "no-such-client".into();
    let mut elsewhere = authorize_query(&client, "openid");
    elsewhere[2].1 = "https://attacker.example/cb".into();
    for query in [unknown, elsewhere] {
        let response = visit(&app, &b, "/authorize", &query).await;
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
        let page = response.text().await.unwrap();
        assert!(
            page.contains("<h1>") && !page.contains("attacker.example"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn pkce_is_required_with_s256_and_errors_go_back_with_state_and_iss() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("code_challenge", None, "invalid_request"),
        ("code_challenge_method", Some("plain"), "invalid_request"),
        ("code_challenge_method", None, "invalid_request"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("scope", Some("admin"), "invalid_scope"),
    ];
    for (name, value, error) in cases {
        let mut query: Vec<(&str, String)> = authorize_query(&client, "openid")
            .into_iter()
            .filter(|(k, _)| *k != name)
            .collect();
        if let Some(value) = value {
            query.push((name, value.into()));
        }
        let response = visit(&app, &b, "/authorize", &query).await;
        let to = location(&response);
        assert!(to.starts_with(&client.redirect_uri), "{name}: {to}");
        assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{name}");
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-123"));
        assert_eq!(
            query_param(&to, "iss").as_deref(),
            Some(app.address.as_str())
        );
        assert!(query_param(&to, "code").is_none());
    }
}

#[tokio::test]
async fn a_public_client_uses_pkce_without_a_secret_and_any_loopback_port() {
    let app = TestApp::spawn().await;
    let user = app.user("frank", false).await;
    let mut client = app.client("CLI", true, true).await;
    client.redirect_uri = "http://127.0.0.1:53124/native".into();
    let back = authorize(&app, &browser(), &client, &user, "openid").await;
    assert!(back.starts_with("http://127.0.0.1:53124/native?"), "{back}");
    let (status, body) =
        json(redeem(&app, &client, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200, "{body}");
    // A public client presenting a secret is refused.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("client_id", client.id.as_str()),
        ("client_secret", "guess"),
    ];
    let (status, body) = json(
        app.http
            .post(app.url("/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let mut query = authorize_query(&client, "openid");
    query.push(("prompt", "none".into()));
    let response = browser()
        .get(app.url("/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    let to = location(&response);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("login_required"),
        "{to}"
    );
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-123"));
}

#[tokio::test]
async fn max_age_and_prompt_login_force_a_new_sign_in_and_consent_is_remembered() {
    let app = TestApp::spawn().await;
    let user = app.user("kim", false).await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let first = authorize(&app, &b, &client, &user, "openid").await;
    assert!(query_param(&first, "code").is_some());

    // Signed in and consented: straight back with a code.
    let response = visit(&app, &b, "/authorize", &authorize_query(&client, "openid")).await;
    assert!(
        query_param(&location(&response), "code").is_some(),
        "no consent page the second time"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    for extra in [("max_age", "0"), ("prompt", "login")] {
        let mut query = authorize_query(&client, "openid");
        query.push((extra.0, extra.1.into()));
        let response = visit(&app, &b, "/authorize", &query).await;
        assert!(
            location(&response).starts_with("/login?request="),
            "{extra:?}"
        );
    }
    // A new scope asks for consent again; denying sends access_denied.
    let mut response = visit(
        &app,
        &b,
        "/authorize",
        &authorize_query(&client, "openid email"),
    )
    .await;
    if location(&response).starts_with("/login") {
        let login = location(&response);
        response = follow(&app, &b, sign_in_at(&app, &b, &user, &login).await).await;
    }
    let consent = location(&response);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let response = submit_from(&app, &b, &consent, "/consent", &[("decision", "deny")]).await;
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test]
async fn prompt_consent_asks_again_even_after_consent_was_given() {
    let app = TestApp::spawn().await;
    let user = app.user("ola", false).await;
    let client = app.client("App", false, false).await;
    let b = browser();
    authorize(&app, &b, &client, &user, "openid").await;
    let mut query = authorize_query(&client, "openid");
    query.push(("prompt", "consent".into()));
    let response = visit(&app, &b, "/authorize", &query).await;
    let consent = location(&response);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let response = submit_from(&app, &b, &consent, "/consent", &[("decision", "approve")]).await;
    let response = follow(&app, &b, response).await;
    assert!(query_param(&location(&response), "code").is_some());
}

#[tokio::test]
async fn sign_in_events_are_audited() {
    let app = TestApp::spawn().await;
    let user = app.user("pat", false).await;
    let client = app.client("App", false, false).await;
    let b = browser();
    submit(
        &app,
        &b,
        "/login",
        &[("username", "pat"), ("password", "wrong-password")],
    )
    .await;
    authorize(&app, &b, &client, &user, "openid").await;
    crate::signin::submit_from(
        &app,
        &b,
        "/account",
        "/account/applications/revoke",
        &[("client_id", &client.id)],
    )
    .await;
    crate::signin::submit_from(&app, &b, "/account", "/logout", &[]).await;
    let events: Vec<(String, Option<String>)> =
        sqlx::query_as("select event, ip::text from audit_events where event not like 'key.%' and event <> 'user.created' and event <> 'client.created' order by id")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        [
            "login.failed",
            "login.succeeded",
            "consent.given",
            "consent.revoked",
            "logout"
        ]
    );
    assert!(
        events[0]
            .1
            .as_deref()
            .is_some_and(|ip| ip.starts_with("127.0.0.1")),
        "{events:?}"
    );
}
