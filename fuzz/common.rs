//! What several fuzz targets share: a configuration as the server would load it, and a
//! registered client to check authorization requests against.

use std::sync::OnceLock;

use portcullis::clients::store::Client;
use portcullis::clients::{ClientType, RedirectUri};
use portcullis::config::Config;
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

/// The library's sample client (public or confidential) with a second, loopback redirect URI and
/// the scopes `openid profile email`, as registered by an administrator.
pub fn client(public: bool) -> Client {
    let kind = if public {
        ClientType::Public
    } else {
        ClientType::Confidential
    };
    let mut client = Client::sample(kind);
    let loopback = RedirectUri::parse("http://127.0.0.1/cb").expect("a valid redirect URI");
    client.redirect_uris.push(loopback);
    client.scopes = Scopes::from(vec![Scope::OPENID, Scope::PROFILE, Scope::EMAIL]);
    client
}
