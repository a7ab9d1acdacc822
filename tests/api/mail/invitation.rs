//! Invitations, as the invited person and the administrator see them: the mail, the page the
//! link opens, a password chosen there (signed in at once, the address verified), an
//! administrator sent on to a second factor, the CLI, and links that cannot be used.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::admin::api::{call, script};
use crate::cli::Cli;
use crate::helpers::{Settings, TestApp, TestUser, location, query_param};
use crate::mailbox::Mailbox;
use crate::signin::{browser, sign_in, submit_from};

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "a long new passphrase 42";

/// The path and query of a mailed link.
fn local(link: &str, app: &TestApp) -> String {
    link.strip_prefix(&app.address).unwrap_or(link).to_owned()
}

/// Invites through the admin API; returns the account's id, the link's path and its token.
async fn invite(
    app: &TestApp,
    mailbox: &Mailbox,
    body: serde_json::Value,
) -> (String, String, String) {
    let (_, admin) = script(app).await;
    let (status, created) = call(app, &admin, Method::POST, "/users", Some(body.clone())).await;
    assert_eq!(status, 201, "{created}");
    let to = body["email"].as_str().unwrap();
    let mail = mailbox.wait_for_to(to, WAIT).await;
    assert!(
        mail.subject.starts_with("You are invited to"),
        "{}",
        mail.subject
    );
    let link = mail.link("/invitation").expect("an invitation link");
    assert!(
        link.starts_with(&app.address),
        "the link is under the issuer: {link}"
    );
    let token = query_param(&link, "token").unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        local(&link, app),
        token,
    )
}

#[tokio::test]
async fn an_invited_person_chooses_a_password_and_is_signed_in() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let body = json!({ "email": "erin@example.com", "name": "Erin" });
    let (id, link, token) = invite(&app, &mailbox, body).await;
    let pool = app.db.pool().await;
    let (hash, verified): (Option<String>, bool) = sqlx::query_as(
        "select password_hash, email_verified_at is not null from users where id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        hash.is_none() && !verified,
        "no way in and not verified before accepting"
    );

    // Opening the link (twice, as a mail scanner would) does not use it.
    let person = browser();
    for _ in 0..2 {
        let page = person.get(app.url(&link)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("erin@example.com"),
            "the username is the address"
        );
    }
    let weak = submit_from(
        &app,
        &person,
        &link,
        "/invitation",
        &[
            ("token", &token),
            ("new", "password"),
            ("confirm", "password"),
        ],
    )
    .await;
    assert_eq!(
        weak.status(),
        400,
        "a weak password is refused and the link kept"
    );
    let done = submit_from(
        &app,
        &person,
        &link,
        "/invitation",
        &[("token", &token), ("new", PASSWORD), ("confirm", PASSWORD)],
    )
    .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/account");
    let account = person.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 200, "signed in");
    assert!(account.text().await.unwrap().contains("erin@example.com"));
    let verified: bool =
        sqlx::query_scalar("select email_verified_at is not null from users where id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(verified, "the invitation reached the address");

    // The link works once.
    let again = browser().get(app.url(&link)).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert!(again.text().await.unwrap().contains("cannot be used"));

    // And the password signs in from anywhere.
    let erin = TestUser {
        id: id.parse().unwrap(),
        username: "erin@example.com".into(),
        password: PASSWORD.into(),
        totp: None,
    };
    assert_eq!(sign_in(&app, &browser(), &erin).await.status(), 303);
    let events: Vec<String> =
        sqlx::query_scalar("select event from audit_events where target = $1 order by at, id")
            .bind(&id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(events.starts_with(&["user.invited".into()]), "{events:?}");
    assert!(
        events.contains(&"user.invitation_accepted".into()),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_invited_administrator_is_sent_on_to_a_second_factor() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let body = json!({ "email": "frank@example.com", "username": "frank", "is_admin": true });
    let (_, link, token) = invite(&app, &mailbox, body).await;
    let person = browser();
    let done = submit_from(
        &app,
        &person,
        &link,
        "/invitation",
        &[("token", &token), ("new", PASSWORD), ("confirm", PASSWORD)],
    )
    .await;
    assert_eq!(location(&done), "/account/totp");
    let admin = person.get(app.url("/admin")).send().await.unwrap();
    assert_ne!(
        admin.status(),
        200,
        "no admin console before a second factor"
    );
}

#[tokio::test]
async fn links_that_cannot_be_used_get_a_clear_page() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let (_, link, _) = invite(&app, &mailbox, json!({ "email": "gail@example.com" })).await;
    let pool = app.db.pool().await;
    sqlx::query("update mail_links set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let expired = browser().get(app.url(&link)).send().await.unwrap();
    assert_eq!(expired.status(), 410);
    assert!(expired.text().await.unwrap().contains("expired"));
    for bad in [
        "/invitation",
        "/invitation?token=",
        "/invitation?token=not%20a%20token",
        "/invitation?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let page = browser().get(app.url(bad)).send().await.unwrap();
        assert_eq!(page.status(), 404, "{bad}");
    }
    let long = format!("/invitation?token={}", "A".repeat(5000));
    let page = browser().get(app.url(&long)).send().await.unwrap();
    assert!(page.status().is_client_error(), "{}", page.status());
}

#[tokio::test]
async fn an_empty_password_without_an_address_is_refused() {
    let app = TestApp::spawn().await;
    let (_, admin) = script(&app).await;
    let (status, answer) = call(
        &app,
        &admin,
        Method::POST,
        "/users",
        Some(json!({ "username": "hal" })),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("invitation")
    );
    let users: i64 = sqlx::query_scalar("select count(*) from users where username = 'hal'")
        .fetch_one(&app.db.pool().await)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn the_cli_invites_by_address() {
    let cli = Cli::new().await;
    assert_eq!(cli.run(&["migrate"], None).await.status, 0);
    let out = cli
        .run(
            &[
                "user",
                "invite",
                "--email",
                "ida+id@example.com",
                "--admin",
                "--json",
            ],
            None,
        )
        .await;
    let value = out.json();
    assert_eq!(value["invited"], true);
    assert_eq!(value["username"], "ida-id@example.com");
    let pool = cli.pool().await;
    let (topic, admin): (String, bool) = sqlx::query_as(
        "select o.topic, u.is_admin from outbox o join users u on u.email = o.recipient",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((topic.as_str(), admin), ("invite", true));
    let bad = cli
        .run(&["user", "invite", "--email", "not-an-address"], None)
        .await;
    assert_eq!(bad.status, 1, "refused: {}", bad.stderr);
    assert!(
        bad.stderr.contains("not a valid email address"),
        "{}",
        bad.stderr
    );
}
