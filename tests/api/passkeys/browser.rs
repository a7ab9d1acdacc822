//! Passkeys in a real browser: headless Chromium with a virtual authenticator (WebDriver's
//! WebAuthn extension), the pages and their one script, and `openidconnect` as the relying party.
//! A person adds a passkey on `/account/passkeys`, signs out, and signs in with the passkey alone;
//! the relying party reads `amr` and `acr` from the verified ID token. A passkey serves as the
//! second factor after a password, a copied passkey (its counter behind) is refused, and a
//! passkey is removed. Every new page is saved as a screenshot.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    RedirectUrl, TokenResponse,
};

use crate::helpers::{Settings, TestApp, TestUser, query_param};
use crate::webdriver::AuthenticatorOptions;
use crate::webdriver::Browser;

pub const PHISHING_RESISTANT: &str = "urn:portcullis:acr:phishing-resistant";

/// An app whose issuer is on `localhost`: browsers refuse passkeys on an IP address.
pub async fn passkey_app() -> TestApp {
    Settings::new().await.set_localhost_issuer().spawn().await
}

/// Signs `user` in with their password (and TOTP code, if enrolled) from `/login`.
pub async fn password_sign_in(browser: &Browser, app: &TestApp, user: &TestUser) {
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", &user.username).await;
    browser.type_into("#password", &user.password).await;
    if user.totp.is_some() {
        browser
            .click_to("form:not([data-passkey]) button", "/login/mfa")
            .await;
        browser.type_into("#code", &user.code()).await;
    }
    browser
        .click_to("form:not([data-passkey]) button", "/account")
        .await;
}

/// Adds a passkey named `name` on `/account/passkeys` (signed in, second factor fresh).
pub async fn add_passkey(browser: &Browser, app: &TestApp, name: &str) {
    browser.goto(&app.url("/account/passkeys")).await;
    browser.clear("#passkey-name").await;
    browser.type_into("#passkey-name", name).await;
    browser
        .click_until_text(
            "form[data-passkey=register] button",
            &format!("Passkey “{name}” added"),
        )
        .await;
}

/// Makes the device's user verification fail until the page's autofill request (conditional UI)
/// has ended, then succeed again: a virtual authenticator answers an autofill request at once
/// when it holds a passkey, where a person would pick it from the list. Leaves the browser on
/// `/login` (or `path`), ready for the button.
pub async fn without_autofill(browser: &Browser, app: &TestApp, device: &str, path: &str) {
    browser.set_user_verified(device, false).await;
    browser.goto(&app.url(path)).await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "the autofill request has ended",
        || async {
            let state = browser
                .execute(
                    "return document.querySelector('form[data-passkey=signin]').dataset.autofill",
                    serde_json::json!([]),
                )
                .await;
            (state == "ended").then_some(())
        },
    )
    .await;
    browser.set_user_verified(device, true).await;
}

/// Signs out through the sign-out page.
pub async fn sign_out(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/logout")).await;
    browser
        .click_to("button[type=submit]", "/logout/done")
        .await;
}

