//! Authentication levels in administration: a client's minimum level set in the admin form and
//! the JSON API (shown, audited, enforced), and the admin console under the passkey policy:
//! `required-for-admins` sends an administrator without a passkey to add one, and one with a
//! passkey to confirm with it (in a browser too, coming back to the page that asked); a passkey is
//! a second factor, so TOTP is not demanded beside it.

use serde_json::json;

use super::api::{call, script};
use super::{admin_browser, redirected_to};
use crate::acr_levels::{give_passkey, on_localhost};
use crate::helpers::{TestApp, TestUser};
use crate::passkeys::browser::{add_passkey, password_sign_in, sign_out};
use crate::signin::{browser, page, password_step, sign_in, submit_from};
use crate::webdriver::{AuthenticatorOptions, Browser};

/// The form fields of a code-flow client named `name` requiring `min_level`.
fn fields<'a>(name: &'a str, min_level: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("name", name),
        ("client_type", "confidential"),
        ("grant_type", "authorization_code"),
        ("redirect_uris", "https://payroll.example.com/cb"),
        ("scopes", "openid profile"),
        ("min_level", min_level),
    ]
}

/// The `min_level` column of the client `id`.
async fn stored_level(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select min_level from clients where client_id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Where `path` sends `b` instead, and the page shown there.
async fn turned_away(app: &TestApp, b: &reqwest::Client, path: &str) -> (String, String) {
    let response = b.get(app.url(path)).send().await.unwrap();
    let to = redirected_to(&response);
    let shown = page(app, b, &to).await;
    (to, shown)
}

/// A browser with a virtual authenticator, where `user` signed in with their password (and
/// code) and added a passkey.
async fn with_a_passkey(app: &TestApp, user: &TestUser) -> Browser {
    let browser = Browser::start().await;
    browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    password_sign_in(&browser, app, user).await;
    add_passkey(&browser, app, "Laptop").await;
    browser
}

#[tokio::test]
async fn the_client_form_sets_shows_and_audits_the_minimum_level() {
    let app = TestApp::spawn().await;
    let (b, _) = admin_browser(&app).await;
    let new = "/admin/clients/new";
    let blank = page(&app, &b, new).await;
    assert!(
        blank.contains("<option value=\"password\" selected>"),
        "the lowest level by default: {blank}"
    );

    let created = submit_from(&app, &b, new, new, &fields("Payroll", "two-factor")).await;
    let here = redirected_to(&created);
    let id = here.rsplit('/').next().unwrap().to_owned();
    assert_eq!(stored_level(&app, &id).await, "two-factor");
    let shown = page(&app, &b, &here).await;
    assert!(
        shown.contains("at least a password and a second factor (<code>two-factor</code>)"),
        "{shown}"
    );
    let edit = format!("{here}/edit");
    let form = page(&app, &b, &edit).await;
    assert!(
        form.contains("<option value=\"two-factor\" selected>"),
        "{form}"
    );

    let saved = submit_from(
        &app,
        &b,
        &edit,
        &edit,
        &fields("Payroll", "phishing-resistant"),
    )
    .await;
    assert_eq!(redirected_to(&saved), here);
    assert_eq!(stored_level(&app, &id).await, "phishing-resistant");
    let audited: Vec<serde_json::Value> = sqlx::query_scalar(
        "select details->'min_level' from audit_events \
         where target = $1 and event in ('client.created', 'client.updated') order by id",
    )
    .bind(&id)
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(audited, [json!("two-factor"), json!("phishing-resistant")]);

    // A level that does not exist comes back with the form, and changes nothing.
    let refused = submit_from(&app, &b, &edit, &edit, &fields("Payroll", "strong")).await;
    assert_eq!(refused.status(), 400);
    let text = refused.text().await.unwrap();
    assert!(text.contains("not a sign-in level"), "{text}");
    assert_eq!(stored_level(&app, &id).await, "phishing-resistant");
}

#[tokio::test]
async fn the_admin_api_reads_and_writes_the_minimum_level() {
    let app = TestApp::spawn().await;
    let (_, token) = script(&app).await;
    let body = json!({
        "name": "Payroll",
        "redirect_uris": ["https://payroll.example.com/cb"],
        "min_level": "urn:portcullis:acr:mfa",
    });
    let (status, created) = call(&app, &token, reqwest::Method::POST, "/clients", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/clients/{}", created["client_id"].as_str().unwrap());
    let (_, client) = call(&app, &token, reqwest::Method::GET, &path, None).await;
    assert_eq!(client["min_level"], "two-factor");

    let body = json!({
        "name": "Payroll",
        "redirect_uris": ["https://payroll.example.com/cb"],
        "min_level": "gold",
    });
    let (status, answer) = call(&app, &token, reqwest::Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 400, "{answer}");
    // Replacing the settings without a minimum sets the lowest.
    let body = json!({ "name": "Payroll", "redirect_uris": ["https://payroll.example.com/cb"] });
    let (status, _) = call(&app, &token, reqwest::Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 204);
    let (_, client) = call(&app, &token, reqwest::Method::GET, &path, None).await;
    assert_eq!(client["min_level"], "password");
}

#[tokio::test]
async fn under_required_for_admins_an_admin_with_totp_only_is_sent_to_add_a_passkey() {
    let app = on_localhost("required-for-admins").await;
    let root = app.admin("root").await;
    let b = browser();
    // Signed in with a password and a code: not phishing-resistant.
    sign_in(&app, &b, &root).await;
    let (to, shown) = turned_away(&app, &b, "/admin/clients").await;
    assert_eq!(to, "/account/passkeys");
    assert!(shown.contains("Administrators need a passkey."), "{shown}");

    // With a passkey: confirm with it, and come back to the page that asked.
    give_passkey(&app, &root).await;
    let response = b.get(app.url("/admin/clients")).send().await.unwrap();
    assert_eq!(redirected_to(&response), "/login/passkey");

    // Applications are not affected by this policy.
    let notes = app.client("Notes", false, true).await;
    let back = crate::signin::onwards(
        &app,
        &b,
        crate::signin::visit(
            &app,
            &b,
            "/authorize",
            &crate::signin::authorize_query(&notes, "openid"),
        )
        .await,
    )
    .await;
    assert!(back.contains("code="), "{back}");
}

#[tokio::test]
async fn an_admin_whose_second_factor_is_a_passkey_is_not_sent_to_set_up_totp() {
    let app = on_localhost("optional").await;
    let root = app.person("root", false, true).await;
    let b = browser();
    sign_in(&app, &b, &root).await;
    let (to, setup) = turned_away(&app, &b, "/admin").await;
    assert_eq!(to, "/account/totp");
    assert!(setup.contains("(or add a passkey)"), "{setup}");

    // With a passkey (added after this password-only sign-in): sign in again, and the password
    // now leads to the second factor, the passkey.
    give_passkey(&app, &root).await;
    let response = b.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(redirected_to(&response), "/login");
    let response = password_step(&app, &b, &root).await;
    assert!(redirected_to(&response).starts_with("/login/mfa"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_admin_confirms_with_a_passkey_and_comes_back_to_the_page() {
    let app = on_localhost("required-for-admins").await;
    let root = app.admin("root").await;
    let browser = with_a_passkey(&app, &root).await;

    // Signed in with a password and a code: the console asks for the passkey first.
    browser.goto(&app.url("/admin/clients")).await;
    assert!(browser.url().await.ends_with("/login/passkey"));
    let asked = browser.source().await;
    assert!(
        asked.contains("Confirm it is you with a passkey."),
        "{asked}"
    );
    browser.screenshot("passkeys-admin-confirm").await;
    browser
        .click_to("form[data-passkey=confirm] button", "/admin/clients")
        .await;
    assert!(browser.source().await.contains("<h1>Clients</h1>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_admin_whose_second_factor_is_a_passkey_needs_no_totp() {
    let app = on_localhost("optional").await;
    let root = app.person("root", false, true).await;
    let browser = with_a_passkey(&app, &root).await;
    sign_out(&browser, &app).await;

    // The passkey alone, from the username field's autofill (the virtual device answers at once).
    browser.goto(&app.url("/login")).await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "signed in with the passkey",
        || async { browser.url().await.ends_with("/account").then_some(()) },
    )
    .await;
    browser.goto(&app.url("/admin")).await;
    assert!(
        browser.url().await.ends_with("/admin"),
        "not sent to set up TOTP"
    );
    assert_eq!(stored_totp(&app, root.id).await, None);
}

/// The sealed TOTP secret of user `id`, if any.
async fn stored_totp(app: &TestApp, id: uuid::Uuid) -> Option<String> {
    sqlx::query_scalar("select totp_secret_sealed from users where id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}
