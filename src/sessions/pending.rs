//! Requests a person is in the middle of: an authorization request waiting for sign-in or consent,
//! or a device waiting for approval. Each is kept in the browser session under a random
//! [`RequestId`] that its pages carry (`?request=` through sign-in, a hidden field in the consent
//! and device forms), so a decision always applies to the request whose page the person saw, and
//! several tabs can each finish their own request. A session holds at most [`MAX_PENDING`]; the
//! oldest is dropped when another starts.

use serde::{Deserialize, Serialize};

use super::{SessionError, TypedSession, key};
use crate::crypto::random_token;
use crate::oauth::authorize::AuthorizationRequest;

/// How many unfinished requests one session keeps.
pub const MAX_PENDING: usize = 5;
/// `random_token()`: 32 random bytes, unpadded base64url.
const ID_LEN: usize = 43;

/// The id of one pending request: 256 random bits, base64url (safe in a URL and a form as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestId(String);

impl RequestId {
    fn new() -> RequestId {
        RequestId(random_token().expose().clone())
    }

    /// An id as it comes back from a page; `None` unless it has the shape of one.
    pub fn parse(raw: &str) -> Option<RequestId> {
        let shaped = raw.len() == ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| RequestId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is pending.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Pending {
    /// An authorization request (RFC 6749 §4.1.1), checked, before its code is issued.
    Authorize(AuthorizationRequest),
    /// A device request (RFC 8628 §3.3) the person entered the user code of, by its store id.
    Device(String),
}

type Entries = Vec<(RequestId, Pending)>;

impl TypedSession {
    async fn pending_entries(&self) -> Result<Entries, SessionError> {
        Ok(self
            .0
            .get::<Entries>(key::PENDING)
            .await?
            .unwrap_or_default())
    }

    /// Keeps `pending` under a new id; the oldest request goes when there are too many.
    pub async fn begin(&self, pending: Pending) -> Result<RequestId, SessionError> {
        let mut entries = self.pending_entries().await?;
        let id = RequestId::new();
        entries.push((id.clone(), pending));
        let excess = entries.len().saturating_sub(MAX_PENDING);
        entries.drain(..excess);
        self.0.insert(key::PENDING, entries).await?;
        Ok(id)
    }

    /// The request with this id, if it is still pending here.
    pub async fn pending(&self, id: &RequestId) -> Result<Option<Pending>, SessionError> {
        Ok(self
            .pending_entries()
            .await?
            .into_iter()
            .find(|(i, _)| i == id)
            .map(|(_, p)| p))
    }

    /// Replaces the request with this id (if still pending).
    pub async fn update_pending(
        &self,
        id: &RequestId,
        pending: Pending,
    ) -> Result<(), SessionError> {
        let mut entries = self.pending_entries().await?;
        if let Some(entry) = entries.iter_mut().find(|(i, _)| i == id) {
            entry.1 = pending;
            self.0.insert(key::PENDING, entries).await?;
        }
        Ok(())
    }

    /// Removes and returns the request with this id: it is decided, or done.
    pub async fn finish(&self, id: &RequestId) -> Result<Option<Pending>, SessionError> {
        let mut entries = self.pending_entries().await?;
        let Some(at) = entries.iter().position(|(i, _)| i == id) else {
            return Ok(None);
        };
        let (_, pending) = entries.remove(at);
        self.0.insert(key::PENDING, entries).await?;
        Ok(Some(pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_parse_only_in_their_shape() {
        let a = RequestId::new();
        assert_ne!(a, RequestId::new());
        assert_eq!(RequestId::parse(a.as_str()), Some(a.clone()));
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse(&"a".repeat(44)).is_none());
        assert!(RequestId::parse(&format!("{}&", &a.as_str()[..42])).is_none());
    }
}
