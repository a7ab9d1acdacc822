//! The provider metadata of OpenID Connect Discovery 1.0 §3 and RFC 8414 §2, built once at start
//! from the issuer. It advertises only what this server implements; each endpoint is added here
//! when its route is added to the router, from the same path constants.

use serde::Serialize;

use crate::oauth::authorize::Prompt;
use crate::urls::Href;

/// Paths of the endpoints, shared by the router and the metadata so they cannot drift apart.
pub mod paths {
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const END_SESSION: &str = "/logout";
    pub const INTROSPECT: &str = "/introspect";
    pub const DEVICE_AUTHORIZATION: &str = "/device_authorization";
    pub const REVOKE: &str = "/revoke";
}

/// The absolute URL of an endpoint: always under the configured issuer, never the request's host.
fn endpoint(issuer: &str, path: &'static str) -> String {
    Href::route(path).absolute(issuer)
}

/// The metadata document. `None` members are left out.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub device_authorization_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Required by both specifications; `code` is the only response type Portcullis will serve.
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// PKCE: only S256; `plain` is refused (RFC 9700 §2.1.1).
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207: `iss` is returned in authorization responses.
    pub authorization_response_iss_parameter_supported: bool,
}

impl Metadata {
    pub fn new(issuer: &str) -> Self {
        Metadata {
            issuer: issuer.to_owned(),
            jwks_uri: endpoint(issuer, paths::JWKS),
            authorization_endpoint: endpoint(issuer, paths::AUTHORIZE),
            token_endpoint: endpoint(issuer, paths::TOKEN),
            userinfo_endpoint: endpoint(issuer, paths::USERINFO),
            end_session_endpoint: endpoint(issuer, paths::END_SESSION),
            device_authorization_endpoint: endpoint(issuer, paths::DEVICE_AUTHORIZATION),
            introspection_endpoint: endpoint(issuer, paths::INTROSPECT),
            revocation_endpoint: endpoint(issuer, paths::REVOKE),
            introspection_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
            ],
            // Public clients revoke their own tokens with `client_id` alone (RFC 7009 §2.1).
            revocation_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            token_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: vec![
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: vec!["RS256", "ES256"],
            scopes_supported: vec![
                "openid",
                "profile",
                "email",
                "offline_access",
                "roles",
                "groups",
            ],
            prompt_values_supported: Prompt::SUPPORTED.iter().map(|p| p.as_str()).collect(),
            claims_supported: vec![
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "amr",
                "sid",
                "name",
                "preferred_username",
                "email",
                "email_verified",
                "roles",
                "groups",
            ],
            code_challenge_methods_supported: vec!["S256"],
            authorization_response_iss_parameter_supported: true,
        }
    }
}
