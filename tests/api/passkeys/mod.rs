//! Passkeys: in a real browser with a virtual authenticator ([`browser`]), and a ceremony that
//! crosses replicas ([`replicas`]).

pub mod browser;
mod replicas;
