//! The address pages in headless Chromium, saved as screenshots under
//! `target/artifacts/screenshots/` (`mail-*`): the account page's address section, sending the
//! link again, the page a link opens and what its button leads to, a used and an expired link,
//! and the address on the admin user page.

use portcullis::mail::links::Purpose;

use super::{WAIT, address_of, mail_app, make_link, verify_link};
use crate::helpers::{Settings, TestUser};
use crate::webdriver::Browser;

/// The Enter key, as WebDriver types it (WebDriver §17.4.2, the "\u{E007}" code point).
const ENTER: &str = "\u{E007}";

/// Signs `user` in from the login page (password, then the code if enrolled).
async fn sign_in(browser: &Browser, app_url: &str, user: &TestUser) {
    browser.goto(&format!("{app_url}/login")).await;
    browser.type_into("#username", &user.username).await;
    browser.type_into("#password", &user.password).await;
    if user.totp.is_some() {
        browser.click_to("button[type=submit]", "/login/mfa").await;
        browser.type_into("#code", &user.code()).await;
    }
    browser.click_to("button[type=submit]", "/account").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_pages_in_chromium() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let alice = app.user("alice", false).await;
    let first = mailbox.wait_for_to(&address_of(&alice), WAIT).await;

    let browser = Browser::start_sized(900, 1300).await;
    sign_in(&browser, &app.address, &alice).await;
    let html = browser.source().await;
    assert!(html.contains("not confirmed yet"), "{html}");
    browser.screenshot("mail-01-account-address").await;
    browser
        .click_until_text(
            "form[action='/account/email/resend'] button",
            "A new confirmation link is on its way",
        )
        .await;
    // By keyboard: Enter on the summary opens the form.
    browser
        .type_into("#email-heading ~ details summary", ENTER)
        .await;
    let open = browser
        .execute(
            "return document.querySelector('#email-heading ~ details').open",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(open, serde_json::json!(true), "Enter opens the form");
    browser
        .screenshot("mail-02-account-resent-and-change-form")
        .await;

    let latest = mailbox
        .wait_for(
            |m| m.is_to(&address_of(&alice)) && m.text != first.text,
            WAIT,
        )
        .await;
    let link = verify_link(&app, &latest);
    browser.goto(&link).await;
    browser.wait_for_text("Confirm my address").await;
    browser.screenshot("mail-03-verify").await;
    // The button has the focus: Enter presses it.
    browser.type_into("button[type=submit]", ENTER).await;
    browser.wait_for_text("is confirmed").await;
    browser.screenshot("mail-04-verified").await;
    browser.goto(&link).await;
    browser.wait_for_text("This link cannot be used").await;
    browser.screenshot("mail-05-link-used").await;

    let token = make_link(&app, &alice, Purpose::Verify).await;
    sqlx::query("update mail_links set expires_at = now() - interval '1 minute'")
        .execute(&app.state.db)
        .await
        .unwrap();
    let expired = portcullis::urls::mail::link(&app.address, Purpose::Verify, &token);
    browser.goto(&expired).await;
    browser.wait_for_text("This link has expired").await;
    browser.screenshot("mail-06-link-expired").await;

    browser.goto(&app.url("/account")).await;
    browser.wait_for_text("confirmed").await;
    browser.screenshot("mail-07-account-confirmed").await;
    browser.quit().await;

    let root = app.admin("root").await;
    let admin = Browser::start_sized(1100, 1300).await;
    sign_in(&admin, &app.address, &root).await;
    admin
        .goto(&app.url(&format!("/admin/users/{}", alice.id)))
        .await;
    admin.wait_for_text("Email address").await;
    admin.screenshot("mail-08-admin-user").await;
    admin.quit().await;
}
