//! Sign-in in the browser and the authorization code flow, as a relying party and a person see
//! them: the `openidconnect` crate as the relying party, a cookie-keeping HTTP client as the
//! browser.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

use crate::helpers::{Server, TestApp, TestClient, TestUser, csrf, location, query_param};
pub use crate::signin_steps::{hidden_request, password_step_at, sign_in_at};

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response's status and JSON body.
pub async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// GETs `path` with a query string, as `browser`.
pub async fn visit<Q: serde::Serialize + ?Sized>(
    app: &impl Server,
    browser: &reqwest::Client,
    path: &str,
    query: &Q,
) -> reqwest::Response {
    browser
        .get(app.url(path))
        .query(query)
        .send()
        .await
        .unwrap()
}

/// The text of the page at `path`.
pub async fn page(app: &impl Server, browser: &reqwest::Client, path: &str) -> String {
    browser
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Follows one redirect that stays on the server (a path) and returns the response.
pub async fn follow(
    app: &impl Server,
    browser: &reqwest::Client,
    response: reqwest::Response,
) -> reqwest::Response {
    let to = location(&response);
    assert!(to.starts_with('/'), "expected a local redirect, got {to}");
    browser.get(app.url(&to)).send().await.unwrap()
}

/// GETs `path`, reads the form's CSRF token and POSTs `fields` with it.
pub async fn submit(
    app: &impl Server,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    submit_from(app, browser, path, path, fields).await
}

/// Like [`submit`] for a form on page `from` that posts to `action`.
pub async fn submit_from(
    app: &impl Server,
    browser: &reqwest::Client,
    from: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = browser.get(app.url(from)).send().await.unwrap();
    assert_eq!(page.status(), 200, "GET {from}");
    let html = page.text().await.unwrap();
    let token = csrf(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
    // The pending request a consent or device form decides on, as a browser would send it.
    let request = hidden_request(&html);
    if let Some(request) = &request {
        form.push(("request", request));
    }
    form.extend_from_slice(fields);
    browser
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The first step only: username and password from the login page.
pub async fn password_step(
    app: &impl Server,
    browser: &reqwest::Client,
    user: &TestUser,
) -> reqwest::Response {
    password_step_at(app, browser, user, "/login").await
}

/// Signs `user` in from the login page through the second factor (if enrolled); returns the
/// response after the last step (a redirect onwards).
pub async fn sign_in(
    app: &impl Server,
    browser: &reqwest::Client,
    user: &TestUser,
) -> reqwest::Response {
    sign_in_at(app, browser, user, "/login").await
}

/// The authorization request query for `client` with the test PKCE pair.
pub fn authorize_query(client: &TestClient, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client.id.clone()),
        ("redirect_uri", client.redirect_uri.clone()),
        ("scope", scope.into()),
        ("state", "st-123".into()),
        ("nonce", "no-456".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// Runs the whole browser part (authorize, sign-in, consent) and returns the redirect to the
/// client.
pub async fn authorize(
    app: &impl Server,
    browser: &reqwest::Client,
    client: &TestClient,
    user: &TestUser,
    scope: &str,
) -> String {
    let response = browser
        .get(app.url("/authorize"))
        .query(&authorize_query(client, scope))
        .send()
        .await
        .unwrap();
    let to = location(&response);
    let response = if to.starts_with("/login") {
        sign_in_at(app, browser, user, &to).await
    } else {
        response
    };
    onwards(app, browser, response).await
}

/// Follows the server's redirects from `response`, approving consent if asked, until one leaves
/// the server (to the client); returns that URL.
pub async fn onwards(
    app: &impl Server,
    browser: &reqwest::Client,
    mut response: reqwest::Response,
) -> String {
    loop {
        let to = location(&response);
        if !to.starts_with('/') {
            return to;
        }
        response = if to.starts_with("/consent") {
            submit_from(app, browser, &to, "/consent", &[("decision", "approve")]).await
        } else {
            follow(app, browser, response).await
        };
    }
}

/// POSTs `form` to the token endpoint with the client's Basic credentials; status and JSON body.
pub async fn token(app: &impl Server, client: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http()
        .post(app.url("/token"))
        .basic_auth(&client.id, client.secret.as_ref())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Redeems a code with the test verifier (client_secret_basic or none).
pub async fn redeem(app: &impl Server, client: &TestClient, code: &str) -> reqwest::Response {
    let mut request = app.http().post(app.url("/token"));
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
    ];
    match &client.secret {
        Some(secret) => request = request.basic_auth(&client.id, Some(secret)),
        None => form.push(("client_id", client.id.as_str())),
    }
    request.form(&form).send().await.unwrap()
}

/// The claims of a JWT, without checking it (tests only).
pub fn payload(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// A user without a second factor signs in to a first-party client; the client redeems the code.
/// Returns the client and the token response.
pub async fn tokens_for(app: &TestApp, username: &str, scope: &str) -> (TestClient, Value) {
    let user = app.user(username, false).await;
    let client = app.client("App", false, true).await;
    let back = authorize(app, &browser(), &client, &user, scope).await;
    let response = redeem(app, &client, &query_param(&back, "code").unwrap()).await;
    assert_eq!(response.status(), 200);
    (client, response.json().await.unwrap())
}

#[tokio::test]
async fn a_relying_party_signs_a_person_in_with_password_and_totp_and_refreshes() {
    let app = TestApp::spawn().await;
    let user = app.user("alice", true).await;
    let rp = app.client("Notes", false, false).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.id.clone()),
        Some(ClientSecret::new(rp.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: authorize → sign in → second factor → consent → back to the client.
    let browser = browser();
    let response = browser.get(url.as_str()).send().await.unwrap();
    let login = location(&response);
    assert!(login.starts_with("/login?request="), "{login}");
    let response = sign_in_at(&app, &browser, &user, &login).await;
    let request = login.trim_start_matches("/login");
    assert_eq!(location(&response), format!("/authorize/resume{request}"));
    let response = follow(&app, &browser, response).await;
    let consent = location(&response);
    assert_eq!(consent, format!("/consent{request}"));
    let consent_page = page(&app, &browser, &consent).await;
    assert!(
        consent_page.contains("Notes") && consent_page.contains("See your email address"),
        "{consent_page}"
    );
    let response = submit_from(
        &app,
        &browser,
        &consent,
        "/consent",
        &[("decision", "approve")],
    )
    .await;
    let response = follow(&app, &browser, response).await;
    let back = location(&response);
    assert!(back.starts_with(&rp.redirect_uri), "{back}");
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(app.address.as_str()),
        "RFC 9207"
    );
    let code = query_param(&back, "code").unwrap();

    // The relying party: code exchange, ID token verified against the JWKS, userinfo, refresh.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the ID token verifies");
    assert_eq!(claims.subject().as_str(), user.id.to_string());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(amr, ["pwd", "otp"]);
    assert!(claims.auth_time().is_some());
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access gives a refresh token"
    );

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");

    let first_refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let second_refresh = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let refreshed_id = refreshed.id_token().expect("an ID token on refresh");
    let refreshed_claims = refreshed_id
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(refreshed_claims.subject().as_str(), user.id.to_string());

    // Replaying the first refresh token revokes the family: the second one stops working too.
    assert!(
        client
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
    assert!(
        client
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn token_responses_are_not_cacheable_and_carry_a_verifiable_access_token() {
    let app = TestApp::spawn().await;
    let user = app.user("bob", false).await;
    let client = app.client("Shop", false, true).await;
    let back = authorize(&app, &browser(), &client, &user, "openid profile").await;
    let response = redeem(&app, &client, &query_param(&back, "code").unwrap()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    // A resource server verifies the access token with the JWKS alone (RFC 9068).
    let jwks = app.get_json("/jwks.json").await;
    let access = body["access_token"].as_str().unwrap();
    crate::keys::verify(&jwks, access).unwrap();
    let header = josekit::jwt::decode_header(access).unwrap();
    assert_eq!(header.claim("typ").unwrap(), "at+jwt");
    assert_eq!(header.claim("alg").unwrap(), "ES256");
    let claims = payload(access);
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(
        claims["aud"],
        client.id.as_str(),
        "one audience, as a string (RFC 7519 §4.1.3)"
    );
    assert_eq!(claims["scope"], "openid profile");
    assert_eq!(claims["acr"], "urn:portcullis:acr:password");
    assert!(
        claims["jti"].as_str().is_some() && claims["exp"].as_u64() > claims["iat"].as_u64(),
        "{claims}"
    );
}
