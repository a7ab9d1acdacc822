//! An administrator in a real browser (headless Chromium): signs in with TOTP, creates a
//! confidential client in the UI, copies its secret from the page, and the client gets a token
//! with `client_credentials`. Every admin screen is saved under `target/artifacts/screenshots/`.

use crate::helpers::{TestApp, TestClient};
use crate::signin::token;
use crate::webdriver::Browser;

/// The text of the element with this id in `html`.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("#{id} on the page"))
        + marker.len();
    html[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_a_client_in_chromium_and_it_gets_a_token() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let bob = app.user("bob", true).await;
    app.service("Nightly reports", &["reports"], &[]).await;
    let browser = Browser::start_sized(1280, 1000).await;

    browser.goto(&app.url("/admin")).await;
    assert!(browser.url().await.ends_with("/login"));
    browser.type_into("#username", "root").await;
    browser.type_into("#password", &root.password).await;
    browser.click_to("button[type=submit]", "/login/mfa").await;
    browser.type_into("#code", &root.code()).await;
    browser.click_to("button[type=submit]", "/admin").await;
    browser.screenshot("admin-01-dashboard").await;

    browser.goto(&app.url("/admin/clients")).await;
    browser.screenshot("admin-02-clients").await;
    browser.goto(&app.url("/admin/clients/new")).await;
    browser.type_into("#name", "Billing worker").await;
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        browser.click(&format!("input[value={grant}]")).await;
    }
    browser.clear("#scopes").await;
    browser.type_into("#scopes", "billing").await;
    browser.screenshot("admin-03-new-client").await;
    browser.click("main button[type=submit]").await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "the new client's page",
        || async {
            browser
                .source()
                .await
                .contains("client-secret")
                .then_some(())
        },
    )
    .await;
    browser.screenshot("admin-04-client-secret-once").await;
    let page = browser.source().await;
    let client = TestClient {
        id: text_of(&page, "client-id"),
        secret: Some(text_of(&page, "client-secret")),
        redirect_uri: String::new(),
    };
    let (status, body) = token(&app, &client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "billing");

    browser
        .goto(&app.url(&format!("/admin/clients/{}/edit", client.id)))
        .await;
    browser.screenshot("admin-05-edit-client").await;
    browser
        .goto(&app.url(&format!("/admin/clients/{}/delete", client.id)))
        .await;
    browser.screenshot("admin-06-confirm-delete").await;

    browser.goto(&app.url("/admin/roles")).await;
    browser.type_into("#roles-name", "billing:admin").await;
    browser
        .type_into("#roles-description", "Approves refunds")
        .await;
    browser
        .click_until_text(
            "form[action='/admin/roles/roles'] button",
            "The role was defined",
        )
        .await;
    browser.type_into("#groups-name", "finance").await;
    browser
        .click_until_text(
            "form[action='/admin/roles/groups'] button",
            "The group was defined",
        )
        .await;
    browser.screenshot("admin-07-roles-and-groups").await;

    browser.goto(&app.url("/admin/users")).await;
    browser.screenshot("admin-08-users").await;
    browser
        .goto(&app.url(&format!("/admin/users/{}", bob.id)))
        .await;
    browser.click("input[value='billing:admin']").await;
    browser
        .click_until_text("form[action$='/roles'] button", "Roles saved")
        .await;
    browser.screenshot("admin-09-user").await;
    browser.goto(&app.url("/admin/users/new")).await;
    browser.screenshot("admin-10-new-user").await;

    browser.goto(&app.url("/admin/keys")).await;
    browser.screenshot("admin-11-keys").await;
    browser.goto(&app.url("/admin/keys/rotate-ES256")).await;
    browser.screenshot("admin-12-confirm-rotate").await;
    browser.goto(&app.url("/admin/audit")).await;
    assert!(browser.source().await.contains("client.created"));
    browser.screenshot("admin-13-audit-log").await;
    browser.quit().await;
}
