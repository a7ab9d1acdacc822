//! The authorization endpoint says what it does: `prompt` values are served exactly as discovery
//! advertises them (`select_account` is refused with `account_selection_required`), an OpenID
//! Connect request names its `redirect_uri` (OIDC Core §3.1.2.1), and forms post only to this
//! server, or to the one client a page's form ends at (CSP `form-action`).

use crate::helpers::{Server as _, TestApp, location, query_param};
use crate::signin::{authorize_query, browser, sign_in, visit};

#[tokio::test]
async fn discovery_lists_exactly_the_prompt_values_served_and_select_account_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.user("ivy", false).await;
    let client = app.client("App", false, true).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let discovery = app.fetch_json("/.well-known/openid-configuration").await;
    let advertised: Vec<&str> = discovery["prompt_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(advertised, ["none", "login", "consent"]);
    for prompt in advertised {
        let mut query = authorize_query(&client, "openid");
        query.push(("prompt", prompt.into()));
        let to = location(&visit(&app, &b, "/authorize", &query).await);
        assert_eq!(query_param(&to, "error"), None, "{prompt}: {to}");
    }
    for prompt in ["select_account", "login select_account"] {
        let mut query = authorize_query(&client, "openid");
        query.push(("prompt", prompt.into()));
        let to = location(&visit(&app, &b, "/authorize", &query).await);
        assert!(to.starts_with(&client.redirect_uri), "{to}");
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("account_selection_required"),
            "{prompt}"
        );
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-123"));
    }
}

#[tokio::test]
async fn an_openid_request_without_redirect_uri_gets_a_page_even_with_one_registered_uri() {
    let app = TestApp::spawn().await;
    let spec = portcullis::clients::ClientSpec {
        name: "Single".into(),
        redirect_uris: vec!["https://single.example.com/cb".into()],
        ..Default::default()
    };
    let client = app
        .register(spec, "https://single.example.com/cb".into())
        .await;
    let b = browser();
    let without = |scope: &str| -> Vec<(&'static str, String)> {
        authorize_query(&client, scope)
            .into_iter()
            .filter(|(k, _)| *k != "redirect_uri")
            .collect()
    };
    let response = visit(&app, &b, "/authorize", &without("openid profile")).await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("redirect_uri"));
    // Plain OAuth (RFC 6749 §3.1.2.3): the single registered URI is unambiguous.
    let response = visit(&app, &b, "/authorize", &without("profile")).await;
    assert!(location(&response).starts_with("/login?request="));
}

#[tokio::test]
async fn forms_post_to_this_server_and_a_consent_page_also_to_its_client() {
    let app = TestApp::spawn().await;
    let user = app.user("jon", false).await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let login = b.get(app.url("/login")).send().await.unwrap();
    let csp = login.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action 'self';"), "{csp}");
    sign_in(&app, &b, &user).await;
    let consent =
        location(&visit(&app, &b, "/authorize", &authorize_query(&client, "openid")).await);
    let response = b.get(app.url(&consent)).send().await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    // Allow and Deny answer 303 to the client; Chromium checks that redirect against form-action.
    assert!(
        csp.contains("form-action 'self' https://rp.example.com;"),
        "{csp}"
    );
}
