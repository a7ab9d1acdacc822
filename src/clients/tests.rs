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
    assert_eq!(client.scopes, Scopes::from(Scope::CLIENT_DEFAULT.to_vec()));
    assert_eq!(client.id_token_alg, Alg::RS256);
    assert!(client.require_consent);
    assert_eq!(client.min_level, Level::Password);
}

#[test]
fn the_minimum_level_is_a_name_or_an_acr_value() {
    let level = |raw: &str| {
        ClientSpec {
            min_level: Some(raw.into()),
            ..spec()
        }
        .validate()
        .map(|c| c.min_level)
    };
    assert_eq!(level(""), Ok(Level::Password));
    assert_eq!(level(" phishing-resistant "), Ok(Level::PhishingResistant));
    assert_eq!(level("urn:portcullis:acr:mfa"), Ok(Level::TwoFactor));
    let refused = level("strong").unwrap_err();
    assert!(
        refused.contains("password, two-factor, phishing-resistant"),
        "{refused}"
    );
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

#[test]
fn the_spec_reads_the_admin_api_json_and_the_cli_flags_alike() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        spec: ClientSpec,
    }
    let json: ClientSpec = serde_json::from_value(serde_json::json!({
        "name": "App",
        "redirect_uris": ["https://app.example.com/cb"],
        "grant_types": ["authorization_code"],
        "id_token_alg": "ES256",
        "access_token_ttl_secs": 60,
        "min_level": "two-factor",
    }))
    .unwrap();
    let cli = Cli::try_parse_from([
        "x",
        "--name",
        "App",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--grant-type",
        "authorization_code",
        "--id-token-alg",
        "ES256",
        "--access-token-ttl",
        "60",
        "--min-level",
        "two-factor",
    ])
    .unwrap()
    .spec;
    for spec in [json, cli] {
        let client = spec.validate().unwrap();
        assert_eq!(client.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(client.id_token_alg, Alg::ES256);
        assert_eq!(client.access_token_ttl_secs, Some(60));
        assert_eq!(client.min_level, Level::TwoFactor);
    }
    // The API refuses a field it does not know rather than ignoring a typo.
    let typo = serde_json::from_value::<ClientSpec>(serde_json::json!({"name": "A", "scope": []}));
    assert!(typo.is_err());
}
