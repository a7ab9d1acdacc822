//! An answer is good for one ceremony, once: posted again, raced by many posts at once, posted for
//! another pending request or in another browser session, it signs nobody in (WebAuthn L3 §13.4.3:
//! a challenge is used once; the ceremony is the session's own).

use super::{Rig, answer, audited, credential_post, login_options, says, signed_in, token};
use crate::helpers::{TestApp, location, query_param};
use crate::limits::all_at_once;
use crate::signin::{authorize_query, browser, visit};

/// A fresh session's sign-in ceremony and the authenticator's answer to it: (session, CSRF token,
/// answer).
async fn answered(rig: &Rig, query: &str) -> (reqwest::Client, String, serde_json::Value) {
    let b = browser();
    let from = format!("/login{query}");
    let options = login_options(&rig.app, &b, &from, query, "signin").await;
    let assertion = rig.get(&options).await;
    let csrf = token(&rig.app, &b, &from).await;
    (b, csrf, assertion)
}

async fn sign_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select sign_count from passkeys")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_posted_twice_signs_in_once() {
    let rig = Rig::start().await;
    rig.user_with_passkey("ada").await;
    let (b, csrf, assertion) = answered(&rig, "").await;

    let first = answer(&rig.app, &b, "", &csrf, &assertion).await;
    assert_eq!(location(&first), "/account");
    assert!(signed_in(&rig.app, &b).await);
    let count = sign_count(&rig.app).await;

    // The same form again, in the same (now signed-in) session: its ceremony is gone.
    let again = answer(&rig.app, &b, "", &csrf, &assertion).await;
    assert_eq!(again.status(), 303);
    says(&rig.app, &b, &again, "expired").await;

    // In another session that began a ceremony of its own: not that ceremony's challenge.
    let other = browser();
    login_options(&rig.app, &other, "/login", "", "signin").await;
    let csrf = token(&rig.app, &other, "/login").await;
    let replayed = answer(&rig.app, &other, "", &csrf, &assertion).await;
    assert_eq!(location(&replayed), "/login");
    says(&rig.app, &other, &replayed, "could not be verified").await;
    assert!(!signed_in(&rig.app, &other).await);

    assert_eq!(audited(&rig.app, "passkey.used").await, 1);
    assert_eq!(
        audited(&rig.app, "login.succeeded").await,
        2,
        "password, then passkey"
    );
    assert_eq!(sign_count(&rig.app).await, count, "the counter moved once");
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_posted_eight_times_at_once_signs_in_once() {
    let rig = Rig::start().await;
    rig.user_with_passkey("bea").await;
    let (b, csrf, assertion) = answered(&rig, "").await;
    let credential = assertion.to_string();
    // Eight clients carrying the one session cookie, released together.
    let requests = (0..8)
        .map(|_| credential_post(&rig.app, &b, "/login/passkey", &csrf, &credential))
        .collect();
    let statuses = all_at_once(requests).await;
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(audited(&rig.app, "passkey.used").await, 1);
    assert_eq!(audited(&rig.app, "passkey.clone_suspected").await, 0);
    let sessions: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where event = 'login.succeeded' \
         and details::text like '%hwk%'",
    )
    .fetch_one(&rig.app.state.db)
    .await
    .unwrap();
    assert_eq!(sessions, 1, "one sign-in with the passkey");
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_for_one_pending_request_does_not_finish_another() {
    let rig = Rig::start().await;
    rig.user_with_passkey("cleo").await;
    let notes = rig.app.client("Notes", false, true).await;
    let photos = rig.app.client("Photos", false, true).await;
    let b = browser();
    let mut requests = vec![];
    for client in [&notes, &photos] {
        let to = location(
            &visit(
                &rig.app,
                &b,
                "/authorize",
                &authorize_query(client, "openid"),
            )
            .await,
        );
        let id = query_param(&rig.app.url(&to), "request").unwrap();
        requests.push(format!("?request={id}"));
    }
    let (for_notes, for_photos) = (&requests[0], &requests[1]);
    let csrf = token(&rig.app, &b, &format!("/login{for_notes}")).await;

    // Begun for Notes, posted for Photos or for no request: refused, and the ceremony is spent.
    for posted in [for_photos.as_str(), ""] {
        let from = format!("/login{for_notes}");
        let options = login_options(&rig.app, &b, &from, for_notes, "signin").await;
        let assertion = rig.get(&options).await;
        let response = answer(&rig.app, &b, posted, &csrf, &assertion).await;
        assert_eq!(location(&response), format!("/login{posted}"));
        says(&rig.app, &b, &response, "expired").await;
        assert!(!signed_in(&rig.app, &b).await, "posted for {posted:?}");
        let again = answer(&rig.app, &b, for_notes, &csrf, &assertion).await;
        assert_eq!(location(&again), format!("/login{for_notes}"), "spent");
    }
    assert_eq!(audited(&rig.app, "passkey.used").await, 0);

    // Posted for the request it was begun for: signed in, on to Notes.
    let from = format!("/login{for_notes}");
    let options = login_options(&rig.app, &b, &from, for_notes, "signin").await;
    let assertion = rig.get(&options).await;
    let response = answer(&rig.app, &b, for_notes, &csrf, &assertion).await;
    assert_eq!(location(&response), format!("/authorize/resume{for_notes}"));
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_from_one_session_signs_in_no_other() {
    let rig = Rig::start().await;
    rig.user_with_passkey("dana").await;
    let (victim, victim_csrf, assertion) = answered(&rig, "").await;

    // The attacker's session has no ceremony; then one of its own, with another challenge.
    let attacker = browser();
    let csrf = token(&rig.app, &attacker, "/login").await;
    let response = answer(&rig.app, &attacker, "", &csrf, &assertion).await;
    says(&rig.app, &attacker, &response, "expired").await;
    login_options(&rig.app, &attacker, "/login", "", "signin").await;
    let response = answer(&rig.app, &attacker, "", &csrf, &assertion).await;
    says(&rig.app, &attacker, &response, "could not be verified").await;
    assert!(!signed_in(&rig.app, &attacker).await);
    assert_eq!(audited(&rig.app, "passkey.used").await, 0);

    // The session that began the ceremony still finishes it.
    let response = answer(&rig.app, &victim, "", &victim_csrf, &assertion).await;
    assert_eq!(location(&response), "/account");
    assert_eq!(audited(&rig.app, "passkey.used").await, 1);
    rig.quit().await;
}
