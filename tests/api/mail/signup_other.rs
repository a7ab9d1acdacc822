//! `PORTCULLIS_SIGNUP` off (the default: no sign-up page, no invitations by members) and
//! `invite`: a signed-in person invites others from the account page, as themselves, five a day,
//! within the allowed domains. And forms of the open page that make nothing: oversized fields,
//! refused at the edge, and invalid ones.

use super::signup::{PASSWORD, WAIT, app_with, queued_to, users_with_address};
use crate::helpers::{TestApp, location};
use crate::mailbox::Mailbox;
use crate::signin::{browser, page, sign_in, submit, submit_from};

#[tokio::test]
async fn signup_is_off_by_default_and_there_is_no_page() {
    let app = TestApp::spawn().await;
    let b = browser();
    let response = b
        .get(app.url("/signup"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
    let post = b
        .post(app.url("/signup"))
        .form(&[("username", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    assert!(!page(&app, &b, "/login").await.contains("Create an account"));
    // Nor can members invite.
    let user = app.user("olga", false).await;
    sign_in(&app, &b, &user).await;
    assert!(!page(&app, &b, "/account").await.contains("Invite someone"));
    let invite = b.post(app.url("/account/invite")).send().await.unwrap();
    assert_eq!(invite.status(), 404);
}

/// Invites `email` from the account page of the person signed in with `b`; the notice or
/// problem the account page shows next.
async fn invite(app: &TestApp, b: &reqwest::Client, email: &str) -> String {
    let fields = [("email", email), ("name", "A Friend")];
    let response = submit_from(app, b, "/account", "/account/invite", &fields).await;
    assert_eq!(location(&response), "/account");
    page(app, b, "/account").await
}

#[tokio::test]
async fn members_invite_five_people_a_day_within_the_allowed_domains() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "invite", Some("example.com")).await;
    let signup = browser().get(app.url("/signup")).send().await.unwrap();
    assert_eq!(signup.status(), 404, "the sign-up page stays closed");
    let member = app.user("mia", false).await;
    let b = browser();
    sign_in(&app, &b, &member).await;
    let account = page(&app, &b, "/account").await;
    assert!(
        account.contains("Invite someone") && account.contains("Only addresses at example.com.")
    );

    let outside = invite(&app, &b, "friend@example.org").await;
    assert!(
        outside.contains("Only addresses at example.com can be used here. Nobody was invited."),
        "{outside}"
    );
    assert_eq!(users_with_address(&app, "friend@example.org").await, 0);

    let first = invite(&app, &b, "friend1@example.com").await;
    assert!(
        first.contains(
            "If friend1@example.com has no account here yet, an invitation is on its way"
        ),
        "{first}"
    );
    let mail = mailbox.wait_for_to("friend1@example.com", WAIT).await;
    assert!(
        mail.subject.starts_with("You are invited to"),
        "{}",
        mail.subject
    );
    assert!(mail.link("/invitation").is_some(), "{}", mail.text);
    let (is_admin, actor): (bool, String) = sqlx::query_as(
        "select u.is_admin, a.actor from users u join audit_events a on a.target = u.id::text \
         and a.event = 'user.invited' where lower(u.email) = 'friend1@example.com'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert!(!is_admin);
    assert_eq!(
        actor,
        format!("user:{}", member.id),
        "sent by the member, not an administrator"
    );

    for i in 2..=5 {
        invite(&app, &b, &format!("friend{i}@example.com")).await;
    }
    let sixth = invite(&app, &b, "friend6@example.com").await;
    assert!(sixth.contains("as many as a day allows"), "{sixth}");
    assert_eq!(users_with_address(&app, "friend6@example.com").await, 0);
    assert_eq!(queued_to(&app, "friend6@example.com").await, 0);
    for i in 2..=5 {
        mailbox
            .wait_for_to(&format!("friend{i}@example.com"), WAIT)
            .await;
    }
}

#[tokio::test]
async fn oversized_or_invalid_fields_create_nothing() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", None).await;
    let long = |n: usize| "a".repeat(n);
    let (name, email, password) = (long(801), format!("{}@example.com", long(250)), long(1025));
    for (field, value) in [
        ("username", long(255)),
        ("email", email),
        ("name", name),
        ("password", password.clone()),
        ("confirm", password),
        ("name", long(100 * 1024)),
    ] {
        let mut fields = vec![
            ("username", "ada".to_owned()),
            ("email", "ada@example.com".to_owned()),
            ("password", PASSWORD.to_owned()),
            ("confirm", PASSWORD.to_owned()),
        ];
        let expected = if value.len() > 64 * 1024 { 413 } else { 400 };
        fields.retain(|(name, _)| *name != field);
        fields.push((field, value));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = submit(&app, &browser(), "/signup", &fields).await;
        // 400 from the edge, before the handler (whose own refusals are 422), or 413 for a body
        // over 64 KiB.
        assert_eq!(response.status(), expected, "{field}");
    }
    for (field, value, says) in [
        ("username", "has space", "Choose a username"),
        ("email", "not-an-address", "Enter your email address"),
        ("confirm", "something else 42", "The passwords do not match"),
        ("password", "password", "too easy to guess"),
    ] {
        let mut fields = vec![
            ("username", "ada"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ];
        if field == "password" {
            fields.retain(|(name, _)| *name != "confirm");
            fields.push(("confirm", value));
        }
        fields.retain(|(name, _)| *name != field);
        fields.push((field, value));
        let response = submit(&app, &browser(), "/signup", &fields).await;
        assert_eq!(response.status(), 422, "{field}");
        let html = response.text().await.unwrap();
        assert!(html.contains(says), "{field}: {html}");
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
}
