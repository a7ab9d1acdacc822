//! Unit tests of introspection and revocation: who may see a token (RFC 7662 §2.1, §4), and
//! which tokens a client may revoke (RFC 7009 §2.1).

use super::*;
use crate::oauth::grants::testing::{Fake, Signing, client, person, request};
use crate::oauth::grants::{TokenRequest, client_credentials};
use crate::tokens::refresh::RefreshGrant;

/// A refresh token's shape: 43 characters of base64url.
const REFRESH: &str = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";

fn app() -> Client {
    let mut app = client(&["client_credentials"], &["read"]);
    app.audiences = vec![crate::clients::Audience::parse("https://api.example.com").unwrap()];
    app
}

fn named(id: &str) -> Client {
    let mut other = client(&["client_credentials"], &["read"]);
    other.client_id = id.into();
    other
}

/// An access token of `app` for `audience` (or for itself).
fn access_token(signing: &Signing, audience: Option<&str>) -> String {
    let mut params = vec![("grant_type", "client_credentials")];
    params.extend(audience.map(|a| ("resource", a)));
    let request: TokenRequest = request(&params);
    client_credentials::exchange(&signing.issuer(), &app(), &request)
        .unwrap()
        .access_token
}

#[tokio::test]
async fn an_access_token_is_shown_to_its_client_and_its_resource_server_only() {
    let signing = Signing::new();
    let fake = Fake::default();
    let token = access_token(&signing, Some("https://api.example.com"));
    let mut api = named("api");
    api.resource_uri = Some(crate::clients::ResourceUri::parse("https://api.example.com").unwrap());
    for (caller, shown) in [(app(), true), (api, true), (named("other"), false)] {
        let seen = introspect(&signing.issuer(), &fake, &caller, &token, None)
            .await
            .unwrap();
        assert_eq!(seen.active, shown, "{}", caller.client_id);
        if shown {
            assert_eq!(seen.client_id.as_deref(), Some("app"));
            assert_eq!(seen.iss.as_deref(), Some(signing.issuer().url));
        }
    }
    // A client whose id is the token's audience is its resource server too.
    let token = access_token(&signing, None);
    let seen = introspect(&signing.issuer(), &fake, &named("app"), &token, None)
        .await
        .unwrap();
    assert!(seen.active);
}

#[tokio::test]
async fn a_revoked_or_foreign_token_is_inactive() {
    let signing = Signing::new();
    let fake = Fake::default();
    let token = access_token(&signing, None);
    fake.disabled_clients.lock().unwrap().push("app".into());
    let seen = introspect(&signing.issuer(), &fake, &app(), &token, None)
        .await
        .unwrap();
    assert!(!seen.active, "its client is disabled");
    let seen = introspect(
        &signing.issuer(),
        &Fake::default(),
        &app(),
        "not.a.token",
        None,
    )
    .await
    .unwrap();
    assert!(!seen.active);
}

#[tokio::test]
async fn a_client_revokes_its_own_access_tokens_only() {
    let signing = Signing::new();
    let fake = Fake::default();
    let token = access_token(&signing, Some("https://api.example.com"));
    let mut api = named("api");
    api.resource_uri = Some(crate::clients::ResourceUri::parse("https://api.example.com").unwrap());
    revoke(&signing.issuer(), &fake, &api, &token, None)
        .await
        .unwrap();
    assert!(fake.denied_tokens.lock().unwrap().is_empty());
    revoke(&signing.issuer(), &fake, &app(), &token, None)
        .await
        .unwrap();
    assert_eq!(fake.denied_tokens.lock().unwrap().len(), 1);
    let seen = introspect(&signing.issuer(), &fake, &app(), &token, None)
        .await
        .unwrap();
    assert!(!seen.active);
}

fn refresh_grant(client_id: &str) -> RefreshGrant {
    let now = time::OffsetDateTime::now_utc();
    RefreshGrant {
        family_id: uuid::Uuid::now_v7(),
        client_id: client_id.into(),
        user_id: person().id,
        scopes: crate::oauth::grants::testing::scopes("openid offline_access"),
        auth_time: now,
        session_id: None,
        amr: vec![crate::amr::Amr::Pwd],
        expires_at: now + time::Duration::DAY,
        used_at: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn a_refresh_token_is_shown_to_and_revoked_by_its_own_client() {
    let signing = Signing::new();
    let fake = Fake::default();
    let grant = refresh_grant("app");
    *fake.peeked.lock().unwrap() = Some(grant.clone());
    let hint = Some("refresh_token");
    let seen = introspect(&signing.issuer(), &fake, &app(), REFRESH, hint)
        .await
        .unwrap();
    assert!(seen.active);
    assert_eq!(seen.token_type, Some("refresh_token"));
    let seen = introspect(&signing.issuer(), &fake, &named("other"), REFRESH, None)
        .await
        .unwrap();
    assert!(!seen.active);
    revoke(&signing.issuer(), &fake, &named("other"), REFRESH, None)
        .await
        .unwrap();
    assert!(fake.revoked_families.lock().unwrap().is_empty());
    revoke(&signing.issuer(), &fake, &app(), REFRESH, None)
        .await
        .unwrap();
    assert_eq!(*fake.revoked_families.lock().unwrap(), [grant.family_id]);
    assert_eq!(*fake.denied_grants.lock().unwrap(), [grant.family_id]);
}

#[tokio::test]
async fn a_used_refresh_token_is_inactive() {
    let signing = Signing::new();
    let fake = Fake::default();
    let mut grant = refresh_grant("app");
    grant.used_at = Some(time::OffsetDateTime::now_utc());
    *fake.peeked.lock().unwrap() = Some(grant);
    let seen = introspect(&signing.issuer(), &fake, &app(), REFRESH, None)
        .await
        .unwrap();
    assert!(!seen.active);
}
