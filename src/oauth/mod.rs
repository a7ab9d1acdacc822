//! OAuth 2.0 protocol logic without HTTP: the authorization request and the step-up it may need,
//! PKCE, redirect URIs, scopes, and the error codes every OAuth endpoint answers with.

pub mod authorize;
pub mod client_auth;
pub mod error;
pub mod grants;
pub mod introspection;
pub mod pkce;
pub mod redirect;
pub mod response_mode;
pub mod scope;
pub mod step_up;
