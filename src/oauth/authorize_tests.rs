//! Unit tests of the authorization request checks.

use super::*;
use crate::clients::ClientType;

fn client() -> Client {
    Client::sample(ClientType::Confidential)
}

/// The scopes, as a `scope` parameter.
fn scope(scopes: &[Scope]) -> Option<String> {
    Some(Scopes::from(scopes.to_vec()).to_string())
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params() -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some("app".into()),
        redirect_uri: Some("https://app.example.com/cb".into()),
        response_type: Some("code".into()),
        scope: scope(&[Scope::OPENID, Scope::PROFILE, Scope::ADMIN]),
        state: Some("xyz".into()),
        nonce: Some("n1".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    }
}

fn error_code(result: Result<AuthorizationRequest, Rejection>) -> ErrorCode {
    match result {
        Err(Rejection::Redirect {
            error,
            state,
            redirect_uri,
        }) => {
            assert_eq!(state.as_deref(), Some("xyz"));
            assert_eq!(redirect_uri, "https://app.example.com/cb");
            error.code
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_good_request_is_kept_with_its_scopes_limited() {
    let request = check(params(), Some(&client()), 1000).unwrap();
    assert_eq!(*request.scopes, [Scope::OPENID, Scope::PROFILE]);
    assert_eq!(request.code_challenge, CHALLENGE);
    assert_eq!(request.auth_not_before, None);
}

#[test]
fn untrusted_clients_and_redirects_get_a_page_not_a_redirect() {
    assert!(matches!(check(params(), None, 0), Err(Rejection::Page(_))));
    let p = AuthorizeParams {
        redirect_uri: Some("https://evil.example.com/cb".into()),
        ..params()
    };
    assert!(matches!(
        check(p, Some(&client()), 0),
        Err(Rejection::Page(_))
    ));
    let p = AuthorizeParams {
        client_id: None,
        ..params()
    };
    assert!(matches!(
        check(p, Some(&client()), 0),
        Err(Rejection::Page(_))
    ));
}

#[test]
fn other_errors_go_back_to_the_client() {
    let c = client();
    let with = |f: fn(&mut AuthorizeParams)| {
        let mut p = params();
        f(&mut p);
        error_code(check(p, Some(&c), 0))
    };
    assert_eq!(
        with(|p| p.response_type = Some("token".into())),
        ErrorCode::UnsupportedResponseType
    );
    assert_eq!(with(|p| p.code_challenge = None), ErrorCode::InvalidRequest);
    assert_eq!(
        with(|p| p.code_challenge_method = Some("plain".into())),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        with(|p| p.code_challenge_method = None),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        with(|p| p.code_challenge = Some("too-short".into())),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        with(|p| p.scope = scope(&[Scope::ADMIN])),
        ErrorCode::InvalidScope
    );
    assert_eq!(with(|p| p.scope = None), ErrorCode::InvalidScope);
    assert_eq!(
        with(|p| p.prompt = Some("none login".into())),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        with(|p| p.prompt = Some("sometimes".into())),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        with(|p| p.max_age = Some("-1".into())),
        ErrorCode::InvalidRequest
    );
}

#[test]
fn prompt_login_and_max_age_require_a_recent_sign_in() {
    let p = AuthorizeParams {
        prompt: Some("login".into()),
        ..params()
    };
    assert_eq!(
        check(p, Some(&client()), 5000).unwrap().auth_not_before,
        Some(5000)
    );
    let p = AuthorizeParams {
        max_age: Some("300".into()),
        ..params()
    };
    assert_eq!(
        check(p, Some(&client()), 5000).unwrap().auth_not_before,
        Some(4700)
    );
    let p = AuthorizeParams {
        prompt: Some("none".into()),
        ..params()
    };
    assert!(check(p, Some(&client()), 0).unwrap().prompt_none);
}

#[test]
fn a_single_registered_redirect_uri_may_be_left_out_of_oauth_requests_only() {
    let p = AuthorizeParams {
        redirect_uri: None,
        scope: scope(&[Scope::PROFILE]),
        ..params()
    };
    assert_eq!(
        check(p, Some(&client()), 0).unwrap().redirect_uri,
        "https://app.example.com/cb"
    );
    // OIDC Core §3.1.2.1: required with `openid`; an error page, not a redirect.
    let p = AuthorizeParams {
        redirect_uri: None,
        ..params()
    };
    assert!(matches!(
        check(p, Some(&client()), 0),
        Err(Rejection::Page(_))
    ));
}

#[test]
fn select_account_is_refused_and_only_supported_prompts_are_accepted() {
    let with_prompt = |prompt: &str| {
        let p = AuthorizeParams {
            prompt: Some(prompt.into()),
            ..params()
        };
        check(p, Some(&client()), 0)
    };
    assert_eq!(
        error_code(with_prompt("select_account")),
        ErrorCode::AccountSelectionRequired
    );
    assert_eq!(
        error_code(with_prompt("login select_account")),
        ErrorCode::AccountSelectionRequired
    );
    for prompt in Prompt::SUPPORTED {
        assert!(with_prompt(prompt.as_str()).is_ok(), "{prompt:?}");
    }
}

#[test]
fn acr_values_ask_for_the_lowest_level_known_among_them() {
    let mfa = Level::TwoFactor.acr();
    let passkey = Level::PhishingResistant.acr();
    let password = Level::Password.acr();
    assert_eq!(requested_level(passkey), Some(Level::PhishingResistant));
    // In order of preference, any of them satisfies: the lowest is what must be reached.
    assert_eq!(
        requested_level(&format!("{passkey} {mfa}")),
        Some(Level::TwoFactor)
    );
    assert_eq!(
        requested_level(&format!("{mfa}  {passkey} {password}")),
        Some(Level::Password)
    );
    // Other providers' values are ignored, and a list of only those asks for nothing.
    assert_eq!(
        requested_level(&format!("urn:mace:incommon:iap:silver {passkey}")),
        Some(Level::PhishingResistant)
    );
    assert_eq!(requested_level("urn:mace:incommon:iap:silver 1 2"), None);
    assert_eq!(requested_level(""), None);
    // The short names are settings, not acr values.
    assert_eq!(requested_level("two-factor"), None);
    assert_eq!(requested_level("URN:PORTCULLIS:ACR:MFA"), None);
}

#[test]
fn the_request_keeps_the_highest_of_acr_values_the_client_and_the_floor() {
    let with = |acr_values: Option<&str>, client_min: Level| {
        let p = AuthorizeParams {
            acr_values: acr_values.map(Into::into),
            ..params()
        };
        let c = Client {
            min_level: client_min,
            ..client()
        };
        check(p, Some(&c), 0).unwrap().min_level
    };
    let mfa = Some(Level::TwoFactor.acr());
    assert_eq!(with(None, Level::Password), Level::Password);
    assert_eq!(with(Some("unknown"), Level::Password), Level::Password);
    assert_eq!(with(mfa, Level::Password), Level::TwoFactor);
    // A client's minimum is not lowered by what the application asks for.
    let password = Some(Level::Password.acr());
    assert_eq!(with(password, Level::TwoFactor), Level::TwoFactor);
    assert_eq!(
        with(mfa, Level::PhishingResistant),
        Level::PhishingResistant
    );
    let request = check(params(), Some(&client()), 0).unwrap();
    assert_eq!(
        request.clone().at_least(Level::PhishingResistant).min_level,
        Level::PhishingResistant
    );
    let two = AuthorizationRequest {
        min_level: Level::TwoFactor,
        ..request
    };
    assert_eq!(two.at_least(Level::Password).min_level, Level::TwoFactor);
}

#[test]
fn a_request_kept_before_levels_existed_asks_for_none() {
    let request = check(params(), Some(&client()), 0).unwrap();
    let mut kept = serde_json::to_value(&request).unwrap();
    kept.as_object_mut().unwrap().remove("min_level");
    let back: AuthorizationRequest = serde_json::from_value(kept).unwrap();
    assert_eq!(back.min_level, Level::Password);
}
