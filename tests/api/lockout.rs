//! The per-account sign-in limit counts the account, whatever name was typed, and cannot be
//! turned against the owner: the fast-growing delay falls on the address that failed, while the
//! account's limit from anywhere stays low.

use crate::helpers::{Settings, TestApp, TestUser, location};
use crate::signin::{browser, password_step};

#[tokio::test]
async fn failures_typed_as_username_and_as_email_count_against_one_account() {
    let app = TestApp::spawn().await;
    let user = app.user("tilda", false).await;
    let mut evaluated = 0;
    loop {
        // Alternately the username and the email, each time a new browser.
        let login = if evaluated % 2 == 0 {
            "tilda".to_owned()
        } else {
            "TILDA@example.com".to_owned()
        };
        let wrong = TestUser {
            username: login,
            password: "wrong password".into(),
            ..user.clone()
        };
        let response = password_step(&app, &browser(), &wrong).await;
        if response.status() == 429 {
            break;
        }
        assert_eq!(location(&response), "/login");
        evaluated += 1;
        // Counted per typed name, 5 + 5 would pass before any wait.
        assert!(evaluated <= 7, "never throttled after {evaluated} guesses");
    }
    assert!(evaluated >= 5, "five free guesses, got {evaluated}");
}

/// An app that believes `X-Forwarded-For` from loopback, so tests can come from many addresses.
async fn behind_a_proxy() -> TestApp {
    Settings::new()
        .await
        .set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1/32")
        .spawn()
        .await
}

fn from(address: &str) -> reqwest::Client {
    crate::helpers::browser_from(address)
}

#[tokio::test]
async fn an_attackers_failures_from_one_address_do_not_lock_the_owner_out_from_another() {
    let app = behind_a_proxy().await;
    let owner = app.user("ulla", false).await;
    let guess = TestUser {
        password: "wrong password".into(),
        ..owner.clone()
    };
    let attacker = from("198.51.100.7");
    // Seven guesses get through (five free, then after 1 s and 2 s); the next waits 4 s.
    let (mut evaluated, mut refused) = (0, 0);
    while evaluated < 7 {
        if password_step(&app, &attacker, &guess).await.status() == 429 {
            refused += 1;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        } else {
            evaluated += 1;
        }
    }
    assert!(refused > 0, "the attacker is throttled");
    let response = password_step(&app, &from("203.0.113.5"), &owner).await;
    assert_eq!(
        location(&response),
        "/account",
        "the owner signs in elsewhere"
    );
    // The owner's success does not lift the attacker's wait.
    assert_eq!(password_step(&app, &attacker, &owner).await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_many_addresses_share_the_accounts_limit_whose_wait_stays_short() {
    let app = behind_a_proxy().await;
    let owner = app.user("vilma", false).await;
    let mut requests = vec![];
    for n in 1..=30 {
        // One guess from each of 30 addresses: no per-address limit is reached.
        let b = from(&format!("198.51.100.{n}"));
        let token = crate::helpers::csrf(&crate::signin::page(&app, &b, "/login").await);
        let form = [
            ("csrf", token),
            ("username", owner.username.clone()),
            ("password", "wrong password".to_owned()),
        ];
        requests.push(b.post(app.url("/login")).form(&form));
    }
    let statuses = crate::limits::all_at_once(requests).await;
    let checked = crate::limits::evaluated(&statuses, 303);
    assert!((1..=10).contains(&checked), "{checked} of 30 evaluated");
    // The account's own wait is capped low: the owner is held up by a minute at most.
    let response = password_step(&app, &from("203.0.113.5"), &owner).await;
    if response.status() == 429 {
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait <= 60, "{wait}");
    }
}
