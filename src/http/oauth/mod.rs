//! OAuth endpoints: the authorization endpoint (browser) and the token endpoint (clients).

pub mod authorize;
pub mod device;
pub mod introspect;
pub mod token;
