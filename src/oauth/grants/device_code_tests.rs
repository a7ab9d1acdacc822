//! Unit tests of the device code grant: the answer to each state a poll finds (RFC 8628 §3.5),
//! and the tokens once the person approved.

use super::*;
use crate::oauth::grants::testing::{Fake, Signing, client, code, person, request, signed_in};
use crate::tokens::device::{DeviceRequest, Status};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn tv() -> Client {
    client(
        &[DEVICE_GRANT, "refresh_token"],
        &["openid", "offline_access"],
    )
}

fn poll() -> TokenRequest {
    request(&[("grant_type", DEVICE_GRANT), ("device_code", "d1")])
}

fn device_request(scope: &str) -> DeviceRequest {
    DeviceRequest {
        client_id: "app".into(),
        client_name: "App".into(),
        scopes: crate::oauth::grants::testing::scopes(scope),
        user_code: "BCDFGHJK".into(),
        status: Status::Redeemed,
        interval: 5,
        last_poll_ms: 0,
        expires_at: i64::MAX,
    }
}

#[tokio::test]
async fn each_state_before_an_approval_has_its_error() {
    let signing = Signing::new();
    let cases = [
        (Poll::Unknown, ErrorCode::InvalidGrant),
        (Poll::OtherClient, ErrorCode::InvalidGrant),
        (Poll::Expired, ErrorCode::ExpiredToken),
        (Poll::SlowDown, ErrorCode::SlowDown),
        (Poll::Pending, ErrorCode::AuthorizationPending),
        (Poll::Denied, ErrorCode::AccessDenied),
        (Poll::AlreadyRedeemed, ErrorCode::InvalidGrant),
    ];
    for (found, expected) in cases {
        let fake = Fake::default();
        let label = format!("{expected:?}");
        *fake.poll.lock().unwrap() = Some(found);
        let result = exchange(&signing.issuer(), &fake, &tv(), &poll()).await;
        assert_eq!(code(result), expected, "{label}");
    }
}

#[tokio::test]
async fn a_poll_without_a_device_code_is_an_invalid_request() {
    let signing = Signing::new();
    let request = request(&[("grant_type", DEVICE_GRANT)]);
    let result = exchange(&signing.issuer(), &Fake::default(), &tv(), &request).await;
    assert_eq!(code(result), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn an_approval_gives_the_tokens_of_the_scopes_asked() {
    let signing = Signing::new();
    let alice = person();
    let fake = Fake::with(alice.clone());
    let approved = Poll::Approved(signed_in(&alice), device_request("openid offline_access"));
    *fake.poll.lock().unwrap() = Some(approved);
    let response = exchange(&signing.issuer(), &fake, &tv(), &poll())
        .await
        .unwrap();
    assert_eq!(response.scope.to_string(), "openid offline_access");
    assert!(response.id_token.is_some());
    assert!(response.refresh_token.is_some());
}

#[tokio::test]
async fn an_approval_by_a_person_since_disabled_gives_nothing() {
    let signing = Signing::new();
    let mut alice = person();
    alice.disabled = true;
    let fake = Fake::with(alice.clone());
    let approved = Poll::Approved(signed_in(&alice), device_request("openid"));
    *fake.poll.lock().unwrap() = Some(approved);
    let result = exchange(&signing.issuer(), &fake, &tv(), &poll()).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn an_approval_below_the_clients_minimum_gives_nothing() {
    let signing = Signing::new();
    let alice = person();
    let fake = Fake::with(alice.clone());
    let password_only = crate::tokens::Authentication {
        amr: vec![crate::amr::Amr::Pwd],
        ..signed_in(&alice)
    };
    let approved = Poll::Approved(password_only, device_request("openid offline_access"));
    *fake.poll.lock().unwrap() = Some(approved);
    let strict = Client {
        min_level: crate::acr::Level::TwoFactor,
        ..tv()
    };
    let result = exchange(&signing.issuer(), &fake, &strict, &poll()).await;
    assert_eq!(code(result), ErrorCode::InvalidGrant);
    assert!(fake.refresh_issued.lock().unwrap().is_empty());
}
