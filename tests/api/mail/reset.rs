//! A forgotten password, as a person and an attacker see it, with the mail read from a real SMTP
//! server: the link arrives under the issuer, opening it uses nothing, it sets a password once,
//! ends every session and grant, and the owner hears of it; the answer to a request tells nobody
//! whether a name exists; an expired link or a link of another purpose resets nothing. The races,
//! limits and bounds are in `reset_abuse`, the pages in a real browser in `reset_browser`.

use std::time::Duration;

use crate::helpers::{Settings, TestApp, TestUser, csrf, location, query_param};
use crate::mailbox::{Mail, Mailbox};
use crate::signin::{
    authorize, browser, follow, page, password_step, redeem, sign_in, submit,
    token as token_endpoint,
};

/// How long a mail may take to arrive.
pub const WITHIN: Duration = Duration::from_secs(15);
/// A new password that passes the policy.
pub const NEW: &str = "copper kettle on a quiet hill";

/// An app that sends its mail to a fresh mailbox.
pub async fn with_mail() -> (TestApp, Mailbox) {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    (app, mailbox)
}

/// The address the test helpers give a user.
pub fn address(user: &TestUser) -> String {
    format!("{}@example.com", user.username)
}

pub fn is_reset(mail: &Mail) -> bool {
    mail.subject.starts_with("Reset your password for ")
}

/// The reset mails received so far, to anyone.
pub fn resets(mailbox: &Mailbox) -> Vec<Mail> {
    mailbox.messages().into_iter().filter(is_reset).collect()
}

/// The first reset mail to `to`, once it has arrived.
pub async fn reset_mail(mailbox: &Mailbox, to: &str) -> Mail {
    mailbox
        .wait_for(|m| m.is_to(to) && is_reset(m), WITHIN)
        .await
}

/// Marks `user`'s address as verified (notices go only to a verified address).
pub async fn verify_address(app: &TestApp, user: &TestUser) {
    sqlx::query("update users set email_verified_at = now() where id = $1")
        .bind(user.id)
        .execute(&app.db.pool().await)
        .await
        .unwrap();
}

/// Asks for a link for `login` from the forgot page, as `browser`.
pub async fn ask(app: &TestApp, browser: &reqwest::Client, login: &str) -> reqwest::Response {
    submit(app, browser, "/password/forgot", &[("username", login)]).await
}

/// Asks for `user`'s link and returns its token, from the mail.
pub async fn link_token(app: &TestApp, mailbox: &Mailbox, user: &TestUser) -> String {
    let answer = ask(app, &browser(), &user.username).await;
    assert_eq!(location(&answer), "/password/forgot?sent=1");
    let mail = reset_mail(mailbox, &address(user)).await;
    let link = mail.link("/password/reset").expect("a reset link");
    query_param(&link, "token").expect("a token")
}

/// This session's CSRF token, from a page that always has a form.
pub async fn session_csrf(app: &TestApp, browser: &reqwest::Client) -> String {
    csrf(&page(app, browser, "/password/forgot").await)
}

/// Posts the new-password form for `token`.
pub async fn choose(
    app: &TestApp,
    browser: &reqwest::Client,
    token: &str,
    password: &str,
    confirm: &str,
) -> reqwest::Response {
    let csrf = session_csrf(app, browser).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("token", token),
        ("new", password),
        ("confirm", confirm),
    ];
    let post = browser.post(app.url("/password/reset")).form(&form);
    post.send().await.unwrap()
}