/// The audit events named `event` for `user`.
pub async fn audited(app: &TestApp, event: &str, user: uuid::Uuid) -> Vec<serde_json::Value> {
    sqlx::query_scalar("select details from audit_events where event = $1 and target = $2")
        .bind(event)
        .bind(user.to_string())
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

/// A relying party with the `openidconnect` crate: a confidential client that skips consent,
/// whose redirect URI is a small local page.
pub struct RelyingParty {
    client: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    http: reqwest::Client,
    pub redirect: String,
}

/// What the relying party read from the verified ID token.
pub struct SignedIn {
    pub amr: Vec<String>,
    pub acr: String,
}

impl RelyingParty {
    pub async fn register(app: &TestApp) -> RelyingParty {
        let port = crate::real_browser::client_app().await;
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let spec = portcullis::clients::ClientSpec {
            name: "Notes".into(),
            redirect_uris: vec![redirect.clone()],
            skip_consent: true,
            ..Default::default()
        };
        let registered = app.register(spec, redirect.clone()).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let issuer = IssuerUrl::new(app.address.clone()).unwrap();
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(registered.id),
            Some(ClientSecret::new(registered.secret.unwrap())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
        RelyingParty {
            client,
            http,
            redirect,
        }
    }

    /// An authorization request (with `acr_values` when given): the URL, the nonce and the PKCE
    /// verifier.
    pub fn authorize_url(
        &self,
        acr_values: Option<&str>,
    ) -> (String, Nonce, openidconnect::PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        if let Some(acr) = acr_values {
            request = request.add_extra_param("acr_values", acr);
        }
        let (url, _, nonce) = request.url();
        (url.to_string(), nonce, verifier)
    }

    /// Sends the browser to sign in (with `acr_values` when given), lets `sign_in` act on the
    /// pages, and verifies the ID token the code brings.
    pub async fn sign_in<F: AsyncFnOnce(&Browser)>(
        &self,
        browser: &Browser,
        acr_values: Option<&str>,
        sign_in: F,
    ) -> SignedIn {
        let (url, nonce, verifier) = self.authorize_url(acr_values);
        browser.goto(&url).await;
        sign_in(browser).await;
        browser.wait_for_url(&self.redirect).await;
        let code = query_param(&browser.url().await, "code").expect("a code");
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .unwrap();
        let claims = tokens
            .id_token()
            .expect("an ID token")
            .claims(&self.client.id_token_verifier(), &nonce)
            .expect("the ID token verifies")
            .clone();
        SignedIn {
            amr: claims
                .auth_method_refs()
                .map(|m| m.iter().map(|m| m.to_string()).collect())
                .unwrap_or_default(),
            acr: claims
                .auth_context_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_adds_a_passkey_and_signs_in_with_it_alone() {
    let app = passkey_app().await;
    let alice = app.user("alice", false).await;
    let rp = RelyingParty::register(&app).await;
    let browser = Browser::start().await;
    let device = browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;

    password_sign_in(&browser, &app, &alice).await;
    assert!(browser.source().await.contains("Add a passkey"));
    browser
        .screenshot("passkeys-01-account-offers-a-passkey")
        .await;
    browser.goto(&app.url("/account/passkeys")).await;
    browser.screenshot("passkeys-02-none-yet").await;
    add_passkey(&browser, &app, "Work laptop").await;
    let page = browser.source().await;
    assert!(
        page.contains("Work laptop") && page.contains("Kept on one device"),
        "{page}"
    );
    browser.screenshot("passkeys-03-added").await;
    let held = browser.credentials(&device).await;
    assert_eq!(held.len(), 1);
    assert!(held[0].is_resident_credential, "a discoverable credential");
    assert_eq!(audited(&app, "passkey.added", alice.id).await.len(), 1);
    sign_out(&browser, &app).await;

    // The relying party asks; the person picks the passkey from the username field's autofill
    // (conditional UI; the virtual device answers at once): no name, no password.
    let signed_in = rp.sign_in(&browser, None, async |_| {}).await;
    assert_eq!(signed_in.amr, ["hwk", "user", "mfa"]);
    assert_eq!(signed_in.acr, PHISHING_RESISTANT);
    let used = audited(&app, "passkey.used", alice.id).await;
    assert_eq!(used, [serde_json::json!({ "name": "Work laptop" })]);
    let logins = audited(&app, "login.succeeded", alice.id).await;
    assert_eq!(
        logins.last().unwrap()["amr"],
        serde_json::json!(["hwk", "user", "mfa"])
    );

    // Renamed, then removed (the sign-in with the passkey was a fresh second factor).
    browser.goto(&app.url("/account/passkeys")).await;
    assert!(browser.source().await.contains("last used"));
    browser.click("ul.passkeys details summary").await;
    browser.screenshot("passkeys-05-rename-or-remove").await;
    browser.clear("ul.passkeys input[name=name]").await;
    browser
        .type_into("ul.passkeys input[name=name]", "Old laptop")
        .await;
    browser
        .click_until_text("ul.passkeys button.secondary", "Passkey renamed.")
        .await;
    browser.click("ul.passkeys details summary").await;
    browser
        .click_until_text("ul.passkeys button.danger", "Passkey “Old laptop” removed.")
        .await;
    browser.screenshot("passkeys-06-removed").await;
    assert_eq!(audited(&app, "passkey.removed", alice.id).await.len(), 1);
    sign_out(&browser, &app).await;

    // Removed here, the passkey the device still holds no longer signs in; the page says so and
    // does not offer the autofill again at once.
    browser.goto(&app.url("/login")).await;
    browser
        .wait_for_text("That passkey is not registered for this account.")
        .await;
    assert!(browser.source().await.contains("data-autofill=\"off\""));
    browser.screenshot("passkeys-07-unknown-passkey").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_the_second_factor_after_a_password() {
    let app = passkey_app().await;
    let bob = app.admin("bob").await;
    let browser = Browser::start().await;
    let device = browser
        .add_virtual_authenticator(&AuthenticatorOptions::synced())
        .await;
    password_sign_in(&browser, &app, &bob).await;
    add_passkey(&browser, &app, "Phone").await;
    assert!(
        browser
            .source()
            .await
            .contains("Synced between your devices")
    );
    sign_out(&browser, &app).await;

    without_autofill(&browser, &app, &device, "/login").await;
    browser.type_into("#username", &bob.username).await;
    browser.type_into("#password", &bob.password).await;
    browser
        .click_to("form:not([data-passkey]) button", "/login/mfa")
        .await;
    let page = browser.source().await;
    assert!(page.contains("Use a passkey") && page.contains("Authentication code"));
    browser.screenshot("passkeys-08-second-factor-choice").await;
    browser
        .click_to("form[data-passkey=confirm] button", "/account")
        .await;
    let logins = audited(&app, "login.succeeded", bob.id).await;
    assert_eq!(
        logins.last().unwrap()["amr"],
        serde_json::json!(["pwd", "swk", "user", "mfa"])
    );

    // The admin user page lists the passkey and removes it.
    browser
        .goto(&app.url(&format!("/admin/users/{}", bob.id)))
        .await;
    let page = browser.source().await;
    assert!(page.contains("Phone") && page.contains("synced"), "{page}");
    browser.screenshot("passkeys-10-admin-user-page").await;
    browser
        .click_until_text(
            "button[aria-label='Remove passkey Phone']",
            "The passkey was removed.",
        )
        .await;
    assert_eq!(audited(&app, "passkey.removed", bob.id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_passkey_whose_counter_went_back_is_refused() {
    let app = passkey_app().await;
    let carol = app.user("carol", false).await;
    let browser = Browser::start().await;
    let device = browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    password_sign_in(&browser, &app, &carol).await;
    add_passkey(&browser, &app, "Key").await;
    sign_out(&browser, &app).await;
    without_autofill(&browser, &app, &device, "/login").await;
    browser
        .screenshot("passkeys-04-login-with-passkey-button")
        .await;
    browser
        .click_to("form[data-passkey=signin] button", "/account")
        .await;

    // Passkeys only from now on: the password no longer signs in.
    browser.goto(&app.url("/account/passkeys")).await;
    browser
        .click("#passwordless-heading + details summary")
        .await;
    browser
        .click_until_text(
            "#passwordless-heading + details button",
            "no longer has a password",
        )
        .await;
    assert_eq!(audited(&app, "password.removed", carol.id).await.len(), 1);
    sign_out(&browser, &app).await;
    without_autofill(&browser, &app, &device, "/login").await;
    browser.type_into("#username", &carol.username).await;
    browser.type_into("#password", &carol.password).await;
    browser
        .click_until_text(
            "form:not([data-passkey]) button",
            "The username or password is not correct.",
        )
        .await;

    // The same private key on another device, its counter behind the one last seen.
    let mut copy = browser.credentials(&device).await.remove(0);
    assert!(copy.sign_count >= 2, "{}", copy.sign_count);
    copy.sign_count = 0;
    browser.remove_virtual_authenticator(&device).await;
    let other = browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    browser.add_credential(&other, &copy).await;
    browser.goto(&app.url("/login")).await;
    browser.wait_for_text("may have been copied").await;
    assert!(browser.url().await.contains("/login"));
    browser
        .screenshot("passkeys-09-copied-passkey-refused")
        .await;
    let warned = audited(&app, "passkey.clone_suspected", carol.id).await;
    assert_eq!(warned, [serde_json::json!({ "name": "Key" })]);
    assert_eq!(audited(&app, "passkey.used", carol.id).await.len(), 1);

    // Refused from now on, even once the copy's counter has passed the one stored.
    copy.sign_count = 1000;
    browser.remove_virtual_authenticator(&other).await;
    let third = browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    browser.add_credential(&third, &copy).await;
    browser.click("form[data-passkey=signin] button").await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "the second refusal",
        || async {
            let n = audited(&app, "passkey.clone_suspected", carol.id)
                .await
                .len();
            (n == 2).then_some(())
        },
    )
    .await;
    assert_eq!(audited(&app, "passkey.used", carol.id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_asking_for_phishing_resistance_makes_a_two_factor_session_step_up() {
    let app = passkey_app().await;
    let erin = app.user("erin", true).await;
    let rp = RelyingParty::register(&app).await;
    let browser = Browser::start().await;
    browser
        .add_virtual_authenticator(&AuthenticatorOptions::default())
        .await;
    password_sign_in(&browser, &app, &erin).await;

    // Signed in with password and TOTP, but no passkey yet: the page says how to get one.
    let asked = Some(PHISHING_RESISTANT);
    browser.goto(&rp.authorize_url(asked).0).await;
    assert!(browser.url().await.contains("/login/passkey?request="));
    assert!(browser.source().await.contains("has no passkey yet"));
    browser
        .screenshot("passkeys-11-step-up-without-a-passkey")
        .await;

    add_passkey(&browser, &app, "Laptop").await;
    let signed_in = rp
        .sign_in(&browser, asked, async |browser| {
            browser.wait_for_url("/login/passkey?request=").await;
            assert!(
                browser
                    .source()
                    .await
                    .contains("asks you to confirm it is you with a passkey")
            );
            browser.screenshot("passkeys-12-step-up").await;
            browser.click("form[data-passkey=confirm] button").await;
        })
        .await;
    assert_eq!(signed_in.acr, PHISHING_RESISTANT);
    assert_eq!(signed_in.amr, ["pwd", "otp", "hwk", "user", "mfa"]);
    assert_eq!(audited(&app, "login.stepped_up", erin.id).await.len(), 1);

    // Now at that level, the next request passes without a page.
    let again = rp.sign_in(&browser, asked, async |_| {}).await;
    assert_eq!(again.acr, PHISHING_RESISTANT);
}
