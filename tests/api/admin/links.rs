//! The URLs the admin pages write, and the actions they name: a crafted link cannot turn one
//! confirmation page into another action, actions are a closed set (anything else is a 404), a
//! confirmation page is only shown for an object that exists, and names with `/` are one
//! percent-encoded segment, so they can be viewed and deleted like any other.

use super::{admin_browser, is_admin, redirected_to};
use crate::helpers::{TestApp, csrf};
use crate::signin::{page, submit_from};
use crate::webdriver::Browser;

/// The path of the link an attacker sends an administrator: a "revoke key" confirmation whose
/// key id, decoded, climbs to another user's "grant admin" action.
fn crafted(victim: uuid::Uuid) -> String {
    format!("/admin/keys/revoke-x%2F..%2F..%2Fusers%2F{victim}%2Fgrant-admin")
}

#[tokio::test]
async fn the_crafted_revoke_link_is_a_404_and_makes_no_one_an_administrator() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let mallory = app.user("mallory", false).await;

    let response = admin
        .get(app.url(&crafted(mallory.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no key has that id");
    let html = response.text().await.unwrap();
    assert!(!html.contains("Revoke key") && !html.contains("grant-admin"));

    // No page, no form; and a post to the link itself names no live key either.
    let token = csrf(&page(&app, &admin, "/admin/keys").await);
    let response = admin
        .post(app.url(&crafted(mallory.id)))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(!is_admin(&app, mallory.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_crafted_link_shows_no_form_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let root = app.admin("root").await;
    let mallory = app.user("mallory", false).await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/admin")).await;
    browser.type_into("#username", "root").await;
    browser.type_into("#password", &root.password).await;
    browser.click_to("button[type=submit]", "/login/mfa").await;
    browser.type_into("#code", &root.code()).await;
    browser.click_to("button[type=submit]", "/admin").await;

    browser.goto(&app.url(&crafted(mallory.id))).await;
    let html = browser.source().await;
    browser.screenshot("admin-crafted-revoke-link").await;
    assert!(
        !html.contains("Revoke key")
            && !html.contains("<form method=\"post\" action=\"/admin/keys")
    );
    browser.quit().await;
    assert!(!is_admin(&app, mallory.id).await);
}

#[tokio::test]
async fn a_role_named_with_a_slash_is_linked_encoded_shown_and_deleted() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let defined = submit_from(
        &app,
        &admin,
        "/admin/roles",
        "/admin/roles/roles",
        &[("name", "ops/eu")],
    )
    .await;
    let roles = page(&app, &admin, &redirected_to(&defined)).await;
    assert!(roles.contains("The role was defined"), "{roles}");
    assert!(
        roles.contains("href=\"/admin/roles/roles/ops%2Feu/delete\""),
        "{roles}"
    );
    assert!(roles.contains("href=\"/admin/roles/roles/ops%2Feu\""));

    let shown = page(&app, &admin, "/admin/roles/roles/ops%2Feu").await;
    assert!(shown.contains("<code>ops/eu</code>") && shown.contains("Delete role"));
    let confirm = page(&app, &admin, "/admin/roles/roles/ops%2Feu/delete").await;
    assert!(confirm.contains("Delete the role ops/eu?"), "{confirm}");
    assert!(confirm.contains("action=\"/admin/roles/roles/ops%2Feu/delete\""));

    let deleted = submit_from(
        &app,
        &admin,
        "/admin/roles/roles/ops%2Feu/delete",
        "/admin/roles/roles/ops%2Feu/delete",
        &[],
    )
    .await;
    let after = page(&app, &admin, &redirected_to(&deleted)).await;
    assert!(after.contains("The role ops/eu was deleted"), "{after}");
    let left: i64 = sqlx::query_scalar("select count(*) from roles")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let gone = admin
        .get(app.url("/admin/roles/roles/ops%2Feu"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn unknown_actions_and_confirmations_for_missing_objects_are_404() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let bob = app.user("bob", false).await;
    let client = app.client("Shop", false, false).await;
    let nobody = uuid::Uuid::new_v4();
    for path in [
        format!("/admin/users/{}/frobnicate", bob.id),
        format!("/admin/users/{nobody}/disable"),
        format!("/admin/clients/{}/frobnicate", client.id),
        "/admin/clients/no-such-client/delete".to_owned(),
        "/admin/keys/revoke-no-such-key".to_owned(),
        "/admin/keys/rotate-HS256".to_owned(),
        "/admin/keys/frobnicate".to_owned(),
        "/admin/roles/roles/no-such-role/delete".to_owned(),
        "/admin/roles/teams/x/delete".to_owned(),
    ] {
        let response = admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "GET {path}");
    }
    let token = csrf(&page(&app, &admin, "/admin").await);
    for path in [
        format!("/admin/users/{}/frobnicate", bob.id),
        format!("/admin/clients/{}/frobnicate", client.id),
        "/admin/keys/revoke-no-such-key".to_owned(),
        "/admin/roles/roles/no-such-role/delete".to_owned(),
    ] {
        let response = admin
            .post(app.url(&path))
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "POST {path}");
    }
    // What exists still asks, with the action written by the builder.
    let confirm = page(
        &app,
        &admin,
        &format!("/admin/clients/{}/delete", client.id),
    )
    .await;
    assert!(confirm.contains(&format!("action=\"/admin/clients/{}/delete\"", client.id)));
}
