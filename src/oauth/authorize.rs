//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636) parsed and checked
//! against the client, without HTTP. The result is either an [`AuthorizationRequest`] to keep in
//! the session while the person signs in and consents, or a [`Rejection`]: an error page when the
//! client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1: never redirect then), otherwise
//! an error sent back to the client.

use serde::{Deserialize, Serialize};

use super::error::{ErrorCode, OAuthError};
use super::response_mode::ResponseMode;
use super::scope::{self, Scope, Scopes};
use super::{pkce, redirect};
use crate::acr::Level;
use crate::clients::GrantType;
use crate::clients::store::Client;
use crate::limits;

/// The query parameters, as received. Unknown parameters are ignored (RFC 6749 §3.1).
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
}

/// A checked request, kept server-side in the session until a code is issued.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// `prompt=none`: never show a page; fail with `login_required` / `consent_required`.
    pub prompt_none: bool,
    /// `prompt=consent`: ask even if consent was given before.
    pub prompt_consent: bool,
    /// Sign-in must be at least this recent (unix seconds), from `prompt=login` or `max_age`.
    pub auth_not_before: Option<i64>,
    pub login_hint: Option<String>,
    pub require_consent: bool,
    /// The least the person must have signed in with: what `acr_values` asked for, the client's
    /// minimum and the policy's floor, whichever is highest. (A request kept by a release before
    /// this field asked for nothing.)
    #[serde(default)]
    pub min_level: Level,
}

impl AuthorizationRequest {
    /// This request, asking for at least `floor` (the passkey policy's, for every application).
    pub fn at_least(self, floor: Level) -> Self {
        Self {
            min_level: self.min_level.max(floor),
            ..self
        }
    }
}

/// The level an `acr_values` parameter asks for (OIDC Core §3.1.2.1): the values are in order of
/// preference and any of them satisfies the request, so the lowest one known here is what must be
/// reached. Values of other providers are ignored; `None` when no value is known (no
/// requirement: `acr` is a voluntary claim, OIDC Core §5.5.1.1).
pub fn requested_level(acr_values: &str) -> Option<Level> {
    acr_values
        .split_whitespace()
        .filter_map(Level::from_acr)
        .min()
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Shown to the person; no redirect (unknown client, unregistered redirect URI).
    Page(String),
    /// Sent to the client's redirect URI with `state` and `iss`.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// The response types served (RFC 6749 §3.1.1): the code flow only. Discovery advertises exactly
/// [`ResponseType::SUPPORTED`] (`response_types_supported`, RFC 8414 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
}

impl ResponseType {
    pub const SUPPORTED: [ResponseType; 1] = [ResponseType::Code];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
        }
    }

    pub fn parse(raw: &str) -> Option<ResponseType> {
        ResponseType::SUPPORTED
            .into_iter()
            .find(|t| t.as_str() == raw)
    }
}

/// The `prompt` values served (OIDC Core §3.1.2.1). Discovery advertises exactly
/// [`Prompt::SUPPORTED`] (`prompt_values_supported`, OIDC Discovery §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Show no page; fail with `login_required` / `consent_required` instead.
    None,
    /// Sign in again, whatever session there is.
    Login,
    /// Ask for consent even if it was given before.
    Consent,
}

impl Prompt {
    pub const SUPPORTED: [Prompt; 3] = [Prompt::None, Prompt::Login, Prompt::Consent];

    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
        }
    }

    /// One value of the space-separated `prompt` list, or the error to send back for it.
    pub(crate) fn parse(value: &str) -> Result<Prompt, OAuthError> {
        if let Some(prompt) = Prompt::SUPPORTED.into_iter().find(|p| p.as_str() == value) {
            return Ok(prompt);
        }
        Err(if value == "select_account" {
            // One account per browser session: there is nothing to choose between, and the
            // person cannot be asked (OIDC Core §3.1.2.6).
            OAuthError::new(
                ErrorCode::AccountSelectionRequired,
                "prompt=select_account is not supported: one account per browser session",
            )
        } else {
            let shown: String = value.chars().take(32).collect();
            OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("prompt value `{shown}` is not supported"),
            )
        })
    }
}

