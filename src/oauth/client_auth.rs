//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients (which must then use PKCE). Secrets are
//! compared as SHA-256 in constant time.

use std::sync::Arc;

use base64::Engine as _;

use super::error::{ErrorCode, OAuthError};
use crate::clients::store::Client;
use crate::crypto::matches_sha256;
use crate::secret::Secret;

/// How a client authenticates (RFC 6749 §2.3.1, OIDC Core §9). Discovery advertises
/// [`AuthMethod::ALL`] for the token and revocation endpoints and [`AuthMethod::WITH_SECRET`] for
/// introspection, which public clients may not call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthMethod {
    /// The id and secret in an HTTP Basic `Authorization` header.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// `client_id` alone: a public client.
    #[default]
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];
    pub const WITH_SECRET: [AuthMethod; 2] =
        [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

/// The credentials a request carries, and the method they came by.
#[derive(Debug, Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub secret: Option<Secret<String>>,
    pub method: AuthMethod,
}

fn invalid_request(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, description)
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// RFC 6749 §2.3.1: the id and secret in the Basic header are form-urlencoded first.
fn form_decode(raw: &str) -> Option<String> {
    let plus_as_space = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Reads the credentials from the `Authorization` header and the form. Using two methods at
/// once is an error (RFC 6749 §2.3).
#[tracing::instrument(level = "debug", skip_all, fields(basic = authorization.is_some()))]
pub fn presented(
    authorization: Option<&str>,
    form_client_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Presented, OAuthError> {
    // Split at a character boundary: `value[..6]` panicked on a multi-byte character there, as
    // the fuzz target found at once (fuzz/corpus/client_auth/crash-multibyte-at-6). HTTP header
    // values reach this only as visible ASCII, but the parser must not depend on that.
    let basic = match authorization.and_then(|value| value.split_at_checked(6)) {
        Some((scheme, credentials))
            if scheme.eq_ignore_ascii_case("basic ") && !credentials.is_empty() =>
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid_client("the Basic credentials are not valid base64"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| invalid_client("the Basic credentials have no ':'"))?;
            let id = form_decode(id).ok_or_else(|| invalid_client("the client id is not valid"))?;
            let secret = form_decode(secret)
                .ok_or_else(|| invalid_client("the client secret is not valid"))?;
            Some((id, secret))
        }
        _ => None,
    };
    match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(invalid_request(
                    "use either HTTP Basic or client_secret in the body, not both",
                ));
            }
            if form_client_id.is_some_and(|f| f != id) {
                return Err(invalid_request(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            Ok(Presented {
                client_id: Some(id),
                secret: Some(Secret::new(secret)),
                method: AuthMethod::ClientSecretBasic,
            })
        }
        None => Ok(Presented {
            client_id: form_client_id.map(str::to_owned),
            secret: form_secret.map(|s| Secret::new(s.to_owned())),
            method: match form_secret {
                Some(_) => AuthMethod::ClientSecretPost,
                None => AuthMethod::None,
            },
        }),
    }
}

/// Checks the presented credentials against the client found for its id (None: unknown or
/// disabled). Every failure is `invalid_client` (401).
#[tracing::instrument(level = "debug", skip_all, fields(client_id = ?presented.client_id))]
pub fn authenticate(
    presented: &Presented,
    client: Option<Arc<Client>>,
) -> Result<Arc<Client>, OAuthError> {
    if presented.client_id.is_none() {
        return Err(invalid_client("client authentication is required"));
    }
    let client = client.ok_or_else(|| invalid_client("unknown or disabled client"))?;
    match (&client.secret_hash, &presented.secret) {
        (Some(hash), Some(secret)) if matches_sha256(secret.expose().as_bytes(), hash) => {
            Ok(client)
        }
        (Some(_), Some(_)) => Err(invalid_client("the client secret is not correct")),
        (Some(_), None) => Err(invalid_client(
            "this client must authenticate with its secret",
        )),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(invalid_client("a public client has no secret")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p_method(header: &str) -> AuthMethod {
        presented(Some(header), None, None).unwrap().method
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_exclusive() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20app:s%3Ac+r")
        );
        let p = presented(Some(&header), None, None).unwrap();
        assert_eq!(p.client_id.as_deref(), Some("my app"));
        assert_eq!(p.secret.unwrap().expose(), "s:c r");
        assert_eq!(
            presented(Some(&header), None, Some("x")).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            presented(Some(&header), Some("other"), None)
                .unwrap_err()
                .code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            presented(Some("Basic !!!"), None, None).unwrap_err().code,
            ErrorCode::InvalidClient
        );
        assert_eq!(p_method(&header), AuthMethod::ClientSecretBasic);
        let post = presented(None, Some("app"), Some("pw")).unwrap();
        assert_eq!(post.client_id.as_deref(), Some("app"));
        assert_eq!(post.method, AuthMethod::ClientSecretPost);
        let none = presented(None, Some("app"), None).unwrap();
        assert_eq!(none.method, AuthMethod::None);
        // A multi-byte character across the sixth byte is no Basic scheme, and no panic.
        assert!(presented(Some("Basic\u{e9}x"), None, None).is_ok());
    }

    proptest::proptest! {
        /// RFC 6749 §2.3.1: whatever id and secret a client form-encodes come back unchanged.
        #[test]
        fn basic_credentials_round_trip(id in "\\PC{1,40}", secret in "\\PC{0,40}") {
            let encode = |raw: &str| url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(&id), encode(&secret));
            let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
            let got = presented(Some(&header), None, None).unwrap();
            proptest::prop_assert_eq!(got.client_id, Some(id));
            let got_secret = got.secret.map(|s| s.expose().clone());
            proptest::prop_assert_eq!(got_secret, Some(secret));
        }
    }
}
