//! Services and resource servers: `client_credentials`, introspection, revocation, and a client
//! disabled on one replica refused by another within a second.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Server, Settings, TestApp, TestDb, eventually, random_kek};
use crate::signin::{token, tokens_for};

const API: &str = "https://api.example.com";

pub async fn client_credentials(
    app: &impl Server,
    client: &crate::helpers::TestClient,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    token(app, client, &form).await
}

pub async fn introspect(
    app: &TestApp,
    caller: &crate::helpers::TestClient,
    token: &str,
) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/introspect"))
        .basic_auth(&caller.id, caller.secret.as_ref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_service_gets_a_jwt_that_a_resource_server_verifies_with_the_jwks_alone() {
    let app = TestApp::spawn().await;
    let service = app
        .service(
            "Billing worker",
            &["invoices:read", "invoices:write"],
            &[API],
        )
        .await;
    let (status, body) = client_credentials(&app, &service, &[("scope", "invoices:read")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "invoices:read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // The resource server: the JWKS over HTTP and josekit, nothing of Portcullis.
    let jwks = app.get_json("/jwks.json").await;
    let access = body["access_token"].as_str().unwrap();
    crate::keys::verify(&jwks, access).unwrap();
    let claims = crate::signin::payload(access);
    assert_eq!(claims["sub"], service.id.as_str());
    assert_eq!(claims["client_id"], service.id.as_str());
    assert_eq!(claims["aud"], service.id.as_str());
    assert_eq!(claims["iss"], app.address.as_str());

    // client_secret_post works too, and without a scope every allowed scope is granted.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", service.id.as_str()),
        ("client_secret", service.secret.as_deref().unwrap()),
    ];
    let response = app
        .http
        .post(app.url("/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "invoices:read invoices:write");

    // An allowed resource becomes the audience (RFC 8707).
    let (_, body) = client_credentials(&app, &service, &[("resource", API)]).await;
    assert_eq!(
        crate::signin::payload(body["access_token"].as_str().unwrap())["aud"],
        API
    );
}

#[tokio::test]
async fn client_credentials_refuses_what_the_client_may_not_do() {
    let app = TestApp::spawn().await;
    let service = app.service("Worker", &["jobs"], &[API]).await;
    let (status, body) = client_credentials(&app, &service, &[("scope", "admin")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = client_credentials(&app, &service, &[("scope", "openid")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "no person scopes"
    );
    let (status, body) =
        client_credentials(&app, &service, &[("resource", "https://other.example.com")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let mut wrong = crate::helpers::TestClient {
        id: service.id.clone(),
        secret: Some("wrong".into()),
        redirect_uri: String::new(),
    };
    let response = app
        .http
        .post(app.url("/token"))
        .basic_auth(&wrong.id, wrong.secret.as_ref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    // A code-flow client without the grant is unauthorized_client.
    let web = app.client("Web", false, true).await;
    wrong.id = web.id.clone();
    let (status, body) = client_credentials(&app, &web, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn introspection_shows_live_tokens_to_their_client_only() {
    let app = Settings::new()
        .await
        .set("PORTCULLIS_ACCESS_TOKEN_TTL", "2s")
        .spawn()
        .await;
    let service = app.service("Worker", &["jobs"], &[]).await;
    let other = app.service("Other", &["jobs"], &[]).await;
    let (_, body) = client_credentials(&app, &service, &[]).await;
    let access = body["access_token"].as_str().unwrap().to_owned();

    let (status, seen) = introspect(&app, &service, &access).await;
    assert_eq!(status, 200);
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], service.id.as_str());
    assert_eq!(seen["sub"], service.id.as_str());
    assert_eq!(seen["scope"], "jobs");
    assert_eq!(seen["iss"], app.address.as_str());
    assert_eq!(seen["token_type"], "Bearer");
    assert!(seen["exp"].as_i64() > seen["iat"].as_i64());
    // Another client, a made-up token, a wrong hint: inactive (or found anyway), nothing more.
    assert_eq!(
        introspect(&app, &other, &access).await.1,
        serde_json::json!({ "active": false })
    );
    assert_eq!(
        introspect(&app, &service, "made-up").await.1,
        serde_json::json!({ "active": false })
    );
    let hinted = app
        .http
        .post(app.url("/introspect"))
        .basic_auth(&service.id, service.secret.as_ref())
        .form(&[
            ("token", access.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        hinted.json::<Value>().await.unwrap()["active"],
        true,
        "the hint is not trusted"
    );
    // Without client authentication: 401.
    let anonymous = app
        .http
        .post(app.url("/introspect"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Expired: inactive.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(introspect(&app, &service, &access).await.1["active"], false);
}

#[tokio::test]
async fn revoking_tokens_makes_them_inactive() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "zoe", "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &client, refresh).await.1["active"], true);
    assert_eq!(
        introspect(&app, &client, refresh).await.1["token_type"],
        "refresh_token"
    );

    let revoke = |token: &str| {
        app.http
            .post(app.url("/revoke"))
            .basic_auth(&client.id, client.secret.as_ref())
            .form(&[("token", token.to_owned())])
            .send()
    };
    assert_eq!(revoke(access).await.unwrap().status(), 200);
    assert_eq!(introspect(&app, &client, access).await.1["active"], false);
    assert_eq!(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    assert_eq!(revoke(refresh).await.unwrap().status(), 200);
    assert_eq!(introspect(&app, &client, refresh).await.1["active"], false);
    let again = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    assert_eq!(
        token(&app, &client, &again).await.1["error"],
        "invalid_grant"
    );
    // Unknown tokens: 200 as well (RFC 7009 §2.2).
    assert_eq!(revoke("never-issued").await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_disabled_on_one_replica_is_refused_by_another_within_a_second() {
    let db = TestDb::new().await;
    let kek = random_kek();
    let a = Settings::replica(&db, &kek).spawn().await;
    let b = Settings::replica(&db, &kek).spawn().await;
    let service = a.service("Worker", &["jobs"], &[]).await;
    // B has the client cached.
    assert_eq!(client_credentials(&b, &service, &[]).await.0, 200);

    // An administrator disables it through the admin API on A.
    let (_, admin) = crate::admin::api::script(&a).await;
    let path = format!("/clients/{}/enabled", service.id);
    let off = Some(serde_json::json!({ "enabled": false }));
    let (status, _) = crate::admin::api::call(&a, &admin, reqwest::Method::PUT, &path, off).await;
    assert_eq!(status, 204);
    assert_eq!(
        client_credentials(&a, &service, &[]).await.0,
        401,
        "A at once"
    );
    let refused = eventually(
        Duration::from_secs(1),
        "B refuses the disabled client",
        || async {
            let (status, body) = client_credentials(&b, &service, &[]).await;
            (status == 401 && body["error"] == "invalid_client").then_some(())
        },
    );
    refused.await;
}
