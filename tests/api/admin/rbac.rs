//! Roles and groups for RBAC at resource servers: defined and assigned through the admin API,
//! carried as `roles` and `groups` claims in ID tokens, access tokens, userinfo and
//! introspection when the client asked for (and may use) those scopes; changes apply to tokens
//! issued afterwards.

use reqwest::Method;
use serde_json::{Value, json};

use super::api::{call, script};
use crate::helpers::{TestApp, TestClient, TestUser, query_param};
use crate::signin::{authorize, browser, payload, redeem, token};

/// Signs `user` in to `client` with `scope`; returns the token response.
async fn tokens(app: &TestApp, client: &TestClient, user: &TestUser, scope: &str) -> Value {
    let back = authorize(app, &browser(), client, user, scope).await;
    let response = redeem(app, client, &query_param(&back, "code").unwrap()).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn rp(app: &TestApp) -> TestClient {
    let spec = portcullis::clients::ClientSpec {
        name: "Wiki".into(),
        redirect_uris: vec!["https://wiki.example.com/cb".into()],
        scopes: vec!["openid profile roles groups".into()],
        skip_consent: true,
        ..Default::default()
    };
    app.register(spec, "https://wiki.example.com/cb".into())
        .await
}

#[tokio::test]
async fn roles_and_groups_reach_every_token_and_change_for_tokens_issued_afterwards() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    for (path, name) in [
        ("/roles", "editor"),
        ("/roles", "viewer"),
        ("/groups", "eng"),
    ] {
        let body = Some(json!({ "name": name, "description": "test" }));
        assert_eq!(call(&app, &admin, Method::POST, path, body).await.0, 201);
    }
    let again = Some(json!({ "name": "editor" }));
    assert_eq!(
        call(&app, &admin, Method::POST, "/roles", again).await.0,
        409
    );
    let alice = app.user("alice", false).await;
    let roles = format!("/users/{}/roles", alice.id);
    let groups = format!("/users/{}/groups", alice.id);
    let set = |names: &[&str]| Some(json!({ "names": names }));
    assert_eq!(
        call(
            &app,
            &admin,
            Method::PUT,
            &roles,
            set(&["editor", "viewer"])
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(&app, &admin, Method::PUT, &groups, set(&["eng"]))
            .await
            .0,
        204
    );
    let (status, answer) = call(&app, &admin, Method::PUT, &roles, set(&["owner"])).await;
    assert_eq!(status, 400);
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("no role named `owner`")
    );

    let wiki = rp(&app).await;
    let issued = tokens(&app, &wiki, &alice, "openid roles groups").await;
    let access = issued["access_token"].as_str().unwrap();
    for claims in [
        payload(access),
        payload(issued["id_token"].as_str().unwrap()),
    ] {
        assert_eq!(claims["roles"], json!(["editor", "viewer"]));
        assert_eq!(claims["groups"], json!(["eng"]));
    }
    let userinfo: Value = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["roles"], json!(["editor", "viewer"]));
    let seen: Value = app
        .http
        .post(app.url("/introspect"))
        .basic_auth(&wiki.id, wiki.secret.as_ref())
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (seen["active"].as_bool(), &seen["groups"]),
        (Some(true), &json!(["eng"]))
    );

    // Without the scopes, no claims.
    let plain = tokens(&app, &wiki, &alice, "openid").await;
    let claims = payload(plain["access_token"].as_str().unwrap());
    assert!(claims.get("roles").is_none() && claims.get("groups").is_none());

    // A change applies to tokens issued afterwards; deleting a role removes it everywhere.
    assert_eq!(
        call(&app, &admin, Method::DELETE, "/roles/viewer", None)
            .await
            .0,
        204
    );
    let later = tokens(&app, &wiki, &alice, "openid roles").await;
    assert_eq!(
        payload(later["access_token"].as_str().unwrap())["roles"],
        json!(["editor"])
    );
    assert_eq!(
        payload(access)["roles"],
        json!(["editor", "viewer"]),
        "issued tokens keep theirs"
    );
}

#[tokio::test]
async fn a_service_account_gets_its_own_roles_in_client_credentials_tokens() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let body = Some(json!({ "name": "reports:read" }));
    assert_eq!(
        call(&app, &admin, Method::POST, "/roles", body).await.0,
        201
    );
    let worker = app.service("Reporter", &["roles", "jobs"], &[]).await;
    let path = format!("/clients/{}/roles", worker.id);
    let names = Some(json!({ "names": ["reports:read"] }));
    assert_eq!(call(&app, &admin, Method::PUT, &path, names).await.0, 204);
    let grant = [
        ("grant_type", "client_credentials"),
        ("scope", "jobs roles"),
    ];
    let (status, issued) = token(&app, &worker, &grant).await;
    assert_eq!(status, 200);
    let claims = payload(issued["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], json!(["reports:read"]));
    let (_, listed) = call(&app, &admin, Method::GET, "/roles", None).await;
    assert_eq!(listed[0]["name"], "reports:read");
    assert_eq!(listed[0]["clients"], 1);
}
