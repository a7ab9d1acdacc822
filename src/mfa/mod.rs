//! Second factors. For now TOTP (RFC 6238): SHA-1, 6 digits, 30 s steps, one step of skew, the
//! secret sealed at rest under the key-encryption key.

pub mod recovery;
pub mod totp;
