//! A passkey ceremony begun on one replica and finished on another: two servers on one database and
//! one Redis, behind one issuer (as behind a load balancer). The test is the browser's HTTP side
//! (a cookie jar; cookies are not bound to a port) and Chromium is only the authenticator, on a
//! page of the issuer's origin, so each request can be sent to the replica the test picks.

use serde_json::Value;

use crate::helpers::{Settings, TestApp, csrf, location, random_kek};
use crate::passkeys::browser::audited;
use crate::signin::{browser as cookie_jar, page, sign_in};
use crate::webdriver::AuthenticatorOptions;
use crate::webdriver::Browser;

/// POSTs `fields` (with the session's CSRF token from `/login` of `app`) to `path` of `app`.
async fn post(
    app: &TestApp,
    jar: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(&page(app, jar, "/login").await);
    let mut form = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    jar.post(app.url(path)).form(&form).send().await.unwrap()
}

async fn options(app: &TestApp, jar: &reqwest::Client, path: &str, field: (&str, &str)) -> Value {
    let response = post(app, jar, path, &[field]).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ceremony_begun_on_one_replica_finishes_on_another() {
    let kek = random_kek();
    let first = Settings::replica(&crate::helpers::TestDb::new().await, &kek)
        .set_localhost_issuer()
        .spawn()
        .await;
    // The second replica serves the first one's issuer, as both would behind one name.
    let second = Settings::replica(&first.db, &kek)
        .set_localhost_issuer()
        .set("PORTCULLIS_ISSUER", &first.address)
        .spawn()
        .await;
    let dana = first.user("dana", false).await;
    let jar = cookie_jar();
    let response = sign_in(&first, &jar, &dana).await;
    assert_eq!(location(&response), "/account");

    let browser = Browser::start().await;
    browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    browser.goto(&first.url("/login")).await;

    // Registration: options from the first replica, the answer to the second.
    let create = options(&first, &jar, "/account/passkeys/options", ("name", "Desk")).await;
    let answer = browser.create_credential(&create).await.unwrap();
    let response = post(
        &second,
        &jar,
        "/account/passkeys",
        &[("credential", &answer.to_string())],
    )
    .await;
    assert_eq!(location(&response), "/account/passkeys");
    assert!(
        page(&second, &jar, "/account/passkeys")
            .await
            .contains("Passkey “Desk” added")
    );
    // Another browser session, signed out.
    let jar = cookie_jar();

    // Sign-in: options from the second replica, the answer to the first.
    let get = options(
        &second,
        &jar,
        "/login/passkey/options",
        ("purpose", "signin"),
    )
    .await;
    let answer = browser.get_credential(&get).await.unwrap();
    let response = post(
        &first,
        &jar,
        "/login/passkey",
        &[("credential", &answer.to_string())],
    )
    .await;
    assert_eq!(location(&response), "/account", "signed in");
    assert!(page(&second, &jar, "/account").await.contains("dana"));
    assert_eq!(audited(&first, "passkey.used", dana.id).await.len(), 1);
}
