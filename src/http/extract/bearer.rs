//! The one parser of `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme name is
//! case-insensitive (RFC 9110 §11.1), so `bearer` and `BEARER` are the same scheme; the token is
//! what follows the spaces after it. What a token is worth is decided by the one access-token
//! check, [`crate::tokens::access::accept`].

use axum::http::{HeaderMap, header};

/// The token of an `Authorization: Bearer` header, or `None` when the request carries none (no
/// header, another scheme, or no token after the scheme).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    credentials_of(value, "bearer")
}

/// What follows `scheme` and at least one space in a credentials header value, if that is the
/// scheme (compared without regard to ASCII case) and something follows.
fn credentials_of<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (name, rest) = value.split_once(' ')?;
    if !name.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn token_of(value: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers).map(str::to_owned)
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_trimmed() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "Bearer   abc  "] {
            assert_eq!(token_of(value).as_deref(), Some("abc"), "{value}");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_no_bearer_token() {
        for value in [
            "Basic abc",
            "Bearerabc",
            "Bearer",
            "Bearer    ",
            "Bear abc",
            "",
        ] {
            assert_eq!(token_of(value), None, "{value}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
