//! What an `id_token_hint` at RP-initiated logout may vouch for (OpenID Connect RP-Initiated
//! Logout 1.0). A hint is one of our ID tokens, expired or not (§2 allows an expired one): signed
//! by one of our published keys, with our issuer and the JOSE `typ` of an ID token, so an access
//! token (`typ: at+jwt`, RFC 9068 §2.1) is never one. Even then it only says which client asks;
//! the session ends without asking the person only when the hint was issued to this very session
//! (same `sub`, and same `sid` when the token has one): §4 has the OP ask the End-User otherwise,
//! so that no one can sign another person out with a token of their own.

use serde_json::Value;

use crate::keys::KeyRing;
use crate::tokens::claims;

/// A verified ID token presented as `id_token_hint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    /// The client it was issued to (its `aud`).
    pub client_id: String,
    pub subject: String,
    pub sid: Option<String>,
}

/// The JOSE header type of our ID tokens (`tokens::mint_id_token`).
const ID_TOKEN_TYP: &str = "JWT";

impl IdTokenHint {
    /// `token` as a hint, if it is one of our ID tokens (expiry is not checked).
    pub fn verify(keys: &KeyRing, issuer: &str, token: &str) -> Option<IdTokenHint> {
        let (payload, header) = keys.verify(token).ok()?;
        if header.token_type() != Some(ID_TOKEN_TYP) || payload.issuer() != Some(issuer) {
            return None;
        }
        let client_id = match payload.claim(claims::AUD)? {
            Value::String(s) => s.clone(),
            Value::Array(a) => a.first().and_then(Value::as_str)?.to_owned(),
            _ => return None,
        };
        Some(IdTokenHint {
            client_id,
            subject: payload.subject()?.to_owned(),
            sid: payload
                .claim(claims::SID)
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Whether the hint was issued to the session of `user_id` with OIDC session id `sid`.
    pub fn names_session(&self, user_id: &str, sid: &str) -> bool {
        self.subject == user_id && self.sid.as_deref().is_none_or(|s| s == sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sessions_own_subject_and_sid_match() {
        let hint = IdTokenHint {
            client_id: "app".into(),
            subject: "u1".into(),
            sid: Some("s1".into()),
        };
        assert!(hint.names_session("u1", "s1"));
        assert!(!hint.names_session("u2", "s1"), "another person's token");
        assert!(
            !hint.names_session("u1", "s2"),
            "an earlier session's token"
        );
        let without_sid = IdTokenHint { sid: None, ..hint };
        assert!(without_sid.names_session("u1", "s2"));
    }
}
