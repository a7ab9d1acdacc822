//! Security notices: a short mail to the confirmed address when the password or the second
//! factor changes or an administrator disables the account; none to an address not confirmed;
//! and a display name cannot add a header or a recipient.

use super::{WAIT, address_of, mail_app, mark_verified, outbox_idle};
use crate::account::secret_on_page;
use crate::helpers::{Settings, TestApp, TestUser, location, totp_now};
use crate::mailbox::{Mail, Mailbox};
use crate::signin::{browser, page, sign_in, submit, submit_from};

/// The notice to `user` whose subject starts with `subject`.
async fn notice(mailbox: &Mailbox, user: &TestUser, subject: &'static str) -> Mail {
    let to = address_of(user);
    let mail = mailbox
        .wait_for(|m| m.is_to(&to) && m.subject.starts_with(subject), WAIT)
        .await;
    assert!(
        mail.subject.ends_with(')'),
        "names the site: {}",
        mail.subject
    );
    assert!(mail.text.contains("on your account at"), "{}", mail.text);
    assert!(mail.text.len() < 1200, "short: {}", mail.text);
    assert_eq!(mail.link("/"), None, "a notice has no link");
    mail
}

/// Disables `user` through the admin API.
async fn disable(app: &TestApp, token: &str, user: &TestUser) {
    let path = format!("/users/{}/disabled", user.id);
    let body = serde_json::json!({"value": true});
    let (status, body) =
        crate::admin::api::call(app, token, reqwest::Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 204, "{body}");
}

/// Changes the password on the account page.
async fn change_password(app: &TestApp, b: &reqwest::Client, user: &TestUser, new: &str) {
    let fields = [
        ("current", user.password.as_str()),
        ("new", new),
        ("confirm", new),
    ];
    let response = submit(app, b, "/account/password", &fields).await;
    assert_eq!(location(&response), "/account");
}

#[tokio::test]
async fn a_confirmed_address_hears_of_each_security_change_and_an_unconfirmed_one_of_none() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let (_, token) = crate::admin::api::script(&app).await;
    let vera = app.user("vera", false).await;
    let walt = app.user("walt", false).await;
    mark_verified(&app, &vera).await;

    // Walt's address is not confirmed: the same changes send him nothing.
    let b = browser();
    sign_in(&app, &b, &walt).await;
    change_password(&app, &b, &walt, "copper kettle sings twice").await;
    disable(&app, &token, &walt).await;

    let b = browser();
    sign_in(&app, &b, &vera).await;
    let new = "larch tuesday orbit five";
    change_password(&app, &b, &vera, new).await;
    notice(&mailbox, &vera, "Your password was changed (").await;

    let secret = secret_on_page(&page(&app, &b, "/account/totp").await);
    let response = submit(&app, &b, "/account/totp", &[("code", &totp_now(&secret))]).await;
    assert_eq!(location(&response), "/account/recovery-codes");
    notice(&mailbox, &vera, "A second factor was added (").await;

    let next = crate::limits::code_at(&secret, 30);
    let fields = [("password", new), ("code", next.as_str())];
    let response = submit_from(&app, &b, "/account", "/account/totp/remove", &fields).await;
    assert_eq!(location(&response), "/account");
    assert!(
        page(&app, &b, "/account")
            .await
            .contains("Two-step verification is off.")
    );
    notice(&mailbox, &vera, "A second factor was removed (").await;

    disable(&app, &token, &vera).await;
    notice(&mailbox, &vera, "Your account was disabled (").await;

    outbox_idle(&app).await;
    assert_eq!(
        mailbox.count_to(&address_of(&vera)),
        1 + 4,
        "the link and four notices"
    );
    assert_eq!(mailbox.count_to(&address_of(&walt)), 1, "only the link");
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from outbox where recipient = $1 and topic like 'notice%'",
    )
    .bind(address_of(&walt))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(queued, 0);
}

#[tokio::test]
async fn a_display_name_cannot_add_a_header_or_a_recipient() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let (_, token) = crate::admin::api::script(&app).await;
    let eve = app.user("eve", false).await;
    mark_verified(&app, &eve).await;
    // Past the edge's check, as if written by an older version or by hand.
    sqlx::query("update users set name = $2 where id = $1")
        .bind(eve.id)
        .bind("Eve\r\nBcc: evil@example.com\r\nX-Injected: yes")
        .execute(&app.state.db)
        .await
        .unwrap();
    disable(&app, &token, &eve).await;
    let mail = notice(&mailbox, &eve, "Your account was disabled (").await;
    assert_eq!(mail.rcpt_tos, [address_of(&eve)]);
    assert!(mail.header("Bcc").is_empty(), "{}", mail.raw);
    assert!(mail.header("X-Injected").is_empty(), "{}", mail.raw);
    assert_eq!(mail.to_address(), address_of(&eve), "{}", mail.raw);
    for to in mail.header("To") {
        assert!(!to.contains("\nBcc") && !to.contains("\rBcc"), "{to:?}");
    }
    outbox_idle(&app).await;
    assert_eq!(mailbox.count_to("evil@example.com"), 0);
    assert!(mailbox.messages().iter().all(|m| m.rcpt_tos.len() == 1));
}
