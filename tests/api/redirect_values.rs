//! Values the server writes into a client's URL come back exactly as the client sent them:
//! `state` in the authorization response (RFC 6749 §4.1.2) and in an error response (§4.1.2.1),
//! and at the end of RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §3), whatever
//! characters it holds. One builder (`urls::client_redirect`) appends them as form-encoded pairs.

use crate::helpers::{TestApp, location};
use crate::signin::{authorize_query, browser, json, redeem, sign_in, visit};

/// Characters that break a URL pasted together by hand.
const AWKWARD: &str = "a&code=forged&iss=x #frag=1+2%25 grüße 東京 ?/";

/// The query pairs of `url`, decoded, in order; panics on a fragment.
fn pairs(url: &str) -> Vec<(String, String)> {
    let parsed = url::Url::parse(url).unwrap();
    assert_eq!(parsed.fragment(), None, "{url}");
    parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn names(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    &pairs.iter().find(|(k, _)| k == name).unwrap().1
}

fn with_state(query: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    query
        .into_iter()
        .map(|(k, v)| {
            if k == "state" {
                (k, AWKWARD.into())
            } else {
                (k, v)
            }
        })
        .collect()
}

#[tokio::test]
async fn a_state_with_any_characters_comes_back_intact_with_a_code_or_an_error() {
    let app = TestApp::spawn().await;
    let user = app.user("uma", false).await;
    let client = app.client("App", false, true).await;
    let issuer = app.url("");
    let b = browser();

    // Not signed in and `prompt=none`: the error response carries the state back.
    let mut query = with_state(authorize_query(&client, "openid"));
    query.push(("prompt", "none".into()));
    let to = location(&visit(&app, &b, "/authorize", &query).await);
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    let back = pairs(&to);
    assert_eq!(names(&back), ["error", "error_description", "state", "iss"]);
    assert_eq!(value(&back, "error"), "login_required");
    assert_eq!(value(&back, "state"), AWKWARD, "{to}");
    assert_eq!(value(&back, "iss"), issuer);

    // Signed in: the code, the same state and the issuer, nothing else.
    sign_in(&app, &b, &user).await;
    let query = with_state(authorize_query(&client, "openid"));
    let to = location(&visit(&app, &b, "/authorize", &query).await);
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    let back = pairs(&to);
    assert_eq!(names(&back), ["code", "state", "iss"], "{to}");
    assert_eq!(value(&back, "state"), AWKWARD, "{to}");
    assert_eq!(value(&back, "iss"), issuer);
    let (status, tokens) = json(redeem(&app, &client, value(&back, "code")).await).await;
    assert_eq!(status, 200, "the code is the real one: {tokens}");

    // And at the end of RP-initiated logout.
    let hint = tokens["id_token"].as_str().unwrap();
    let query = [
        ("id_token_hint", hint),
        ("client_id", client.id.as_str()),
        ("post_logout_redirect_uri", "https://rp.example.com/bye"),
        ("state", AWKWARD),
    ];
    let to = location(&visit(&app, &b, "/logout", &query).await);
    assert!(to.starts_with("https://rp.example.com/bye?"), "{to}");
    let back = pairs(&to);
    assert_eq!(names(&back), ["state"]);
    assert_eq!(value(&back, "state"), AWKWARD, "{to}");
}

/// The same-origin links and form targets of a page (`href="/..."`, `action="/..."`).
fn targets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "action=\""] {
        for piece in html.split(attribute).skip(1) {
            let target = piece.split('"').next().unwrap().replace("&amp;", "&");
            if target.starts_with('/') {
                found.push(target);
            }
        }
    }
    found
}

#[tokio::test]
async fn every_link_and_form_on_the_pages_leads_to_a_route() {
    let app = TestApp::spawn().await;
    let user = app.user("val", false).await;
    let client = app.client("App", false, true).await;
    let b = browser();
    // Pages seen before signing in, then an account with an application to revoke.
    let mut pages = vec!["/login".to_owned(), "/device".to_owned()];
    sign_in(&app, &b, &user).await;
    let to = location(&visit(&app, &b, "/authorize", &authorize_query(&client, "openid")).await);
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    pages.extend(["/account", "/account/password", "/account/totp", "/logout"].map(String::from));
    let mut seen = 0;
    for page in pages {
        let html = b
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for target in targets(&html) {
            let status = b.get(app.url(&target)).send().await.unwrap().status();
            assert_ne!(status, 404, "{target} on {page}");
            seen += 1;
        }
    }
    // The stylesheet on each page, the account's links and forms, the sign-in forms.
    assert!(seen >= 15, "{seen} targets");
}
