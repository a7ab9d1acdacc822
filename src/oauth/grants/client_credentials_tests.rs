//! Unit tests of the client credentials grant: which scopes and audience a client gets for
//! itself, checked on the token it is given.

use super::*;
use crate::oauth::grants::testing::{Fake, Signing, client, code, public, request, scopes};
use crate::tokens::access::{self, AccessClaims};

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

fn service() -> Client {
    let mut client = client(
        &["client_credentials"],
        &[
            "openid",
            "profile",
            "offline_access",
            "read",
            "write",
            "roles",
        ],
    );
    client.audiences = vec![crate::clients::Audience::parse("https://api.example.com").unwrap()];
    client.roles = vec!["reporter".into()];
    client
}

async fn claims(signing: &Signing, response: &TokenResponse) -> AccessClaims {
    access::accept(&signing.issuer(), &Fake::default(), &response.access_token)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_public_client_is_refused() {
    let signing = Signing::new();
    let result = exchange(&signing.issuer(), &public(service()), &request(&GRANT));
    assert_eq!(code(result), ErrorCode::UnauthorizedClient);
}

#[tokio::test]
async fn without_a_scope_the_client_gets_its_own_scopes_but_none_about_people() {
    let signing = Signing::new();
    let response = exchange(&signing.issuer(), &service(), &request(&GRANT)).unwrap();
    assert_eq!(response.scope.to_string(), "read write roles");
    assert!(response.id_token.is_none() && response.refresh_token.is_none());
    let claims = claims(&signing, &response).await;
    assert_eq!(claims.subject, "app");
    assert_eq!(claims.client_id, "app");
    assert_eq!(claims.audience, ["app"]);
    assert_eq!(claims.person, None);
    assert_eq!(claims.roles, Some(vec!["reporter".to_owned()]));
    assert_eq!(claims.groups, None, "a client has no groups");
}

#[tokio::test]
async fn a_requested_scope_must_be_the_clients_and_not_about_a_person() {
    let signing = Signing::new();
    let ask = |scope| {
        let params = [GRANT[0], ("scope", scope)];
        exchange(&signing.issuer(), &service(), &request(&params))
    };
    let response = ask("read").unwrap();
    assert_eq!(response.scope.to_string(), "read");
    assert_eq!(claims(&signing, &response).await.scopes, scopes("read"));
    assert_eq!(claims(&signing, &response).await.roles, None);
    assert_eq!(code(ask("read admin")), ErrorCode::InvalidScope);
    for person_scope in ["openid", "profile", "offline_access"] {
        assert_eq!(
            code(ask(person_scope)),
            ErrorCode::InvalidScope,
            "{person_scope}"
        );
    }
}

#[tokio::test]
async fn the_audience_is_a_registered_resource_or_the_client_itself() {
    let signing = Signing::new();
    for name in ["resource", "audience"] {
        let params = [GRANT[0], (name, "https://api.example.com")];
        let response = exchange(&signing.issuer(), &service(), &request(&params)).unwrap();
        let claims = claims(&signing, &response).await;
        assert_eq!(claims.audience, ["https://api.example.com"], "{name}");
        let params = [GRANT[0], (name, "https://other.example.com")];
        let result = exchange(&signing.issuer(), &service(), &request(&params));
        assert_eq!(code(result), ErrorCode::InvalidTarget, "{name}");
    }
}

#[tokio::test]
async fn a_client_lifetime_overrides_the_configured_one() {
    let signing = Signing::new();
    let mut client = service();
    client.access_token_ttl_secs = Some(120);
    let response = exchange(&signing.issuer(), &client, &request(&GRANT)).unwrap();
    assert_eq!(response.expires_in, 120);
    let response = exchange(&signing.issuer(), &service(), &request(&GRANT)).unwrap();
    assert_eq!(
        response.expires_in,
        signing.issuer().lifetimes.access_token.as_secs()
    );
}
