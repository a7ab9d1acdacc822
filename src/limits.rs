//! The longest value Portcullis accepts for each thing that comes from outside: one table, so the
//! edge check ([`crate::http`]'s bounded-input layer) and the domain types agree. Every query
//! parameter, form field and JSON string is checked against [`max_len`] by its name before a
//! handler runs, so nothing over-long is looked up, cached, logged, audited or stored; a name not
//! in the table gets [`DEFAULT`]. Lengths are in bytes of the decoded value.
//!
//! Where a standard sets a bound, the constant says so; elsewhere the bound is generous for any
//! honest value and small enough that a flood of maximal values costs little.

/// The whole body of any request (forms, token requests, admin API JSON): 64 KiB. More is 413.
pub const BODY: usize = 64 * 1024;
/// A parameter or field name.
pub const FIELD_NAME: usize = 64;
/// A path segment (client ids, role names, user ids in admin paths), as sent (percent-encoded).
pub const PATH_SEGMENT: usize = 512;
/// The `Authorization` header: a bearer token or Basic credentials.
pub const AUTHORIZATION_HEADER: usize = TOKEN + 16;
/// Any field not named below.
pub const DEFAULT: usize = 1024;

/// `client_id` (ours are UUIDs, 36 characters; room for ids imported from elsewhere).
pub const CLIENT_ID: usize = 128;
/// `client_secret` (the server generates 43 characters).
pub const CLIENT_SECRET: usize = 256;
/// What a person types to sign in: a username (at most 64) or an email address.
pub const USERNAME: usize = EMAIL;
/// An email address (RFC 5321 §4.5.3.1: a path is at most 256 octets, so an address 254).
pub const EMAIL: usize = 254;
/// A display name, client name or description: 200 characters of up to 4 bytes.
pub const NAME: usize = 800;
/// Role and group names, session handles, short protocol words (`grant_type`, `prompt`, ...).
pub const WORD: usize = 128;
/// A password, before argon2 sees it (NIST SP 800-63B §5.1.1.2 asks for at least 64 characters).
pub const PASSWORD: usize = 1024;
/// Authorization codes, device codes, TOTP and recovery codes (ours are at most 43 characters).
pub const CODE: usize = 128;
/// A user code as a person types it (`BCDF-GHJK`, perhaps with spaces).
pub const USER_CODE: usize = 32;
/// Access tokens (JWTs), refresh tokens, ID token hints, request objects.
pub const TOKEN: usize = 8192;
/// A `scope` parameter: space-separated scopes of at most [`SCOPE_TOKEN`] bytes each.
pub const SCOPE: usize = 2048;
/// One scope, as a client may register it.
pub const SCOPE_TOKEN: usize = 128;
/// `state` (RFC 6749 §4.1.1: opaque; echoed to the client, so kept small).
pub const STATE: usize = 2048;
/// `nonce` (OIDC Core §3.1.2.1).
pub const NONCE: usize = 1024;
/// A redirect URI or return path.
pub const URI: usize = 2048;
/// PKCE `code_verifier` (RFC 7636 §4.1: 43 to 128 characters).
pub const CODE_VERIFIER: usize = 128;
/// The shortest PKCE `code_verifier` (RFC 7636 §4.1).
pub const CODE_VERIFIER_MIN: usize = 43;
/// PKCE `code_challenge` (S256: 43 characters; RFC 7636 §4.2).
pub const CODE_CHALLENGE: usize = 128;
/// Lists in one field: the admin forms' text areas (one redirect URI, scope or audience a line)
/// and the JSON arrays of the admin API (each element).
pub const LIST: usize = 16 * 1024;
/// A passkey's answer to a ceremony (WebAuthn §5.1: `PublicKeyCredential` as JSON, binary
/// members in base64url); attestation is not asked for, so it stays far below this.
pub const CREDENTIAL: usize = 16 * 1024;
/// Numbers, flags, dates and durations as text.
pub const SHORT: usize = 64;
/// A search box or an audit-log filter.
pub const QUERY: usize = 256;
/// The `target` of an audit event; longer ones are cut (the audit writer never stores more).
pub const AUDIT_TARGET: usize = 256;

