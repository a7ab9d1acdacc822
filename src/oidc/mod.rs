//! OpenID Connect pieces that do not depend on HTTP: the discovery document and what an
//! `id_token_hint` at logout may vouch for.

pub mod discovery;
pub mod logout;