/// GETs the link's page: its status and text.
pub async fn open(app: &TestApp, browser: &reqwest::Client, token: &str) -> (u16, String) {
    let response = browser
        .get(app.url("/password/reset"))
        .query(&[("token", token)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Whether `password` signs `user` in (to `/account`, or on to the second factor).
pub async fn signs_in(app: &TestApp, user: &TestUser, password: &str) -> bool {
    let user = TestUser {
        password: password.into(),
        ..user.clone()
    };
    location(&password_step(app, &browser(), &user).await) != "/login"
}

/// Whether `browser` is signed in: the account page shows, rather than sending it to sign in.
pub async fn signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    let account = browser.get(app.url("/account")).send().await.unwrap();
    match account.status().as_u16() {
        200 => true,
        _ => {
            assert_eq!(location(&account), "/login");
            false
        }
    }
}

#[tokio::test]
async fn mail_reset_end_to_end_sets_a_new_password_once_and_ends_every_session_and_grant() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", true).await;
    verify_address(&app, &alice).await;
    // Before: a browser signed in (with the TOTP code), and an application with a refresh token.
    let client = app.client("Notes", false, true).await;
    let before = browser();
    let back = authorize(&app, &before, &client, &alice, "openid offline_access").await;
    let code = query_param(&back, "code").unwrap();
    let tokens: serde_json::Value = redeem(&app, &client, &code).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(signed_in(&app, &before).await);

    // The request, with a forged Host: the link is under the issuer all the same.
    let person = browser();
    let csrf = session_csrf(&app, &person).await;
    let answer = person
        .post(app.url("/password/forgot"))
        .header(reqwest::header::HOST, "evil.example")
        .form(&[("csrf", csrf.as_str()), ("username", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&answer), "/password/forgot?sent=1");
    let sent = follow(&app, &person, answer).await.text().await.unwrap();
    assert!(
        sent.contains("If an account with that name or address exists, we sent a link to its address. It works for 30 minutes."),
        "{sent}"
    );
    let mail = reset_mail(&mailbox, "alice@example.com").await;
    let site = app.address.trim_start_matches("http://");
    assert_eq!(mail.subject, format!("Reset your password for {site}"));
    let link = mail.link("/password/reset").expect("a link in the mail");
    assert!(
        link.starts_with(&format!("{}/password/reset?token=", app.address)),
        "{link}"
    );
    assert!(!mail.raw.contains("evil.example"), "{}", mail.raw);
    let token = query_param(&link, "token").unwrap();
    assert_eq!(token.len(), 43);

    // Opening the link (a mail scanner, then the person) uses nothing.
    for _ in 0..2 {
        let response = person.get(&link).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let form = response.text().await.unwrap();
        assert!(form.contains("Choose a new password"), "{form}");
        assert!(form.contains(&format!("name=\"token\" value=\"{token}\"")));
        assert!(form.contains("autocomplete=\"new-password\""));
    }
    // Mistakes show the form again, and the link still works.
    let mismatch = choose(&app, &person, &token, NEW, "something else").await;
    assert_eq!(mismatch.status(), 400);
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("The new passwords do not match.")
    );
    let weak = choose(&app, &person, &token, "password", "password").await;
    let weak = weak.text().await.unwrap();
    assert!(
        weak.contains("too easy to guess") && weak.contains("name=\"token\""),
        "{weak}"
    );
    assert!(
        signs_in(&app, &alice, &alice.password).await,
        "nothing changed yet"
    );

    let done = choose(&app, &person, &token, NEW, NEW).await;
    assert_eq!(location(&done), "/login");
    let login = follow(&app, &person, done).await.text().await.unwrap();
    assert!(
        login.contains("Your password was changed. Sign in with it."),
        "{login}"
    );
    assert!(!signed_in(&app, &person).await, "a reset signs nobody in");

    // The old password is gone, the new one works and the second factor is still asked for.
    assert!(!signs_in(&app, &alice, &alice.password).await);
    let with_new = TestUser {
        password: NEW.into(),
        ..alice.clone()
    };
    assert_eq!(
        location(&password_step(&app, &browser(), &with_new).await),
        "/login/mfa"
    );
    // The session from before is signed out; the refresh token from before is revoked.
    assert!(!signed_in(&app, &before).await);
    let refreshed = token_endpoint(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (refreshed.0, refreshed.1["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let live: i64 = sqlx::query_scalar(
        "select count(*) from refresh_tokens where user_id = $1 and revoked_at is null",
    )
    .bind(alice.id)
    .fetch_one(&app.db.pool().await)
    .await
    .unwrap();
    assert_eq!(live, 0);
    // The owner hears of it.
    let notice = mailbox
        .wait_for(
            |m| m.is_to("alice@example.com") && m.subject.starts_with("Your password was changed"),
            WITHIN,
        )
        .await;
    assert!(
        notice.text.contains("The password was changed"),
        "{}",
        notice.text
    );

    // The link a second time: used up, a clear page, not an error.
    let (status, again) = open(&app, &person, &token).await;
    assert_eq!(status, 404);
    assert!(again.contains("This link cannot be used"), "{again}");
    assert!(again.contains("href=\"/password/forgot\""), "{again}");
    let replay = choose(
        &app,
        &person,
        &token,
        "another fine passphrase",
        "another fine passphrase",
    )
    .await;
    assert_eq!(replay.status(), 404);
    assert!(signs_in(&app, &alice, NEW).await);
}

#[tokio::test]
async fn mail_reset_answers_the_same_for_an_unknown_name_and_a_known_one() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    let mut answers = vec![];
    for name in ["nobody", "alice"] {
        let person = browser();
        let form = page(&app, &person, "/password/forgot").await;
        let answer = ask(&app, &person, name).await;
        let (status, to) = (answer.status().as_u16(), location(&answer));
        let shown = follow(&app, &person, answer).await;
        let shown = (shown.status().as_u16(), shown.text().await.unwrap());
        let form = form.replace(&csrf(&form), "");
        answers.push((form, status, to, shown));
    }
    assert_eq!(answers[0], answers[1]);
    // Alice's mail arrives; nothing was queued for the unknown name, asked for first.
    reset_mail(&mailbox, &address(&alice)).await;
    let queued: i64 = sqlx::query_scalar("select count(*) from outbox where topic = 'reset'")
        .fetch_one(&app.db.pool().await)
        .await
        .unwrap();
    assert_eq!((queued, resets(&mailbox).len()), (1, 1));
}

#[tokio::test]
async fn mail_reset_refuses_an_expired_link_and_a_verification_link() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    let token = link_token(&app, &mailbox, &alice).await;
    let pool = app.db.pool().await;
    sqlx::query(
        "update mail_links set expires_at = now() - interval '1 minute' where purpose = 'reset'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let person = browser();
    let (status, expired) = open(&app, &person, &token).await;
    assert_eq!(status, 410);
    assert!(expired.contains("This link has expired"), "{expired}");
    assert!(expired.contains("href=\"/password/forgot\""), "{expired}");
    let late = choose(&app, &person, &token, NEW, NEW).await;
    assert_eq!(late.status(), 410);
    assert!(signs_in(&app, &alice, &alice.password).await);
    assert!(!signs_in(&app, &alice, NEW).await);

    // The link that verifies the address (sent when the account was made) resets nothing, and
    // stays usable for what it is for.
    let verify = mailbox
        .wait_for(
            |m| m.is_to("alice@example.com") && m.link("/email/verify").is_some(),
            WITHIN,
        )
        .await;
    let verify = query_param(&verify.link("/email/verify").unwrap(), "token").unwrap();
    let (status, invalid) = open(&app, &person, &verify).await;
    assert_eq!(status, 404);
    assert!(invalid.contains("This link cannot be used"));
    let misused = choose(&app, &person, &verify, NEW, NEW).await;
    assert_eq!(misused.status(), 404);
    assert!(!signs_in(&app, &alice, NEW).await);
    let kept: i64 = sqlx::query_scalar(
        "select count(*) from mail_links where purpose = 'verify' and user_id = $1",
    )
    .bind(alice.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn mail_reset_the_sign_in_page_offers_the_way_and_a_signed_in_person_can_use_it() {
    let (app, mailbox) = with_mail().await;
    let login = page(&app, &browser(), "/login").await;
    assert!(
        login.contains("<a href=\"/password/forgot\">Forgot your password?</a>"),
        "{login}"
    );
    let forgot = page(&app, &browser(), "/password/forgot").await;
    assert!(forgot.contains("<label for=\"username\">Username or email</label>"));
    assert!(forgot.contains("autocomplete=\"username\""));
    assert!(forgot.contains("name=\"csrf\""));
    // Without the CSRF token nothing is asked for.
    let forged = browser()
        .post(app.url("/password/forgot"))
        .form(&[("username", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // Signed in, by address: the link ends that session too.
    let bob = app.user("bob", false).await;
    let b = browser();
    sign_in(&app, &b, &bob).await;
    let answer = ask(&app, &b, "BOB@example.com").await;
    assert_eq!(location(&answer), "/password/forgot?sent=1");
    let mail = reset_mail(&mailbox, "bob@example.com").await;
    let token = query_param(&mail.link("/password/reset").unwrap(), "token").unwrap();
    assert_eq!(
        location(&choose(&app, &b, &token, NEW, NEW).await),
        "/login"
    );
    assert!(!signed_in(&app, &b).await);
    assert!(signs_in(&app, &bob, NEW).await);
}
