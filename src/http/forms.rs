//! Form bodies shared by several pages. Every field defaults to empty, so a missing field is a
//! clear message from the handler rather than a rejection page from the extractor. The CSRF
//! token is no field of theirs: [`Csrf`](crate::http::extract::Csrf) checks it.

use serde::Deserialize;

/// A one-time code (TOTP or recovery code).
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

/// The current password and a current second factor, asked for again at the moment of a
/// sensitive change (ASVS 5.0 V7.5.1).
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub code: String,
}
