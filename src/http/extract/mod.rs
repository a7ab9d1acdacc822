//! The extractors every area shares, so that each rule is written once: who is signed in
//! ([`SignedInPerson`]), a form whose CSRF token is checked before the handler sees it
//! ([`Csrf`]), the Bearer token of a request ([`bearer_token`], RFC 6750 §2.1) and the client a
//! token-endpoint request authenticates as ([`AuthenticatedClient`], RFC 6749 §2.3). Handlers
//! name what they need in their arguments; none reads a credential by hand.

mod bearer;
mod client;
mod csrf;
mod person;

pub use bearer::bearer_token;
pub use client::{AuthenticatedClient, ConfidentialClient};
pub use csrf::{Csrf, NoFields};
pub use person::SignedInPerson;
