//! The provider metadata of OpenID Connect Discovery 1.0 §3 and RFC 8414 §2, built once at start
//! from the issuer. It advertises only what this server implements; each endpoint is added here
//! when its route is added to the router, from the same path constants, and each list of values
//! is read from the enum or constants that the enforcing code parses with, so the two cannot
//! disagree.

use serde::Serialize;

use crate::acr::Level;
use crate::clients::GrantType;
use crate::keys::Alg;
use crate::oauth::authorize::{Prompt, ResponseType};
use crate::oauth::client_auth::AuthMethod;
use crate::oauth::pkce::ChallengeMethod;
use crate::oauth::response_mode::ResponseMode;
use crate::oauth::scope::Scope;
use crate::tokens::claims;
use crate::tokens::subject::SubjectType;
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

/// The names of `values`, in order.
fn names<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|v| name(*v)).collect()
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
    pub scopes_supported: Vec<String>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// Every rung of the authentication ladder, lowest first: what `acr_values` may ask for and
    /// what the `acr` claim carries (OIDC Discovery §3).
    pub acr_values_supported: Vec<&'static str>,
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
            // Introspection is for resource servers, which authenticate (RFC 7662 §2.1).
            introspection_endpoint_auth_methods_supported: names(
                &AuthMethod::WITH_SECRET,
                AuthMethod::as_str,
            ),
            // Public clients revoke their own tokens with `client_id` alone (RFC 7009 §2.1).
            revocation_endpoint_auth_methods_supported: names(&AuthMethod::ALL, AuthMethod::as_str),
            token_endpoint_auth_methods_supported: names(&AuthMethod::ALL, AuthMethod::as_str),
            response_types_supported: names(&ResponseType::SUPPORTED, ResponseType::as_str),
            response_modes_supported: names(&ResponseMode::SUPPORTED, ResponseMode::as_str),
            grant_types_supported: names(&GrantType::ALL, GrantType::as_str),
            subject_types_supported: names(&SubjectType::SUPPORTED, SubjectType::as_str),
            id_token_signing_alg_values_supported: names(&Alg::ALL, Alg::as_str),
            scopes_supported: Scope::SUPPORTED.iter().map(Scope::to_string).collect(),
            prompt_values_supported: names(&Prompt::SUPPORTED, Prompt::as_str),
            claims_supported: claims::SUPPORTED.to_vec(),
            acr_values_supported: names(&Level::ALL, Level::acr),
            code_challenge_methods_supported: names(
                &ChallengeMethod::SUPPORTED,
                ChallengeMethod::as_str,
            ),
            authorization_response_iss_parameter_supported: true,
        }
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
