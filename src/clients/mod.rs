//! OAuth clients (relying parties and services). A [`ClientSpec`] is what an operator asks for;
//! [`ClientSpec::validate`] turns it into a [`ValidClient`] or says exactly what is wrong.
//! Secrets are generated here (256 bits), shown once and stored as SHA-256.

pub mod cache;
mod model;
pub mod origin;
mod resource;
pub mod store;
mod types;

pub use resource::{Audience, ResourceUri};
pub use types::{ClientId, ClientType, GrantType, RedirectUri};

use crate::acr::Level;
use crate::keys::Alg;
use crate::oauth::scope::{Scope, Scopes};
use origin::WebOrigin;

// What an operator asks for, unvalidated: the one field list of the CLI's `client create`
// (clap), the admin API's request body (serde, with its OpenAPI schema `ClientInput`) and the
// admin form (which fills it from what was typed). The doc comments are both the CLI help and the
// schema's descriptions.
/// A client's settings, to create or replace it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
#[schema(as = ClientInput)]
pub struct ClientSpec {
    #[arg(long)]
    pub name: String,
    /// A public client has no secret (browser, native and command-line apps).
    #[arg(long)]
    #[serde(default)]
    pub public: bool,
    #[arg(long = "redirect-uri", value_name = "URI")]
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Default: `authorization_code` and `refresh_token`.
    #[arg(long = "grant-type", value_name = "GRANT")]
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Default: `openid profile email offline_access`.
    #[arg(long = "scope", value_name = "SCOPE")]
    #[serde(default)]
    pub scopes: Vec<String>,
    /// First-party: people are not asked for consent.
    #[arg(long)]
    #[serde(default)]
    pub skip_consent: bool,
    /// Resource servers the client may name as `resource`/`audience` (RFC 8707).
    #[arg(long = "audience", value_name = "URI")]
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The resource (RFC 8707 URI) this client is the resource server of: it may introspect
    /// tokens whose audience is that URI.
    #[arg(long = "resource-uri", value_name = "URI")]
    #[serde(default)]
    pub resource_uri: Option<String>,
    /// `RS256` (default) or `ES256`.
    #[arg(
        long = "id-token-alg",
        value_name = "ALG",
        default_value_t,
        hide_default_value = true
    )]
    #[serde(default)]
    pub id_token_alg: String,
    /// Access token lifetime in seconds, instead of the configured default.
    #[arg(long = "access-token-ttl", value_name = "SECONDS")]
    pub access_token_ttl_secs: Option<i64>,
    /// Refresh token lifetime in seconds, instead of the configured default.
    #[arg(long = "refresh-token-ttl", value_name = "SECONDS")]
    pub refresh_token_ttl_secs: Option<i64>,
    /// The least a person must sign in with to use this client: `password` (default),
    /// `two-factor` or `phishing-resistant` (a passkey), or its `acr` value.
    #[arg(long = "min-level", value_name = "LEVEL")]
    #[serde(default)]
    pub min_level: Option<String>,
}

/// Typed values as the strings they were parsed from (a `text[]` column, a form to edit).
pub fn strings<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(T::to_string).collect()
}

/// The longest lifetime a client may set: a day for access tokens, a year for refresh tokens.
pub const MAX_ACCESS_TTL_SECS: i64 = 24 * 3600;
const MAX_REFRESH_TTL_SECS: i64 = 366 * 24 * 3600;

fn check_ttl(what: &str, ttl: Option<i64>, max: i64) -> Result<Option<i32>, String> {
    match ttl {
        None => Ok(None),
        Some(secs) if (1..=max).contains(&secs) => Ok(i32::try_from(secs).ok()),
        Some(_) => Err(format!(
            "the {what} lifetime must be between 1 and {max} seconds"
        )),
    }
}

