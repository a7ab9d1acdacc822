//! Mail: what Portcullis writes to people ([`letter`]), the words of each mail ([`compose`]),
//! the single-use links some carry ([`links`]) and how mail leaves ([`transport`]). Nothing here
//! sends from a request: a change writes a [`Letter`] to the outbox in its own transaction
//! ([`crate::outbox`]), and the outbox worker composes and sends it.

pub mod compose;
pub mod letter;
pub mod links;
pub mod transport;

pub use letter::{Letter, Notice};
pub use transport::Mailer;
