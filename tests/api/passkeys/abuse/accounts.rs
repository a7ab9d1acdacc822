//! Answers aimed at the wrong account, and answers guessed: a person's own passkey offered where a
//! ceremony expects another account's (after that account's password) is refused, so is an answer
//! whose (unsigned) user handle names another account, and wrong answers are throttled like
//! second-factor codes, counted before they are checked (ASVS 5.0 V6.3.1), so answers fired at
//! once cannot all be evaluated.

use serde_json::{Value, json};

use super::{
    Rig, answer, audited, b64, corrupted, credential_post, login_options, says, signed_in, token,
};
use crate::helpers::location;
use crate::limits::{all_at_once, evaluated};
use crate::signin::{browser, password_step};

/// `options` answered with the passkey `own` (a registration answer), whichever the options
/// allow: an attacker's authenticator signs any challenge with its own passkey.
async fn with_own(rig: &Rig, mut options: Value, own: &Value) -> Value {
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": own["id"] }]);
    let assertion = rig.get(&options).await;
    assert_eq!(assertion["id"], own["id"]);
    assertion
}

/// Posts `assertion` in `b`'s session from the page at `from`, and checks that it was refused as
/// another account's passkey: back there, nobody signed in, no passkey used.
async fn refused_as_not_registered(rig: &Rig, b: &reqwest::Client, from: &str, assertion: &Value) {
    let csrf = token(&rig.app, b, from).await;
    let response = answer(&rig.app, b, "", &csrf, assertion).await;
    assert_eq!(location(&response), from);
    says(
        &rig.app,
        b,
        &response,
        "That passkey is not registered for this account.",
    )
    .await;
    assert!(!signed_in(&rig.app, b).await);
    assert_eq!(audited(&rig.app, "passkey.used").await, 0);
    let last_used: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select max(last_used_at) from passkeys")
            .fetch_one(&rig.app.state.db)
            .await
            .unwrap();
    assert_eq!(last_used, None, "no passkey recorded as used");
}

/// Free second-factor attempts per account from one address (src/throttle.rs
/// `ACCOUNT_FROM_SOURCE`).
const FREE_PER_SOURCE: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ones_own_passkey_does_not_confirm_another_accounts_password() {
    let rig = Rig::start().await;
    let (_mallory, own) = rig.user_with_passkey("mallory").await;
    let (victim, _) = rig.user_with_passkey("victor").await;

    // Mallory knows Victor's password; Victor's second factor is a passkey.
    let b = browser();
    assert_eq!(
        location(&password_step(&rig.app, &b, &victim).await),
        "/login/mfa"
    );
    let options = login_options(&rig.app, &b, "/login/mfa", "", "confirm").await;
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "Victor's passkey only: {options}");
    assert_ne!(allowed[0]["id"], own["id"]);
    let assertion = with_own(&rig, options, &own).await;
    refused_as_not_registered(&rig, &b, "/login/mfa", &assertion).await;
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_user_handle_does_not_sign_in_as_its_user() {
    let rig = Rig::start().await;
    let (victim, _) = rig.user_with_passkey("vera").await;
    let (_mallory, own) = rig.user_with_passkey("mona").await;

    // The user handle is not signed (WebAuthn L3 §6.1): Mallory's answer, naming Vera.
    let b = browser();
    let options = login_options(&rig.app, &b, "/login", "", "signin").await;
    let mut assertion = with_own(&rig, options, &own).await;
    assertion["response"]["userHandle"] = b64(victim.id.as_bytes()).into();
    refused_as_not_registered(&rig, &b, "/login", &assertion).await;
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_fired_at_once_are_evaluated_at_most_five_times() {
    let rig = Rig::start().await;
    let (user, _) = rig.user_with_passkey("wanda").await;

    // Twelve sessions, each with a ceremony answered by the passkey, its signature corrupted.
    let mut requests = vec![];
    for _ in 0..12 {
        let b = browser();
        let options = login_options(&rig.app, &b, "/login", "", "signin").await;
        let wrong = corrupted(&rig.get(&options).await).to_string();
        let csrf = token(&rig.app, &b, "/login").await;
        requests.push(credential_post(
            &rig.app,
            &b,
            "/login/passkey",
            &csrf,
            &wrong,
        ));
    }
    let statuses = all_at_once(requests).await;
    let checked = evaluated(&statuses, 303);
    assert!((1..=FREE_PER_SOURCE).contains(&checked), "{statuses:?}");
    let failed: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where event = 'login.failed' and target = $1",
    )
    .bind(user.id.to_string())
    .fetch_one(&rig.app.state.db)
    .await
    .unwrap();
    assert_eq!(
        failed,
        i64::try_from(checked).unwrap(),
        "each evaluated answer audited"
    );

    // The right answer from the same address now waits too.
    let b = browser();
    let options = login_options(&rig.app, &b, "/login", "", "signin").await;
    let right = rig.get(&options).await;
    let csrf = token(&rig.app, &b, "/login").await;
    let response = answer(&rig.app, &b, "", &csrf, &right).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(!signed_in(&rig.app, &b).await);
    assert_eq!(audited(&rig.app, "passkey.used").await, 0);
    rig.quit().await;
}
