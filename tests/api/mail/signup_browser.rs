//! Sign-up in a real browser (headless Chromium): the link on the sign-in page, the form (and a
//! refusal of it), "check your mail", the sign-in that waits for the address, the limit's page,
//! and the invitation form of the account page. Each page is saved as a screenshot under
//! `target/artifacts/screenshots/` (`signup-*`).

use std::time::Duration;

use crate::helpers::TestApp;
use crate::mailbox::Mailbox;
use crate::webdriver::Browser;

const PASSWORD: &str = "correct horse battery staple 7";

async fn app(mailbox: &Mailbox, mode: &str) -> TestApp {
    super::signup::app_with(mailbox, mode, Some("example.com, example.org")).await
}

/// Fills the sign-up form (open in `browser`) and sends it.
async fn fill(browser: &Browser, username: &str, email: &str) {
    for (css, text) in [
        ("#username", username),
        ("#email", email),
        ("#name", "Ada Lovelace"),
        ("#password", PASSWORD),
        ("#confirm", PASSWORD),
    ] {
        browser.clear(css).await;
        browser.type_into(css, text).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_up_in_chromium_and_waits_for_the_address() {
    let mailbox = Mailbox::start().await;
    let app = app(&mailbox, "open").await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/login")).await;
    browser.screenshot("signup-01-login-with-link").await;
    browser.click_to("a[href='/signup']", "/signup").await;
    fill(&browser, "ada", "ada@example.net").await;
    browser.screenshot("signup-02-form").await;
    browser
        .click_until_text("button[type=submit]", "can be used here")
        .await;
    browser.screenshot("signup-03-form-refused").await;

    fill(&browser, "ada", "ada@example.com").await;
    browser
        .click_until_text("button[type=submit]", "Check your mail")
        .await;
    assert!(browser.source().await.contains("ada@example.com"));
    browser.screenshot("signup-04-check-your-mail").await;
    mailbox
        .wait_for_to("ada@example.com", Duration::from_secs(30))
        .await;

    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", "ada").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click_to("form button[type=submit]", "/login/confirm-address")
        .await;
    assert!(
        browser
            .source()
            .await
            .contains("Confirm your email address first")
    );
    browser.screenshot("signup-05-sign-in-refused").await;
    browser
        .click_until_text("button[type=submit]", "We sent a new link")
        .await;
    browser.screenshot("signup-06-link-sent-again").await;

    // Four more from this address use up the limit; the sixth sees the page that says so.
    for i in 0..4 {
        browser.goto(&app.url("/signup")).await;
        fill(
            &browser,
            &format!("more{i}"),
            &format!("more{i}@example.org"),
        )
        .await;
        browser
            .click_until_text("button[type=submit]", "Check your mail")
            .await;
    }
    browser.goto(&app.url("/signup")).await;
    fill(&browser, "late", "late@example.org").await;
    browser
        .click_until_text("button[type=submit]", "Please wait")
        .await;
    browser.screenshot("signup-07-too-many").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_invites_someone_from_the_account_page_in_chromium() {
    let mailbox = Mailbox::start().await;
    let app = app(&mailbox, "invite").await;
    let member = app.user("mia", false).await;
    let browser = Browser::start_sized(900, 1400).await;
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", &member.username).await;
    browser.type_into("#password", &member.password).await;
    browser
        .click_to("form button[type=submit]", "/account")
        .await;
    browser
        .type_into("#invite-email", "friend@example.org")
        .await;
    browser.type_into("#invite-name", "A Friend").await;
    browser.screenshot("signup-08-account-invite-form").await;
    browser
        .click_until_text(
            "form[action='/account/invite'] button",
            "an invitation is on its way",
        )
        .await;
    browser.screenshot("signup-09-account-invited").await;
    mailbox
        .wait_for_to("friend@example.org", Duration::from_secs(30))
        .await;
    browser.quit().await;
}
