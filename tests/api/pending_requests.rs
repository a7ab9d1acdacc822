//! Several requests pending in one browser session, one per tab: each consent and device-approval
//! page carries the id of the request it shows, a decision applies to that request only, a form
//! for a request that is no longer pending approves nothing, and sign-in resumes the tab's own
//! request.

use crate::device::{fast, poll, start, tv_app};
use crate::helpers::{TestApp, TestClient, csrf, location, query_param};
use crate::signin::{
    authorize_query, browser, follow, hidden_request, json, page, redeem, sign_in, sign_in_at,
    submit_from, visit,
};

/// Starts an authorization request for `client` with its own `state`; the redirect it answers.
async fn start_in_tab(
    app: &TestApp,
    b: &reqwest::Client,
    client: &TestClient,
    state: &str,
) -> String {
    let mut query = authorize_query(client, "openid");
    query[4].1 = state.into();
    location(&visit(app, b, "/authorize", &query).await)
}

/// Posts the consent form of the page at `consent` with `decision`, and the `request` id given.
async fn decide_with(
    app: &TestApp,
    b: &reqwest::Client,
    consent: &str,
    request: &str,
    decision: &str,
) -> reqwest::Response {
    let token = csrf(&page(app, b, consent).await);
    let form = [
        ("csrf", token.as_str()),
        ("request", request),
        ("decision", decision),
    ];
    b.post(app.url("/consent"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_consent_form_decides_its_own_request_and_stale_ones_nothing() {
    let app = TestApp::spawn().await;
    let user = app.user("rita", false).await;
    let (notes, photos) = (
        app.client("Notes", false, false).await,
        app.client("Photos", false, false).await,
    );
    let b = browser();
    sign_in(&app, &b, &user).await;

    // Two tabs: Notes first, then Photos.
    let consent_a = start_in_tab(&app, &b, &notes, "tab-a").await;
    let consent_b = start_in_tab(&app, &b, &photos, "tab-b").await;
    assert!(consent_a.starts_with("/consent?request="), "{consent_a}");
    assert_ne!(consent_a, consent_b);
    let page_a = page(&app, &b, &consent_a).await;
    assert!(page_a.contains("Notes") && !page_a.contains("Photos"));
    let id_a = hidden_request(&page_a).unwrap();
    let id_b = hidden_request(&page(&app, &b, &consent_b).await).unwrap();

    // "Allow" on the Notes page approves Notes, though Photos started later.
    let response = decide_with(&app, &b, &consent_a, &id_a, "approve").await;
    let back = location(&follow(&app, &b, response).await);
    assert_eq!(query_param(&back, "state").as_deref(), Some("tab-a"));
    let code = query_param(&back, "code").unwrap();
    let (status, body) = json(redeem(&app, &notes, &code).await).await;
    assert_eq!(status, 200, "the code is Notes's: {body}");

    // The Notes form again (stale), or an id this session never had: refused, nothing decided.
    for request in [id_a.as_str(), "A".repeat(43).as_str(), ""] {
        let response = decide_with(&app, &b, &consent_b, request, "approve").await;
        assert_eq!(response.status(), 400, "{request}");
        assert!(response.headers().get("location").is_none());
        let text = response.text().await.unwrap();
        assert!(text.contains("Nothing was allowed"), "{text}");
    }
    let consents: i64 = sqlx::query_scalar("select count(*) from consents where client_id = $1")
        .bind(&photos.id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(consents, 0, "Photos was not approved by any of them");

    // The Photos tab still finishes, with its own decision.
    let response = decide_with(&app, &b, &consent_b, &id_b, "deny").await;
    let back = location(&response);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("tab-b"));
}

#[tokio::test]
async fn sign_in_resumes_each_tabs_own_request() {
    let app = TestApp::spawn().await;
    let user = app.user("sven", true).await;
    let (notes, photos) = (
        app.client("Notes", false, true).await,
        app.client("Photos", false, true).await,
    );
    let b = browser();
    let login_a = start_in_tab(&app, &b, &notes, "tab-a").await;
    let login_b = start_in_tab(&app, &b, &photos, "tab-b").await;
    assert!(login_a.starts_with("/login?request="), "{login_a}");
    assert!(
        page(&app, &b, &login_a).await.contains("Notes"),
        "the sign-in page names the tab's application"
    );

    // Password and second factor in the Notes tab: back to Notes.
    let response = sign_in_at(&app, &b, &user, &login_a).await;
    let back = location(&follow(&app, &b, response).await);
    assert_eq!(query_param(&back, "state").as_deref(), Some("tab-a"));
    let (status, _) = json(redeem(&app, &notes, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200);

    // The Photos tab still shows its sign-in page; signing in there (as someone else, so no
    // TOTP code is needed twice in one time step) goes back to Photos.
    let other = app.user("stina", false).await;
    let response = sign_in_at(&app, &b, &other, &login_b).await;
    let back = location(&follow(&app, &b, response).await);
    assert_eq!(query_param(&back, "state").as_deref(), Some("tab-b"));
    let (status, _) = json(redeem(&app, &photos, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_session_keeps_the_last_five_pending_requests() {
    let app = TestApp::spawn().await;
    let user = app.user("tove", false).await;
    let client = app.client("Notes", false, false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let mut tabs = vec![];
    for n in 0..6 {
        tabs.push(start_in_tab(&app, &b, &client, &format!("tab-{n}")).await);
    }
    let oldest = b.get(app.url(&tabs[0])).send().await.unwrap();
    assert_eq!(oldest.status(), 400, "the oldest was dropped");
    for tab in &tabs[1..] {
        assert_eq!(b.get(app.url(tab)).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn each_device_approval_form_decides_its_own_device() {
    let app = fast().await.spawn().await;
    let user = app.user("ulla", false).await;
    let tv = tv_app(&app).await;
    let (_, first) = start(&app, &tv, "openid").await;
    let (_, second) = start(&app, &tv, "openid").await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let mut approve = vec![];
    for codes in [&first, &second] {
        let user_code = codes["user_code"].as_str().unwrap();
        let response =
            submit_from(&app, &b, "/device", "/device", &[("user_code", user_code)]).await;
        approve.push(location(&response));
    }
    // The first device's page, approved after the second code was entered.
    let first_page = page(&app, &b, &approve[0]).await;
    assert!(first_page.contains(first["user_code"].as_str().unwrap()));
    let response = submit_from(
        &app,
        &b,
        &approve[0],
        "/device/approve",
        &[("decision", "approve")],
    )
    .await;
    assert_eq!(location(&response), "/device/done?approved=1");
    let (status, body) = poll(&app, &tv, first["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = poll(&app, &tv, second["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "authorization_pending", "the second waits");
    // The first page's form again: refused; the second device is decided on its own page.
    let token = csrf(&page(&app, &b, &approve[1]).await);
    let first_id = hidden_request(&first_page).unwrap();
    let stale = [
        ("csrf", token.as_str()),
        ("request", first_id.as_str()),
        ("decision", "approve"),
    ];
    let response = b
        .post(app.url("/device/approve"))
        .form(&stale)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = submit_from(
        &app,
        &b,
        &approve[1],
        "/device/approve",
        &[("decision", "deny")],
    )
    .await;
    assert_eq!(location(&response), "/device/done");
}