/// A client that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidClient {
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Scopes,
    pub require_consent: bool,
    pub audiences: Vec<Audience>,
    pub resource_uri: Option<ResourceUri>,
    /// The origins of the redirect URIs ([`origin`]), for CORS.
    pub web_origins: Vec<WebOrigin>,
    pub id_token_alg: Alg,
    pub access_token_ttl_secs: Option<i32>,
    pub refresh_token_ttl_secs: Option<i32>,
    /// The least a person must have signed in with ([`Level`]).
    pub min_level: Level,
}

/// A client's minimum level as typed: a level's name or its `acr` value; empty is the lowest.
fn parse_min_level(raw: Option<&str>) -> Result<Level, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(Level::default()),
        Some(raw) => Level::parse(raw)
            .or_else(|| Level::from_acr(raw))
            .ok_or_else(|| {
                let known: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
                format!("`{raw}` is not a sign-in level; use {}", known.join(", "))
            }),
    }
}

impl ClientSpec {
    pub fn validate(self) -> Result<ValidClient, String> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(
                "the client name must be 1 to 100 characters without control characters".into(),
            );
        }
        let client_type = if self.public {
            ClientType::Public
        } else {
            ClientType::Confidential
        };
        let parse_uris = |uris: &[String]| -> Result<Vec<RedirectUri>, String> {
            let mut out: Vec<RedirectUri> = uris
                .iter()
                .map(|u| RedirectUri::parse(u))
                .collect::<Result<_, _>>()?;
            out.dedup();
            Ok(out)
        };
        let redirect_uris = parse_uris(&self.redirect_uris)?;
        let post_logout_redirect_uris = parse_uris(&self.post_logout_redirect_uris)?;
        let mut grant_types = if self.grant_types.is_empty() {
            GrantType::DEFAULT.to_vec()
        } else {
            self.grant_types
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<Vec<_>, _>>()?
        };
        grant_types.sort();
        grant_types.dedup();
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return Err("the authorization_code grant needs at least one redirect URI".into());
        }
        // A public client cannot authenticate, so it cannot act on its own behalf (RFC 6749 §4.4).
        if client_type == ClientType::Public && grant_types.contains(&GrantType::ClientCredentials)
        {
            return Err("a public client cannot use the client_credentials grant".into());
        }
        let scopes = if self.scopes.is_empty() {
            Scopes::from(Scope::CLIENT_DEFAULT.to_vec())
        } else {
            let mut scopes = self
                .scopes
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(Scope::parse)
                .collect::<Result<Vec<_>, _>>()?;
            scopes.dedup();
            Scopes::from(scopes)
        };
        let mut audiences = Vec::new();
        for audience in &self.audiences {
            let audience = Audience::parse(audience)?;
            if !audiences.contains(&audience) {
                audiences.push(audience);
            }
        }
        let resource_uri = match self.resource_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => Some(ResourceUri::parse(uri)?),
        };
        let id_token_alg = match self.id_token_alg.trim() {
            // RS256 is the default: every OIDC client supports it (OIDC Core §15.1).
            "" => Alg::RS256,
            other => Alg::parse(other).ok_or_else(|| {
                let known: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "`{other}` is not an ID token algorithm; use {}",
                    known.join(" or ")
                )
            })?,
        };
        let access_token_ttl_secs = check_ttl(
            "access token",
            self.access_token_ttl_secs,
            MAX_ACCESS_TTL_SECS,
        )?;
        let refresh_token_ttl_secs = check_ttl(
            "refresh token",
            self.refresh_token_ttl_secs,
            MAX_REFRESH_TTL_SECS,
        )?;
        let min_level = parse_min_level(self.min_level.as_deref())?;
        Ok(ValidClient {
            name,
            client_type,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            require_consent: !self.skip_consent,
            audiences,
            resource_uri,
            web_origins: origin::of_redirect_uris(&redirect_uris),
            redirect_uris,
            id_token_alg,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            min_level,
        })
    }
}

#[cfg(test)]
mod tests;
