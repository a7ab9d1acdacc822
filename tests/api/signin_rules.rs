//! Every rule of the sign-in and code flow, tested from outside: what the person sees, what the
//! client gets back, and that refused requests change nothing.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestApp, location, query_param};
use crate::signin::{
    authorize, authorize_query, browser, follow, page, redeem, sign_in, submit, token, tokens_for,
};

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_gets_a_page_and_no_redirect() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let mut unknown = authorize_query(&client, "openid");
    unknown[1].1 = "no-such-client".into();
    let mut elsewhere = authorize_query(&client, "openid");
    elsewhere[2].1 = "https://attacker.example/cb".into();
    for query in [unknown, elsewhere] {
        let response = b
            .get(app.url("/authorize"))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
        let page = response.text().await.unwrap();
        assert!(
            page.contains("<h1>") && !page.contains("attacker.example"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn pkce_is_required_with_s256_and_errors_go_back_with_state_and_iss() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("code_challenge", None, "invalid_request"),
        ("code_challenge_method", Some("plain"), "invalid_request"),
        ("code_challenge_method", None, "invalid_request"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("scope", Some("admin"), "invalid_scope"),
    ];
    for (name, value, error) in cases {
        let mut query: Vec<(&str, String)> = authorize_query(&client, "openid")
            .into_iter()
            .filter(|(k, _)| *k != name)
            .collect();
        if let Some(value) = value {
            query.push((name, value.into()));
        }
        let response = b
            .get(app.url("/authorize"))
            .query(&query)
            .send()
            .await
            .unwrap();
        let to = location(&response);
        assert!(to.starts_with(&client.redirect_uri), "{name}: {to}");
        assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{name}");
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-123"));
        assert_eq!(
            query_param(&to, "iss").as_deref(),
            Some(app.address.as_str())
        );
        assert!(query_param(&to, "code").is_none());
    }
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_or_redirect_uri_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let user = app.user("carol", false).await;
    let client = app.client("App", false, true).await;
    let bad_forms: Vec<Vec<(&str, String)>> = vec![
        vec![("code_verifier", "x".repeat(43))],
        vec![],
        vec![
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            ),
            ("redirect_uri", "https://rp.example.com/other".into()),
        ],
    ];
    for extra in bad_forms {
        let back = authorize(&app, &browser(), &client, &user, "openid").await;
        let code = query_param(&back, "code").unwrap();
        let mut form: Vec<(&str, String)> =
            vec![("grant_type", "authorization_code".into()), ("code", code)];
        if !extra.iter().any(|(k, _)| *k == "redirect_uri") {
            form.push(("redirect_uri", client.redirect_uri.clone()));
        }
        form.extend(extra);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = token(&app, &client, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let app = TestApp::spawn().await;
    let user = app.user("dave", false).await;
    let client = app.client("App", false, true).await;
    let back = authorize(&app, &browser(), &client, &user, "openid offline_access").await;
    let code = query_param(&back, "code").unwrap();
    let (status, first) = json(redeem(&app, &client, &code).await).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (status, second) = json(redeem(&app, &client, &code).await).await;
    assert_eq!(
        (status, second["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // What the first redemption issued no longer works.
    let info = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    assert!(
        info.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(
        token(&app, &client, &refresh).await.1["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn of_two_concurrent_refreshes_exactly_one_succeeds() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "erin", "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let attempt = || {
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.clone()),
        ];
        app.http
            .post(app.url("/token"))
            .basic_auth(&client.id, client.secret.as_ref())
            .form(&form)
            .send()
    };
    let (a, b) = tokio::join!(attempt(), attempt());
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn a_public_client_uses_pkce_without_a_secret_and_any_loopback_port() {
    let app = TestApp::spawn().await;
    let user = app.user("frank", false).await;
    let mut client = app.client("CLI", true, true).await;
    client.redirect_uri = "http://127.0.0.1:53124/native".into();
    let back = authorize(&app, &browser(), &client, &user, "openid").await;
    assert!(back.starts_with("http://127.0.0.1:53124/native?"), "{back}");
    let (status, body) =
        json(redeem(&app, &client, &query_param(&back, "code").unwrap()).await).await;
    assert_eq!(status, 200, "{body}");
    // A public client presenting a secret is refused.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("client_id", client.id.as_str()),
        ("client_secret", "guess"),
    ];
    let (status, body) = json(
        app.http
            .post(app.url("/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn client_authentication_failures_are_401_invalid_client() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, true).await;
    let form = [("grant_type", "authorization_code"), ("code", "x")];
    for (id, secret) in [(client.id.as_str(), "wrong"), ("nobody", "x")] {
        let response = app
            .http
            .post(app.url("/token"))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(response.headers()["cache-control"], "no-store");
        let (status, body) = json(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    let no_auth = app
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json(no_auth).await.1["error"], "invalid_client");
    let (_, unknown_grant) = token(&app, &client, &[("grant_type", "password")]).await;
    assert_eq!(unknown_grant["error"], "unsupported_grant_type");
    let not_form = app
        .http
        .post(app.url("/token"))
        .json(&serde_json::json!({"grant_type": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(not_form).await.1["error"], "invalid_request");
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = TestApp::spawn().await;
    let user = app.user("gina", true).await;
    let code = user.code();
    let first = browser();
    let response = submit(
        &app,
        &first,
        "/login",
        &[("username", "gina"), ("password", &user.password)],
    )
    .await;
    assert_eq!(location(&response), "/login/mfa");
    let response = submit(&app, &first, "/login/mfa", &[("code", &code)]).await;
    assert_eq!(location(&response), "/account");

    let second = browser();
    submit(
        &app,
        &second,
        "/login",
        &[("username", "gina"), ("password", &user.password)],
    )
    .await;
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
    for _ in 0..5 {
        let response = submit(
            &app,
            &b,
            "/login",
            &[("username", "hank"), ("password", "wrong-password")],
        )
        .await;
        assert_eq!(location(&response), "/login");
    }
    let page = page(&app, &b, "/login").await;
    assert!(page.contains("The username or password is not correct."));
    // The sixth attempt comes too soon, even with the right password.
    let response = submit(
        &app,
        &b,
        "/login",
        &[("username", "hank"), ("password", &user.password)],
    )
    .await;
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait));
    // Not a lock: once the wait is over, the right password works.
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    let response = submit(
        &app,
        &b,
        "/login",
        &[("username", "hank"), ("password", &user.password)],
    )
    .await;
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
async fn prompt_none_without_a_session_is_login_required() {
    let app = TestApp::spawn().await;
    let client = app.client("App", false, false).await;
    let mut query = authorize_query(&client, "openid");
    query.push(("prompt", "none".into()));
    let response = browser()
        .get(app.url("/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    let to = location(&response);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("login_required"),
        "{to}"
    );
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-123"));
}

#[tokio::test]
async fn max_age_and_prompt_login_force_a_new_sign_in_and_consent_is_remembered() {
    let app = TestApp::spawn().await;
    let user = app.user("kim", false).await;
    let client = app.client("App", false, false).await;
    let b = browser();
    let first = authorize(&app, &b, &client, &user, "openid").await;
    assert!(query_param(&first, "code").is_some());

    // Signed in and consented: straight back with a code.
    let response = b
        .get(app.url("/authorize"))
        .query(&authorize_query(&client, "openid"))
        .send()
        .await
        .unwrap();
    assert!(
        query_param(&location(&response), "code").is_some(),
        "no consent page the second time"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    for extra in [("max_age", "0"), ("prompt", "login")] {
        let mut query = authorize_query(&client, "openid");
        query.push((extra.0, extra.1.into()));
        let response = b
            .get(app.url("/authorize"))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/login", "{extra:?}");
    }
    // A new scope asks for consent again; denying sends access_denied.
    let mut response = b
        .get(app.url("/authorize"))
        .query(&authorize_query(&client, "openid email"))
        .send()
        .await
        .unwrap();
    if location(&response) == "/login" {
        response = follow(&app, &b, sign_in(&app, &b, &user).await).await;
    }
    assert_eq!(location(&response), "/consent");
    let response = submit(&app, &b, "/consent", &[("decision", "deny")]).await;
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("access_denied")
    );
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
async fn userinfo_errors_follow_rfc_6750() {
    let app = TestApp::spawn().await;
    let none = app.get("/userinfo").await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let garbage = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    assert!(
        garbage.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
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
    let response = b
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "https://rp.example.com/bye?state=s1");
    assert_eq!(
        location(&b.get(app.url("/account")).send().await.unwrap()),
        "/login",
        "signed out"
    );

    // An unregistered address is refused.
    let response = b
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
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
async fn within_the_grace_window_a_just_used_refresh_token_works_once_more() {
    let app = crate::helpers::Settings::new()
        .await
        .set("PORTCULLIS_REFRESH_TOKEN_GRACE", "10s")
        .spawn()
        .await;
    let (client, tokens) = tokens_for(&app, "vera", "openid offline_access").await;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    let (first, a) = token(&app, &client, &refresh).await;
    let (second, b) = token(&app, &client, &refresh).await;
    assert_eq!((first, second), (200, 200), "{a} {b}");
    // Both new tokens stay valid: no family revocation inside the window.
    for body in [a, b] {
        let next = [
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ];
        assert_eq!(token(&app, &client, &next).await.0, 200);
    }
}

#[tokio::test]
async fn a_client_may_have_es256_id_tokens_and_scope_only_narrows_on_refresh() {
    let app = TestApp::spawn().await;
    let (client, tokens) = tokens_for(&app, "wes", "openid profile offline_access").await;
    sqlx::query("update clients set id_token_alg = 'ES256' where client_id = $1")
        .bind(&client.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let rs256 = josekit::jwt::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(rs256.claim("alg").unwrap(), "RS256", "RS256 by default");
    let widen = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", "openid email"),
    ];
    let (status, body) = token(&app, &client, &widen).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // The refused request did not use up the token.
    let narrow = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", "openid"),
    ];
    let (status, body) = token(&app, &client, &narrow).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid");
    let es256 = josekit::jwt::decode_header(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(es256.claim("alg").unwrap(), "ES256");
    crate::keys::verify(
        &app.get_json("/jwks.json").await,
        body["id_token"].as_str().unwrap(),
    )
    .unwrap();
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
    let response = b
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "https://rp.example.com/bye");
    assert_eq!(
        location(&b.get(app.url("/account")).send().await.unwrap()),
        "/login"
    );
    // A forged hint is no hint: the person is asked instead.
    let forged = format!("{}x", &hint[..hint.len() - 1]);
    let response = b
        .get(app.url("/logout"))
        .query(&[("id_token_hint", forged.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_second_factor_codes_are_throttled_separately() {
    let app = TestApp::spawn().await;
    let user = app.user("yuri", true).await;
    let b = browser();
    let response = submit(
        &app,
        &b,
        "/login",
        &[("username", "yuri"), ("password", &user.password)],
    )
    .await;
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
    let response = submit(
        &app,
        &other,
        "/login",
        &[("username", "yuri"), ("password", &user.password)],
    )
    .await;
    assert_eq!(location(&response), "/login/mfa");
}
