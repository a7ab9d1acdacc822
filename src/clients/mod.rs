//! OAuth clients (relying parties and services). A [`ClientSpec`] is what an operator asks for;
//! [`ClientSpec::validate`] turns it into a [`ValidClient`] or says exactly what is wrong.
//! Secrets are generated here (256 bits), shown once and stored as SHA-256.

pub mod cache;
pub mod origin;
pub mod store;

use std::fmt;

use serde::Serialize;

/// Public clients (browser apps, native apps, CLIs) cannot keep a secret; confidential ones can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Public,
    Confidential,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Public => "public",
            ClientType::Confidential => "confidential",
        }
    }
}

/// The grant types Portcullis knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    DeviceCode,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == raw)
            .ok_or_else(|| {
                let known: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
                format!(
                    "`{raw}` is not a grant type; use one of: {}",
                    known.join(", ")
                )
            })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A redirect URI that may be registered: absolute; https, or http on a loopback host (RFC 8252
/// §7.3, for native apps); no fragment (RFC 6749 §3.1.2); no wildcard, because redirect URIs are
/// matched by exact string comparison (RFC 9700 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > crate::limits::URI {
            return Err(format!(
                "a redirect URI may be at most {} bytes long",
                crate::limits::URI
            ));
        }
        let url = url::Url::parse(raw).map_err(|_| format!("`{raw}` is not an absolute URI"))?;
        if raw.contains('*') {
            return Err(format!(
                "`{raw}` contains a wildcard; register each exact URI instead"
            ));
        }
        if url.fragment().is_some() || raw.contains('#') {
            return Err(format!("`{raw}` has a fragment; redirect URIs must not"));
        }
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        match url.scheme() {
            "https" if url.host_str().is_some() => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                    "`{raw}` uses http; only https is allowed, or http on a loopback host"
                ));
            }
            _ => {
                return Err(format!(
                    "`{raw}` must use https (or http on a loopback host)"
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("`{raw}` must not contain user info"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A scope token (RFC 6749 §3.3: printable ASCII except space, `"` and `\`).
pub fn check_scope(raw: &str) -> Result<(), String> {
    let ok = !raw.is_empty()
        && raw.len() <= crate::limits::SCOPE_TOKEN
        && raw
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("`{raw}` is not a valid scope"))
    }
}

/// The scopes a client may ask for when none are given.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// What an operator asks for, unvalidated (from the CLI, the admin UI or the admin API).
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    /// Resource servers the client may name as the audience of its tokens (RFC 8707).
    pub audiences: Vec<String>,
    /// The resource (an RFC 8707 absolute URI) this client *is*: as that resource server it may
    /// introspect tokens whose audience names it. At most one client per resource.
    pub resource_uri: Option<String>,
    /// `RS256` or `ES256`; empty means RS256, which every OIDC client supports.
    pub id_token_alg: String,
    /// Lifetimes in seconds overriding the configured defaults.
    pub access_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
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

/// RFC 8707 §2: a resource is an absolute URI without a fragment.
fn resource_uri(raw: &str) -> Result<String, String> {
    match url::Url::parse(raw) {
        Ok(_) if raw.len() <= 2000 && !raw.contains('#') => Ok(raw.to_owned()),
        _ => Err(format!(
            "resource URI `{raw}` must be an absolute URI without a fragment"
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
    pub scopes: Vec<String>,
    pub require_consent: bool,
    pub audiences: Vec<String>,
    pub resource_uri: Option<String>,
    /// The origins of the redirect URIs ([`origin`]), for CORS.
    pub web_origins: Vec<String>,
    pub id_token_alg: &'static str,
    pub access_token_ttl_secs: Option<i32>,
    pub refresh_token_ttl_secs: Option<i32>,
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
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
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
        let mut scopes = if self.scopes.is_empty() {
            DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect()
        } else {
            self.scopes
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        for scope in &scopes {
            check_scope(scope)?;
        }
        scopes.dedup();
        let mut audiences = Vec::new();
        for audience in &self.audiences {
            // RFC 8707 §2: an absolute URI (a logical name of the resource server).
            url::Url::parse(audience)
                .map_err(|_| format!("audience `{audience}` is not an absolute URI"))?;
            if !audiences.contains(audience) {
                audiences.push(audience.clone());
            }
        }
        let resource_uri = match self.resource_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => Some(resource_uri(uri)?),
        };
        let id_token_alg = match self.id_token_alg.trim() {
            "" | "RS256" => "RS256",
            "ES256" => "ES256",
            other => {
                return Err(format!(
                    "`{other}` is not an ID token algorithm; use RS256 or ES256"
                ));
            }
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
        })
    }
}

#[cfg(test)]
mod tests;
