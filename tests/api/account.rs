//! Self-service on `/account`: two-step verification on and off, recovery codes, password
//! change, approved applications, signing out everywhere.

use crate::helpers::{Settings, TestApp, location, query_param, totp_now};
use crate::signin::{
    authorize, authorize_query, browser, page, password_step, redeem, sign_in, submit, submit_from,
    token, visit,
};

pub fn secret_on_page(html: &str) -> String {
    let start = html.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    html[start..].split('<').next().unwrap().replace(' ', "")
}

pub fn codes_on_page(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|part| part.split('<').next().unwrap().to_owned())
        .collect()
}

async fn audited(app: &TestApp, event: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where event = $1")
        .bind(event)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn turning_on_two_step_verification_shows_recovery_codes_once_and_they_work_once() {
    let app = TestApp::spawn().await;
    let mut user = app.user("olga", false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let enroll = page(&app, &b, "/account/totp").await;
    assert!(
        enroll.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code rendered on the server"
    );
    let secret = secret_on_page(&enroll);
    assert_eq!(
        secret_on_page(&page(&app, &b, "/account/totp").await),
        secret,
        "the same secret on reload"
    );

    let wrong = submit(&app, &b, "/account/totp", &[("code", "000000")]).await;
    assert_eq!(location(&wrong), "/account/totp");
    let response = submit(&app, &b, "/account/totp", &[("code", &totp_now(&secret))]).await;
    assert_eq!(location(&response), "/account/recovery-codes");
    let codes = codes_on_page(&page(&app, &b, "/account/recovery-codes").await);
    assert_eq!(codes.len(), 10);
    let again = b
        .get(app.url("/account/recovery-codes"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&again), "/account", "shown once");
    assert_eq!(audited(&app, "mfa.enrolled").await, 1);

    // Signing in now needs the second factor; a recovery code works once.
    user.totp = Some(secret);
    let fresh = browser();
    let response = password_step(&app, &fresh, &user).await;
    assert_eq!(location(&response), "/login/mfa");
    let response = submit(
        &app,
        &fresh,
        "/login/mfa",
        &[("code", &codes[0].to_uppercase())],
    )
    .await;
    assert_eq!(location(&response), "/account");
    let other = browser();
    password_step(&app, &other, &user).await;
    let response = submit(&app, &other, "/login/mfa", &[("code", &codes[0])]).await;
    assert_eq!(
        location(&response),
        "/login/mfa",
        "a used recovery code is refused"
    );
    assert!(
        page(&app, &fresh, "/account")
            .await
            .contains("Recovery codes left: 9")
    );
}

#[tokio::test]
async fn turning_two_step_verification_off_needs_the_password_and_a_code() {
    let app = TestApp::spawn().await;
    let user = app.user("pia", true).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    // The code used to sign in is spent; the next step's is accepted (one step of skew).
    let next = crate::limits::code_at(user.totp.as_deref().unwrap(), 30);
    assert!(page(&app, &b, "/account").await.contains("Turn off"));
    submit_from(
        &app,
        &b,
        "/account",
        "/account/totp/remove",
        &[("password", "not-it"), ("code", &next)],
    )
    .await;
    assert!(page(&app, &b, "/account").await.contains("still on"));
    let response = submit_from(
        &app,
        &b,
        "/account",
        "/account/totp/remove",
        &[("password", &user.password), ("code", &next)],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert!(
        page(&app, &b, "/account")
            .await
            .contains("Two-step verification is off.")
    );
    assert_eq!(audited(&app, "mfa.removed").await, 1);
    let fresh = browser();
    let response = password_step(&app, &fresh, &user).await;
    assert_eq!(location(&response), "/account", "no second step any more");
}

#[tokio::test]
async fn changing_the_password_checks_it_and_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let user = app.user("quinn", false).await;
    let (b, other) = (browser(), browser());
    sign_in(&app, &b, &user).await;
    sign_in(&app, &other, &user).await;
    let new = "a much longer passphrase";
    for (current, new_pw, confirm, message) in [
        ("wrong", new, new, "current password is not correct"),
        (user.password.as_str(), new, "different", "do not match"),
        (user.password.as_str(), "short", "short", "at least 8"),
    ] {
        let response = submit(
            &app,
            &b,
            "/account/password",
            &[("current", current), ("new", new_pw), ("confirm", confirm)],
        )
        .await;
        assert_eq!(location(&response), "/account/password");
        assert!(
            page(&app, &b, "/account/password").await.contains(message),
            "{message}"
        );
    }
    let response = submit(
        &app,
        &b,
        "/account/password",
        &[("current", &user.password), ("new", new), ("confirm", new)],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert_eq!(
        b.get(app.url("/account")).send().await.unwrap().status(),
        200,
        "this session continues"
    );
    assert_eq!(
        location(&other.get(app.url("/account")).send().await.unwrap()),
        "/login",
        "others end"
    );
    let old = submit(
        &app,
        &browser(),
        "/login",
        &[("username", "quinn"), ("password", &user.password)],
    )
    .await;
    assert_eq!(location(&old), "/login");
    let fresh = submit(
        &app,
        &browser(),
        "/login",
        &[("username", "quinn"), ("password", new)],
    )
    .await;
    assert_eq!(location(&fresh), "/account");
}

#[tokio::test]
async fn removing_an_application_withdraws_consent_and_its_refresh_tokens() {
    let app = TestApp::spawn().await;
    let user = app.user("rosa", false).await;
    let client = app.client("Photo Album", false, false).await;
    let b = browser();
    let back = authorize(&app, &b, &client, &user, "openid offline_access").await;
    let tokens: serde_json::Value = redeem(&app, &client, &query_param(&back, "code").unwrap())
        .await
        .json()
        .await
        .unwrap();
    let overview = page(&app, &b, "/account").await;
    assert!(overview.contains("Photo Album"), "{overview}");

    let response = submit_from(
        &app,
        &b,
        "/account",
        "/account/applications/revoke",
        &[("client_id", &client.id)],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert!(!page(&app, &b, "/account").await.contains("Photo Album"));
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(
        token(&app, &client, &refresh).await.1["error"],
        "invalid_grant"
    );
    let again = visit(&app, &b, "/authorize", &authorize_query(&client, "openid")).await;
    let again = crate::signin::follow(&app, &b, again).await;
    assert!(again.status() == 200 || location(&again).starts_with("/consent?request="));
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let user = app.user("sam", false).await;
    let (b, other) = (browser(), browser());
    sign_in(&app, &b, &user).await;
    sign_in(&app, &other, &user).await;
    let response = submit_from(&app, &b, "/account", "/account/sign-out-everywhere", &[]).await;
    assert_eq!(location(&response), "/logout/done");
    for browser in [&b, &other] {
        assert_eq!(
            location(&browser.get(app.url("/account")).send().await.unwrap()),
            "/login"
        );
    }
    // Signing in again works.
    let response = sign_in(&app, &other, &user).await;
    assert_eq!(location(&response), "/account");
}

#[tokio::test]
async fn under_an_https_issuer_the_cookie_is_secure_with_the_host_prefix() {
    let settings = Settings::new().await;
    let app = settings.set_https_issuer().spawn().await;
    let response = app.get("/login").await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-portcullis="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn a_session_ends_when_idle_and_at_its_absolute_lifetime() {
    use std::time::Duration;
    let idle = Settings::new()
        .await
        .set("PORTCULLIS_SESSION_IDLE_TIMEOUT", "2s")
        .spawn()
        .await;
    let user = idle.user("tom", false).await;
    let b = browser();
    sign_in(&idle, &b, &user).await;
    // Activity keeps it alive past the idle timeout...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(
            b.get(idle.url("/account")).send().await.unwrap().status(),
            200
        );
    }
    // ...and idleness ends it.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(
        location(&b.get(idle.url("/account")).send().await.unwrap()),
        "/login"
    );

    let absolute = Settings::new()
        .await
        .set("PORTCULLIS_SESSION_LIFETIME", "2s")
        .spawn()
        .await;
    let user = absolute.user("una", false).await;
    let b = browser();
    sign_in(&absolute, &b, &user).await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            b.get(absolute.url("/account"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // Active or not, it ends at its lifetime.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        location(&b.get(absolute.url("/account")).send().await.unwrap()),
        "/login"
    );
}
