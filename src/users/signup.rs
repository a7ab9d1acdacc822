//! Self-registration, off by default (`PORTCULLIS_SIGNUP`): in [`Mode::Open`] anyone may make an
//! account on the sign-up page; in [`Mode::Invite`] the page stays closed and every signed-in
//! person may invite others by address (a few a day). [`Domains`] (`PORTCULLIS_SIGNUP_DOMAINS`)
//! narrows both to addresses of the listed domains.
//!
//! An account made on the sign-up page waits for its address (`awaiting_verification`): it cannot
//! sign in until the person uses the link mailed to it, so nobody gets an account on an address
//! that is not theirs. [`sign_up`] never says whether a username or an address is taken: the page
//! answers "check your mail" either way, and a taken one gets nothing (ASVS 5.0 V6.3.8: valid
//! users cannot be deduced from registration).

use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

use super::{DisplayName, Email, Username};
use crate::audit::{Actor, AuditEvent, By};
use crate::error::Result;
use crate::ratelimit::Limit;

/// Who may make accounts besides administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only administrators create or invite accounts.
    Off,
    /// The sign-up page is closed; every signed-in person may invite others by address.
    Invite,
    /// Anyone may sign up at `/signup`.
    Open,
}

impl Mode {
    /// `off`, `invite` or `open`.
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        match raw.trim() {
            "off" => Ok(Mode::Off),
            "invite" => Ok(Mode::Invite),
            "open" => Ok(Mode::Open),
            other => Err(format!("`{other}` is not allowed; use off, invite or open")),
        }
    }
}

/// The email domains sign-up and member invitations accept: exact, without regard to case
/// (`example.com` does not admit `mail.example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains(Vec<String>);

impl Domains {
    /// `example.com, example.org`: domains separated by commas (or spaces).
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        let domains = raw
            .split([',', ' '])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                let domain = part.to_ascii_lowercase();
                let labels_ok = domain.split('.').all(|label| {
                    (1..=63).contains(&label.len())
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                });
                // RFC 1035 §2.3.4: at most 253 characters as written, labels of at most 63.
                if domain.len() <= 253 && domain.contains('.') && labels_ok {
                    Ok(domain)
                } else {
                    Err(format!(
                        "`{part}` is not a domain; write domains like example.com, example.org"
                    ))
                }
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if domains.is_empty() {
            return Err("lists no domain; write domains like example.com, example.org".into());
        }
        Ok(Self(domains))
    }

    /// Whether the address's domain is one of these.
    pub fn allow(&self, email: &Email) -> bool {
        let domain = email.as_str().rsplit_once('@').map_or("", |(_, d)| d);
        self.0.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// `example.com or example.org`, for a page that says which are accepted.
    pub fn listed(&self) -> String {
        match self.0.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            [] => String::new(),
        }
    }
}

/// The refusal for an address outside `domains`, if it is.
pub fn outside(domains: Option<&Domains>, email: &Email) -> Option<String> {
    let domains = domains?;
    (!domains.allow(email))
        .then(|| format!("Only addresses at {} can be used here.", domains.listed()))
}

/// Sign-ups per client address: a person needs one, a household or office a few.
pub const PER_ADDRESS: Limit = Limit {
    name: "signup-ip",
    max: 5,
    window: Duration::from_secs(3600),
};

/// Invitations a member may send a day (in [`Mode::Invite`]).
pub const INVITATIONS_PER_PERSON: Limit = Limit {
    name: "invite-person",
    max: 5,
    window: Duration::from_secs(86_400),
};

/// Verification links sent again from the sign-in page, per account.
pub const RESENDS_PER_ACCOUNT: Limit = Limit {
    name: "verify-resend",
    max: 3,
    window: Duration::from_secs(3600),
};

/// What the sign-up page gives, parsed and checked.
pub struct NewSignUp<'a> {
    pub username: &'a Username,
    pub email: &'a Email,
    pub name: Option<&'a DisplayName>,
    pub password_hash: &'a str,
}

