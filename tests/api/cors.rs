//! CORS for single-page apps: a public client may call `/token`, `/userinfo` and `/revoke` from
//! the origins of its redirect URIs; confidential clients and other origins get no CORS headers.

use reqwest::Method;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_ORIGIN, HeaderMap, ORIGIN, VARY,
};

use crate::helpers::{TestApp, TestClient, query_param};
use crate::signin::{VERIFIER, authorize, browser};

const SPA: &str = "https://rp.example.com";
const SERVER_APP: &str = "https://server.example.com";
const OTHER_SPA: &str = "https://other-spa.example.com";

fn allowed_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap())
}

async fn registered(app: &TestApp, name: &str, public: bool, origin: &str) -> TestClient {
    let redirect_uri = format!("{origin}/cb");
    let spec = portcullis::clients::ClientSpec {
        name: name.into(),
        public,
        redirect_uris: vec![redirect_uri.clone()],
        skip_consent: true,
        ..Default::default()
    };
    app.register(spec, redirect_uri).await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, app.url(path))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

/// A token request by a public client (its `client_id` in the form) from `origin`.
async fn from_origin(
    app: &TestApp,
    path: &str,
    origin: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header(ORIGIN, origin)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A public client's refresh request.
fn refresh<'a>(client: &'a TestClient, token: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", client.id.as_str()),
    ]
}

#[tokio::test]
async fn preflights_are_answered_for_origins_of_public_clients_only() {
    let app = TestApp::spawn().await;
    registered(&app, "SPA", true, SPA).await;
    registered(&app, "Server app", false, SERVER_APP).await;
    for path in ["/token", "/userinfo", "/revoke"] {
        let response = preflight(&app, path, SPA).await;
        assert!(response.status().is_success(), "{path}");
        let headers = response.headers();
        assert_eq!(allowed_origin(headers), Some(SPA), "{path}");
        let allowed = headers[ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
        assert!(allowed.contains("Authorization") && allowed.contains("Content-Type"));
        assert!(headers.get_all(VARY).iter().any(|v| v == "Origin"));
        for origin in [SERVER_APP, "https://evil.example.com", "null"] {
            let response = preflight(&app, path, origin).await;
            assert_eq!(allowed_origin(response.headers()), None, "{path} {origin}");
        }
    }
    // Endpoints a browser app has no business calling get no CORS at all.
    let response = preflight(&app, "/introspect", SPA).await;
    assert_eq!(allowed_origin(response.headers()), None);
}

#[tokio::test]
async fn a_public_client_calls_token_userinfo_and_revoke_from_its_own_origin() {
    let app = TestApp::spawn().await;
    let user = app.user("mia", false).await;
    let spa = registered(&app, "SPA", true, SPA).await;
    let other = registered(&app, "Other SPA", true, OTHER_SPA).await;

    let back = authorize(&app, &browser(), &spa, &user, "openid offline_access").await;
    let code = query_param(&back, "code").unwrap();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", spa.redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
        ("client_id", spa.id.as_str()),
    ];
    let response = from_origin(&app, "/token", SPA, &redeem).await;
    assert_eq!(response.status(), 200);
    assert_eq!(allowed_origin(response.headers()), Some(SPA));
    assert!(
        response
            .headers()
            .get_all(VARY)
            .iter()
            .any(|v| v == "Origin")
    );
    let tokens: serde_json::Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    // The error of a refused request is readable too, but only from the client's own origin:
    // another public client's origin gets nothing.
    let bad = refresh(&spa, "nope");
    let response = from_origin(&app, "/token", SPA, &bad).await;
    assert_eq!(
        (
            response.status().as_u16(),
            allowed_origin(response.headers())
        ),
        (400, Some(SPA))
    );
    let response = from_origin(&app, "/token", OTHER_SPA, &bad).await;
    assert_eq!(allowed_origin(response.headers()), None);
    let theirs = refresh(&other, "nope");
    let response = from_origin(&app, "/token", SPA, &theirs).await;
    assert_eq!(
        allowed_origin(response.headers()),
        None,
        "SPA's origin is not Other's"
    );

    // Userinfo: the token's client decides.
    for (origin, expected) in [(SPA, Some(SPA)), (OTHER_SPA, None)] {
        let response = app
            .http
            .get(app.url("/userinfo"))
            .header(ORIGIN, origin)
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(allowed_origin(response.headers()), expected, "{origin}");
    }

    // Sign-out: the app revokes its refresh token (a public client, by client_id).
    let revoke = [("token", refresh_token), ("client_id", spa.id.as_str())];
    let response = from_origin(&app, "/revoke", SPA, &revoke).await;
    assert_eq!(response.status(), 200);
    assert_eq!(allowed_origin(response.headers()), Some(SPA));
    let again = refresh(&spa, refresh_token);
    let response = from_origin(&app, "/token", SPA, &again).await;
    assert_eq!(response.status(), 400, "the refresh token was revoked");
}

#[tokio::test]
async fn a_confidential_clients_requests_get_no_cors_headers() {
    let app = TestApp::spawn().await;
    let server_app = registered(&app, "Server app", false, SERVER_APP).await;
    let response = app
        .http
        .post(app.url("/token"))
        .header(ORIGIN, SERVER_APP)
        .basic_auth(&server_app.id, server_app.secret.as_ref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(allowed_origin(response.headers()), None);
}
