//! A person in a real browser (headless Chromium): signs in with password and TOTP, consents, and
//! lands on the client's redirect URI with a code; then visits the account pages and signs out.
//! Pages allow form submissions only to this server (CSP `form-action`), and Chromium applies that
//! to the redirects after a POST too: consent and sign-out must still reach the client.
//! Every page is saved as a screenshot under `target/artifacts/screenshots/`.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{TestApp, query_param, totp_now};
use crate::webdriver::Browser;

/// A stand-in for the client application: answers every request with a short page.
pub async fn client_app() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let body = "<!doctype html><title>Notes</title><h1>Back at Notes</h1>";
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_password_and_totp_in_chromium_and_the_client_gets_a_code() {
    let app = TestApp::spawn().await;
    let user = app.user("alice", true).await;
    let port = client_app().await;
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let bye = format!("http://127.0.0.1:{port}/bye");
    let spec = portcullis::clients::ClientSpec {
        name: "Notes".into(),
        redirect_uris: vec![redirect.clone()],
        post_logout_redirect_uris: vec![bye.clone()],
        ..Default::default()
    };
    let client = portcullis::clients::store::create(
        &app.state.db,
        &spec.validate().unwrap(),
        &portcullis::audit::By::new(portcullis::audit::Actor::Cli, None),
    )
    .await
    .unwrap();
    let authorize = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={redirect}&scope=openid%20profile%20email&state=s-42&nonce=n-7&code_challenge={}&code_challenge_method=S256",
        app.address,
        client.client_id,
        crate::signin::CHALLENGE
    );

    let browser = Browser::start().await;
    browser.goto(&authorize).await;
    assert!(browser.url().await.contains("/login?request="));
    browser.screenshot("01-login").await;

    browser.type_into("#username", "alice").await;
    browser.type_into("#password", "not my password").await;
    browser
        .click_until_text(
            "button[type=submit]",
            "The username or password is not correct.",
        )
        .await;
    browser.screenshot("02-login-error").await;

    browser.type_into("#password", &user.password).await;
    browser.click_to("button[type=submit]", "/login/mfa").await;
    browser.screenshot("03-second-factor").await;

    browser.type_into("#code", &user.code()).await;
    browser.click_to("button[type=submit]", "/consent").await;
    assert!(browser.source().await.contains("Notes"));
    browser.screenshot("04-consent").await;

    browser.click_to("button[value=approve]", &redirect).await;
    let landed = browser.url().await;
    assert!(landed.starts_with(&redirect), "{landed}");
    assert!(query_param(&landed, "code").is_some());
    assert_eq!(query_param(&landed, "state").as_deref(), Some("s-42"));
    assert_eq!(
        query_param(&landed, "iss").as_deref(),
        Some(app.address.as_str())
    );
    browser.screenshot("05-back-at-the-client").await;

    browser.goto(&app.url("/account")).await;
    assert!(
        browser.source().await.contains("Notes"),
        "the approved application is listed"
    );
    browser.screenshot("06-account").await;
    browser.goto(&app.url("/account/password")).await;
    browser.screenshot("07-change-password").await;
    browser.goto(&app.url("/logout")).await;
    browser.screenshot("08-sign-out").await;
    browser
        .click_to("button[type=submit]", "/logout/done")
        .await;
    browser.screenshot("09-signed-out").await;

    // A second person turns on two-step verification from the account page.
    let bob = app.user("bob", false).await;
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", "bob").await;
    browser.type_into("#password", &bob.password).await;
    browser.click_to("button[type=submit]", "/account").await;
    browser.goto(&app.url("/account/totp")).await;
    browser.screenshot("10-set-up-totp").await;
    let page = browser.source().await;
    let start = page.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let secret = page[start..].split('<').next().unwrap().replace(' ', "");
    browser.type_into("#code", &totp_now(&secret)).await;
    browser
        .click_to("button[type=submit]", "/account/recovery-codes")
        .await;
    browser.screenshot("11-recovery-codes").await;
    // Turning it off asks for the password and a current code, on the account page itself.
    browser.goto(&app.url("/account")).await;
    browser
        .click("section details:nth-of-type(2) > summary")
        .await;
    assert!(browser.source().await.contains("remove-password"));
    browser.screenshot("16-turn-off-asks-again").await;

    // Sign-out asked for by the client, confirmed: the POST's redirect reaches the client.
    browser
        .goto(&format!(
            "{}/logout?client_id={}&post_logout_redirect_uri={bye}&state=s-9",
            app.address, client.client_id
        ))
        .await;
    browser.click_to("button[type=submit]", &bye).await;
    assert!(browser.source().await.contains("Back at Notes"));

    // A first-party client (no consent page): the sign-in form's redirect chain ends at it.
    let wiki = portcullis::clients::ClientSpec {
        name: "Wiki".into(),
        redirect_uris: vec![redirect.clone()],
        skip_consent: true,
        ..Default::default()
    };
    let wiki = portcullis::clients::store::create(
        &app.state.db,
        &wiki.validate().unwrap(),
        &portcullis::audit::By::new(portcullis::audit::Actor::Cli, None),
    )
    .await
    .unwrap();
    let cleo = app.user("cleo", false).await;
    browser
        .goto(&authorize.replace(client.client_id.as_str(), &wiki.client_id))
        .await;
    browser.type_into("#username", "cleo").await;
    browser.type_into("#password", &cleo.password).await;
    browser.click_to("button[type=submit]", &redirect).await;
    assert!(query_param(&browser.url().await, "code").is_some());

    browser
        .goto(&format!(
            "{}/authorize?client_id=unknown&response_type=code",
            app.address
        ))
        .await;
    assert!(browser.source().await.contains("not registered"));
    browser.screenshot("12-error-page").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_connects_a_device_in_chromium() {
    let app = TestApp::spawn().await;
    let user = app.user("carl", false).await;
    let spec = portcullis::clients::ClientSpec {
        name: "Living-room TV".into(),
        public: true,
        grant_types: vec!["urn:ietf:params:oauth:grant-type:device_code".into()],
        ..Default::default()
    };
    let tv = app.register(spec, String::new()).await;
    let codes: serde_json::Value = app
        .http
        .post(app.url("/device_authorization"))
        .form(&[("client_id", tv.id.as_str()), ("scope", "openid profile")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let browser = Browser::start().await;
    browser
        .goto(codes["verification_uri_complete"].as_str().unwrap())
        .await;
    browser.screenshot("13-device-code").await;
    browser.click_to("button[type=submit]", "/login").await;
    browser.type_into("#username", "carl").await;
    browser.type_into("#password", &user.password).await;
    browser
        .click_to("button[type=submit]", "/device/approve")
        .await;
    assert!(browser.source().await.contains("Living-room TV"));
    browser.screenshot("14-device-approve").await;
    browser
        .click_to("button[value=approve]", "/device/done")
        .await;
    assert!(browser.source().await.contains("Device connected"));
    browser.screenshot("15-device-connected").await;
    browser.quit().await;
}
