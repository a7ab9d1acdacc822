//! Whether an access token is active, as introspection and userinfo see it (one check for both):
//! who may introspect it, a disabled user, a revoked grant; and what a refresh may keep once the
//! client lost a scope.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::api::{call, script};
use crate::helpers::{TestApp, TestClient, TestUser, query_param};
use crate::machines::{client_credentials, introspect};
use crate::signin::{authorize, browser, json, payload, redeem, token, tokens_for};

const API: &str = "https://api.example.com";

pub async fn userinfo(app: &TestApp, access: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A new grant: the person signs in (in `browser`), the client redeems the code.
async fn grant_in(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &TestClient,
    user: &TestUser,
) -> Value {
    let back = authorize(app, browser, client, user, "openid offline_access").await;
    let (status, body) =
        json(redeem(app, client, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(app: &TestApp, client: &TestClient, refresh_token: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token(app, client, &form).await
}

#[tokio::test]
async fn only_the_tokens_client_and_its_resource_server_may_introspect_it() {
    let app = TestApp::spawn().await;
    let owner = app.service("Owner", &["jobs"], &[API]).await;
    // May request tokens for the same audience, but is not that resource server.
    let neighbour = app.service("Neighbour", &["jobs"], &[API]).await;
    let resource_server = app
        .register(
            portcullis::clients::ClientSpec {
                name: "Jobs API".into(),
                grant_types: vec!["client_credentials".into()],
                scopes: vec!["jobs".into()],
                resource_uri: Some(API.into()),
                ..Default::default()
            },
            String::new(),
        )
        .await;
    let (status, body) = client_credentials(&app, &owner, &[("resource", API)]).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();

    assert_eq!(
        introspect(&app, &neighbour, access).await.1,
        json!({ "active": false }),
        "a client that may only request the same audience sees nothing"
    );
    let seen = introspect(&app, &owner, access).await.1;
    assert_eq!(
        (&seen["active"], &seen["aud"]),
        (&json!(true), &json!([API]))
    );
    let seen = introspect(&app, &resource_server, access).await.1;
    assert_eq!(
        seen["active"], true,
        "the registered resource server sees it"
    );
    assert_eq!(seen["client_id"], owner.id.as_str());

    // A person's refresh token: its own client only.
    let (client, tokens) = tokens_for(&app, "ivy", "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        introspect(&app, &client, refresh_token).await.1["active"],
        true
    );
    for other in [&owner, &resource_server] {
        assert_eq!(
            introspect(&app, other, refresh_token).await.1,
            json!({ "active": false })
        );
    }
}

#[tokio::test]
async fn a_disabled_users_access_token_is_inactive_for_introspection_and_userinfo() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "jack", "openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &client, access).await.1["active"], true);
    assert_eq!(userinfo(&app, access).await.0, 200);

    let (_, admin) = script(&app).await;
    let path = format!(
        "/users/{}/disabled",
        payload(access)["sub"].as_str().unwrap()
    );
    let on = Some(json!({ "value": true }));
    assert_eq!(call(&app, &admin, Method::PUT, &path, on).await.0, 204);

    assert_eq!(
        introspect(&app, &client, access).await.1,
        json!({ "active": false }),
        "RFC 7662 §2.2: introspection agrees with userinfo"
    );
    let (status, body) = userinfo(&app, access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn a_refresh_drops_a_scope_the_client_lost() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "kim", "openid email offline_access").await;
    assert_eq!(
        payload(tokens["access_token"].as_str().unwrap())["scope"],
        "openid email offline_access"
    );

    // An administrator takes `email` away from the client.
    let (_, admin) = script(&app).await;
    let settings = json!({
        "name": "App",
        "redirect_uris": [client.redirect_uri, "http://127.0.0.1/native"],
        "scopes": ["openid", "profile", "offline_access"],
        "skip_consent": true,
    });
    let path = format!("/clients/{}", client.id);
    assert_eq!(
        call(&app, &admin, Method::PUT, &path, Some(settings))
            .await
            .0,
        204
    );

    let (status, refreshed) =
        refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["scope"], "openid offline_access");
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(payload(access)["scope"], "openid offline_access");
    let (_, claims) = userinfo(&app, access).await;
    assert!(claims.get("email").is_none(), "{claims}");
    // The new refresh token lacks it too: asking for it back is invalid_scope.
    let next = refreshed["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next),
        ("scope", "openid email"),
    ];
    let (status, body) = token(&app, &client, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, again) = refresh(&app, &client, next).await;
    assert_eq!(
        (status, again["scope"].as_str()),
        (200, Some("openid offline_access"))
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_the_access_tokens_of_its_grant() {
    let app = TestApp::spawn().await;
    let user = app.user("lou", false).await;
    let client = app.client("App", false, true).await;
    let first = grant_in(&app, &browser(), &client, &user).await;
    let first_access = first["access_token"].as_str().unwrap();
    let (status, second) = refresh(&app, &client, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{second}");
    let second_access = second["access_token"].as_str().unwrap();
    // Another grant of the same person and client stays untouched.
    let other = grant_in(&app, &browser(), &client, &user).await;
    let other_access = other["access_token"].as_str().unwrap();

    let response = app
        .http
        .post(app.url("/revoke"))
        .basic_auth(&client.id, client.secret.as_ref())
        .form(&[("token", second["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for access in [first_access, second_access] {
        assert_eq!(
            introspect(&app, &client, access).await.1,
            json!({ "active": false })
        );
        assert_eq!(userinfo(&app, access).await.0, 401);
    }
    assert_eq!(
        introspect(&app, &client, other_access).await.1["active"],
        true
    );
    assert_eq!(userinfo(&app, other_access).await.0, 200);
}

#[tokio::test]
async fn withdrawing_consent_or_an_admin_cut_off_revokes_access_tokens_too() {
    let app = TestApp::spawn().await;
    let user = app.user("max", false).await;
    let client = app.client("Album", false, false).await;
    let b = browser();
    let tokens = grant_in(&app, &b, &client, &user).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);
    let response = crate::signin::submit_from(
        &app,
        &b,
        "/account",
        "/account/applications/revoke",
        &[("client_id", &client.id)],
    )
    .await;
    assert!(response.status().is_redirection());
    assert_eq!(userinfo(&app, access).await.0, 401);
    assert_eq!(
        introspect(&app, &client, access).await.1,
        json!({ "active": false })
    );

    // An administrator's password reset ends the person's grants the same way.
    let second = grant_in(&app, &browser(), &client, &user).await;
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);
    let (_, admin) = script(&app).await;
    let path = format!("/users/{}/password", user.id);
    let reset = Some(json!({ "password": "a-new-password-for-max-42" }));
    assert_eq!(call(&app, &admin, Method::PUT, &path, reset).await.0, 204);
    assert_eq!(userinfo(&app, access).await.0, 401);
}
