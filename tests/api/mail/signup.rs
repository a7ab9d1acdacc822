//! Self-registration with `PORTCULLIS_SIGNUP=open`: an account made on `/signup` signs in only
//! after the link mailed to it is used; the allowed domains, oversized and invalid fields, the
//! limit per client address, taken names and addresses. The other modes are in
//! [`super::signup_other`], the pages in a real browser in [`super::signup_browser`].

use std::time::Duration;

use portcullis::users::email::{self, Verified};

use crate::helpers::{Settings, TestApp, TestUser, location, query_param};
use crate::mailbox::{Mail, Mailbox};
use crate::signin::{browser, page, password_step, sign_in, submit};

pub(super) const WAIT: Duration = Duration::from_secs(30);
pub(super) const PASSWORD: &str = "correct horse battery staple 7";

/// An app that mails to `mailbox`, with `PORTCULLIS_SIGNUP=mode` and, if given, the domains.
pub(super) async fn app_with(mailbox: &Mailbox, mode: &str, domains: Option<&str>) -> TestApp {
    let with = Settings::new()
        .await
        .with_mail(mailbox)
        .set("PORTCULLIS_SIGNUP", mode);
    match domains {
        Some(domains) => with.set("PORTCULLIS_SIGNUP_DOMAINS", domains),
        None => with,
    }
    .spawn()
    .await
}

