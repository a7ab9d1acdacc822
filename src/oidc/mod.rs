//! OpenID Connect pieces that do not depend on HTTP: the discovery document.

pub mod discovery;