/// What [`sign_up`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedUp {
    /// The account exists, waiting for its address; the link is queued.
    Created(Uuid),
    /// The username or the address belongs to an account already: nothing was made or sent.
    Taken,
}

/// Makes an account that waits for its address, in one transaction with `user.signed_up` and
/// the verification mail. A username or address already taken (by any account, checked without
/// regard to case, and by the unique indexes when two sign-ups race) makes nothing and sends
/// nothing, unless what holds it is an earlier sign-up that has lapsed (see `lapse`).
pub async fn sign_up(
    pool: &PgPool,
    new: NewSignUp<'_>,
    from: Option<std::net::IpAddr>,
) -> Result<SignedUp> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    lapse(&mut tx, new.username, new.email).await?;
    let inserted = sqlx::query(
        "insert into users (id, username, email, name, password_hash, awaiting_verification) \
         values ($1, $2, $3, $4, $5, true) on conflict do nothing",
    )
    .bind(id)
    .bind(new.username.as_str())
    .bind(new.email.as_str())
    .bind(new.name.map(DisplayName::as_str))
    .bind(new.password_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(SignedUp::Taken);
    }
    let event = AuditEvent::UserSignedUp {
        user: id,
        username: new.username.as_str(),
    };
    By::new(Actor::User(id), from)
        .record(&mut tx, event)
        .await?;
    super::email::queue_verification(&mut tx, id, new.email).await?;
    tx.commit().await?;
    Ok(SignedUp::Created(id))
}

/// Removes the sign-ups holding `username` or `email` whose address was never confirmed while
/// the link worked (older than its lifetime, and no longer asked for again): nobody can sign in
/// with them any more, and otherwise anyone could keep a name or someone else's address from its
/// owner for good. Audited as `user.signup_lapsed`.
async fn lapse(conn: &mut sqlx::PgConnection, username: &Username, email: &Email) -> Result<()> {
    let lifetime = crate::mail::links::Purpose::Verify.lifetime().as_secs_f64();
    let lapsed: Vec<(Uuid, String)> = sqlx::query_as(
        "delete from users u where u.awaiting_verification \
         and (lower(u.username) = lower($1) or lower(u.email) = lower($2)) \
         and u.created_at < now() - make_interval(secs => $3) \
         and not exists (select 1 from mail_links l where l.user_id = u.id and l.expires_at > now()) \
         and not exists (select 1 from outbox o where o.sent_at is null and o.failed_at is null \
                         and o.payload ->> 'user' = u.id::text) \
         returning u.id, u.username",
    )
    .bind(username.as_str())
    .bind(email.as_str())
    .bind(lifetime)
    .fetch_all(&mut *conn)
    .await?;
    for (user, username) in &lapsed {
        let event = AuditEvent::SignUpLapsed {
            user: *user,
            username,
        };
        By::new(Actor::System, None)
            .record(&mut *conn, event)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_three_words() {
        assert_eq!(Mode::parse("off"), Ok(Mode::Off));
        assert_eq!(Mode::parse("invite"), Ok(Mode::Invite));
        assert_eq!(Mode::parse(" open "), Ok(Mode::Open));
        assert!(Mode::parse("Open").is_err());
        assert!(Mode::parse("yes").is_err());
    }

    #[test]
    fn domains_match_exactly_without_regard_to_case() {
        let domains = Domains::parse("Example.com, example.org").unwrap();
        let email = |e: &str| Email::parse(e).unwrap();
        assert!(domains.allow(&email("ada@EXAMPLE.COM")));
        assert!(domains.allow(&email("ada@example.org")));
        assert!(!domains.allow(&email("ada@mail.example.com")));
        assert!(!domains.allow(&email("ada@example.com.evil.test")));
        assert_eq!(domains.listed(), "example.com or example.org");
        for bad in [
            "",
            " , ",
            "localhost",
            "a@b.c",
            "-x.com",
            "exa mple.com;x",
            "ex_ample.com",
        ] {
            assert!(Domains::parse(bad).is_err(), "{bad}");
        }
    }
}
