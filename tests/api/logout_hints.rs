//! What an `id_token_hint` may do at RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0
//! §2, §4): only an ID token issued to this very session ends it without asking; an access token,
//! another person's ID token, or one from an earlier session only gets the confirmation page.

use crate::helpers::{TestApp, TestClient, TestUser, location, query_param};
use crate::signin::{authorize, browser, json, redeem, visit};

/// Signs `user` in with `b` through `client` and returns the token response.
async fn tokens(
    app: &TestApp,
    b: &reqwest::Client,
    client: &TestClient,
    user: &TestUser,
) -> serde_json::Value {
    let back = authorize(app, b, client, user, "openid").await;
    let (status, tokens) =
        json(redeem(app, client, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn signed_in(app: &TestApp, b: &reqwest::Client) -> bool {
    b.get(app.url("/account")).send().await.unwrap().status() == 200
}

/// GET /logout with `hint`, as the client would send it.
async fn logout_with(
    app: &TestApp,
    b: &reqwest::Client,
    client: &TestClient,
    hint: &str,
) -> reqwest::Response {
    let query = [
        ("id_token_hint", hint),
        ("client_id", client.id.as_str()),
        ("post_logout_redirect_uri", "https://rp.example.com/bye"),
    ];
    visit(app, b, "/logout", &query).await
}

#[tokio::test]
async fn only_an_id_token_of_this_session_logs_out_without_asking() {
    let app = TestApp::spawn().await;
    let client = app.client("Notes", false, true).await;
    let (amy, ben) = (app.user("amy", false).await, app.user("ben", false).await);
    let (b, bens) = (browser(), browser());
    let amys_tokens = tokens(&app, &b, &client, &amy).await;
    let bens_tokens = tokens(&app, &bens, &client, &ben).await;

    // Amy's own access token, and Ben's ID token: the page asks; Amy stays signed in.
    for (what, hint) in [
        (
            "an access token",
            amys_tokens["access_token"].as_str().unwrap(),
        ),
        (
            "another person's ID token",
            bens_tokens["id_token"].as_str().unwrap(),
        ),
    ] {
        let response = logout_with(&app, &b, &client, hint).await;
        assert_eq!(response.status(), 200, "{what}: the confirmation page");
        assert!(
            response.text().await.unwrap().contains("Sign out?"),
            "{what}"
        );
        assert!(signed_in(&app, &b).await, "{what}: the session survives");
    }

    // An ID token of Amy's from an earlier session (another `sid`): the page asks too.
    let earlier = amys_tokens["id_token"].as_str().unwrap().to_owned();
    let b2 = browser();
    tokens(&app, &b2, &client, &amy).await;
    let response = logout_with(&app, &b2, &client, &earlier).await;
    assert_eq!(response.status(), 200, "another session's ID token");
    assert!(signed_in(&app, &b2).await);

    // Her own ID token of this session: signed out at once, back to the client.
    let response = logout_with(&app, &b, &client, amys_tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(location(&response), "https://rp.example.com/bye");
    assert!(!signed_in(&app, &b).await, "signed out");
    assert!(signed_in(&app, &bens).await, "Ben is not");
}

#[tokio::test]
async fn the_confirmation_page_lets_its_form_reach_the_client() {
    let app = TestApp::spawn().await;
    let client = app.client("Notes", false, true).await;
    let amy = app.user("amy", false).await;
    let b = browser();
    let tokens = tokens(&app, &b, &client, &amy).await;
    let response = logout_with(&app, &b, &client, tokens["access_token"].as_str().unwrap()).await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    // CSP `form-action` governs the redirect after the POST too (in Chromium).
    assert!(
        csp.contains("form-action 'self' https://rp.example.com;"),
        "{csp}"
    );
}
