//! Passkeys: in a real browser with a virtual authenticator ([`browser`]), a ceremony that
//! crosses replicas ([`replicas`]), and an attacker's answers ([`abuse`]).

mod abuse;
pub mod browser;
mod replicas;
