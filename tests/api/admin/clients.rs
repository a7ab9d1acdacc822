//! `/admin/clients`: create (secret shown once), validation, edit, disable and enable, rotate the
//! secret, delete, search and paging; each change audited with the administrator and address.

use super::{admin_browser, redirected_to};
use crate::helpers::{TestApp, TestClient};
use crate::signin::{page, submit_from, token, tokens_for};

/// The fields of a confidential service client, as typed into the form.
fn service_fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_owned()),
        ("client_type", "confidential".into()),
        ("grant_type", "client_credentials".into()),
        ("scopes", "jobs reports".into()),
    ]
}

async fn create(
    app: &TestApp,
    browser: &reqwest::Client,
    fields: &[(&'static str, String)],
) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    submit_from(
        app,
        browser,
        "/admin/clients/new",
        "/admin/clients/new",
        &fields,
    )
    .await
}

/// The text of the element with this id on `html`.
fn element(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    Some(html[at..].split('<').next()?.to_owned())
}

/// Creates a service client in the admin UI; returns it with its secret read from the page.
async fn create_service(app: &TestApp, browser: &reqwest::Client, name: &str) -> TestClient {
    let response = create(app, browser, &service_fields(name)).await;
    let path = redirected_to(&response);
    let shown = page(app, browser, &path).await;
    TestClient {
        id: element(&shown, "client-id").unwrap(),
        secret: element(&shown, "client-secret"),
        redirect_uri: String::new(),
    }
}

async fn client_credentials(app: &TestApp, client: &TestClient) -> u16 {
    token(app, client, &[("grant_type", "client_credentials")])
        .await
        .0
}

#[tokio::test]
async fn a_created_client_shows_its_secret_once_and_can_get_tokens() {
    let app = TestApp::spawn().await;
    let (browser, admin) = admin_browser(&app).await;
    let client = create_service(&app, &browser, "Reports worker").await;
    assert_eq!(client.secret.as_ref().map(String::len), Some(43));
    assert_eq!(client_credentials(&app, &client).await, 200);
    let again = page(&app, &browser, &format!("/admin/clients/{}", client.id)).await;
    assert!(
        element(&again, "client-secret").is_none(),
        "the secret shows once"
    );
    assert!(again.contains("client_credentials") && again.contains("jobs reports"));

    let audit: (String, Option<String>) = sqlx::query_as(
        "select actor, host(ip) from audit_events where event = 'client.created' and target = $1",
    )
    .bind(&client.id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        audit,
        (format!("user:{}", admin.id), Some("127.0.0.1".into()))
    );
}

#[tokio::test]
async fn bad_input_comes_back_with_a_message_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let cases: [(&str, &str, &str); 4] = [
        (
            "redirect_uris",
            "http://app.example.com/cb",
            "only https is allowed",
        ),
        ("access_token_ttl", "soon", "whole number of seconds"),
        ("name", "", "client name must be 1 to 100 characters"),
        ("scopes", "a\"b", "is not a valid scope"),
    ];
    for (field, value, message) in cases {
        let mut fields = service_fields("Broken");
        fields.retain(|(n, _)| *n != field);
        fields.push((field, value.to_owned()));
        fields.push(("grant_type", "authorization_code".into()));
        fields.push(("redirect_uris", "https://ok.example.com/cb".into()));
        let response = create(&app, &browser, &fields).await;
        assert_eq!(response.status(), 400, "{field}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{field}: {html}");
        if field != "scopes" {
            assert!(
                html.contains("value=\"jobs reports\""),
                "what was typed stays"
            );
        }
    }
    let response = create(
        &app,
        &browser,
        &[
            ("name", "No grants".into()),
            ("client_type", "public".into()),
        ],
    )
    .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("at least one grant type")
    );
    assert!(
        page(&app, &browser, "/admin/clients")
            .await
            .contains("No clients")
    );
}

