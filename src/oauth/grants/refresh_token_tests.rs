//! Unit tests of the refresh token grant: the scope check before the token is used, and what the
//! grant does with each outcome of the rotation ([`Rotation`]).

use time::OffsetDateTime;

use super::*;
use crate::oauth::grants::testing::{Fake, Signing, client, code, person, request, signed_in};
use crate::tokens::refresh::RefreshGrant;
use crate::users::store::Profile;

fn app() -> Client {
    client(
        &["authorization_code", "refresh_token"],
        &["openid", "profile", "offline_access"],
    )
}

fn grant(person: &Profile, scope: &str) -> RefreshGrant {
    let auth = signed_in(person);
    RefreshGrant {
        family_id: uuid::Uuid::now_v7(),
        client_id: "app".into(),
        user_id: person.id,
        scopes: crate::oauth::grants::testing::scopes(scope),
        auth_time: OffsetDateTime::from_unix_timestamp(auth.auth_time).unwrap(),
        session_id: auth.sid,
        amr: auth.amr,
        expires_at: OffsetDateTime::now_utc() + time::Duration::DAY,
        used_at: None,
        revoked_at: None,
    }
}

/// A store whose token `r1` carries `grant` and rotates to `rotation`.
fn store(person: &Profile, grant: &RefreshGrant, rotation: Rotation) -> Fake {
    let fake = Fake::with(person.clone());
    *fake.peeked.lock().unwrap() = Some(grant.clone());
    *fake.rotation.lock().unwrap() = Some(rotation);
    fake
}

fn refresh(scope: Option<&str>) -> TokenRequest {
    let mut params = vec![("grant_type", "refresh_token"), ("refresh_token", "r1")];
    params.extend(scope.map(|s| ("scope", s)));
    request(&params)
}

fn rotated(grant: &RefreshGrant) -> Rotation {
    Rotation::Rotated {
        grant: grant.clone(),
        token: Some(crate::secret::Secret::new("r2".to_owned())),
    }
}

#[tokio::test]
async fn a_good_token_is_rotated_and_the_scope_may_narrow() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid profile offline_access");
    let fake = store(&alice, &held, rotated(&held));
    let narrower = refresh(Some("openid offline_access"));
    let response = exchange(&signing.issuer(), &fake, &app(), &narrower)
        .await
        .unwrap();
    assert_eq!(response.scope.to_string(), "openid offline_access");
    assert_eq!(response.refresh_token.as_deref(), Some("r2"));
    assert!(response.id_token.is_some());
    assert!(fake.denied_grants.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_wider_scope_is_refused_before_the_token_is_used() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid offline_access");
    let fake = store(&alice, &held, rotated(&held));
    let wider = refresh(Some("openid profile offline_access"));
    let result = exchange(&signing.issuer(), &fake, &app(), &wider).await;
    assert_eq!(code(result), ErrorCode::InvalidScope);
    assert!(
        fake.rotation.lock().unwrap().is_some(),
        "the token was not rotated"
    );
}

#[tokio::test]
async fn a_scope_the_client_lost_is_dropped() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid profile offline_access");
    let fake = store(&alice, &held, rotated(&held));
    let narrowed = client(&["refresh_token"], &["openid", "offline_access"]);
    let response = exchange(&signing.issuer(), &fake, &narrowed, &refresh(None))
        .await
        .unwrap();
    assert_eq!(response.scope.to_string(), "openid offline_access");
}

#[tokio::test]
async fn a_replayed_token_revokes_its_grant() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid offline_access");
    let fake = store(&alice, &held, Rotation::Replayed(held.family_id));
    let result = exchange(&signing.issuer(), &fake, &app(), &refresh(None)).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
    assert_eq!(*fake.denied_grants.lock().unwrap(), [held.family_id]);
}

#[tokio::test]
async fn a_refused_token_says_why() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid offline_access");
    let fake = store(&alice, &held, Rotation::Refused("unknown refresh token"));
    let error = exchange(&signing.issuer(), &fake, &app(), &refresh(None))
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidGrant);
    assert_eq!(error.description, "unknown refresh token");
}

#[tokio::test]
async fn a_disabled_person_gets_nothing() {
    let signing = Signing::new();
    let mut alice = person();
    alice.disabled = true;
    let held = grant(&alice, "openid offline_access");
    let fake = store(&alice, &held, rotated(&held));
    let result = exchange(&signing.issuer(), &fake, &app(), &refresh(None)).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn below_a_minimum_raised_since_sign_in_the_token_is_refused_before_it_is_used() {
    let signing = Signing::new();
    let alice = person();
    let held = grant(&alice, "openid offline_access");
    let fake = store(&alice, &held, rotated(&held));
    let strict = Client {
        min_level: crate::acr::Level::PhishingResistant,
        ..app()
    };
    let error = exchange(&signing.issuer(), &fake, &strict, &refresh(None))
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidGrant);
    assert!(error.description.contains("a passkey"), "{error}");
    assert!(
        fake.rotation.lock().unwrap().is_some(),
        "the token was not rotated"
    );
    // At the level the sign-in reached (password and TOTP), it is refreshed.
    let two = Client {
        min_level: crate::acr::Level::TwoFactor,
        ..app()
    };
    assert!(
        exchange(&signing.issuer(), &fake, &two, &refresh(None))
            .await
            .is_ok()
    );
}
