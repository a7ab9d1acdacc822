//! What several fuzz targets share: a configuration as the server would load it, and a
//! registered client to check authorization requests against.

use std::sync::OnceLock;

use portcullis::clients::store::Client;
use portcullis::clients::{ClientId, ClientType, GrantType, RedirectUri};
use portcullis::config::Config;
use portcullis::keys::Alg;
use portcullis::oauth::scope::{Scope, Scopes};

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
        client_id: ClientId::generate(),
        name: "App".into(),
        client_type: if public {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        secret_hash: (!public).then(|| vec![0; 32]),
        redirect_uris: ["https://app.example.com/cb", "http://127.0.0.1/cb"]
            .into_iter()
            .map(|uri| RedirectUri::parse(uri).expect("a valid redirect URI"))
            .collect(),
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: Scopes::from(vec![Scope::OPENID, Scope::PROFILE, Scope::EMAIL]),
        audiences: vec![],
        resource_uri: None,
        web_origins: vec![],
        require_consent: true,
        id_token_alg: Alg::RS256,
        access_token_ttl_secs: None,
        refresh_token_ttl_secs: None,
        enabled: true,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        roles: vec![],
    }
}
