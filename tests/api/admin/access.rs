//! Who may open the admin pages: anonymous visitors sign in first and come back, people without
//! the admin role get 403, administrators without TOTP set it up first, and every change needs the
//! session's CSRF token.

use super::{admin_browser, redirected_to};
use crate::helpers::TestApp;
use crate::signin::{browser, follow, page, sign_in};

#[tokio::test]
async fn anonymous_visitors_sign_in_first_and_come_back_to_the_page_they_asked_for() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root").await;
    let browser = browser();
    let response = browser
        .get(app.url("/admin/clients?q=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirected_to(&response), "/login");
    let response = sign_in(&app, &browser, &admin).await;
    assert_eq!(redirected_to(&response), "/admin/clients?q=x");
    let list = follow(&app, &browser, response).await;
    assert_eq!(list.status(), 200);
    assert!(list.text().await.unwrap().contains("<h1>Clients</h1>"));
}

#[tokio::test]
async fn people_without_the_admin_role_get_403_on_every_admin_page() {
    let app = TestApp::spawn().await;
    let person = app.user("bob", true).await;
    let browser = browser();
    sign_in(&app, &browser, &person).await;
    for path in ["/admin", "/admin/clients", "/admin/clients/new"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("for administrators")
        );
    }
    let response = browser
        .post(app.url("/admin/clients/new"))
        .form(&[("name", "Sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn an_administrator_without_totp_is_sent_to_set_it_up() {
    let app = TestApp::spawn().await;
    let admin = app.person("root", false, true).await;
    let browser = browser();
    sign_in(&app, &browser, &admin).await;
    let response = browser.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(redirected_to(&response), "/account/totp");
    let setup = follow(&app, &browser, response).await.text().await.unwrap();
    assert!(setup.contains("Administrators need two-step verification"));
}

#[tokio::test]
async fn a_change_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    let response = browser
        .post(app.url("/admin/clients/new"))
        .form(&[
            ("name", "No token"),
            ("client_type", "confidential"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let list = page(&app, &browser, "/admin/clients").await;
    assert!(list.contains("No clients"), "{list}");
}

#[tokio::test]
async fn the_dashboard_counts_users_clients_sessions_and_tokens() {
    let app = TestApp::spawn().await;
    let (browser, _) = admin_browser(&app).await;
    app.user("bob", false).await;
    let service = app.service("Worker", &["jobs"], &[]).await;
    for _ in 0..3 {
        let (status, _) =
            crate::signin::token(&app, &service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200);
    }
    let dashboard = page(&app, &browser, "/admin").await;
    let stat = |label: &str| {
        let end = dashboard
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {dashboard}"));
        let value_start = dashboard[..end].rfind("class=\"value\">").unwrap() + 14;
        dashboard[value_start..]
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(stat("users ("), "2");
    assert_eq!(stat("clients ("), "1");
    assert_eq!(stat("active sessions"), "1");
    assert_eq!(stat("tokens issued in the last hour"), "3");
}
