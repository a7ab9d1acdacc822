//! Unit tests: discovery advertises exactly what the enforcing code accepts, checked through
//! that code (the authorization request, the token endpoint's grant parser, client
//! authentication, client registration), not by comparing a list with itself.

use base64::Engine as _;

use super::*;
use crate::clients::store::Client;
use crate::clients::{ClientSpec, ClientType};
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeParams, Rejection};
use crate::oauth::client_auth;
use crate::oauth::scope;

fn metadata() -> Metadata {
    Metadata::new("https://id.example.com")
}

/// A good authorization request for [`Client::sample`], changed by `edit`, checked.
fn authorize(edit: impl FnOnce(&mut AuthorizeParams)) -> Result<AuthorizationRequest, Rejection> {
    let mut params = AuthorizeParams {
        client_id: Some("app".into()),
        redirect_uri: Some("https://app.example.com/cb".into()),
        response_type: Some(ResponseType::Code.as_str().into()),
        scope: Some(Scope::OPENID.to_string()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some(ChallengeMethod::S256.as_str().into()),
        ..Default::default()
    };
    edit(&mut params);
    authorize::check(params, Some(&Client::sample(ClientType::Confidential)), 0)
}

#[test]
fn the_response_types_advertised_are_those_authorize_accepts() {
    let metadata = metadata();
    assert!(!metadata.response_types_supported.is_empty());
    for advertised in &metadata.response_types_supported {
        assert!(
            authorize(|p| p.response_type = Some((*advertised).into())).is_ok(),
            "{advertised}"
        );
    }
    for refused in ["token", "id_token", "code id_token"] {
        assert!(!metadata.response_types_supported.contains(&refused));
        assert!(authorize(|p| p.response_type = Some(refused.into())).is_err());
    }
}

#[test]
fn the_challenge_methods_advertised_are_those_authorize_accepts() {
    let metadata = metadata();
    assert!(!metadata.code_challenge_methods_supported.is_empty());
    for advertised in &metadata.code_challenge_methods_supported {
        assert!(authorize(|p| p.code_challenge_method = Some((*advertised).into())).is_ok());
    }
    // RFC 9700 §2.1.1: `plain` is refused, so it is not advertised.
    assert!(!metadata.code_challenge_methods_supported.contains(&"plain"));
    assert!(authorize(|p| p.code_challenge_method = Some("plain".into())).is_err());
}

#[test]
fn the_prompts_advertised_are_the_prompts_authorize_accepts() {
    let metadata = metadata();
    for advertised in &metadata.prompt_values_supported {
        assert!(
            authorize(|p| p.prompt = Some((*advertised).into())).is_ok(),
            "{advertised}"
        );
    }
    // One account per browser session: `select_account` is refused at /authorize, so
    // discovery must not list it; nor a value from a later specification.
    for refused in ["select_account", "create"] {
        assert!(!metadata.prompt_values_supported.contains(&refused));
        assert!(authorize(|p| p.prompt = Some(refused.into())).is_err());
    }
}

#[test]
fn the_grant_types_advertised_are_the_grant_types_the_token_endpoint_parses() {
    let metadata = metadata();
    for advertised in &metadata.grant_types_supported {
        assert!(GrantType::parse(advertised).is_ok(), "{advertised}");
    }
    assert_eq!(metadata.grant_types_supported.len(), GrantType::ALL.len());
    // RFC 9700 §2.4: no password grant; no implicit flow.
    for refused in ["password", "implicit"] {
        assert!(!metadata.grant_types_supported.contains(&refused));
        assert!(GrantType::parse(refused).is_err());
    }
}

#[test]
fn the_id_token_algorithms_advertised_are_those_a_client_may_choose() {
    let spec = |alg: &str| ClientSpec {
        name: "App".into(),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        id_token_alg: alg.into(),
        ..Default::default()
    };
    let metadata = metadata();
    for advertised in &metadata.id_token_signing_alg_values_supported {
        let client = spec(advertised).validate().unwrap();
        assert_eq!(client.id_token_alg.as_str(), *advertised);
    }
    for refused in ["HS256", "none", "PS256"] {
        assert!(
            !metadata
                .id_token_signing_alg_values_supported
                .contains(&refused)
        );
        assert!(spec(refused).validate().is_err());
    }
}

#[test]
fn the_auth_methods_advertised_are_those_client_authentication_tells_apart() {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("app:secret")
    );
    let seen = [
        client_auth::presented(Some(&basic), None, None),
        client_auth::presented(None, Some("app"), Some("secret")),
        client_auth::presented(None, Some("app"), None),
    ]
    .map(|p| p.unwrap().method.as_str());
    let metadata = metadata();
    assert_eq!(metadata.token_endpoint_auth_methods_supported, seen);
    assert_eq!(metadata.revocation_endpoint_auth_methods_supported, seen);
    // Introspection needs a secret: a public client cannot call it.
    assert!(
        !metadata
            .introspection_endpoint_auth_methods_supported
            .contains(&AuthMethod::None.as_str())
    );
}

#[test]
fn every_advertised_scope_is_a_scope_the_code_gives_a_meaning() {
    let metadata = metadata();
    let unknown = scope::describe("x-unknown");
    for advertised in &metadata.scopes_supported {
        assert!(Scope::parse(advertised).is_ok());
        let said = scope::describe(advertised);
        assert!(
            !said.contains("x-unknown") && said != unknown.replace("x-unknown", advertised),
            "{advertised}"
        );
    }
    // The admin API's scope is granted by an administrator, never asked for by a stranger.
    assert!(
        !metadata
            .scopes_supported
            .contains(&Scope::ADMIN.to_string())
    );
}
