//! The admin JSON API as a script uses it: a `client_credentials` token with the `admin` scope,
//! JSON in and out, clear 400s that change nothing, and the generated OpenAPI document.

use serde_json::{Value, json};

use crate::helpers::{Server, TestApp, TestClient};
use crate::signin::token;

/// A script's credentials: a service client allowed the `admin` scope, and its token.
pub async fn script(app: &TestApp) -> (TestClient, String) {
    let client = app.service("Automation", &["admin"], &[]).await;
    let (status, body) = token(
        app,
        &client,
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (client, body["access_token"].as_str().unwrap().to_owned())
}

/// Calls the API: `method` on `/admin/api/v1{path}` with an optional JSON body.
pub async fn call(
    app: &impl Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .http()
        .request(method, app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_openapi_document_is_generated_and_describes_every_endpoint() {
    let app = TestApp::spawn().await;
    let doc = app.get_json("/admin/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/admin/api/v1/clients",
        "/admin/api/v1/clients/{id}/secret",
        "/admin/api/v1/users/{id}/roles",
        "/admin/api/v1/roles",
        "/admin/api/v1/groups/{name}",
        "/admin/api/v1/keys/{kid}/revoke",
    ] {
        assert!(paths.contains_key(path), "{path} in {:?}", paths.keys());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let input = &doc["components"]["schemas"]["ClientInput"];
    assert!(input["properties"]["redirect_uris"].is_object(), "{input}");
}

#[tokio::test]
async fn the_api_needs_an_admin_token_from_an_enabled_client() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/admin/api/v1/clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");

    let (status, body) = call(&app, "not-a-token", reqwest::Method::GET, "/clients", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    let worker = app.service("Worker", &["jobs"], &[]).await;
    let (_, plain) = token(&app, &worker, &[("grant_type", "client_credentials")]).await;
    let plain = plain["access_token"].as_str().unwrap();
    let (status, body) = call(&app, plain, reqwest::Method::GET, "/clients", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );

    let (script_client, admin) = script(&app).await;
    let (status, body) = call(&app, &admin, reqwest::Method::GET, "/clients", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 2);
    let path = format!("/clients/{}/enabled", script_client.id);
    let off = Some(json!({ "enabled": false }));
    assert_eq!(
        call(&app, &admin, reqwest::Method::PUT, &path, off).await.0,
        204
    );
    let (status, _) = call(&app, &admin, reqwest::Method::GET, "/clients", None).await;
    assert_eq!(
        status, 401,
        "a disabled client's token no longer works here"
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let cases = [
        (json!({ "public": true }), "missing field `name`"),
        (
            json!({ "name": "X", "colour": "red" }),
            "unknown field `colour`",
        ),
        (
            json!({ "name": "X", "redirect_uris": ["http://evil.example/cb"] }),
            "only https is allowed",
        ),
        (
            json!({ "name": "X", "grant_types": ["client_credentials"], "access_token_ttl_secs": 0 }),
            "access token lifetime",
        ),
        (json!("not an object"), "invalid type"),
    ];
    for (body, message) in cases {
        let (status, answer) =
            call(&app, &admin, reqwest::Method::POST, "/clients", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_request");
        let description = answer["error_description"].as_str().unwrap();
        assert!(description.contains(message), "{description}");
    }
    let (_, list) = call(&app, &admin, reqwest::Method::GET, "/clients", None).await;
    assert_eq!(list["total"], 1, "only the script's own client exists");
    let (status, answer) = call(
        &app,
        &admin,
        reqwest::Method::PUT,
        "/users/00000000-0000-0000-0000-000000000000/roles",
        Some(json!({ "names": [] })),
    )
    .await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_script_creates_a_client_rotates_its_secret_and_deletes_it() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let body =
        json!({ "name": "Nightly", "grant_types": ["client_credentials"], "scopes": ["jobs"] });
    let (status, created) = call(
        &app,
        &admin,
        reqwest::Method::POST,
        "/clients",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let mut client = TestClient {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
        redirect_uri: String::new(),
    };
    let grant = [("grant_type", "client_credentials")];
    assert_eq!(token(&app, &client, &grant).await.0, 200);
    let (status, _) = call(&app, &admin, reqwest::Method::POST, "/clients", Some(body)).await;
    assert_eq!(status, 409, "names are unique");

    let path = format!("/clients/{}/secret", client.id);
    let (status, rotated) = call(&app, &admin, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(token(&app, &client, &grant).await.0, 401);
    client.secret = rotated["client_secret"].as_str().map(str::to_owned);
    assert_eq!(token(&app, &client, &grant).await.0, 200);

    let path = format!("/clients/{}", client.id);
    let (status, shown) = call(&app, &admin, reqwest::Method::GET, &path, None).await;
    assert_eq!((status, shown["name"].as_str()), (200, Some("Nightly")));
    assert!(shown.get("secret_hash").is_none());
    assert_eq!(
        call(&app, &admin, reqwest::Method::DELETE, &path, None)
            .await
            .0,
        204
    );
    assert_eq!(token(&app, &client, &grant).await.0, 401);
}
