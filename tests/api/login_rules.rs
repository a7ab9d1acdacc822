//! The sign-in pages' rules: TOTP replay, throttling, identical answers for unknown users,
//! CSRF, the session cookie, logout.

use std::time::Duration;

use crate::helpers::{Settings, TestApp, TestUser, location, query_param};
use crate::signin::{
    authorize, browser, json, page, password_step, redeem, sign_in, submit, visit,
};

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = TestApp::spawn().await;
    let user = app.user("gina", true).await;
    let code = user.code();
    let first = browser();
    let response = password_step(&app, &first, &user).await;
    assert_eq!(location(&response), "/login/mfa");
    let response = submit(&app, &first, "/login/mfa", &[("code", &code)]).await;
    assert_eq!(location(&response), "/account");

    let second = browser();
    password_step(&app, &second, &user).await;
    let response = submit(&app, &second, "/login/mfa", &[("code", &code)]).await;
    assert_eq!(
        location(&response),
        "/login/mfa",
        "the same code again is refused"
    );
    let page = page(&app, &second, "/login/mfa").await;
    assert!(page.contains("already used"), "{page}");
}

#[tokio::test]
async fn wrong_passwords_are_throttled_with_429_and_retry_after() {
    let app = TestApp::spawn().await;
    let user = app.user("hank", false).await;
    let b = browser();
    let token = crate::helpers::csrf(&page(&app, &b, "/login").await);
    let post = |password: &'static str| {
        let form = [
            ("csrf", token.clone()),
            ("username", "hank".into()),
            ("password", password.into()),
        ];
        let request = b.post(app.url("/login")).form(&form);
        async move { request.send().await.unwrap() }
    };
    // Five free guesses; then each attempt waits. (Counted until refused: under load a guess
    // may arrive after a short wait has passed, which only makes the next wait longer.)
    let mut failures = 0;
    let refused = loop {
        let response = post("wrong-password").await;
        if response.status() == 429 {
            break response;
        }
        assert_eq!(location(&response), "/login");
        failures += 1;
        assert!(failures <= 8, "never throttled");
    };
    assert!(failures >= 5, "five free guesses, got {failures}");
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    // Meanwhile even the right password is refused.
    let response = post("hank-password-123").await;
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Not a lock: once the wait is over, the right password works.
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    let response = password_step(&app, &b, &user).await;
    assert_eq!(location(&response), "/account");
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    app.user("ivy", false).await;
    let mut pages = vec![];
    for name in ["ivy", "nobody-here"] {
        let b = browser();
        let response = submit(
            &app,
            &b,
            "/login",
            &[("username", name), ("password", "wrong-password")],
        )
        .await;
        assert_eq!(location(&response), "/login");
        let page = page(&app, &b, "/login").await;
        // The name typed stays in the field; everything else must be identical.
        pages.push(
            page.replace(&crate::helpers::csrf(&page), "")
                .replace(name, "NAME"),
        );
    }
    assert_eq!(pages[0], pages[1]);
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_with_403() {
    let app = TestApp::spawn().await;
    let user = app.user("jack", false).await;
    let b = browser();
    b.get(app.url("/login")).send().await.unwrap();
    for token in [None, Some("forged")] {
        let mut form = vec![("username", "jack"), ("password", user.password.as_str())];
        if let Some(token) = token {
            form.push(("csrf", token));
        }
        let response = b.post(app.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 403);
    }
    let account = b.get(app.url("/account")).send().await.unwrap();
    assert_eq!(location(&account), "/login", "not signed in");
}

#[tokio::test]
async fn the_session_cookie_is_strict_and_renewed_at_sign_in() {
    let app = TestApp::spawn().await;
    let user = app.user("lee", false).await;
    let b = browser();
    let page = b.get(app.url("/login")).send().await.unwrap();
    let before = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        before.contains("HttpOnly") && before.contains("SameSite=Lax") && before.contains("Path=/"),
        "{before}"
    );
    let token = crate::helpers::csrf(&page.text().await.unwrap());
    let response = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", "lee"),
            ("password", &user.password),
        ])
        .send()
        .await
        .unwrap();
    let after = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let id = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    assert_ne!(id(&before), id(&after), "a new session id at sign-in");
}

