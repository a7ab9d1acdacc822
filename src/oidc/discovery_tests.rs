//! Unit tests: discovery advertises exactly what the enforcing code accepts, checked through
//! that code (the authorization request, the token endpoint's grant parser, client
//! authentication, client registration, the responses and tokens minted), not by comparing a
//! list with itself.

use base64::Engine as _;

use super::*;
use crate::clients::store::Client;
use crate::clients::{ClientSpec, ClientType};
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeParams, Rejection};
use crate::oauth::client_auth;
use crate::oauth::grants::testing::{Signing, person, signed_in};
use crate::oauth::grants::tokens_for_person;
use crate::oauth::scope::Scopes;
use crate::tokens::user_claims;
use crate::users::store::Profile;

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
fn the_acr_values_advertised_are_those_acr_values_asks_for_and_tokens_carry() {
    use crate::acr::Level;
    use crate::amr::Amr;
    let metadata = metadata();
    assert_eq!(metadata.acr_values_supported.len(), Level::ALL.len());
    for advertised in &metadata.acr_values_supported {
        let request = authorize(|p| p.acr_values = Some((*advertised).into())).unwrap();
        assert_eq!(request.min_level.acr(), *advertised);
    }
    let sign_ins = [
        vec![Amr::Pwd],
        vec![Amr::Pwd, Amr::Otp],
        Amr::passkey(true).to_vec(),
        Amr::passkey(false).to_vec(),
    ];
    for methods in sign_ins {
        let acr = Level::of(&methods).acr();
        assert!(metadata.acr_values_supported.contains(&acr), "{acr}");
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
    let unknown = Scope::parse("x-unknown").unwrap().describe();
    for advertised in &metadata.scopes_supported {
        let said = Scope::parse(advertised).unwrap().describe();
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

#[test]
fn the_response_modes_advertised_are_those_authorization_responses_are_sent_in() {
    let metadata = metadata();
    assert!(!metadata.response_modes_supported.is_empty());
    let issuer = "https://id.example.com";
    let error = crate::oauth::error::OAuthError::new(
        crate::oauth::error::ErrorCode::AccessDenied,
        "denied",
    );
    let sent = [
        authorize::code_location(issuer, "https://app.example.com/cb", Some("s"), "c1"),
        authorize::error_location(issuer, "https://app.example.com/cb", Some("s"), &error),
    ];
    for advertised in &metadata.response_modes_supported {
        assert_eq!(
            ResponseMode::parse(advertised),
            Some(ResponseMode::SERVED),
            "{advertised}"
        );
    }
    // `query`: every parameter in the query of the redirect URI, nothing in a fragment.
    assert_eq!(metadata.response_modes_supported, ["query"]);
    for location in sent {
        let url = url::Url::parse(&location).unwrap();
        assert!(url.fragment().is_none(), "{location}");
        let names: Vec<String> = url.query_pairs().map(|(n, _)| n.into_owned()).collect();
        assert!(names.contains(&"state".to_owned()) && names.contains(&"iss".to_owned()));
    }
    for refused in ["fragment", "form_post"] {
        assert!(!metadata.response_modes_supported.contains(&refused));
        assert!(ResponseMode::parse(refused).is_none());
    }
}

type Claims = serde_json::Map<String, serde_json::Value>;

/// The ID token and access token that every grant acting for a person issues, for `alice` at
/// `client` with every scope and a nonce, decoded.
fn minted(client: &Client, alice: &Profile) -> (Claims, Claims) {
    let signing = Signing::new();
    let issuer = signing.issuer();
    let auth = signed_in(alice);
    let scopes = Scopes::from(Scope::SUPPORTED.to_vec());
    let (response, access) =
        tokens_for_person(&issuer, client, &scopes, &auth, alice, Some("n-1"), None).unwrap();
    let decode = |token: &str| issuer.keys.verify(token).unwrap().0.claims_set().clone();
    (decode(&response.id_token.unwrap()), decode(&access.token))
}

#[tokio::test]
async fn every_advertised_claim_is_one_an_id_token_carries() {
    let metadata = metadata();
    let alice = person();
    let (id_token, _) = minted(&Client::sample(ClientType::Confidential), &alice);
    for advertised in &metadata.claims_supported {
        assert!(id_token.contains_key(*advertised), "{advertised}");
    }
    // And what an ID token or userinfo says about the person is advertised (the ID token's own
    // checks, `at_hash` and `azp`, are not claims a relying party asks for).
    let userinfo = user_claims(&alice, &Scope::SUPPORTED);
    for carried in id_token.keys().chain(userinfo.keys()) {
        assert!(
            metadata.claims_supported.contains(&carried.as_str())
                || [claims::AT_HASH, claims::AZP].contains(&carried.as_str()),
            "{carried}"
        );
    }
}

#[tokio::test]
async fn the_subject_type_advertised_is_the_subject_every_client_is_given() {
    let metadata = metadata();
    assert_eq!(
        metadata.subject_types_supported,
        [SubjectType::SERVED.as_str()]
    );
    for advertised in &metadata.subject_types_supported {
        assert_eq!(SubjectType::parse(advertised), Some(SubjectType::Public));
    }
    // `public`: the same `sub` at every client, in the ID token and the access token alike.
    let mut other = Client::sample(ClientType::Confidential);
    other.client_id = "other".into();
    let alice = person();
    let (id_a, access_a) = minted(&Client::sample(ClientType::Confidential), &alice);
    let (id_b, access_b) = minted(&other, &alice);
    assert_eq!(id_a[claims::SUB], SubjectType::SERVED.subject(alice.id));
    assert_ne!(id_a[claims::AUD], id_b[claims::AUD]);
    for token in [&id_b, &access_a, &access_b] {
        assert_eq!(token[claims::SUB], id_a[claims::SUB]);
    }
    // `pairwise` would differ per client (OIDC Core §8.1): it is not served.
    assert!(!metadata.subject_types_supported.contains(&"pairwise"));
    assert!(SubjectType::parse("pairwise").is_none());
}
