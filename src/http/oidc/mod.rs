//! OpenID Connect endpoints: userinfo and RP-initiated logout.

pub mod logout;
pub mod userinfo;
