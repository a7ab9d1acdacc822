//! Form bodies shared by several pages. Every field defaults to empty, so a missing field is a
//! clear message from the handler rather than a rejection page from the extractor.

use serde::Deserialize;

/// A form with only its CSRF token (a button).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// A one-time code (TOTP or recovery code).
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

/// The current password, to confirm a sensitive change.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub password: String,
}