/// Checks `params` against `client` (None: no such enabled client) at time `now` (unix seconds).
pub fn check(
    params: AuthorizeParams,
    client: Option<&Client>,
    now: i64,
) -> Result<AuthorizationRequest, Rejection> {
    let client = match (params.client_id.as_deref(), client) {
        (None, _) => {
            return Err(Rejection::Page(
                "The request does not say which application it is for (client_id is missing)."
                    .into(),
            ));
        }
        (Some(_), None) => return Err(Rejection::Page(
            "The application that sent you here is not registered here, or it has been disabled."
                .into(),
        )),
        (Some(_), Some(client)) => client,
    };
    // RFC 6749 §3.1.2.3: without redirect_uri, only a single registered URI is unambiguous;
    // OpenID Connect requires it always (OIDC Core §3.1.2.1), so an `openid` request without one
    // is shown an error page, never redirected.
    let openid = params
        .scope
        .as_deref()
        .is_some_and(|s| s.split_whitespace().any(|s| Scope::OPENID == *s));
    let redirect_uri = match params.redirect_uri {
        Some(uri) if redirect::matches(&client.redirect_uris, &uri, client.is_public()) => uri,
        Some(_) => {
            return Err(Rejection::Page(
                "The application asked to send you back to an address it has not registered."
                    .into(),
            ));
        }
        None if client.redirect_uris.len() == 1 && !openid => {
            client.redirect_uris[0].as_str().to_owned()
        }
        None => {
            return Err(Rejection::Page(
                "The request does not say where to send you back to (redirect_uri is missing)."
                    .into(),
            ));
        }
    };
    let state = params.state.filter(|s| !s.is_empty());
    let fail = |code: ErrorCode, description: &str| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(code, description),
    };
    if state.as_ref().is_some_and(|s| s.len() > limits::STATE) {
        return Err(fail(ErrorCode::InvalidRequest, "state is too long"));
    }
    match params.response_type.as_deref().map(ResponseType::parse) {
        Some(Some(ResponseType::Code)) => {}
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is missing")),
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    // PKCE S256 for every client (RFC 9700 §2.1.1); a missing method means `plain` (RFC 7636 §4.3).
    let code_challenge = match (
        params.code_challenge,
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge is required (PKCE with S256)",
            ));
        }
        (Some(_), method) if method.and_then(pkce::ChallengeMethod::parse).is_none() => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            ));
        }
        (Some(challenge), _) if !pkce::is_s256_challenge(&challenge) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge is not an S256 challenge",
            ));
        }
        (Some(challenge), _) => challenge,
    };
    let requested = params.scope.unwrap_or_default();
    if requested.trim().is_empty() {
        return Err(fail(ErrorCode::InvalidScope, "scope is required"));
    }
    // Limited to what the client may ask for; scopes it may not are left out (RFC 6749 §3.3).
    let scopes = scope::grantable(&requested, &client.scopes);
    if scopes.is_empty() {
        return Err(fail(
            ErrorCode::InvalidScope,
            "none of the requested scopes is allowed for this client",
        ));
    }
    let prompts = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(Prompt::parse)
        .collect::<Result<Vec<Prompt>, OAuthError>>()
        .map_err(|error| Rejection::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
        })?;
    let prompt_none = prompts.contains(&Prompt::None);
    if prompt_none && prompts.len() > 1 {
        // OIDC Core §3.1.2.1: `none` with any other value is an error.
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<u32>().map_err(|_| {
            fail(
                ErrorCode::InvalidRequest,
                "max_age must be a whole number of seconds",
            )
        })?),
    };
    let auth_not_before = match (prompts.contains(&Prompt::Login), max_age) {
        (true, _) => Some(now),
        (false, Some(age)) => Some(now - i64::from(age)),
        (false, None) => None,
    };
    if params
        .nonce
        .as_ref()
        .is_some_and(|n| n.len() > limits::NONCE)
    {
        return Err(fail(ErrorCode::InvalidRequest, "nonce is too long"));
    }
    Ok(AuthorizationRequest {
        client_id: client.client_id.to_string(),
        client_name: client.name.clone(),
        redirect_uri,
        scopes,
        state,
        nonce: params.nonce.filter(|n| !n.is_empty()),
        code_challenge,
        prompt_none,
        prompt_consent: prompts.contains(&Prompt::Consent),
        auth_not_before,
        login_hint: params
            .login_hint
            .filter(|h| !h.is_empty() && h.len() <= limits::USERNAME),
        require_consent: client.require_consent,
        min_level: params
            .acr_values
            .as_deref()
            .and_then(requested_level)
            .unwrap_or_default()
            .max(client.min_level),
    })
}

/// Where an error goes back to the client: `redirect_uri` with `error`, `error_description` and
/// `state` (RFC 6749 §4.1.2.1), and `iss`, the `issuer` (RFC 9207 §2).
pub fn error_location(
    issuer: &str,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &OAuthError,
) -> String {
    let params = [
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    respond(issuer, redirect_uri, client_state, &params)
}

/// Where a code goes to the client: `redirect_uri` with `code` and `state` (RFC 6749 §4.1.2),
/// and `iss`, the `issuer` (RFC 9207 §2).
pub fn code_location(
    issuer: &str,
    redirect_uri: &str,
    client_state: Option<&str>,
    code: &str,
) -> String {
    respond(issuer, redirect_uri, client_state, &[("code", code)])
}

/// An authorization response: `params`, then `state` if the client sent one, then `iss`, in the
/// response mode served ([`ResponseMode::SERVED`]).
fn respond(
    issuer: &str,
    redirect_uri: &str,
    client_state: Option<&str>,
    params: &[(&str, &str)],
) -> String {
    let mut params = params.to_vec();
    if let Some(client_state) = client_state {
        params.push(("state", client_state));
    }
    params.push(("iss", issuer));
    ResponseMode::SERVED.location(redirect_uri, &params)
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
