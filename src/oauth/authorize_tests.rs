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
