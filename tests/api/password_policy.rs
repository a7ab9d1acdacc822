//! The password policy wherever a password is set: the account page, the admin pages and API
//! (create and reset) and `portcullis user create`. Each refuses the most common passwords, the
//! username and the email address (ASVS 5.0 V6.2.4, V6.2.11), saying why; a strong one works.

use reqwest::Method;
use serde_json::json;

use crate::admin::api::{call, script};
use crate::admin::{admin_browser, redirected_to};
use crate::cli::Cli;
use crate::helpers::{TestApp, TestUser};
use crate::signin::{browser, page, sign_in, submit, submit_from};

const USERNAME: &str = "quentin_archer";
const EMAIL: &str = "q.archer@example.com";
const STRONG: &str = "gravel-mosaic-tundra-42";

/// Each refused password and the reason that must be given for it.
const REFUSED: [(&str, &str); 4] = [
    ("password", "too easy to guess"),
    (USERNAME, "must not contain the username"),
    ("Quentin_Archer-1985", "must not contain the username"),
    (EMAIL, "must not contain the email address"),
];

#[tokio::test]
async fn the_account_page_refuses_weak_passwords_with_the_reason() {
    let app = TestApp::spawn().await;
    let mut user: TestUser = app.user(USERNAME, false).await;
    sqlx::query("update users set email = $2 where id = $1")
        .bind(user.id)
        .bind(EMAIL)
        .execute(&app.state.db)
        .await
        .unwrap();
    let b = browser();
    sign_in(&app, &b, &user).await;
    for (new, reason) in REFUSED {
        let fields = [
            ("current", user.password.as_str()),
            ("new", new),
            ("confirm", new),
        ];
        submit(&app, &b, "/account/password", &fields).await;
        let shown = page(&app, &b, "/account/password").await;
        assert!(shown.to_lowercase().contains(reason), "{new}: {shown}");
    }
    let fields = [
        ("current", user.password.as_str()),
        ("new", STRONG),
        ("confirm", STRONG),
    ];
    submit(&app, &b, "/account/password", &fields).await;
    assert!(
        page(&app, &b, "/account")
            .await
            .contains("Your password was changed")
    );
    user.password = STRONG.into();
    assert_eq!(sign_in(&app, &browser(), &user).await.status(), 303);
}

#[tokio::test]
async fn the_admin_pages_refuse_weak_passwords_when_creating_and_resetting() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    for (password, reason) in REFUSED {
        let fields = [
            ("username", USERNAME),
            ("email", EMAIL),
            ("password", password),
        ];
        let response = submit_from(
            &app,
            &admin,
            "/admin/users/new",
            "/admin/users/new",
            &fields,
        )
        .await;
        assert_eq!(response.status(), 400, "{password}");
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{password}: {html}");
    }
    let fields = [
        ("username", USERNAME),
        ("email", EMAIL),
        ("password", STRONG),
    ];
    let response = submit_from(
        &app,
        &admin,
        "/admin/users/new",
        "/admin/users/new",
        &fields,
    )
    .await;
    let here = redirected_to(&response);

    let action = format!("{here}/password");
    for (password, reason) in REFUSED {
        let response = submit_from(&app, &admin, &here, &action, &[("password", password)]).await;
        let shown = page(&app, &admin, &redirected_to(&response)).await;
        assert!(
            shown.contains("Nothing changed") && shown.contains(reason),
            "{password}: {shown}"
        );
    }
    let response = submit_from(
        &app,
        &admin,
        &here,
        &action,
        &[("password", "Larch-Tuesday-Orbit-5")],
    )
    .await;
    let shown = page(&app, &admin, &redirected_to(&response)).await;
    assert!(shown.contains("The password was set"), "{shown}");
}

#[tokio::test]
async fn the_admin_api_refuses_weak_passwords_when_creating_and_resetting() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    for (password, reason) in REFUSED {
        let body = json!({ "username": USERNAME, "email": EMAIL, "password": password });
        let (status, answer) = call(&app, &admin, Method::POST, "/users", Some(body)).await;
        assert_eq!(status, 400, "{password}");
        let why = answer["error_description"].as_str().unwrap();
        assert!(why.contains(reason), "{password}: {why}");
    }
    let body = json!({ "username": USERNAME, "email": EMAIL, "password": STRONG });
    let (status, created) = call(&app, &admin, Method::POST, "/users", Some(body)).await;
    assert_eq!(status, 201);

    let path = format!("/users/{}/password", created["id"].as_str().unwrap());
    for (password, reason) in REFUSED {
        let body = json!({ "password": password });
        let (status, answer) = call(&app, &admin, Method::PUT, &path, Some(body)).await;
        assert_eq!(status, 400, "{password}");
        let why = answer["error_description"].as_str().unwrap();
        assert!(why.contains(reason), "{password}: {why}");
    }
    let body = json!({ "password": "Larch-Tuesday-Orbit-5" });
    let (status, _) = call(&app, &admin, Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn user_create_on_the_command_line_refuses_weak_passwords() {
    let cli = Cli::new().await;
    let args = [
        "user",
        "create",
        "--username",
        USERNAME,
        "--email",
        EMAIL,
        "--password-stdin",
    ];
    for (password, reason) in REFUSED {
        let out = cli.run(&args, Some(&format!("{password}\n"))).await;
        assert_eq!(out.status, 1, "{password}");
        assert!(out.stderr.contains(reason), "{password}: {}", out.stderr);
    }
    let out = cli.run(&args, Some(&format!("{STRONG}\n"))).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(crate::cli::count(&cli.pool().await, "users").await, 1);
}
