//! Authentication levels at `/authorize`: `acr_values` (OIDC Core §3.1.2.1) and a client's minimum
//! are met by the session, or the person steps up (the passkey page, signing in again with the
//! second factor, setting one up), or the client gets `unmet_authentication_requirements` (OpenID
//! Connect Core Unmet Authentication Requirements 1.0) when nobody may be asked; the ID token's
//! `acr` says what was reached, and discovery lists every level.

use crate::helpers::{Server as _, Settings, TestApp, TestClient, TestUser, location, query_param};
use crate::signin::{
    authorize_query, browser, onwards, page, payload, redeem, sign_in, sign_in_at, visit,
};

const PASSWORD: &str = "urn:portcullis:acr:password";
const MFA: &str = "urn:portcullis:acr:mfa";
const PASSKEY: &str = "urn:portcullis:acr:phishing-resistant";

/// An app whose issuer is on `localhost` (browsers refuse an IP address as a passkey relying
/// party id, so passkeys are off under the usual `127.0.0.1` issuer), with this
/// `PORTCULLIS_PASSKEYS` policy.
pub async fn on_localhost(policy: &str) -> TestApp {
    let app = Settings::new()
        .await
        .set_localhost_issuer()
        .set("PORTCULLIS_PASSKEYS", policy)
        .spawn()
        .await;
    assert!(app.state.config.passkeys.enabled());
    app
}

