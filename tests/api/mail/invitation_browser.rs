//! Invitations in headless Chromium: the invited person opens the link from the mail (read from
//! the SMTP server) and sets up the account with a passkey on a virtual authenticator, then signs
//! in to an application with it alone; another opens their link and chooses a password. Every
//! page is saved as a screenshot.

use serde_json::json;

use crate::helpers::Settings;
use crate::mailbox::Mailbox;
use crate::passkeys::browser::{RelyingParty, sign_out};
use crate::webdriver::{AuthenticatorOptions, Browser};

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_sets_up_a_passkey_from_the_mailed_link() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new()
        .await
        .set_localhost_issuer()
        .with_mail(&mailbox)
        .spawn()
        .await;
    let rp = RelyingParty::register(&app).await;
    let (_, admin) = crate::admin::api::script(&app).await;
    let body = json!({ "email": "jo@example.com", "username": "jo", "name": "Jo" });
    let (status, created) =
        crate::admin::api::call(&app, &admin, reqwest::Method::POST, "/users", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let mail = mailbox.wait_for_to("jo@example.com", WAIT).await;
    assert!(mail.text.starts_with("Hello Jo,"), "{}", mail.text);
    let html = mail.html.clone().expect("an HTML part");
    let link = mail.link("/invitation").expect("a link");
    assert!(html.contains("Set up my account"));

    let browser = Browser::start().await;
    let device = browser
        .add_virtual_authenticator(&AuthenticatorOptions::synced())
        .await;
    browser.goto(&link).await;
    assert!(browser.source().await.contains("invited as"));
    browser.screenshot("invitation-01-choose").await;
    browser.clear("#passkey-name").await;
    browser.type_into("#passkey-name", "Phone").await;
    browser
        .click_to("form[data-passkey=register] button", "/account")
        .await;
    assert!(
        browser
            .source()
            .await
            .contains("Welcome. Your account is ready.")
    );
    browser.screenshot("invitation-02-welcome").await;
    assert_eq!(browser.credentials(&device).await.len(), 1);
    let verified: bool = sqlx::query_scalar(
        "select email_verified_at is not null and password_hash is null from users where username = 'jo'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert!(verified, "passkey-only, and the address confirmed");

    // The same link again: used.
    browser.goto(&link).await;
    assert!(browser.source().await.contains("cannot be used"));
    browser.screenshot("invitation-03-used").await;

    // The application gets a phishing-resistant sign-in with the passkey alone.
    sign_out(&browser, &app).await;
    let signed_in = rp.sign_in(&browser, None, async |_| {}).await;
    assert_eq!(signed_in.amr, ["swk", "user", "mfa"]);
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_chooses_a_password_in_the_browser() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let (_, admin) = crate::admin::api::script(&app).await;
    let body = json!({ "email": "kim@example.com" });
    let (status, _) =
        crate::admin::api::call(&app, &admin, reqwest::Method::POST, "/users", Some(body)).await;
    assert_eq!(status, 201);
    let link = mailbox
        .wait_for_to("kim@example.com", WAIT)
        .await
        .link("/invitation")
        .unwrap();
    let browser = Browser::start().await;
    browser.goto(&link).await;
    let page = browser.source().await;
    assert!(
        !page.contains("With a passkey") || page.contains("hidden"),
        "no passkeys on an IP issuer"
    );
    browser.type_into("#new", "a long new passphrase 42").await;
    browser
        .type_into("#confirm", "a long new passphrase 41")
        .await;
    browser
        .click_until_text("form:not([data-passkey]) button", "do not match")
        .await;
    browser.screenshot("invitation-04-mismatch").await;
    browser.type_into("#new", "a long new passphrase 42").await;
    browser
        .type_into("#confirm", "a long new passphrase 42")
        .await;
    browser
        .click_to("form:not([data-passkey]) button", "/account")
        .await;
    assert!(browser.source().await.contains("kim@example.com"));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_invites_from_the_form_and_sees_the_mail_in_the_outbox() {
    let mut mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let root = app.admin("root").await;
    let browser = Browser::start().await;
    crate::passkeys::browser::password_sign_in(&browser, &app, &root).await;
    browser.goto(&app.url("/admin/users/new")).await;
    browser.screenshot("invitation-05-admin-form").await;
    browser.type_into("#email", "lee@example.com").await;
    browser.type_into("#name", "Lee").await;
    browser
        .click_until_text(
            "form[action='/admin/users/new'] button[type=submit]",
            "The invitation is on its way",
        )
        .await;
    let mail = mailbox.wait_for_to("lee@example.com", WAIT).await;
    assert!(mail.subject.starts_with("You are invited to"));

    // A mail that cannot go out yet is listed as waiting, with the server's answer.
    mailbox.stop().await;
    browser.goto(&app.url("/admin/users/new")).await;
    browser.type_into("#email", "max@example.com").await;
    browser
        .click_until_text(
            "form[action='/admin/users/new'] button[type=submit]",
            "The invitation is on its way",
        )
        .await;
    crate::helpers::eventually(WAIT, "the first attempt failed", || async {
        let attempts: i32 =
            sqlx::query_scalar("select attempts from outbox where recipient = 'max@example.com'")
                .fetch_one(&app.state.db)
                .await
                .unwrap();
        (attempts > 0).then_some(())
    })
    .await;
    browser.goto(&app.url("/admin/outbox")).await;
    let page = browser.source().await;
    assert!(
        page.contains("lee@example.com") && page.contains("sent"),
        "{page}"
    );
    assert!(
        page.contains("max@example.com") && page.contains("waiting"),
        "{page}"
    );
    assert!(
        page.contains("Connection refused"),
        "the server's answer is shown"
    );
    assert!(!page.contains("token="), "no link is ever shown");
    browser.screenshot("invitation-06-admin-outbox").await;
    browser.quit().await;
}
