//! The words of each mail: a subject, a greeting, a few short paragraphs and at most one link,
//! rendered as plain text and as HTML (askama, `templates/mail/letter.{txt,html}`). Every mail
//! names the site (the issuer's host), so a person can tell which account it is about, and
//! says what to do if the change was not theirs. Links are absolute URLs under the configured
//! issuer ([`crate::urls`]), never the request's `Host`.

use askama::Template;

use super::letter::{Letter, Notice};
use super::links::Purpose;

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who a mail is written to, as the account says now.
#[derive(Debug, Clone)]
pub struct Addressee {
    /// The display name, or else the username.
    pub name: String,
}

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct Text<'a> {
    words: &'a Words,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct Html<'a> {
    words: &'a Words,
}

/// What one mail says, before it is rendered.
struct Words {
    site: String,
    greeting: String,
    paragraphs: Vec<String>,
    /// The button's label and the URL.
    link: Option<(String, String)>,
    /// After the link: how long it works, what to do if unexpected.
    after: Vec<String>,
}

const NOT_YOU: &str = "If this was not you, change your password and check your account's \
     second factors and passkeys, or ask your administrator for help.";

/// How long a link of `purpose` works, in words: "30 minutes", "24 hours", "7 days".
pub fn hours(purpose: Purpose) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match purpose.lifetime().as_secs() / 60 {
        m if m < 60 => plural(m, "minute"),
        m if m <= 48 * 60 => plural(m / 60, "hour"),
        m => plural(m / (24 * 60), "day"),
    }
}

/// The mail for `letter` to `to`, on `site`, with the link's URL when the letter has one.
pub fn compose(letter: &Letter, to: &Addressee, site: &str, link: Option<&str>) -> Composed {
    let link = |label: &str| link.map(|url| (label.to_owned(), url.to_owned()));
    let (subject, paragraphs, link, after): (String, Vec<String>, _, Vec<String>) = match letter {
        Letter::VerifyAddress { .. } => (
            format!("Confirm your email address for {site}"),
            vec![format!(
                "Please confirm that this is the email address of your account at {site}."
            )],
            link("Confirm my address"),
            vec![
                format!("The link works once, for {}.", hours(Purpose::Verify)),
                "If you did not ask for this, you can ignore this mail.".into(),
            ],
        ),
        Letter::ResetPassword { .. } => (
            format!("Reset your password for {site}"),
            vec![format!(
                "Someone asked to reset the password of your account at {site}. \
                 To choose a new password, open this link:"
            )],
            link("Choose a new password"),
            vec![
                format!(
                    "The link works once, for {}. Your second factor is still asked when you \
                     sign in.",
                    hours(Purpose::Reset)
                ),
                "If you did not ask for this, ignore this mail: your password stays as it is."
                    .into(),
            ],
        ),
        Letter::Invitation { .. } => (
            format!("You are invited to {site}"),
            vec![format!(
                "An administrator of {site} made an account for you. To start using it, \
                 choose how you will sign in:"
            )],
            link("Set up my account"),
            vec![format!(
                "The link works once, for {}.",
                hours(Purpose::Invite)
            )],
        ),
        Letter::AddressChanged { new_address, .. } => (
            format!("The email address of your account at {site} was changed"),
            vec![format!(
                "The email address of your account at {site} was changed to {new_address}. \
                 Mail about the account goes there from now on."
            )],
            None,
            vec![NOT_YOU.into()],
        ),
        Letter::Notice { notice, .. } => {
            let (subject, what) = notice_words(*notice);
            (
                format!("{subject} ({site})"),
                vec![format!("{what} on your account at {site}.")],
                None,
                vec![NOT_YOU.into()],
            )
        }
    };
    let words = Words {
        site: site.to_owned(),
        greeting: format!("Hello {},", to.name),
        paragraphs,
        link,
        after,
    };
    Composed {
        subject,
        // Rendering a template of plain fields cannot fail; an empty body would still be sent
        // with its subject rather than lost.
        text: Text { words: &words }.render().unwrap_or_default(),
        html: Html { words: &words }.render().unwrap_or_default(),
    }
}

fn notice_words(notice: Notice) -> (&'static str, &'static str) {
    match notice {
        Notice::PasswordChanged => ("Your password was changed", "The password was changed"),
        Notice::PasswordRemoved => (
            "Your password was removed",
            "The password was removed: the account now signs in with passkeys only",
        ),
        Notice::SecondFactorAdded => (
            "A second factor was added",
            "An authenticator app was set up as the second factor",
        ),
        Notice::SecondFactorRemoved => (
            "A second factor was removed",
            "The authenticator app and recovery codes were removed",
        ),
        Notice::PasskeyAdded => ("A passkey was added", "A new passkey was added"),
        Notice::PasskeyRemoved => ("A passkey was removed", "A passkey was removed"),
        Notice::AccountDisabled => (
            "Your account was disabled",
            "An administrator disabled sign-in",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html_and_links_are_kept() {
        let to = Addressee {
            name: "<b>Eve</b>".into(),
        };
        let letter = Letter::ResetPassword {
            user: uuid::Uuid::nil(),
        };
        let mail = compose(
            &letter,
            &to,
            "id.example.com",
            Some("https://id.example.com/x?a=1&b=2"),
        );
        assert_eq!(mail.subject, "Reset your password for id.example.com");
        assert!(mail.text.contains("Hello <b>Eve</b>,"));
        assert!(mail.text.contains("https://id.example.com/x?a=1&b=2"));
        assert!(mail.text.contains("30 minutes"));
        assert!(!mail.html.contains("<b>Eve"));
        assert!(mail.html.contains("&#60;b&#62;Eve"), "{}", mail.html);
        assert!(
            mail.html
                .contains("href=\"https://id.example.com/x?a=1&#38;b=2\""),
            "{}",
            mail.html
        );
    }

    #[test]
    fn lifetimes_read_well() {
        assert_eq!(hours(Purpose::Verify), "24 hours");
        assert_eq!(hours(Purpose::Reset), "30 minutes");
        assert_eq!(hours(Purpose::Invite), "7 days");
    }
}
