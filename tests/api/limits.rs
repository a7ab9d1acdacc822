//! Every limit on guesses holds under concurrency: many wrong guesses released at the same
//! instant are evaluated at most as often as the free attempts allow, the rest answered 429
//! (ASVS 5.0 V6.3.1). A guess counts before it is evaluated, so none can slip between a check
//! and the count.

use std::sync::Arc;

use crate::helpers::{TestApp, csrf, location, totp_now};
use crate::signin::{browser, page, password_step, sign_in};

/// Free attempts per account from one address (and per browser session for device codes).
const FREE_PER_SOURCE: usize = 5;
/// Free attempts per address.
const FREE_PER_ADDRESS: usize = 20;

/// Sends every request at once (released together behind a barrier); returns the statuses.
pub async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<u16> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut set = tokio::task::JoinSet::new();
    for request in requests {
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            request.send().await.unwrap().status().as_u16()
        });
    }
    let started = std::time::Instant::now();
    let statuses = set.join_all().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the refused guesses are answered at once, not queued"
    );
    statuses
}

/// How many of `statuses` were evaluated (anything but 429), after checking every answer is
/// either an evaluation (`evaluated`) or a refusal.
pub fn evaluated(statuses: &[u16], evaluated: u16) -> usize {
    assert!(
        statuses.iter().all(|s| *s == evaluated || *s == 429),
        "only {evaluated} or 429: {statuses:?}"
    );
    statuses.iter().filter(|s| **s != 429).count()
}

/// Asserts that at least one and at most `max` of `statuses` were evaluated.
fn at_most_evaluated(statuses: &[u16], evaluation: u16, max: usize) {
    let checked = evaluated(statuses, evaluation);
    assert!(
        (1..=max).contains(&checked),
        "{checked} of {} evaluated",
        statuses.len()
    );
}

/// A six-digit code that is not valid for `secret` now (nor one step before or after).
pub fn wrong_code(secret: &str) -> String {
    let valid: Vec<String> = [-30i64, 0, 30]
        .iter()
        .map(|d| code_at(secret, *d))
        .collect();
    ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| !valid.iter().any(|v| v == c))
        .unwrap()
        .to_owned()
}

/// The TOTP code `offset` seconds from now (the next step's is accepted as one step of skew).
pub fn code_at(secret: &str, offset: i64) -> String {
    if offset == 0 {
        return totp_now(secret);
    }
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(u64::try_from(now + offset).unwrap())
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_passwords_are_evaluated_at_most_five_times() {
    let app = TestApp::spawn().await;
    app.user("paula", false).await;
    let b = browser();
    let token = csrf(&page(&app, &b, "/login").await);
    let requests = (0..60)
        .map(|_| {
            b.post(app.url("/login")).form(&[
                ("csrf", token.as_str()),
                ("username", "paula"),
                ("password", "wrong password"),
            ])
        })
        .collect();
    let statuses = all_at_once(requests).await;
    at_most_evaluated(&statuses, 303, FREE_PER_SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_second_factor_codes_are_evaluated_at_most_five_times() {
    let app = TestApp::spawn().await;
    let user = app.user("quentin", true).await;
    let b = browser();
    assert_eq!(
        location(&password_step(&app, &b, &user).await),
        "/login/mfa"
    );
    let token = csrf(&page(&app, &b, "/login/mfa").await);
    let wrong = wrong_code(user.totp.as_deref().unwrap());
    let requests = (0..60)
        .map(|i| {
            // Six digits are TOTP codes; anything else is tried as a recovery code.
            let code = if i % 2 == 0 {
                wrong.clone()
            } else {
                "aaaaa-bbbbb".into()
            };
            b.post(app.url("/login/mfa"))
                .form(&[("csrf", token.clone()), ("code", code)])
        })
        .collect();
    let statuses = all_at_once(requests).await;
    at_most_evaluated(&statuses, 303, FREE_PER_SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_device_codes_in_one_session_are_evaluated_at_most_five_times() {
    let app = TestApp::spawn().await;
    let b = browser();
    let token = csrf(&page(&app, &b, "/device").await);
    let requests = (0..60)
        .map(|_| {
            b.post(app.url("/device"))
                .form(&[("csrf", token.as_str()), ("user_code", "BCDF-GHJK")])
        })
        .collect();
    let statuses = all_at_once(requests).await;
    at_most_evaluated(&statuses, 303, FREE_PER_SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_guesses_with_a_fresh_cookie_each_still_hit_the_per_address_limit() {
    let app = TestApp::spawn().await;
    let mut requests = vec![];
    for _ in 0..60 {
        // A new browser (no cookie) for every guess: only the address ties them together.
        let b = browser();
        let token = csrf(&page(&app, &b, "/device").await);
        requests.push(
            b.post(app.url("/device"))
                .form(&[("csrf", token.as_str()), ("user_code", "BCDF-GHJK")]),
        );
    }
    let statuses = all_at_once(requests).await;
    at_most_evaluated(&statuses, 303, FREE_PER_ADDRESS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_current_passwords_on_the_account_are_evaluated_at_most_five_times() {
    let app = TestApp::spawn().await;
    let user = app.user("rhea", false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let token = csrf(&page(&app, &b, "/account/password").await);
    let requests = (0..40)
        .map(|_| {
            b.post(app.url("/account/password")).form(&[
                ("csrf", token.as_str()),
                ("current", "wrong password"),
                ("new", "a new long passphrase"),
                ("confirm", "a new long passphrase"),
            ])
        })
        .collect();
    let statuses = all_at_once(requests).await;
    at_most_evaluated(&statuses, 303, FREE_PER_SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_wrong_codes_to_turn_off_the_second_factor_are_evaluated_at_most_five_times() {
    let app = TestApp::spawn().await;
    let user = app.user("sven", true).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let token = csrf(&page(&app, &b, "/account").await);
    let wrong = wrong_code(user.totp.as_deref().unwrap());
    let requests = (0..40)
        .map(|_| {
            b.post(app.url("/account/totp/remove")).form(&[
                ("csrf", token.as_str()),
                ("password", user.password.as_str()),
                ("code", wrong.as_str()),
            ])
        })
        .collect();
    let statuses = all_at_once(requests).await;
    // Each request checks the (right) password first, behind its own reservation, then the
    // code: at most five get as far as evaluating anything.
    at_most_evaluated(&statuses, 303, FREE_PER_SOURCE);
    assert!(
        page(&app, &b, "/account").await.contains("Turn off"),
        "still on"
    );
}
