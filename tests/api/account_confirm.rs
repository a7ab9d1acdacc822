//! Sensitive changes on `/account` ask again, at that moment, for the password and a current
//! second factor (ASVS 5.0 V7.5.1), and end what the old credentials allowed: a password change
//! revokes refresh tokens (RFC 9700 §4.14.2), turning the second factor off ends other sessions.

use crate::account::{codes_on_page, secret_on_page};
use crate::helpers::{TestApp, location, query_param, totp_now};
use crate::limits::{code_at, wrong_code};
use crate::signin::{
    authorize, browser, page, password_step, redeem, sign_in, submit, submit_from, token,
};

/// Turns on two-step verification from the account page; the secret and the recovery codes.
async fn enroll(app: &TestApp, b: &reqwest::Client) -> (String, Vec<String>) {
    let secret = secret_on_page(&page(app, b, "/account/totp").await);
    let response = submit(app, b, "/account/totp", &[("code", &totp_now(&secret))]).await;
    assert_eq!(location(&response), "/account/recovery-codes");
    let codes = codes_on_page(&page(app, b, "/account/recovery-codes").await);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn mfa_removed(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where event = 'mfa.removed'")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_change_revokes_the_refresh_tokens() {
    let app = TestApp::spawn().await;
    let user = app.user("vera", false).await;
    let client = app.client("Notes", false, false).await;
    let back = authorize(&app, &browser(), &client, &user, "openid offline_access").await;
    let tokens: serde_json::Value = redeem(&app, &client, &query_param(&back, "code").unwrap())
        .await
        .json()
        .await
        .unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    let b = browser();
    sign_in(&app, &b, &user).await;
    let new = "a much longer passphrase";
    let fields = [
        ("current", user.password.as_str()),
        ("new", new),
        ("confirm", new),
    ];
    let response = submit(&app, &b, "/account/password", &fields).await;
    assert_eq!(location(&response), "/account");

    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let (status, body) = token(&app, &client, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn turning_off_the_second_factor_asks_for_the_password_and_a_code_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let user = app.user("wanda", false).await;
    let (b, other) = (browser(), browser());
    sign_in(&app, &b, &user).await;
    sign_in(&app, &other, &user).await;
    let (secret, _) = enroll(&app, &b).await;
    let (next, wrong) = (code_at(&secret, 30), wrong_code(&secret));
    let password = user.password.as_str();
    for fields in [
        vec![],
        vec![("password", "not-it"), ("code", next.as_str())],
        vec![("password", password)],
        vec![("password", password), ("code", wrong.as_str())],
    ] {
        let response = submit_from(&app, &b, "/account", "/account/totp/remove", &fields).await;
        assert_eq!(location(&response), "/account");
        let overview = page(&app, &b, "/account").await;
        assert!(overview.contains("still on"), "{fields:?}: {overview}");
        assert!(overview.contains("Turn off"), "{fields:?}");
    }
    assert_eq!(mfa_removed(&app).await, 0, "nothing changed");
    assert_eq!(
        other
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let fields = [("password", password), ("code", next.as_str())];
    let response = submit_from(&app, &b, "/account", "/account/totp/remove", &fields).await;
    assert_eq!(location(&response), "/account");
    assert!(
        page(&app, &b, "/account")
            .await
            .contains("Two-step verification is off."),
        "this session continues"
    );
    assert_eq!(mfa_removed(&app).await, 1);
    assert_eq!(
        location(&other.get(app.url("/account")).send().await.unwrap()),
        "/login",
        "the other session ended"
    );
    let response = password_step(&app, &browser(), &user).await;
    assert_eq!(location(&response), "/account", "no second step any more");
}

#[tokio::test]
async fn new_recovery_codes_need_the_password_and_a_current_second_factor() {
    let app = TestApp::spawn().await;
    let user = app.user("xaver", false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let (secret, old) = enroll(&app, &b).await;
    let wrong = wrong_code(&secret);
    let password = user.password.as_str();
    for fields in [
        vec![],
        vec![("password", "not-it"), ("code", old[0].as_str())],
        vec![("password", password)],
        vec![("password", password), ("code", wrong.as_str())],
    ] {
        let response = submit_from(&app, &b, "/account", "/account/recovery-codes", &fields).await;
        assert_eq!(location(&response), "/account", "{fields:?}");
        let overview = page(&app, &b, "/account").await;
        assert!(
            overview.contains("nothing was changed") || overview.contains("Enter your password"),
            "{fields:?}: {overview}"
        );
        assert!(overview.contains("Recovery codes left: 10"), "{fields:?}");
        let shown = b
            .get(app.url("/account/recovery-codes"))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&shown), "/account", "no new codes");
    }

    let fields = [("password", password), ("code", old[0].as_str())];
    let response = submit_from(&app, &b, "/account", "/account/recovery-codes", &fields).await;
    assert_eq!(location(&response), "/account/recovery-codes");
    let new = codes_on_page(&page(&app, &b, "/account/recovery-codes").await);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)), "all new");
    // The old codes are gone: one of them no longer completes a sign-in.
    let fresh = browser();
    assert_eq!(
        location(&password_step(&app, &fresh, &user).await),
        "/login/mfa"
    );
    let response = submit(&app, &fresh, "/login/mfa", &[("code", &old[1])]).await;
    assert_eq!(location(&response), "/login/mfa");
}