#[tokio::test]
async fn edits_apply_at_once_and_the_type_cannot_change() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let client = create_service(&app, &browser, "Worker").await;
    let scoped = |scope: &'static str| [("grant_type", "client_credentials"), ("scope", scope)];
    assert_eq!(token(&app, &client, &scoped("audit")).await.0, 400);
    let edit = format!("/admin/clients/{}/edit", client.id);
    let mut fields = service_fields("Worker renamed");
    fields.retain(|(n, _)| *n != "scopes");
    fields.push(("scopes", "jobs audit".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let response = submit_from(&app, &browser, &edit, &edit, &fields).await;
    assert_eq!(
        redirected_to(&response),
        format!("/admin/clients/{}", client.id)
    );
    assert_eq!(token(&app, &client, &scoped("audit")).await.0, 200);

    let public = [
        ("name", "Worker"),
        ("client_type", "public"),
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
    ];
    let response = submit_from(&app, &browser, &edit, &edit, &public).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("the type cannot change")
    );
    assert_eq!(client_credentials(&app, &client).await, 200);
}

#[tokio::test]
async fn disable_asks_first_then_refuses_the_client_at_once_and_enable_restores_it() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let client = create_service(&app, &browser, "Worker").await;
    assert_eq!(client_credentials(&app, &client).await, 200);
    let here = format!("/admin/clients/{}", client.id);
    let confirm = page(&app, &browser, &format!("{here}/disable")).await;
    assert!(confirm.contains("Disable Worker?") && confirm.contains("Cancel"));
    let response = submit_from(
        &app,
        &browser,
        &format!("{here}/disable"),
        &format!("{here}/disable"),
        &[],
    )
    .await;
    assert_eq!(redirected_to(&response), here);
    assert_eq!(client_credentials(&app, &client).await, 401);
    let response = submit_from(&app, &browser, &here, &format!("{here}/enable"), &[]).await;
    assert_eq!(redirected_to(&response), here);
    assert_eq!(client_credentials(&app, &client).await, 200);
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one_at_once() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let old = create_service(&app, &browser, "Worker").await;
    let action = format!("/admin/clients/{}/rotate-secret", old.id);
    let response = submit_from(&app, &browser, &action, &action, &[]).await;
    let shown = page(&app, &browser, &redirected_to(&response)).await;
    let new = TestClient {
        secret: element(&shown, "client-secret"),
        ..TestClient {
            id: old.id.clone(),
            secret: None,
            redirect_uri: String::new(),
        }
    };
    assert_ne!(new.secret, old.secret);
    assert_eq!(client_credentials(&app, &old).await, 401);
    assert_eq!(client_credentials(&app, &new).await, 200);
}

#[tokio::test]
async fn deleting_a_client_revokes_its_refresh_tokens() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let (client, tokens) = tokens_for(&app, "alice", "openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let action = format!("/admin/clients/{}/delete", client.id);
    assert!(
        page(&app, &browser, &action)
            .await
            .contains("cannot be undone")
    );
    let response = submit_from(&app, &browser, &action, &action, &[]).await;
    assert_eq!(redirected_to(&response), "/admin/clients");
    let left: i64 = sqlx::query_scalar("select count(*) from refresh_tokens where client_id = $1")
        .bind(&client.id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let (status, body) = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn the_list_searches_and_pages() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    for n in 0..27 {
        app.service(&format!("Worker {n:02}"), &["jobs"], &[]).await;
    }
    app.service("Billing_%", &["jobs"], &[]).await;
    let first = page(&app, &browser, "/admin/clients").await;
    assert!(first.contains("28 clients") && first.contains("Page 1 of 2"));
    assert!(first.contains("Billing_%") && !first.contains("Worker 26"));
    // The paging links come from the URL builder, the search kept and encoded.
    assert!(
        first.contains("href=\"/admin/clients?q=&#38;page=2\""),
        "{first}"
    );
    let second = page(&app, &browser, "/admin/clients?page=2").await;
    assert!(second.contains("Worker 26") && second.contains("rel=\"prev\""));
    let found = page(&app, &browser, "/admin/clients?q=_%25").await;
    assert!(
        found.contains("1 client matching") && found.contains("Billing_%"),
        "{found}"
    );
    let none = page(&app, &browser, "/admin/clients?q=nothing").await;
    assert!(none.contains("No clients match"));
}
