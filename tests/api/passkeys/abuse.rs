//! Passkeys as an attacker uses them: answers replayed, raced, moved to another session, another
//! pending request or another account; malformed and oversized answers; registrations of one
//! authenticator twice and past the limit; guesses past the throttle. The test's own HTTP client
//! is the person's (or the attacker's) browser session; headless Chromium serves only as the
//! authenticator, at a page of the app so that its origin is the relying party's (WebAuthn L3
//! §13.4.9). Whatever an attacker could do with the JSON of an answer, the test does to it.

mod accounts;
mod edges;
mod registration;
mod replay;

use base64::Engine as _;
use serde_json::Value;

use crate::helpers::{Settings, TestApp, TestUser, csrf, location};
use crate::signin::{browser, page, sign_in};
use crate::webdriver::{AuthenticatorOptions, Browser};

/// An app on a localhost issuer (passkeys on) and a browser with one platform authenticator, at
/// a page of the app without the passkey script (whose autofill request, pending on `/login`,
/// would make every other ceremony wait).
pub struct Rig {
    pub app: TestApp,
    pub browser: Browser,
    pub authenticator: String,
}

impl Rig {
    pub async fn start() -> Rig {
        let app = Settings::new().await.set_localhost_issuer().spawn().await;
        let browser = Browser::start().await;
        browser.goto(&app.url("/healthz")).await;
        let authenticator = browser
            .add_virtual_authenticator(&AuthenticatorOptions::default())
            .await;
        Rig {
            app,
            browser,
            authenticator,
        }
    }

    /// The authenticator's answer to request options from the server.
    pub async fn get(&self, options: &Value) -> Value {
        self.browser.get_credential(options).await.unwrap()
    }

    /// A passkey named `name` added to the account signed in on `b`; the registration answer.
    pub async fn register(&self, b: &reqwest::Client, name: &str) -> Value {
        let (status, options) = registration_options(&self.app, b, name).await;
        assert_eq!(status, 200, "{options}");
        let created = self.browser.create_credential(&options).await.unwrap();
        let response = add(&self.app, b, &created).await;
        assert_eq!(location(&response), "/account/passkeys");
        let page = page(&self.app, b, "/account/passkeys").await;
        assert!(page.contains("added"), "{page}");
        created
    }

    /// A user with a password and a passkey (registered in a session that is then dropped).
    pub async fn user_with_passkey(&self, username: &str) -> (TestUser, Value) {
        let (user, b) = self.signed_in(username, false).await;
        let created = self.register(&b, username).await;
        (user, created)
    }

    /// A new user (with TOTP if `totp`) and a session signed in as them, second factor fresh.
    pub async fn signed_in(&self, username: &str, totp: bool) -> (TestUser, reqwest::Client) {
        let user = self.app.user(username, totp).await;
        let b = browser();
        assert_eq!(location(&sign_in(&self.app, &b, &user).await), "/account");
        (user, b)
    }

    pub async fn quit(self) {
        self.browser.quit().await;
    }
}

/// The session's CSRF token, from the page at `from`.
pub async fn token(app: &TestApp, b: &reqwest::Client, from: &str) -> String {
    csrf(&page(app, b, from).await)
}

/// POSTs `fields` with the session's CSRF token (read from the page at `from`) to `path`.
pub async fn post(
    app: &TestApp,
    b: &reqwest::Client,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = token(app, b, from).await;
    let mut form = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    b.post(app.url(path)).form(&form).send().await.unwrap()
}

/// A response's status and JSON body.
async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The options of a sign-in ceremony (`purpose`: `signin` or `confirm`) begun in `b`'s session
/// from the page at `from`, continuing `query` (`""` or `?request=<id>`).
pub async fn login_options(
    app: &TestApp,
    b: &reqwest::Client,
    from: &str,
    query: &str,
    purpose: &str,
) -> Value {
    let path = format!("/login/passkey/options{query}");
    let response = post(app, b, from, &path, &[("purpose", purpose)]).await;
    let (status, options) = status_json(response).await;
    assert_eq!(status, 200, "{options}");
    assert!(options["publicKey"]["challenge"].is_string(), "{options}");
    options
}

/// A POST of `credential` (a passkey's answer as the page's script sends it, or anything else)
/// with `token` to `path`, ready to send.
pub fn credential_post(
    app: &TestApp,
    b: &reqwest::Client,
    path: &str,
    token: &str,
    credential: &str,
) -> reqwest::RequestBuilder {
    b.post(app.url(path))
        .form(&[("csrf", token), ("credential", credential)])
}

/// Posts `answer` to `/login/passkey{query}` with `token`.
pub async fn answer(
    app: &TestApp,
    b: &reqwest::Client,
    query: &str,
    token: &str,
    answer: &Value,
) -> reqwest::Response {
    let path = format!("/login/passkey{query}");
    credential_post(app, b, &path, token, &answer.to_string())
        .send()
        .await
        .unwrap()
}

/// The options of a registration ceremony for a passkey named `name`: status and body.
pub async fn registration_options(app: &TestApp, b: &reqwest::Client, name: &str) -> (u16, Value) {
    let from = "/account/passkeys";
    let response = post(app, b, from, "/account/passkeys/options", &[("name", name)]).await;
    status_json(response).await
}

/// Posts a registration answer to `/account/passkeys`.
pub async fn add(app: &TestApp, b: &reqwest::Client, created: &Value) -> reqwest::Response {
    let credential = created.to_string();
    post(
        app,
        b,
        "/account/passkeys",
        "/account/passkeys",
        &[("credential", &credential)],
    )
    .await
}

/// Asserts that `response` is a 303 to a page that now says `text`.
pub async fn says(app: &TestApp, b: &reqwest::Client, response: &reqwest::Response, text: &str) {
    let shown = page(app, b, &location(response)).await;
    assert!(shown.contains(text), "not “{text}”: {shown}");
}

/// Whether `b`'s session is signed in (the account page answers rather than sending to /login).
pub async fn signed_in(app: &TestApp, b: &reqwest::Client) -> bool {
    let response = b.get(app.url("/account")).send().await.unwrap();
    response.status() == 200
}

/// How many audit events named `event` were recorded.
pub async fn audited(app: &TestApp, event: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where event = $1")
        .bind(event)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// How many passkeys are stored (for `user`, or all).
pub async fn stored(app: &TestApp, user: Option<uuid::Uuid>) -> i64 {
    sqlx::query_scalar("select count(*) from passkeys where $1::uuid is null or user_id = $1")
        .bind(user)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// `answer` with its signature corrupted (one bit of the last byte flipped: still DER, no longer
/// the authenticator's).
pub fn corrupted(answer: &Value) -> Value {
    let mut answer = answer.clone();
    let mut signature = unb64(answer["response"]["signature"].as_str().unwrap());
    *signature.last_mut().unwrap() ^= 0x01;
    answer["response"]["signature"] = b64(&signature).into();
    answer
}
