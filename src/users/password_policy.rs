//! The one rule for new passwords, applied wherever a password is set: the account page, the
//! admin pages and API (create and reset), and `portcullis user create`. A password must be 8 to
//! 1024 bytes long (NIST SP 800-63B §5.1.1.2), must not be or contain the account's username or
//! email address (ASVS 5.0 V6.2.11), and must not be easy to guess: zxcvbn estimates the guesses
//! against its lists of the most common passwords, names and words, keyboard patterns, dates,
//! repeats and the account's own names (ASVS 5.0 V6.2.4), and a password needs a score of at least
//! [`MIN_SCORE`]. No composition rules (ASVS 5.0 V6.2.5). Each refusal says why, in words that
//! read the same on a page, on the command line and in an API error.

use crate::secret::Secret;

/// zxcvbn's scale: 3 is "safely unguessable", the score from which zxcvbn stops giving advice.
pub const MIN_SCORE: u8 = 3;
/// Bytes; any more is refused before zxcvbn (which reads only the first 100 characters anyway).
pub const MAX_BYTES: usize = crate::limits::PASSWORD;
/// A username or email part shorter than this may appear inside a password by chance.
const MIN_CONTAINED: usize = 4;

/// Whose password it is: what it must not contain.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
}

/// Checks a new password for `owner`; `Err` says why it is refused. Takes up to a few tens of
/// milliseconds of CPU for long inputs: call [`check_new_password`] from async code.
pub fn check(password: &str, owner: Owner<'_>) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("the password must be at least 8 characters long".into());
    }
    if password.len() > MAX_BYTES {
        return Err(format!(
            "the password must be at most {MAX_BYTES} bytes long"
        ));
    }
    let lower = password.to_lowercase();
    let appears = |name: &str, min: usize| {
        let name = name.trim().to_lowercase();
        !name.is_empty()
            && (lower.trim() == name || (name.chars().count() >= min && lower.contains(&name)))
    };
    if appears(owner.username, MIN_CONTAINED) {
        return Err("the password must not contain the username".into());
    }
    if let Some(email) = owner.email.filter(|e| !e.trim().is_empty()) {
        let local = email.split('@').next().unwrap_or_default();
        if appears(email, 1) || appears(local, MIN_CONTAINED) {
            return Err("the password must not contain the email address".into());
        }
    }
    let inputs: Vec<&str> = [Some(owner.username), owner.email]
        .into_iter()
        .flatten()
        .collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) < MIN_SCORE {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" {w}"))
            .unwrap_or_default();
        return Err(format!(
            "the password is too easy to guess.{why} Choose a longer one, such as a few unrelated words, or let a password manager make one"
        ));
    }
    Ok(())
}

/// [`check`] on the blocking pool, so a long password does not hold up an async worker.
pub async fn check_new_password(
    password: &Secret<String>,
    username: &str,
    email: Option<&str>,
) -> Result<(), String> {
    let (password, username) = (password.clone(), username.to_owned());
    let email = email.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        check(
            password.expose(),
            Owner {
                username: &username,
                email: email.as_deref(),
            },
        )
    })
    .await
    .unwrap_or_else(|_| Err("the password could not be checked; try again".into()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALICE: Owner<'static> = Owner {
        username: "alice",
        email: Some("wonderland.ltd@example.com"),
    };

    fn refused(password: &str) -> String {
        check(password, ALICE).expect_err(password)
    }

    #[test]
    fn length() {
        assert!(refused("Xq7#").contains("at least 8"));
        assert!(refused(&"x".repeat(1025)).contains("at most 1024"));
    }

    #[test]
    fn the_most_common_passwords_are_refused_with_the_reason() {
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "P@ssw0rd!",
            "iloveyou2024",
        ] {
            let why = refused(common);
            assert!(why.contains("too easy to guess"), "{common}: {why}");
        }
        assert!(refused("password").contains("common password"));
    }

    #[test]
    fn the_owners_names_are_refused() {
        assert!(refused("alice").contains("at least 8"));
        assert!(refused("ALICE-in-the-woods-42").contains("username"));
        assert!(refused("wonderland.ltd@example.com").contains("email"));
        assert!(refused("my Wonderland.Ltd rules 77").contains("email"));
        // A short name inside a password is a coincidence; the name itself is not.
        let bo = Owner {
            username: "bo",
            email: None,
        };
        assert!(check("bo", bo).is_err());
        assert!(check("border collie wanders far", bo).is_ok());
    }

    #[test]
    fn strong_passwords_pass() {
        for strong in [
            "correct horse battery staple",
            "long enough pw",
            "Tr0ub4dor&3x",
        ] {
            assert_eq!(check(strong, ALICE), Ok(()), "{strong}");
        }
        let demo = Owner {
            username: crate::demo::DEMO_USERNAME,
            email: None,
        };
        assert_eq!(check(crate::demo::DEMO_PASSWORD, demo), Ok(()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn never_panics_and_never_passes_the_username(password in "\\PC{0,40}", name in "[a-z0-9._-]{1,20}") {
            let owner = Owner { username: &name, email: None };
            let _ = check(&password, owner);
            prop_assert!(check(&name, owner).is_err());
            prop_assert!(check(&name.to_uppercase(), owner).is_err());
        }
    }
}
