//! What every page behind a link from a mail shares: the token from the query or the form, bounded
//! and checked for its shape at the edge (a link token is 43 base64url characters; anything else
//! is refused before a lookup), and the page shown when a link cannot be used, expired or not
//! (any more) valid, with the way to get a new one. Opening a link's page never uses the link:
//! mail scanners open links before people do; only the form's POST does.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::mail::links::{Purpose, Taken, Used};
use crate::secret::Secret;
use crate::urls::{self, Href};

/// The longest token accepted (a real one is 43 characters).
pub const TOKEN_MAX: usize = 128;

/// `?token=` or a form's `token` field.
#[derive(Debug, Default, Deserialize)]
pub struct LinkToken {
    #[serde(default)]
    pub token: String,
}

impl LinkToken {
    /// The token, if it can be one: 1 to [`TOKEN_MAX`] base64url characters.
    pub fn get(&self) -> Option<&str> {
        let token = self.token.trim();
        let shaped = !token.is_empty()
            && token.len() <= TOKEN_MAX
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then_some(token)
    }
}

/// Why a link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Expired,
    /// Used already, replaced by a newer link, or never issued.
    Invalid,
}

/// A looked-up link as the page sees it: usable (whose it is), or why not.
pub fn usable(taken: Taken) -> Result<Used, Unusable> {
    match taken {
        Taken::Valid(used) => Ok(used),
        Taken::Expired => Err(Unusable::Expired),
        Taken::Unknown => Err(Unusable::Invalid),
    }
}

/// The form a link leads to when it sets a password (a reset, an invitation): the link's token
/// and the new password twice.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

impl NewPasswordForm {
    pub fn link(&self) -> LinkToken {
        LinkToken {
            token: self.token.clone(),
        }
    }

    /// The new password, or what is wrong with the two fields.
    pub fn password(self) -> Result<Secret<String>, &'static str> {
        if self.new.is_empty() {
            return Err("Enter a new password.");
        }
        if self.new != self.confirm {
            return Err("The new passwords do not match.");
        }
        Ok(Secret::new(self.new))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "link_problem.html")]
struct ProblemPage {
    title: &'static str,
    message: &'static str,
    next_label: &'static str,
    next: Href,
}

/// The page for a link of `purpose` that cannot be used: 410 when it expired, 404 otherwise.
pub fn unusable(purpose: Purpose, why: Unusable) -> Response {
    let (title, message, next_label, next) = match (purpose, why) {
        (Purpose::Reset, Unusable::Expired) => (
            "This link has expired",
            "Links to reset a password work for 30 minutes. Ask for a new one.",
            "Ask for a new link",
            urls::mail::forgot_password(),
        ),
        (Purpose::Reset, Unusable::Invalid) => (
            "This link cannot be used",
            "It was used already, or a newer link replaced it. Only the latest link works, once.",
            "Ask for a new link",
            urls::mail::forgot_password(),
        ),
        (Purpose::Verify, Unusable::Expired) => (
            "This link has expired",
            "Links to confirm an address work for 24 hours. Your account page sends a new one.",
            "Go to your account",
            urls::account::overview(),
        ),
        (Purpose::Verify, Unusable::Invalid) => (
            "This link cannot be used",
            "It was used already, a newer link replaced it, or the account's address changed since it was sent.",
            "Go to your account",
            urls::account::overview(),
        ),
        (Purpose::Invite, Unusable::Expired) => (
            "This invitation has expired",
            "Invitations work for 7 days. Ask the person who invited you to send a new one.",
            "Go to sign-in",
            urls::login::password(),
        ),
        (Purpose::Invite, Unusable::Invalid) => (
            "This invitation cannot be used",
            "It was used already or replaced. If you set up your account already, sign in.",
            "Go to sign-in",
            urls::login::password(),
        ),
    };
    let status = match why {
        Unusable::Expired => StatusCode::GONE,
        Unusable::Invalid => StatusCode::NOT_FOUND,
    };
    let page = ProblemPage {
        title,
        message,
        next_label,
        next,
    };
    (status, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_shaped_before_anything_looks_them_up() {
        let t = |s: &str| LinkToken { token: s.into() };
        assert_eq!(t("abc-_09XYZ").get(), Some("abc-_09XYZ"));
        for bad in ["", "a b", "a/b", "a%2F", "é", &"a".repeat(TOKEN_MAX + 1)] {
            assert_eq!(t(bad).get(), None, "{bad}");
        }
    }
}
