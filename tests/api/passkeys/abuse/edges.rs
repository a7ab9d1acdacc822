//! What reaches the passkey endpoints without a browser: an answer too long for the edge (400
//! before any handler, nothing taken or stored), one that is not JSON (a plain message and a 303,
//! as for a wrong code), a form without its CSRF token (403); and, with passkeys off, no trace of
//! them on the pages and 404 from every endpoint.

use super::{audited, credential_post, post, says, signed_in, stored, token};
use crate::helpers::{Settings, TestApp, location};
use crate::signin::{browser, page, sign_in};

/// An answer-shaped value longer than the edge allows for `credential` (16 KiB, src/limits.rs).
fn oversized() -> String {
    let padding = "A".repeat(portcullis::limits::CREDENTIAL);
    format!(r#"{{"id":"x","rawId":"eA","type":"public-key","response":{{"p":"{padding}"}}}}"#)
}

#[tokio::test]
async fn oversized_malformed_and_unauthenticated_answers_are_refused_at_once() {
    let app = Settings::new().await.set_localhost_issuer().spawn().await;
    let user = app.user("erin", false).await;

    // Sign-in: an oversized answer is stopped at the edge, before its ceremony is taken.
    let b = browser();
    let options = post(
        &app,
        &b,
        "/login",
        "/login/passkey/options",
        &[("purpose", "signin")],
    )
    .await;
    assert_eq!(options.status(), 200);
    let csrf = token(&app, &b, "/login").await;
    let too_long = oversized();
    for path in ["/login/passkey", "/account/passkeys"] {
        let response = credential_post(&app, &b, path, &csrf, &too_long);
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(
            response.text().await.unwrap().contains("credential"),
            "names the field"
        );
    }
    let ceremonies = ceremonies(&app).await;
    assert_eq!(ceremonies, 1, "the ceremony was not taken");

    // Not JSON, or JSON of another shape: a message on the sign-in page, nobody signed in.
    for garbage in ["", "{", "null", "[1,2]", r#"{"id":1}"#, "\u{0}\u{ffff}"] {
        let response = credential_post(&app, &b, "/login/passkey", &csrf, garbage);
        let response = response.send().await.unwrap();
        assert_eq!(location(&response), "/login", "{garbage:?}");
        says(
            &app,
            &b,
            &response,
            "The passkey did not answer. Try again.",
        )
        .await;
        assert!(!signed_in(&app, &b).await);
    }

    // No CSRF token, or a forged one: 403 from each endpoint.
    for path in ["/login/passkey/options", "/login/passkey"] {
        for token in [None, Some("forged")] {
            let mut form = vec![("purpose", "signin"), ("credential", "{}")];
            form.extend(token.map(|t| ("csrf", t)));
            let response = b.post(app.url(path)).form(&form).send().await.unwrap();
            assert_eq!(response.status(), 403, "{path} with {token:?}");
        }
    }

    // Registration, signed in: the same refusals, and nothing stored.
    assert_eq!(location(&sign_in(&app, &b, &user).await), "/account");
    let csrf = token(&app, &b, "/account/passkeys").await;
    let response = post(
        &app,
        &b,
        "/account/passkeys",
        "/account/passkeys/options",
        &[("name", "Key")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = credential_post(&app, &b, "/account/passkeys", &csrf, "{not json");
    let response = response.send().await.unwrap();
    assert_eq!(location(&response), "/account/passkeys");
    says(&app, &b, &response, "Adding a passkey needs JavaScript").await;
    for path in ["/account/passkeys/options", "/account/passkeys"] {
        let form = [("name", "Key"), ("credential", "{}")];
        let response = b.post(app.url(path)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(stored(&app, None).await, 0);
    assert_eq!(audited(&app, "passkey.added").await, 0);
    assert_eq!(audited(&app, "passkey.used").await, 0);
}

/// The ceremonies kept in Redis for this app.
async fn ceremonies(app: &TestApp) -> usize {
    let mut redis = app.state.redis.conn.clone();
    let pattern = format!("pt:{}:*", app.db.name);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut redis)
        .await
        .unwrap();
    keys.iter().filter(|k| k.contains("ceremony")).count()
}

/// Passkeys are off: nothing on `/login` offers them and every endpoint answers 404.
async fn off(app: &TestApp) {
    let user = app.user("finn", false).await;
    let b = browser();
    let login = page(app, &b, "/login").await;
    assert!(!login.contains("data-passkey"), "{login}");
    assert!(!login.contains("passkeys.js"));
    assert!(!login.contains("webauthn"), "no passkey autofill");
    let fields = [("purpose", "signin"), ("credential", "{}"), ("name", "Key")];
    for path in ["/login/passkey/options", "/login/passkey"] {
        let response = post(app, &b, "/login", path, &fields).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = b.get(app.url("/login/passkey")).send().await.unwrap();
    assert_eq!(response.status(), 404);

    assert_eq!(location(&sign_in(app, &b, &user).await), "/account");
    let account = page(app, &b, "/account").await;
    assert!(
        !account.contains("/account/passkeys"),
        "no link to passkeys"
    );
    let response = b.get(app.url("/account/passkeys")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    for path in [
        "/login/passkey/options",
        "/login/passkey",
        "/account/passkeys/options",
        "/account/passkeys",
    ] {
        let response = post(app, &b, "/account", path, &fields).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_eq!(ceremonies(app).await, 0);
}

#[tokio::test]
async fn with_passkeys_off_nothing_offers_them_and_their_endpoints_are_404() {
    let app = Settings::new()
        .await
        .set_localhost_issuer()
        .set("PORTCULLIS_PASSKEYS", "off")
        .spawn()
        .await;
    off(&app).await;
}

#[tokio::test]
async fn on_an_ip_address_issuer_passkeys_are_off() {
    off(&TestApp::spawn().await).await;
}
