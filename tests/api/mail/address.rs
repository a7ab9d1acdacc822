//! Addresses and their confirmation, as a person, an administrator and a relying party see them
//! with a real SMTP server: the link a new address gets, the page it opens (which uses nothing)
//! and its button (which uses the link once), `email_verified` in ID tokens and userinfo, changing
//! the address on the account page (a link to the new one, word to the old one), the purpose a
//! link is bound to, resending within its limit, and the security notices with their headers.

mod admin;
mod browser;
mod links;
mod notices;

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Settings, TestApp, TestClient, TestUser, csrf, eventually, location};
use portcullis::mail::links::Purpose;

use crate::mailbox::{Mail, Mailbox};
use crate::signin::{authorize, browser, page, payload, redeem, sign_in, submit_from};

/// How long a mail may take to arrive.
pub const WAIT: Duration = Duration::from_secs(15);

/// An app that sends mail to a fresh mailbox.
pub async fn mail_app(settings: Settings) -> (Mailbox, TestApp) {
    let mailbox = Mailbox::start().await;
    let app = settings.with_mail(&mailbox).spawn().await;
    (mailbox, app)
}

/// The address a test user is made with.
pub fn address_of(user: &TestUser) -> String {
    format!("{}@example.com", user.username)
}

/// The confirmation link in `mail`, checked to be under the issuer.
pub fn verify_link(app: &TestApp, mail: &Mail) -> String {
    let link = mail.link("/email/verify").expect("a confirmation link");
    assert!(
        link.starts_with(&format!("{}/email/verify?token=", app.address)),
        "{link}"
    );
    link
}

/// Marks the user's address confirmed directly (tests that are about something else).
pub async fn mark_verified(app: &TestApp, user: &TestUser) {
    sqlx::query("update users set email_verified_at = now() where id = $1")
        .bind(user.id)
        .execute(&app.state.db)
        .await
        .unwrap();
}

/// A link of `purpose` for `user`'s address made directly, as the outbox worker makes one; its
/// token.
pub async fn make_link(app: &TestApp, user: &TestUser, purpose: Purpose) -> String {
    let mut conn = app.state.db.acquire().await.unwrap();
    let address = address_of(user);
    let token = portcullis::mail::links::make(&mut conn, user.id, purpose, Some(&address))
        .await
        .unwrap();
    token.expose().clone()
}

/// Waits until the outbox has nothing left to send.
pub async fn outbox_idle(app: &TestApp) {
    eventually(WAIT, "the outbox is empty", || async {
        let due: i64 = sqlx::query_scalar(
            "select count(*) from outbox where sent_at is null and failed_at is null",
        )
        .fetch_one(&app.state.db)
        .await
        .unwrap();
        (due == 0).then_some(())
    })
    .await;
}

/// The ID token's claims and the userinfo answer for `user`, from a new sign-in of `client`.
async fn claims(app: &TestApp, client: &TestClient, user: &TestUser) -> (Value, Value) {
    let back = authorize(app, &browser(), client, user, "openid email").await;
    let code = crate::helpers::query_param(&back, "code").unwrap();
    let response = redeem(app, client, &code).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let id_token = payload(tokens["id_token"].as_str().unwrap());
    let userinfo: Value = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id_token, userinfo)
}

/// `email_verified` as the ID token and userinfo say it (they must agree), with the address.
async fn verified_claim(app: &TestApp, client: &TestClient, user: &TestUser) -> (String, bool) {
    let (id_token, userinfo) = claims(app, client, user).await;
    assert_eq!(
        id_token["email"], userinfo["email"],
        "{id_token} {userinfo}"
    );
    assert_eq!(
        id_token["email_verified"], userinfo["email_verified"],
        "{id_token} {userinfo}"
    );
    let verified = id_token["email_verified"].as_bool().expect("a boolean");
    (id_token["email"].as_str().unwrap().to_owned(), verified)
}

/// Opens `link` in a fresh browser (the page with the button: nothing used) and presses the
/// button; the status and text of the answer.
pub async fn confirm(app: &TestApp, link: &str) -> (u16, String) {
    let b = browser();
    let shown = b.get(link).send().await.unwrap();
    let status = shown.status().as_u16();
    let html = shown.text().await.unwrap();
    if status != 200 {
        return (status, html);
    }
    let token = crate::helpers::query_param(link, "token").unwrap();
    assert!(html.contains("Confirm your email address"), "{html}");
    assert!(
        html.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{html}"
    );
    post_token(app, &b, &html, &token).await
}