/// Posts the sign-up form from a browser of its own.
async fn sign_up(app: &TestApp, username: &str, email: &str) -> reqwest::Response {
    let fields = [
        ("username", username),
        ("email", email),
        ("name", "Ada Lovelace"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    submit(app, &browser(), "/signup", &fields).await
}

async fn count(app: &TestApp, sql: &'static str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

pub(super) async fn users_with_address(app: &TestApp, email: &str) -> i64 {
    count(
        app,
        "select count(*) from users where lower(email) = lower($1)",
        email,
    )
    .await
}

pub(super) async fn queued_to(app: &TestApp, email: &str) -> i64 {
    count(
        app,
        "select count(*) from outbox where lower(recipient) = lower($1)",
        email,
    )
    .await
}

async fn audited(app: &TestApp, event: &str) -> i64 {
    count(
        app,
        "select count(*) from audit_events where event = $1",
        event,
    )
    .await
}

/// What sign-in and sign-up look at of an account.
async fn account_row(app: &TestApp, id: uuid::Uuid) -> (String, Option<String>, bool) {
    sqlx::query_as("select username, password_hash, awaiting_verification from users where id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// The token of the newest verification link mailed to `to`.
fn newest_token(mailbox: &Mailbox, to: &str) -> String {
    let mail: Mail = mailbox
        .messages()
        .into_iter()
        .rfind(|m| m.is_to(to))
        .expect("a mail");
    let link = mail.link("/email/verify").expect("a verification link");
    query_param(&link, "token").expect("a token in the link")
}

#[tokio::test]
async fn a_new_account_signs_in_only_after_its_address_is_verified() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", None).await;
    let b = browser();
    let login = page(&app, &b, "/login").await;
    assert!(
        login.contains("href=\"/signup\">Create an account</a>"),
        "{login}"
    );
    let form = page(&app, &b, "/signup").await;
    for field in [
        "autocomplete=\"username\"",
        "autocomplete=\"email\"",
        "autocomplete=\"new-password\"",
        "<label for=\"confirm\">",
    ] {
        assert!(form.contains(field), "{field}");
    }

    let response = sign_up(&app, "ada", "ada@example.com").await;
    assert_eq!(response.status(), 200);
    let sent = response.text().await.unwrap();
    assert!(sent.contains("Check your mail"), "{sent}");
    assert!(
        sent.contains("We sent a link to <strong>ada@example.com</strong>. Confirm it to sign in.")
    );
    let awaiting: bool =
        sqlx::query_scalar("select awaiting_verification from users where username = 'ada'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(awaiting);
    assert_eq!(audited(&app, "user.signed_up").await, 1);

    // The right password does not sign in: it leads to the page that says why.
    let ada = TestUser {
        id: uuid::Uuid::nil(),
        username: "ada".into(),
        password: PASSWORD.into(),
        totp: None,
    };
    let person = browser();
    let refused = password_step(&app, &person, &ada).await;
    assert_eq!(location(&refused), "/login/confirm-address");
    let why = page(&app, &person, "/login/confirm-address").await;
    assert!(why.contains("Confirm your email address first"), "{why}");
    assert!(why.contains("We sent you a link"));
    let account = person.get(app.url("/account")).send().await.unwrap();
    assert_eq!(location(&account), "/login", "not signed in");
    // A wrong password says only that.
    let wrong = TestUser {
        password: "not it at all 99".into(),
        ..ada.clone()
    };
    assert_eq!(
        location(&password_step(&app, &browser(), &wrong).await),
        "/login"
    );

    // The link can be sent again, a few times an hour.
    mailbox.wait_for_to("ada@example.com", WAIT).await;
    let again = submit(&app, &person, "/login/confirm-address", &[]).await;
    assert_eq!(location(&again), "/login/confirm-address");
    assert!(
        page(&app, &person, "/login/confirm-address")
            .await
            .contains("We sent a new link")
    );
    crate::helpers::eventually(WAIT, "a second mail", || async {
        (mailbox.count_to("ada@example.com") == 2).then_some(())
    })
    .await;
    for _ in 0..2 {
        submit(&app, &person, "/login/confirm-address", &[]).await;
    }
    submit(&app, &person, "/login/confirm-address", &[]).await;
    let limited = page(&app, &person, "/login/confirm-address").await;
    assert!(limited.contains("sent several times already"), "{limited}");
    assert_eq!(
        queued_to(&app, "ada@example.com").await,
        4,
        "the first and three again"
    );
    crate::helpers::eventually(WAIT, "every mail", || async {
        (mailbox.count_to("ada@example.com") == 4).then_some(())
    })
    .await;

    // The newest link verifies the address; then the password signs in.
    let token = newest_token(&mailbox, "ada@example.com");
    let verified = email::verify(&app.state.db, &token, None).await.unwrap();
    assert!(matches!(verified, Verified::Now { .. }), "{verified:?}");
    let signed_in = password_step(&app, &person, &ada).await;
    assert_eq!(location(&signed_in), "/account");
    let account = person.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 200);
}

#[tokio::test]
async fn only_the_allowed_domains_may_sign_up() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", Some("example.com")).await;
    assert!(
        page(&app, &browser(), "/signup")
            .await
            .contains("Only addresses at example.com.")
    );
    for outside in [
        "ada@example.org",
        "ada@mail.example.com",
        "ada@example.com.evil.test",
    ] {
        let refused = sign_up(&app, "ada", outside).await;
        assert_eq!(refused.status(), 422, "{outside}");
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("Only addresses at example.com can be used here."),
            "{html}"
        );
        assert!(
            html.contains(&format!("value=\"{outside}\"")),
            "what was typed stays"
        );
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from users where username = $1",
            "ada"
        )
        .await,
        0
    );
    let inside = sign_up(&app, "ada", "Ada@EXAMPLE.com").await;
    assert_eq!(inside.status(), 200);
    assert_eq!(users_with_address(&app, "ada@example.com").await, 1);
}

#[tokio::test]
async fn simultaneous_signups_from_one_address_stop_at_the_limit() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", None).await;
    // Twenty browsers on one address, each with its form open, post at once.
    let mut ready = Vec::new();
    for i in 0..20 {
        let b = browser();
        let html = page(&app, &b, "/signup").await;
        ready.push((i, b, crate::helpers::csrf(&html)));
    }
    let mut posts = tokio::task::JoinSet::new();
    for (i, b, csrf) in ready {
        let url = app.url("/signup");
        posts.spawn(async move {
            let (username, email) = (format!("racer{i}"), format!("racer{i}@example.com"));
            let form = [
                ("csrf", csrf.as_str()),
                ("username", &username),
                ("email", &email),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ];
            b.post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = posts.join_all().await;
    let made = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((made, refused), (5, 15), "{statuses:?}");
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 5);
    let response = sign_up(&app, "late", "late@example.com").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Too many accounts were made from your network"),
        "{html}"
    );
}

#[tokio::test]
async fn a_taken_username_or_address_gets_the_same_page_and_changes_nothing() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", None).await;
    let olga = app.user("olga", false).await;
    let before = account_row(&app, olga.id).await;
    let queued_for_olga = queued_to(&app, "olga@example.com").await;

    let fresh = sign_up(&app, "fresh", "fresh@example.com")
        .await
        .text()
        .await
        .unwrap();
    let taken_name = sign_up(&app, "OLGA", "other@example.com").await;
    assert_eq!(taken_name.status(), 200);
    let taken_name = taken_name.text().await.unwrap();
    let taken_address = sign_up(&app, "another", "Olga@Example.com").await;
    assert_eq!(taken_address.status(), 200);
    let taken_address = taken_address.text().await.unwrap();
    // The pages differ only in the address they repeat.
    let shown = |html: &str, address: &str| html.replace(address, "ADDRESS");
    assert_eq!(
        shown(&taken_name, "other@example.com"),
        shown(&fresh, "fresh@example.com")
    );
    assert_eq!(
        shown(&taken_address, "Olga@Example.com"),
        shown(&fresh, "fresh@example.com")
    );

    // Nothing made, nothing sent, and the existing account as it was.
    let users: Vec<String> = sqlx::query_scalar("select username from users order by username")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, ["fresh", "olga"]);
    assert_eq!(queued_to(&app, "other@example.com").await, 0);
    assert_eq!(queued_to(&app, "olga@example.com").await, queued_for_olga);
    let after = account_row(&app, olga.id).await;
    assert_eq!(after, before);
    assert_eq!(
        location(&sign_in(&app, &browser(), &olga).await),
        "/account"
    );
    assert_eq!(audited(&app, "user.signed_up").await, 1);
}