/// The longest value accepted for the parameter or field `name`.
pub fn max_len(name: &str) -> usize {
    match name {
        "client_id" => CLIENT_ID,
        "client_secret" => CLIENT_SECRET,
        "username" | "login_hint" => USERNAME,
        "email" => EMAIL,
        "name" | "description" | "client_name" => NAME,
        "password" | "current" | "new" | "confirm" => PASSWORD,
        "code" | "device_code" => CODE,
        "user_code" => USER_CODE,
        "token" | "refresh_token" | "access_token" | "id_token_hint" | "assertion" | "request"
        | "claims" => TOKEN,
        // A relying party may list the values of many providers (OIDC Core §3.1.2.1).
        "scope" | "acr_values" => SCOPE,
        "credential" => CREDENTIAL,
        "state" => STATE,
        "nonce" => NONCE,
        "redirect_uri" | "post_logout_redirect_uri" | "return_to" | "request_uri" => URI,
        "code_verifier" => CODE_VERIFIER,
        "code_challenge" => CODE_CHALLENGE,
        "redirect_uris"
        | "post_logout_redirect_uris"
        | "scopes"
        | "audiences"
        | "grant_types"
        | "names"
        | "roles"
        | "groups" => LIST,
        "csrf"
        | "grant_type"
        | "response_type"
        | "code_challenge_method"
        | "token_type_hint"
        | "prompt"
        | "decision"
        | "client_type"
        | "id_token_alg"
        | "alg"
        | "response_mode"
        | "display"
        | "ui_locales"
        | "role"
        | "group"
        | "session"
        | "purpose"
        | "kid" => WORD,
        "q" | "actor" | "event" => QUERY,
        "max_age" | "page" | "per_page" | "since" | "until" | "approved" | "is_admin"
        | "skip_consent" | "public" | "enabled" | "value" | "access_token_ttl"
        | "refresh_token_ttl" => SHORT,
        _ => DEFAULT,
    }
}

/// Why a value from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooLong {
    /// A field's value is longer than its maximum.
    Field { name: String, max: usize },
    /// A field's name is longer than [`FIELD_NAME`].
    FieldName,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooLong::Field { name, max } => write!(f, "`{name}` is longer than {max} bytes"),
            TooLong::FieldName => write!(f, "a parameter name is longer than {FIELD_NAME} bytes"),
        }
    }
}

/// Checks one field: its name, then its value against [`max_len`].
pub fn check(name: &str, value: &str) -> Result<(), TooLong> {
    if name.len() > FIELD_NAME {
        return Err(TooLong::FieldName);
    }
    let max = max_len(name);
    if value.len() > max {
        return Err(TooLong::Field {
            name: name.to_owned(),
            max,
        });
    }
    Ok(())
}

/// Checks every pair of an `application/x-www-form-urlencoded` body or query string.
pub fn check_form(encoded: &[u8]) -> Result<(), TooLong> {
    url::form_urlencoded::parse(encoded).try_for_each(|(name, value)| check(&name, &value))
}

/// Checks every string in a JSON document, each against the name of the member that holds it
/// (array elements against the array's name), and every member name.
pub fn check_json(value: &serde_json::Value) -> Result<(), TooLong> {
    fn walk(name: &str, value: &serde_json::Value) -> Result<(), TooLong> {
        match value {
            serde_json::Value::String(s) => check(name, s),
            serde_json::Value::Array(items) => items.iter().try_for_each(|item| walk(name, item)),
            serde_json::Value::Object(members) => members.iter().try_for_each(|(key, member)| {
                if key.len() > FIELD_NAME {
                    return Err(TooLong::FieldName);
                }
                walk(key, member)
            }),
            _ => Ok(()),
        }
    }
    walk("", value)
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_maximum_and_over_long_values_are_named() {
        assert_eq!(max_len("client_id"), 128);
        assert_eq!(max_len("something_new"), DEFAULT);
        assert!(check("client_id", &"a".repeat(128)).is_ok());
        let refused = check("client_id", &"a".repeat(129));
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("`client_id` is longer than 128 bytes".to_owned())
        );
        assert_eq!(check(&"n".repeat(65), ""), Err(TooLong::FieldName));
    }

    #[test]
    fn forms_and_json_are_checked_field_by_field() {
        let long = "x".repeat(3000);
        assert!(check_form(b"client_id=abc&state=xyz").is_ok());
        let form = format!("client_id=abc&state={long}");
        assert!(
            matches!(check_form(form.as_bytes()), Err(TooLong::Field { name, .. }) if name == "state")
        );
        // Percent-encoding does not hide length: the decoded value counts.
        let encoded = format!("nonce={}", "%41".repeat(1025));
        assert!(check_form(encoded.as_bytes()).is_err());
        let longer = "x".repeat(LIST + 1);
        let json = serde_json::json!({ "username": "alice", "names": ["admin", longer] });
        assert!(matches!(check_json(&json), Err(TooLong::Field { name, .. }) if name == "names"));
        assert!(check_json(&serde_json::json!({ "enabled": true, "names": ["a"] })).is_ok());
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
