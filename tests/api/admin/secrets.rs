//! What pages and the admin API must not give away: a person's session cookie (administrators
//! see and end sessions by an opaque handle), and any HTML page to a cache (`no-store`).

use std::sync::Arc;

use reqwest::cookie::CookieStore as _;

use super::admin_browser;
use super::api::{call, script};
use crate::helpers::{TestApp, location};
use crate::signin::{page, password_step, sign_in};

/// A browser whose cookie jar the test can read.
fn browser_with_jar() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

/// The value of the session cookie this jar sends to the app.
fn session_cookie(app: &TestApp, jar: &reqwest::cookie::Jar) -> String {
    let url = app.url("/").parse().unwrap();
    let header = jar.cookies(&url).expect("a session cookie");
    let cookies = header.to_str().unwrap().to_owned();
    cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("portcullis="))
        .expect("the portcullis cookie")
        .to_owned()
}

#[tokio::test]
async fn admins_and_the_api_see_session_handles_never_the_cookie_and_a_handle_ends_the_session() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let (_, token) = script(&app).await;
    let bob = app.user("bob", true).await;
    let (bobs_browser, jar) = browser_with_jar();
    assert_eq!(sign_in(&app, &bobs_browser, &bob).await.status(), 303);
    let cookie = session_cookie(&app, &jar);
    assert!(cookie.len() >= 16, "{cookie}");

    let user_page = page(&app, &admin, &format!("/admin/users/{}", bob.id)).await;
    assert!(user_page.contains("End session"), "the session is listed");
    assert!(!user_page.contains(&cookie), "the page shows bob's cookie");

    let sessions = format!("/users/{}/sessions", bob.id);
    let (status, listed) = call(&app, &token, reqwest::Method::GET, &sessions, None).await;
    assert_eq!(status, 200);
    assert!(
        !listed.to_string().contains(&cookie),
        "the API shows bob's cookie: {listed}"
    );
    let handle = listed[0]["handle"].as_str().unwrap().to_owned();
    assert!(
        user_page.contains(&handle),
        "the page and the API name it alike"
    );

    // Replaying the handle as a cookie opens nothing.
    let thief = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let replayed = thief
        .get(app.url("/account"))
        .header("cookie", format!("portcullis={handle}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&replayed), "/login");

    let (status, _) = call(
        &app,
        &token,
        reqwest::Method::DELETE,
        &format!("{sessions}/{handle}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let account = bobs_browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(location(&account), "/login", "bob's browser was signed out");
    let (status, _) = call(
        &app,
        &token,
        reqwest::Method::DELETE,
        &format!("{sessions}/{handle}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "already ended");
}

/// `Cache-Control` of the answer to GET `path` in `browser`, with its status.
async fn cache_control(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
) -> (u16, String, String) {
    let response = browser
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    (
        response.status().as_u16(),
        header("content-type"),
        header("cache-control"),
    )
}

#[tokio::test]
async fn every_html_page_is_no_store() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let carol = app.user("carol", false).await;
    let person = crate::signin::browser();
    let anonymous = crate::signin::browser();
    sign_in(&app, &person, &carol).await;
    let dave = app.user("dave", true).await;
    let halfway = crate::signin::browser();
    password_step(&app, &halfway, &dave).await;

    let pages: [(&reqwest::Client, &str); 14] = [
        (&anonymous, "/login"),
        (&anonymous, "/device"),
        (&anonymous, "/no-such-page"),
        (&anonymous, "/authorize?client_id=nobody&response_type=code"),
        (&halfway, "/login/mfa"),
        (&person, "/account"),
        (&person, "/account/totp"),
        (&person, "/account/password"),
        (&admin, "/admin"),
        (&admin, "/admin/users"),
        (&admin, &format!("/admin/users/{}", carol.id)),
        (&admin, "/admin/clients/new"),
        (&admin, "/admin/keys"),
        (&admin, "/admin/audit"),
    ];
    for (browser, path) in pages {
        let (status, content_type, cache) = cache_control(&app, browser, path).await;
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {status} {content_type}"
        );
        assert_eq!(cache, "no-store", "{path} ({status})");
    }
    // Not HTML: the stylesheet and the JWKS keep their own caching.
    let (_, _, css) = cache_control(&app, &anonymous, "/static/portcullis.css").await;
    assert!(css.contains("max-age"), "{css}");
    let (_, _, jwks) = cache_control(&app, &anonymous, "/jwks.json").await;
    assert!(jwks.contains("max-age"), "{jwks}");
}
