//! A forgotten password in a real browser (headless Chromium), from the sign-in page's link to
//! signing in with the new password; every page is saved under `target/artifacts/screenshots/`
//! (`reset-*.png`).

use super::reset::{NEW, address, reset_mail, with_mail};
use crate::webdriver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reset_in_chromium_from_the_sign_in_page_to_a_new_password() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    let browser = Browser::start().await;

    browser.goto(&app.url("/login")).await;
    browser.screenshot("reset-01-sign-in").await;
    browser
        .click_to("a[href='/password/forgot']", "/password/forgot")
        .await;
    browser.screenshot("reset-02-forgot").await;
    browser
        .click_until_text(
            "button[type=submit]",
            "Enter your username or email address.",
        )
        .await;
    browser.screenshot("reset-03-forgot-empty").await;
    browser.type_into("#username", "alice").await;
    browser
        .click_to("button[type=submit]", "/password/forgot?sent=1")
        .await;
    browser.screenshot("reset-04-sent").await;

    let mail = reset_mail(&mailbox, &address(&alice)).await;
    let link = mail.link("/password/reset").unwrap();
    browser.goto(&link).await;
    browser.screenshot("reset-05-choose").await;
    browser.type_into("#new", NEW).await;
    browser.type_into("#confirm", "not the same").await;
    browser
        .click_until_text("button[type=submit]", "The new passwords do not match.")
        .await;
    browser.screenshot("reset-06-mismatch").await;
    browser.type_into("#new", "password").await;
    browser.type_into("#confirm", "password").await;
    browser
        .click_until_text("button[type=submit]", "too easy to guess")
        .await;
    browser.screenshot("reset-07-weak").await;
    browser.type_into("#new", NEW).await;
    browser.type_into("#confirm", NEW).await;
    browser.click_to("button[type=submit]", "/login").await;
    browser
        .wait_for_text("Your password was changed. Sign in with it.")
        .await;
    browser.screenshot("reset-08-changed").await;

    browser.type_into("#username", "alice").await;
    browser.type_into("#password", NEW).await;
    browser.click_to("button[type=submit]", "/account").await;

    browser.goto(&link).await;
    browser.wait_for_text("This link cannot be used").await;
    browser.screenshot("reset-09-used").await;
    let token = crate::helpers::query_param(&link, "token").unwrap();
    // An expired link: one more, made to expire.
    let pool = app.db.pool().await;
    let mut conn = pool.acquire().await.unwrap();
    let fresh = portcullis::mail::links::make(
        &mut conn,
        alice.id,
        portcullis::mail::links::Purpose::Reset,
        None,
    )
    .await
    .unwrap();
    sqlx::query("update mail_links set expires_at = now() - interval '1 second'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_ne!(fresh.expose(), &token);
    browser
        .goto(&app.url(&format!("/password/reset?token={}", fresh.expose())))
        .await;
    browser.wait_for_text("This link has expired").await;
    browser.screenshot("reset-10-expired").await;

    // Two more links for alice, then the per-name limit.
    for expected in [
        "Check your mail",
        "Check your mail",
        "Please try again later",
    ] {
        browser.goto(&app.url("/password/forgot")).await;
        browser.type_into("#username", "alice").await;
        browser
            .click_until_text("button[type=submit]", expected)
            .await;
    }
    browser.screenshot("reset-11-throttled").await;
    browser.quit().await;
}
