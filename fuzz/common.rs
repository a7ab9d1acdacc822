//! What several fuzz targets share: a configuration as the server would load it, and a
//! registered client to check authorization requests against.

use std::sync::OnceLock;

use portcullis::clients::ClientType;
use portcullis::clients::store::Client;
use portcullis::config::Config;

/// The base64 of 32 bytes: a key-encryption key, the one setting without a default.
pub const KEK: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The environment a target's configuration starts from.
pub fn env() -> Vec<(String, String)> {
    vec![("PORTCULLIS_KEY_ENCRYPTION_KEY".to_owned(), KEK.to_owned())]
}

/// The default configuration (loaded once).
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| match Config::from_sources(None, env(), false) {
        Ok(config) => config,
        Err(e) => panic!("the default configuration does not load: {e}"),
    })
}

/// A client (public or confidential) with two redirect URIs, as registered by an administrator.
pub fn client(public: bool) -> Client {
    Client {
        client_id: "app".into(),
        name: "App".into(),
        client_type: if public {
            ClientType::Public
        } else {
            ClientType::Confidential
        }
        .as_str()
        .into(),
        secret_hash: (!public).then(|| vec![0; 32]),
        redirect_uris: vec![
            "https://app.example.com/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        audiences: vec![],
        resource_uri: None,
        web_origins: vec![],
        require_consent: true,
        id_token_alg: "RS256".into(),
        access_token_ttl_secs: None,
        refresh_token_ttl_secs: None,
        enabled: true,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        roles: vec![],
    }
}