/// Gives `user` a passkey, as far as the levels go (it is never used to sign in here).
pub async fn give_passkey(app: &TestApp, user: &TestUser) {
    sqlx::query(
        "insert into passkeys (id, user_id, credential_id, name, credential, backup_eligible) \
         values ($1, $2, $3, 'Laptop', '{}', false)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(user.id)
    .bind(uuid::Uuid::new_v4().as_bytes().to_vec())
    .execute(&app.state.db)
    .await
    .unwrap();
}

/// A first-party client requiring at least `min_level`.
async fn client_requiring(app: &TestApp, min_level: &str) -> TestClient {
    let redirect_uri = "https://rp.example.com/cb".to_owned();
    let spec = portcullis::clients::ClientSpec {
        name: "Payroll".into(),
        redirect_uris: vec![redirect_uri.clone()],
        skip_consent: true,
        min_level: Some(min_level.into()),
        ..Default::default()
    };
    app.register(spec, redirect_uri).await
}

/// The query of an OpenID request by `client`, with these extra parameters.
fn asking(client: &TestClient, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut query = authorize_query(client, "openid");
    query.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    query
}

/// Where `/authorize` with this query sends `b`.
async fn authorize_to(
    app: &TestApp,
    b: &reqwest::Client,
    client: &TestClient,
    extra: &[(&'static str, &str)],
) -> String {
    location(&visit(app, b, "/authorize", &asking(client, extra)).await)
}

/// Asserts that `to` is the client's redirect URI with `unmet_authentication_requirements`.
fn assert_unmet(to: &str, client: &TestClient) {
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    assert_eq!(
        query_param(to, "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{to}"
    );
    assert_eq!(query_param(to, "state").as_deref(), Some("st-123"));
    assert!(query_param(to, "code").is_none());
}

/// The `acr` of the ID token the client gets for the code in `back`.
async fn acr_of(app: &TestApp, client: &TestClient, back: &str) -> String {
    let code = query_param(back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let response = redeem(app, client, &code).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    payload(body["id_token"].as_str().unwrap())["acr"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_client_requiring_two_factors_refuses_a_password_session_it_cannot_ask_about() {
    let app = TestApp::spawn().await;
    let bob = app.user("bob", false).await;
    let payroll = client_requiring(&app, "two-factor").await;
    let b = browser();
    sign_in(&app, &b, &bob).await;

    let to = authorize_to(&app, &b, &payroll, &[("prompt", "none")]).await;
    assert_unmet(&to, &payroll);
    // Asking for less does not lower the client's minimum.
    let to = authorize_to(
        &app,
        &b,
        &payroll,
        &[("prompt", "none"), ("acr_values", PASSWORD)],
    )
    .await;
    assert_unmet(&to, &payroll);

    // Asked interactively, with no second factor to use: set one up first.
    let to = authorize_to(&app, &b, &payroll, &[]).await;
    assert_eq!(to, "/account/totp");
    let setup = page(&app, &b, &to).await;
    assert!(
        setup.contains("Payroll asks you to sign in with a second factor"),
        "{setup}"
    );

    // With an authenticator set up since: sign in again, with the code this time.
    let enrollment = portcullis::mfa::totp::enroll("bob", app.state.keys.kek()).unwrap();
    sqlx::query("update users set totp_secret_sealed = $2 where id = $1")
        .bind(bob.id)
        .bind(&enrollment.sealed)
        .execute(&app.state.db)
        .await
        .unwrap();
    let to = authorize_to(&app, &b, &payroll, &[]).await;
    assert!(to.starts_with("/login?request="), "{to}");
    let bob = TestUser {
        totp: Some(enrollment.secret_base32.expose().clone()),
        ..bob
    };
    let back = onwards(&app, &b, sign_in_at(&app, &b, &bob, &to).await).await;
    assert_eq!(acr_of(&app, &payroll, &back).await, MFA);
}

#[tokio::test]
async fn acr_values_asking_for_two_factors_pass_with_a_totp_session_and_the_id_token_says_so() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", true).await;
    let notes = app.client("Notes", false, true).await;
    let b = browser();
    // Unknown values are ignored; the lowest known one listed is the requirement.
    let acr_values = format!("urn:example:gold {PASSKEY} {MFA}");
    let to = authorize_to(&app, &b, &notes, &[("acr_values", &acr_values)]).await;
    assert!(to.starts_with("/login?request="), "{to}");
    let back = onwards(&app, &b, sign_in_at(&app, &b, &alice, &to).await).await;
    assert_eq!(acr_of(&app, &notes, &back).await, MFA);

    // Signed in already: no page at all.
    let back = authorize_to(&app, &b, &notes, &[("acr_values", MFA), ("prompt", "none")]).await;
    assert_eq!(acr_of(&app, &notes, &back).await, MFA);

    // A password alone does not reach it.
    let carol = app.user("carol", false).await;
    let c = browser();
    sign_in(&app, &c, &carol).await;
    let to = authorize_to(&app, &c, &notes, &[("acr_values", MFA), ("prompt", "none")]).await;
    assert_unmet(&to, &notes);
    // Values of other providers only: no requirement.
    let back = authorize_to(&app, &c, &notes, &[("acr_values", "urn:example:gold")]).await;
    assert_eq!(acr_of(&app, &notes, &back).await, PASSWORD);
}

#[tokio::test]
async fn phishing_resistance_asked_of_a_totp_session_is_a_passkey_step_up() {
    let app = on_localhost("optional").await;
    let alice = app.user("alice", true).await;
    give_passkey(&app, &alice).await;
    let notes = app.client("Notes", false, true).await;
    let b = browser();
    sign_in(&app, &b, &alice).await;

    let to = authorize_to(&app, &b, &notes, &[("acr_values", PASSKEY)]).await;
    assert!(to.starts_with("/login/passkey?request="), "{to}");
    let request = query_param(&format!("http://x{to}"), "request").unwrap();
    // The request waits there: resuming it without the passkey asks again.
    let again = b
        .get(app.url("/authorize/resume"))
        .query(&[("request", request.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&again), to);

    let to = authorize_to(
        &app,
        &b,
        &notes,
        &[("acr_values", PASSKEY), ("prompt", "none")],
    )
    .await;
    assert_unmet(&to, &notes);

    // Without a passkey yet: the same page, which says how to add one.
    let bob = app.user("bob", true).await;
    let c = browser();
    sign_in(&app, &c, &bob).await;
    let to = authorize_to(&app, &c, &notes, &[("acr_values", PASSKEY)]).await;
    assert!(to.starts_with("/login/passkey?request="), "{to}");
    assert!(page(&app, &c, &to).await.contains("has no passkey yet"));
}

#[tokio::test]
async fn with_passkeys_off_phishing_resistance_is_unmet_even_when_the_person_could_be_asked() {
    // The usual test issuer is an IP address: passkeys are off.
    let app = TestApp::spawn().await;
    assert!(!app.state.config.passkeys.enabled());
    let alice = app.user("alice", true).await;
    let notes = app.client("Notes", false, true).await;
    let payroll = client_requiring(&app, "phishing-resistant").await;
    let b = browser();
    sign_in(&app, &b, &alice).await;
    let to = authorize_to(&app, &b, &notes, &[("acr_values", PASSKEY)]).await;
    assert_unmet(&to, &notes);
    let to = authorize_to(&app, &b, &payroll, &[]).await;
    assert_unmet(&to, &payroll);
}

#[tokio::test]
async fn under_the_required_policy_every_application_needs_a_passkey() {
    let app = on_localhost("required").await;
    let alice = app.user("alice", true).await;
    let notes = app.client("Notes", false, true).await;
    let b = browser();
    sign_in(&app, &b, &alice).await;
    // Asking for less does not lower the floor.
    let to = authorize_to(&app, &b, &notes, &[("acr_values", PASSWORD)]).await;
    assert!(to.starts_with("/login/passkey?request="), "{to}");
    let to = authorize_to(&app, &b, &notes, &[("prompt", "none")]).await;
    assert_unmet(&to, &notes);
}

#[tokio::test]
async fn discovery_lists_every_level_as_acr_values_supported() {
    let app = TestApp::spawn().await;
    let discovery = app.fetch_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["acr_values_supported"],
        serde_json::json!([PASSWORD, MFA, PASSKEY])
    );
}

/// A device whose client needs more than the person's sign-in: the approval page leads up before
/// anything is approved, and a level this server cannot reach denies the device at once.
#[tokio::test]
async fn a_device_approval_asks_for_the_clients_level_before_approving() {
    let app = TestApp::spawn().await;
    let spec = portcullis::clients::ClientSpec {
        name: "Payroll TV".into(),
        public: true,
        grant_types: vec!["urn:ietf:params:oauth:grant-type:device_code".into()],
        min_level: Some("two-factor".into()),
        ..Default::default()
    };
    let tv = app.register(spec, String::new()).await;
    let (_, codes) = crate::device::start(&app, &tv, "openid").await;
    let user_code = codes["user_code"].as_str().unwrap();
    let device_code = codes["device_code"].as_str().unwrap();

    // Signed in with a password alone, and no second factor set up: set one up first.
    let ann = app.user("ann", false).await;
    let b = browser();
    let response = crate::signin::submit(&app, &b, "/device", &[("user_code", user_code)]).await;
    let approve = location(&response);
    let login = location(&crate::signin::follow(&app, &b, response).await);
    let response = sign_in_at(&app, &b, &ann, &login).await;
    assert_eq!(location(&response), approve);
    let response = b.get(app.url(&approve)).send().await.unwrap();
    assert_eq!(location(&response), "/account/totp");
    assert!(
        page(&app, &b, "/account/totp")
            .await
            .contains("Payroll TV asks you")
    );
    // A crafted approval changes nothing either.
    let request = approve.trim_start_matches("/device/approve?request=");
    let token = crate::helpers::csrf(&page(&app, &b, "/account").await);
    let response = b
        .post(app.url("/device/approve"))
        .form(&[
            ("csrf", token.as_str()),
            ("request", request),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), approve);
    let (status, body) = crate::device::poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // Phishing resistance with passkeys off (an IP-address issuer): the device is refused.
    sqlx::query("update clients set min_level = 'phishing-resistant' where client_id = $1")
        .bind(&tv.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    app.state.clients.clear();
    let response = b.get(app.url(&approve)).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("cannot be approved")
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = crate::device::poll(&app, &tv, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
}
