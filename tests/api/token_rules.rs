//! The token endpoint's rules: code redemption, client authentication, refresh rotation,
//! replay and grace, scopes, userinfo errors.

use crate::helpers::{TestApp, query_param};
use crate::signin::{authorize, browser, json, redeem, token, tokens_for};

#[tokio::test]
async fn a_wrong_or_missing_verifier_or_redirect_uri_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let user = app.user("carol", false).await;
    let client = app.client("App", false, true).await;
    let bad_forms: Vec<Vec<(&str, String)>> = vec![
        vec![("code_verifier", "x".repeat(43))],
        vec![],
        vec![
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            ),
            ("redirect_uri", "https://rp.example.com/other".into()),
        ],
    ];
    for extra in bad_forms {
        let back = authorize(&app, &browser(), &client, &user, "openid").await;
        let code = query_param(&back, "code").unwrap();
        let mut form: Vec<(&str, String)> =
            vec![("grant_type", "authorization_code".into()), ("code", code)];
        if !extra.iter().any(|(k, _)| *k == "redirect_uri") {
            form.push(("redirect_uri", client.redirect_uri.clone()));
        }
        form.extend(extra);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = token(&app, &client, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let app = TestApp::spawn().await;
    let user = app.user("dave", false).await;
    let client = app.client("App", false, true).await;
    let back = authorize(&app, &browser(), &client, &user, "openid offline_access").await;
    let code = query_param(&back, "code").unwrap();
    let (status, first) = json(redeem(&app, &client, &code).await).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (status, second) = json(redeem(&app, &client, &code).await).await;
    assert_eq!(
        (status, second["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // What the first redemption issued no longer works.
    let info = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    assert!(
        info.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(
        token(&app, &client, &refresh).await.1["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn of_two_concurrent_refreshes_exactly_one_succeeds() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "erin", "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let attempt = || {
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.clone()),
        ];
        app.http
            .post(app.url("/token"))
            .basic_auth(&client.id, client.secret.as_ref())
            .form(&form)
            .send()
    };
    let (a, b) = tokio::join!(attempt(), attempt());
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn client_authentication_failures_are_401_invalid_client() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, true).await;
    let form = [("grant_type", "authorization_code"), ("code", "x")];
    for (id, secret) in [(client.id.as_str(), "wrong"), ("nobody", "x")] {
        let response = app
            .http
            .post(app.url("/token"))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(response.headers()["cache-control"], "no-store");
        let (status, body) = json(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    let no_auth = app
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json(no_auth).await.1["error"], "invalid_client");
    let (_, unknown_grant) = token(&app, &client, &[("grant_type", "password")]).await;
    assert_eq!(unknown_grant["error"], "unsupported_grant_type");
    let not_form = app
        .http
        .post(app.url("/token"))
        .json(&serde_json::json!({"grant_type": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(not_form).await.1["error"], "invalid_request");
}

#[tokio::test]
async fn userinfo_errors_follow_rfc_6750() {
    let app = TestApp::spawn().await;
    let none = app.get("/userinfo").await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let garbage = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    assert!(
        garbage.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn within_the_grace_window_a_just_used_refresh_token_works_once_more() {
    let app = crate::helpers::Settings::new()
        .await
        .set("PORTCULLIS_REFRESH_TOKEN_GRACE", "10s")
        .spawn()
        .await;
    let (client, tokens) = tokens_for(&app, "vera", "openid offline_access").await;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    let (first, a) = token(&app, &client, &refresh).await;
    let (second, b) = token(&app, &client, &refresh).await;
    assert_eq!((first, second), (200, 200), "{a} {b}");
    // Both new tokens stay valid: no family revocation inside the window.
    for body in [a, b] {
        let next = [
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ];
        assert_eq!(token(&app, &client, &next).await.0, 200);
    }
}

#[tokio::test]
async fn a_client_may_have_es256_id_tokens_and_scope_only_narrows_on_refresh() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "wes", "openid profile offline_access").await;
    sqlx::query("update clients set id_token_alg = 'ES256' where client_id = $1")
        .bind(&client.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    // Changes reach the client cache by announcement (pub/sub); here, directly.
    app.state.clients.forget(&client.id);
    let rs256 = josekit::jwt::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(rs256.claim("alg").unwrap(), "RS256", "RS256 by default");
    let widen = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", "openid email"),
    ];
    let (status, body) = token(&app, &client, &widen).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // The refused request did not use up the token.
    let narrow = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", "openid"),
    ];
    let (status, body) = token(&app, &client, &narrow).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid");
    let es256 = josekit::jwt::decode_header(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(es256.claim("alg").unwrap(), "ES256");
    crate::keys::verify(
        &app.get_json("/jwks.json").await,
        body["id_token"].as_str().unwrap(),
    )
    .unwrap();
}
