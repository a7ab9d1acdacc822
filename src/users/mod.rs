//! People who sign in. Usernames and emails are parsed into newtypes before they reach the
//! database; uniqueness is case-insensitive (enforced by unique indexes whose violations become
//! clear messages). Passwords are argon2id hashes; TOTP secrets are sealed.

pub mod email;
pub mod invite;
pub mod password_policy;
pub mod reset;
pub mod sealing;
pub mod signup;
pub mod store;

use std::fmt;

/// A validated username: 1 to 64 letters, digits and `. _ @ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
        if !ok {
            return Err(format!(
                "`{raw}` is not a valid username: use 1 to 64 letters, digits and . _ @ -"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plausible email address (one `@`, something on each side, no spaces, at most 254 bytes).
/// Whether it is deliverable is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let ok = raw.len() <= crate::limits::EMAIL
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(raw.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') && domain.contains('.'));
        if !ok {
            return Err(format!("`{raw}` is not a valid email address"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().count() > 200 || raw.chars().any(char::is_control) {
            return Err("a name must be 1 to 200 characters without control characters".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" alice ").unwrap().as_str(), "alice");
        assert!(Username::parse("a.b_c@d-e").is_ok());
        for bad in ["", "has space", "colon:no", &"x".repeat(65), "ümlaut"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("alice@example.com").is_ok());
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "a@b@c.d",
            "a b@c.d",
            "alice@localhost",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