#[tokio::test]
async fn logout_with_a_valid_hint_ends_the_session_and_returns_to_the_client() {
    let app = TestApp::spawn().await;
    let user = app.user("mia", false).await;
    let client = app.client("App", false, true).await;
    let b = browser();
    let back = authorize(&app, &b, &client, &user, "openid").await;
    let (_, tokens) = json(redeem(&app, &client, &query_param(&back, "code").unwrap()).await).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let response = visit(
        &app,
        &b,
        "/logout",
        &[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
            ("state", "s1"),
        ],
    )
    .await;
    assert_eq!(location(&response), "https://rp.example.com/bye?state=s1");
    assert_eq!(
        location(&b.get(app.url("/account")).send().await.unwrap()),
        "/login",
        "signed out"
    );

    // An unregistered address is refused.
    let response = visit(
        &app,
        &b,
        "/logout",
        &[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn logout_without_a_hint_asks_first() {
    let app = TestApp::spawn().await;
    let user = app.user("ned", false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    assert_eq!(
        b.get(app.url("/account")).send().await.unwrap().status(),
        200
    );
    let page = b.get(app.url("/logout")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        b.get(app.url("/account")).send().await.unwrap().status(),
        200,
        "still signed in until confirmed"
    );
    let response = submit(&app, &b, "/logout", &[]).await;
    assert_eq!(location(&response), "/logout/done");
    assert_eq!(
        location(&b.get(app.url("/account")).send().await.unwrap()),
        "/login"
    );
}

#[tokio::test]
async fn an_expired_id_token_hint_still_identifies_the_client_for_logout() {
    let app = TestApp::spawn().await;
    let user = app.user("xena", false).await;
    let client = app.client("App", false, true).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    // An ID token of ours that expired an hour ago.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({ "iss": app.address, "sub": user.id.to_string(), "aud": client.id, "iat": now - 7200, "exp": now - 3600 });
    let payload = josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let hint = app
        .state
        .keys
        .sign(portcullis::keys::Alg::RS256, "JWT", &payload)
        .unwrap()
        .token;
    let response = visit(
        &app,
        &b,
        "/logout",
        &[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
        ],
    )
    .await;
    assert_eq!(location(&response), "https://rp.example.com/bye");
    assert_eq!(
        location(&b.get(app.url("/account")).send().await.unwrap()),
        "/login"
    );
    // A forged hint is no hint: the person is asked instead.
    let forged = format!("{}x", &hint[..hint.len() - 1]);
    let response = visit(&app, &b, "/logout", &[("id_token_hint", forged.as_str())]).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_second_factor_codes_are_throttled_separately() {
    let app = TestApp::spawn().await;
    let user = app.user("yuri", true).await;
    let b = browser();
    let response = password_step(&app, &b, &user).await;
    assert_eq!(location(&response), "/login/mfa");
    for _ in 0..5 {
        let response = submit(&app, &b, "/login/mfa", &[("code", "000000")]).await;
        assert_eq!(location(&response), "/login/mfa");
    }
    let response = submit(&app, &b, "/login/mfa", &[("code", &user.code())]).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // Password guesses were not counted against the account: another browser signs in at once.
    let other = browser();
    let response = password_step(&app, &other, &user).await;
    assert_eq!(location(&response), "/login/mfa");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_used_and_forgeries_are_not() {
    // The proxy appended 203.0.113.9; the client itself claimed 198.51.100.1.
    let forwarded = "198.51.100.1, 203.0.113.9";
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", forwarded.parse().unwrap());
    let behind_proxy = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers.clone())
            .build()
            .unwrap()
    };
    let trusting = Settings::new()
        .await
        .set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1/32")
        .spawn()
        .await;
    let direct = TestApp::spawn().await;
    for (app, expected) in [(&trusting, "203.0.113.9"), (&direct, "127.0.0.1")] {
        let stranger = TestUser {
            id: uuid::Uuid::nil(),
            username: "nobody".into(),
            password: "wrong-password".into(),
            totp: None,
        };
        let response = password_step(app, &behind_proxy(), &stranger).await;
        assert_eq!(location(&response), "/login");
        let ip: String = sqlx::query_scalar(
            "select host(ip) from audit_events where event = 'login.failed' order by id desc limit 1",
        )
        .fetch_one(&app.state.db)
        .await
        .unwrap();
        assert_eq!(ip, expected, "forged entries are never believed");
    }
}