/// Posts `token` to the confirmation form as `b`, with the CSRF token of `form_page`.
async fn post_token(
    app: &TestApp,
    b: &reqwest::Client,
    form_page: &str,
    token: &str,
) -> (u16, String) {
    let response = b
        .post(app.url("/email/verify"))
        .form(&[("csrf", csrf(form_page).as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Posts `token` to the confirmation form from a fresh browser that never opened the link.
pub async fn press(app: &TestApp, token: &str) -> (u16, String) {
    let b = browser();
    let login = page(app, &b, "/login").await;
    post_token(app, &b, &login, token).await
}

pub async fn verified_at_is_set(app: &TestApp, id: uuid::Uuid) -> bool {
    sqlx::query_scalar("select email_verified_at is not null from users where id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_address_an_admin_gives_is_confirmed_by_its_link_once_and_only_by_the_button() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let (admin, _) = crate::admin::admin_browser(&app).await;
    let password = "Larch-Tuesday-Orbit-5";
    let fields = [
        ("username", "hedda"),
        ("email", "hedda@example.com"),
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
    let user_page = crate::admin::redirected_to(&response);
    let hedda = TestUser {
        id: user_page.rsplit('/').next().unwrap().parse().unwrap(),
        username: "hedda".into(),
        password: password.into(),
        totp: None,
    };
    let mail = mailbox.wait_for_to("hedda@example.com", WAIT).await;
    assert!(
        mail.subject.starts_with("Confirm your email address for "),
        "{}",
        mail.subject
    );
    let link = verify_link(&app, &mail);
    let shown = page(&app, &admin, &user_page).await;
    assert!(shown.contains("hedda@example.com") && shown.contains("not confirmed"));

    let client = app.client("Notes", false, true).await;
    assert_eq!(
        verified_claim(&app, &client, &hedda).await,
        ("hedda@example.com".into(), false)
    );

    // Opening the link (as a mail scanner would, twice) uses nothing.
    for _ in 0..2 {
        let opened = browser().get(&link).send().await.unwrap();
        assert_eq!(opened.status(), 200);
        assert!(opened.text().await.unwrap().contains("Confirm my address"));
    }
    assert!(!verified_at_is_set(&app, hedda.id).await);
    assert!(
        !verified_claim(&app, &client, &hedda).await.1,
        "still not confirmed after opening the link"
    );

    let (status, html) = confirm(&app, &link).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Your address <strong>hedda@example.com</strong> is confirmed"),
        "{html}"
    );
    assert!(html.contains("href=\"/account\""));
    assert_eq!(
        verified_claim(&app, &client, &hedda).await,
        ("hedda@example.com".into(), true)
    );
    let shown = page(&app, &admin, &user_page).await;
    assert!(shown.contains(">confirmed<"), "{shown}");

    // The same link again: a clear page, a 4xx, nothing else.
    let (status, html) = confirm(&app, &link).await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("This link cannot be used"), "{html}");
    let token = crate::helpers::query_param(&link, "token").unwrap();
    let (status, html) = press(&app, &token).await;
    assert_eq!(status, 404);
    assert!(html.contains("This link cannot be used"), "{html}");
    let events: i64 =
        sqlx::query_scalar("select count(*) from audit_events where event = 'email.verified'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_changed_address_gets_a_link_the_old_one_is_told_and_its_earlier_link_is_dead() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let nina = app.user("nina", false).await;
    app.user("taken", false).await;
    let old = address_of(&nina);
    let earlier = verify_link(&app, &mailbox.wait_for_to(&old, WAIT).await);
    mark_verified(&app, &nina).await;
    let client = app.client("Notes", false, true).await;
    assert_eq!(
        verified_claim(&app, &client, &nina).await,
        (old.clone(), true)
    );

    let b = browser();
    sign_in(&app, &b, &nina).await;
    let overview = page(&app, &b, "/account").await;
    assert!(
        overview.contains("Email address")
            && overview.contains(&old)
            && overview.contains(">confirmed<"),
        "{overview}"
    );
    // No second factor: the current password is asked, and checked.
    let change = |email: &'static str, current: String| {
        let (app, b) = (&app, &b);
        async move {
            let fields = [
                ("email", email),
                ("current", current.as_str()),
                ("action", "change"),
            ];
            let response = submit_from(app, b, "/account", "/account/email", &fields).await;
            assert_eq!(location(&response), "/account");
            page(app, b, "/account").await
        }
    };
    let shown = change("nina.new@example.com", "not-the-password".into()).await;
    assert!(
        shown.contains("The password is not correct; nothing was changed."),
        "{shown}"
    );
    let shown = change("TAKEN@example.com", nina.password.clone()).await;
    assert!(
        shown.contains("Nothing changed: another account already has this email address."),
        "{shown}"
    );
    let shown = change("not an address", nina.password.clone()).await;
    assert!(
        shown.contains("Nothing changed: enter an email address"),
        "{shown}"
    );
    assert_eq!(
        verified_claim(&app, &client, &nina).await,
        (old.clone(), true)
    );

    let shown = change("nina.new@example.com", nina.password.clone()).await;
    assert!(
        shown.contains("Your address is now nina.new@example.com."),
        "{shown}"
    );
    assert!(
        shown.contains("not confirmed yet") && shown.contains("Send the confirmation link again")
    );
    let told = mailbox
        .wait_for(|m| m.is_to(&old) && m.subject.contains("was changed"), WAIT)
        .await;
    assert!(
        told.subject
            .starts_with("The email address of your account at ")
    );
    assert!(told.text.contains("nina.new@example.com"), "{}", told.text);
    assert_eq!(
        told.link("/email/verify"),
        None,
        "word to the old address has no link"
    );
    let fresh = verify_link(
        &app,
        &mailbox.wait_for_to("nina.new@example.com", WAIT).await,
    );
    assert_eq!(
        verified_claim(&app, &client, &nina).await,
        ("nina.new@example.com".into(), false)
    );

    // The old address's link confirms nothing now, not even the new address.
    let (status, html) = confirm(&app, &earlier).await;
    assert_eq!(status, 404, "{html}");
    assert!(!verified_at_is_set(&app, nina.id).await);
    let (status, _) = confirm(&app, &fresh).await;
    assert_eq!(status, 200);
    assert_eq!(
        verified_claim(&app, &client, &nina).await,
        ("nina.new@example.com".into(), true)
    );

    // Removing the address tells the (confirmed) address it had.
    let fields = [("current", nina.password.as_str()), ("action", "remove")];
    let response = submit_from(&app, &b, "/account", "/account/email", &fields).await;
    assert_eq!(location(&response), "/account");
    let shown = page(&app, &b, "/account").await;
    assert!(shown.contains("Your email address was removed."), "{shown}");
    mailbox
        .wait_for(
            |m| m.is_to("nina.new@example.com") && m.subject.contains("was changed"),
            WAIT,
        )
        .await;
}

#[tokio::test]
async fn with_a_second_factor_the_change_needs_it_entered_recently() {
    let (mailbox, app) =
        mail_app(Settings::new().await.set("PORTCULLIS_ADMIN_STEP_UP", "4s")).await;
    let olaf = app.user("olaf", true).await;
    let b = browser();
    sign_in(&app, &b, &olaf).await;
    // Just signed in with the second factor: no password needed.
    let overview = page(&app, &b, "/account").await;
    assert!(!overview.contains("email-current"), "{overview}");
    let fields = [("email", "olaf.one@example.com"), ("action", "change")];
    let response = submit_from(&app, &b, "/account", "/account/email", &fields).await;
    assert_eq!(location(&response), "/account");
    mailbox.wait_for_to("olaf.one@example.com", WAIT).await;

    tokio::time::sleep(Duration::from_millis(4200)).await;
    let overview = page(&app, &b, "/account").await;
    assert!(
        overview.contains("first confirm it is you with your second factor"),
        "{overview}"
    );
    // A form posted anyway (from an old page) is sent to enter the second factor; nothing changes.
    let fields = [
        ("email", "olaf.two@example.com"),
        ("action", "change"),
        ("current", olaf.password.as_str()),
    ];
    let response = submit_from(&app, &b, "/account", "/account/email", &fields).await;
    assert_eq!(location(&response), "/login/mfa");
    let email: String = sqlx::query_scalar("select email from users where id = $1")
        .bind(olaf.id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(email, "olaf.one@example.com");
    let response = submit_from(&app, &b, "/account", "/account/email/confirm", &[]).await;
    assert_eq!(location(&response), "/login/mfa");

    // Entering it again comes back to the account page, where the change now goes through.
    let code = crate::limits::code_at(olaf.totp.as_deref().unwrap(), 30);
    let back = crate::signin::submit(&app, &b, "/login/mfa", &[("code", &code)]).await;
    assert_eq!(location(&back), "/account");
    let fields = [("email", "olaf.two@example.com"), ("action", "change")];
    let response = submit_from(&app, &b, "/account", "/account/email", &fields).await;
    assert_eq!(location(&response), "/account");
    let shown = page(&app, &b, "/account").await;
    assert!(
        shown.contains("Your address is now olaf.two@example.com."),
        "{shown}"
    );
}
