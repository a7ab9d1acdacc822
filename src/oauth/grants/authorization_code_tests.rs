//! Unit tests of the authorization code grant: the checks on the code (its client, its
//! `redirect_uri`, PKCE), the person, what is issued, and what a second redemption revokes.

use super::*;
use crate::oauth::grants::testing::{
    CHALLENGE, Fake, Signing, VERIFIER, client, code, person, request, scopes, signed_in,
};
use crate::tokens::codes::CodeGrant;
use crate::users::store::Profile;

const REDIRECT: &str = "https://app.example.com/cb";

fn app() -> Client {
    client(
        &["authorization_code", "refresh_token"],
        &["openid", "profile", "offline_access"],
    )
}

/// A store holding the code `c1` for `person`, with `scope`.
fn store(person: &Profile, scope: &str) -> Fake {
    let fake = Fake::with(person.clone());
    let grant = CodeGrant {
        client_id: "app".into(),
        redirect_uri: REDIRECT.into(),
        scopes: scopes(scope),
        nonce: Some("n-1".into()),
        code_challenge: CHALLENGE.into(),
        auth: signed_in(person),
    };
    fake.codes.lock().unwrap().insert("c1".into(), grant);
    fake
}

fn redeem<'a>(overrides: &[(&'a str, &'a str)]) -> TokenRequest {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", "c1"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    for (name, value) in overrides {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    request(&params)
}

#[tokio::test]
async fn a_good_code_gives_an_id_token_and_a_refresh_token_once() {
    let signing = Signing::new();
    let alice = person();
    let fake = store(&alice, "openid profile offline_access");
    let response = exchange(&signing.issuer(), &fake, &app(), &redeem(&[]))
        .await
        .unwrap();
    assert_eq!(response.scope.to_string(), "openid profile offline_access");
    assert!(response.id_token.is_some());
    assert_eq!(response.refresh_token.as_deref(), Some("refresh-1"));
    let issued = fake.refresh_issued.lock().unwrap().clone();
    assert_eq!(issued.len(), 1);
    let family = issued[0].0;
    let remembered = fake.redeemed.lock().unwrap()["c1"].clone();
    assert_eq!(remembered.refresh_family, Some(family));
    assert!(fake.codes.lock().unwrap().is_empty(), "the code is used up");
}

#[tokio::test]
async fn without_offline_access_or_openid_neither_is_issued() {
    let signing = Signing::new();
    let alice = person();
    let fake = store(&alice, "profile");
    let response = exchange(&signing.issuer(), &fake, &app(), &redeem(&[]))
        .await
        .unwrap();
    assert!(response.id_token.is_none() && response.refresh_token.is_none());
    // offline_access granted, but the client may not refresh.
    let fake = store(&alice, "openid offline_access");
    let no_refresh = client(&["authorization_code"], &["openid", "offline_access"]);
    let response = exchange(&signing.issuer(), &fake, &no_refresh, &redeem(&[]))
        .await
        .unwrap();
    assert!(response.refresh_token.is_none());
    assert!(fake.refresh_issued.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_second_redemption_revokes_what_the_first_issued() {
    let signing = Signing::new();
    let alice = person();
    let fake = store(&alice, "openid offline_access");
    let issuer = signing.issuer();
    exchange(&issuer, &fake, &app(), &redeem(&[]))
        .await
        .unwrap();
    let again = exchange(&issuer, &fake, &app(), &redeem(&[])).await;
    assert_eq!(code(again), ErrorCode::InvalidGrant);
    let issued = fake.redeemed.lock().unwrap()["c1"].clone();
    assert_eq!(*fake.denied_tokens.lock().unwrap(), [issued.access_jti]);
    let family = issued.refresh_family.unwrap();
    assert_eq!(*fake.revoked_families.lock().unwrap(), [family]);
    assert_eq!(*fake.denied_grants.lock().unwrap(), [family]);
}

#[tokio::test]
async fn an_unknown_code_is_an_invalid_grant_and_revokes_nothing() {
    let signing = Signing::new();
    let fake = store(&person(), "openid");
    let result = exchange(
        &signing.issuer(),
        &fake,
        &app(),
        &redeem(&[("code", "other")]),
    )
    .await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
    assert!(fake.denied_tokens.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_code_must_be_the_clients_and_match_redirect_uri_and_pkce() {
    let signing = Signing::new();
    let alice = person();
    let other = {
        let mut other = app();
        other.client_id = "other".into();
        other
    };
    let refused: [(&str, Client, TokenRequest); 5] = [
        ("another client", other, redeem(&[])),
        (
            "another redirect_uri",
            app(),
            redeem(&[("redirect_uri", "https://app.example.com/other")]),
        ),
        ("no redirect_uri", app(), redeem(&[("redirect_uri", "")])),
        ("no verifier", app(), redeem(&[("code_verifier", "")])),
        (
            "another verifier",
            app(),
            redeem(&[("code_verifier", &VERIFIER.replace('d', "e"))]),
        ),
    ];
    for (why, client, request) in refused {
        let fake = store(&alice, "openid");
        let result = exchange(&signing.issuer(), &fake, &client, &request).await;
        assert_eq!(code(result), ErrorCode::InvalidGrant, "{why}");
        assert!(
            fake.redeemed.lock().unwrap().is_empty(),
            "{why}: nothing issued"
        );
    }
}

#[tokio::test]
async fn a_disabled_person_gets_nothing() {
    let signing = Signing::new();
    let mut alice = person();
    alice.disabled = true;
    let fake = store(&alice, "openid");
    let result = exchange(&signing.issuer(), &fake, &app(), &redeem(&[])).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn a_code_below_a_minimum_raised_since_it_was_issued_gives_nothing() {
    let signing = Signing::new();
    let alice = person();
    let fake = store(&alice, "openid offline_access");
    let strict = Client {
        min_level: crate::acr::Level::PhishingResistant,
        ..app()
    };
    let result = exchange(&signing.issuer(), &fake, &strict, &redeem(&[])).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
    assert!(fake.refresh_issued.lock().unwrap().is_empty());
}
