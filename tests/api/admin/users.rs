//! User administration through the API: create, disable (sessions end, refresh tokens stop),
//! reset the password and the second factor, clear throttling, sessions, the last admin.

use reqwest::Method;
use serde_json::json;

use super::api::{call, script};
use crate::helpers::TestApp;
use crate::signin::{browser, page, password_step, sign_in, token, tokens_for};

#[tokio::test]
async fn a_script_creates_a_user_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let body =
        json!({ "username": "carol", "email": "carol@example.com", "password": "long enough pw" });
    let (status, created) = call(&app, &admin, Method::POST, "/users", Some(body.clone())).await;
    assert_eq!(status, 201);
    let (status, _) = call(&app, &admin, Method::POST, "/users", Some(body)).await;
    assert_eq!(status, 409);
    let short = json!({ "username": "dave", "password": "short" });
    let (status, answer) = call(&app, &admin, Method::POST, "/users", Some(short)).await;
    assert_eq!(status, 400);
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    let id = created["id"].as_str().unwrap();
    let (_, user) = call(&app, &admin, Method::GET, &format!("/users/{id}"), None).await;
    assert_eq!(
        (user["username"].as_str(), user["disabled"].as_bool()),
        (Some("carol"), Some(false))
    );
    assert_eq!(
        user["email_verified"], false,
        "until carol uses the link mailed to her"
    );
    let (_, list) = call(&app, &admin, Method::GET, "/users?q=CAROL", None).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_refresh_tokens() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let (client, issued) = tokens_for(&app, "alice", "openid offline_access").await;
    let alice = app.user("alice2", false).await;
    let browser = browser();
    sign_in(&app, &browser, &alice).await;
    assert!(page(&app, &browser, "/account").await.contains("alice2"));
    let (_, sessions) = call(
        &app,
        &admin,
        Method::GET,
        &format!("/users/{}/sessions", alice.id),
        None,
    )
    .await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1));

    let off = Some(json!({ "value": true }));
    let path = format!("/users/{}/disabled", alice.id);
    assert_eq!(call(&app, &admin, Method::PUT, &path, off).await.0, 204);
    let account = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 303, "the session ended");

    let first: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'alice'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let path = format!("/users/{first}/disabled");
    assert_eq!(
        call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "value": true }))
        )
        .await
        .0,
        204
    );
    let refresh = issued["refresh_token"].as_str().unwrap();
    let (status, body) = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn password_and_mfa_resets_and_cleared_throttling_let_a_locked_out_person_back_in() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let mut erin = app.user("erin", true).await;
    for _ in 0..6 {
        let wrong = crate::helpers::TestUser {
            password: "wrong password".into(),
            totp: None,
            ..erin.clone()
        };
        password_step(&app, &browser(), &wrong).await;
    }
    let throttled = password_step(&app, &browser(), &erin).await;
    assert_eq!(throttled.status(), 429);
    let path = format!("/users/{}/throttling", erin.id);
    assert_eq!(call(&app, &admin, Method::DELETE, &path, None).await.0, 204);

    let path = format!("/users/{}/password", erin.id);
    let new = Some(json!({ "password": "a brand new password" }));
    assert_eq!(call(&app, &admin, Method::PUT, &path, new).await.0, 204);
    let path = format!("/users/{}/mfa", erin.id);
    assert_eq!(call(&app, &admin, Method::DELETE, &path, None).await.0, 204);
    erin.password = "a brand new password".into();
    erin.totp = None;
    let response = password_step(&app, &browser(), &erin).await;
    assert_eq!(
        crate::helpers::location(&response),
        "/account",
        "no second factor asked"
    );
    let events: Vec<String> = sqlx::query_scalar(
        "select event from audit_events where target = $1 and actor like 'client:%' order by id",
    )
    .bind(erin.id.to_string())
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        events,
        ["user.throttling_cleared", "password.changed", "mfa.reset"]
    );
}

#[tokio::test]
async fn the_last_administrator_cannot_be_removed_or_disabled() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let root = app.admin("root").await;
    for path in ["admin", "disabled"] {
        let value = path == "disabled";
        let body = Some(json!({ "value": value }));
        let (status, answer) = call(
            &app,
            &admin,
            Method::PUT,
            &format!("/users/{}/{path}", root.id),
            body,
        )
        .await;
        assert_eq!(status, 400, "{path}");
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap()
                .contains("last administrator")
        );
    }
    let second = app.user("second", false).await;
    let grant = Some(json!({ "value": true }));
    let path = format!("/users/{}/admin", second.id);
    assert_eq!(call(&app, &admin, Method::PUT, &path, grant).await.0, 204);
    let path = format!("/users/{}/admin", root.id);
    let remove = Some(json!({ "value": false }));
    assert_eq!(call(&app, &admin, Method::PUT, &path, remove).await.0, 204);
}
