//! Unit tests of client registration rules.

use super::*;

fn spec() -> ClientSpec {
    ClientSpec {
        name: "App".into(),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        ..Default::default()
    }
}

#[test]
fn redirect_uris_follow_the_rules() {
    for good in [
        "https://app.example.com/cb",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://[::1]:9/x",
        "https://a.example/cb?x=1",
    ] {
        assert!(RedirectUri::parse(good).is_ok(), "{good}");
    }
    for (bad, why) in [
        ("/relative", "absolute"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://*.example.com/cb", "wildcard"),
        ("http://app.example.com/cb", "http"),
        ("ftp://app.example.com/cb", "https"),
        ("javascript:alert(1)", "https"),
        ("https://user:pw@app.example.com/cb", "user info"),
    ] {
        let err = RedirectUri::parse(bad).expect_err(bad);
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn defaults_are_a_code_flow_client_with_consent() {
    let client = spec().validate().unwrap();
    assert_eq!(client.client_type, ClientType::Confidential);
    assert_eq!(
        client.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );
    assert_eq!(client.scopes, DEFAULT_SCOPES);
    assert!(client.require_consent);
}

#[test]
fn rules_between_fields() {
    let no_uri = ClientSpec {
        redirect_uris: vec![],
        ..spec()
    };
    assert!(no_uri.validate().unwrap_err().contains("redirect URI"));
    let service = ClientSpec {
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".into()],
        ..spec()
    };
    assert!(service.validate().is_ok());
    let public_service = ClientSpec {
        public: true,
        grant_types: vec!["client_credentials".into()],
        ..spec()
    };
    assert!(
        public_service
            .validate()
            .unwrap_err()
            .contains("public client")
    );
    let unknown = ClientSpec {
        grant_types: vec!["password".into()],
        ..spec()
    };
    assert!(unknown.validate().unwrap_err().contains("not a grant type"));
    let blank = ClientSpec {
        name: "  ".into(),
        ..spec()
    };
    assert!(blank.validate().is_err());
    let bad_scope = ClientSpec {
        scopes: vec!["a\"b".into()],
        ..spec()
    };
    assert!(bad_scope.validate().is_err());
}