#[tokio::test]
async fn a_sign_up_never_confirmed_gives_way_once_its_link_has_expired() {
    let mailbox = Mailbox::start().await;
    let app = app_with(&mailbox, "open", None).await;
    sign_up(&app, "squatter", "owner@example.com").await;
    crate::helpers::eventually(WAIT, "the first link is sent", || async {
        (queued_to(&app, "owner@example.com").await == 1
            && mailbox.count_to("owner@example.com") == 1)
            .then_some(())
    })
    .await;
    // While its link works, the earlier sign-up keeps the address.
    assert_eq!(
        sign_up(&app, "owner", "owner@example.com").await.status(),
        200
    );
    let holder = || async {
        sqlx::query_scalar::<_, String>(
            "select username from users where email = 'owner@example.com'",
        )
        .fetch_one(&app.state.db)
        .await
        .unwrap()
    };
    assert_eq!(holder().await, "squatter");
    assert_eq!(audited(&app, "user.signup_lapsed").await, 0);

    // A day later, unconfirmed, it gives way: the new sign-up gets the address and its link.
    sqlx::raw_sql(
        "update users set created_at = now() - interval '25 hours' where username = 'squatter'; \
         update mail_links set expires_at = now() - interval '1 hour'",
    )
    .execute(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        sign_up(&app, "owner", "owner@example.com").await.status(),
        200
    );
    assert_eq!(holder().await, "owner");
    assert_eq!(audited(&app, "user.signup_lapsed").await, 1);
    crate::helpers::eventually(WAIT, "the new link is sent", || async {
        (mailbox.count_to("owner@example.com") == 2).then_some(())
    })
    .await;
}
