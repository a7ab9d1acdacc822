//! OAuth error codes (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8628 §3.5, OIDC Core
//! §3.1.2.6, OpenID Connect Core Unmet Authentication Requirements 1.0) with a description meant
//! for the client developer. `http::error` turns them into the JSON body and status code.

use std::fmt;

use crate::error::Source;

/// An error code from the OAuth specifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
    InvalidToken,
    InsufficientScope,
    UnsupportedTokenType,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    LoginRequired,
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=select_account` cannot be served.
    AccountSelectionRequired,
    /// OpenID Connect Core Unmet Authentication Requirements 1.0 §2: the person is not signed in
    /// well enough (`acr_values`, the client's minimum) and cannot be asked (`prompt=none`), or
    /// cannot get there here.
    UnmetAuthenticationRequirements,
    InvalidTarget,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            InvalidClient => "invalid_client",
            InvalidGrant => "invalid_grant",
            UnauthorizedClient => "unauthorized_client",
            UnsupportedGrantType => "unsupported_grant_type",
            InvalidScope => "invalid_scope",
            AccessDenied => "access_denied",
            UnsupportedResponseType => "unsupported_response_type",
            ServerError => "server_error",
            TemporarilyUnavailable => "temporarily_unavailable",
            InvalidToken => "invalid_token",
            InsufficientScope => "insufficient_scope",
            UnsupportedTokenType => "unsupported_token_type",
            AuthorizationPending => "authorization_pending",
            SlowDown => "slow_down",
            ExpiredToken => "expired_token",
            LoginRequired => "login_required",
            ConsentRequired => "consent_required",
            AccountSelectionRequired => "account_selection_required",
            UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            InvalidTarget => "invalid_target",
        }
    }

    /// The HTTP status: 401 for failed client authentication and bad bearer tokens (RFC 6749
    /// §5.2, RFC 6750 §3.1), 403 for insufficient scope, 500/503 for our own failures, 400 else.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error response.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// What failed on our side behind a `server_error` or `temporarily_unavailable`: logged
    /// with its whole chain by the HTTP layer, never sent to the client.
    pub source: Option<Source>,
}

/// The description a client sees for a failure of ours (the detail is logged instead).
pub(crate) const SERVER_ERROR: &str = "The server could not complete this request.";

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            source: None,
        }
    }

    /// An unexpected failure: `server_error` (500), with `cause` kept for the log.
    pub fn server_error(cause: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorCode::ServerError, SERVER_ERROR).caused_by(cause)
    }

    /// Keeps `cause` as the source of this error, for the log.
    pub fn caused_by(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.source = Some(crate::error::source(cause));
        self
    }
}

impl From<crate::error::Error> for OAuthError {
    fn from(e: crate::error::Error) -> Self {
        OAuthError::server_error(e)
    }
}

/// Errors are equal when the client would see the same answer; the source is only for the log.
impl PartialEq for OAuthError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.description == other.description
    }
}

impl Eq for OAuthError {}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
