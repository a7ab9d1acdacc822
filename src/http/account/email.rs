//! The account's email address on `/account`: what it is and whether it is confirmed, sending
//! the confirmation link again (at most [`RESEND_PER_ACCOUNT`] an hour, counted in Redis across
//! replicas, so a button held down cannot flood a mailbox; ASVS 5.0 V2.4.1), and changing or
//! removing it ([`crate::users::email::set`]: a link to the new address, word to the old one).
//! The address is how the account is recovered, so changing it is confirmed like a change to
//! how the account signs in: a person with a second factor must have entered it within
//! `PORTCULLIS_ADMIN_STEP_UP` (older, they are asked again and come back here; ASVS 5.0 V7.5.1),
//! a person without one types the current password (throttled like sign-in).

use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::passkeys::{has_second_factor, recent_second_factor, step_up};
use super::{notice, password};
use crate::audit::{Actor, By};
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, NoFields, SignedInPerson};
use crate::http::page::see_other;
use crate::ratelimit::{self, Limit};
use crate::sessions::{SignedIn, TypedSession};
use crate::state::AppState;
use crate::urls;
use crate::users::Email;
use crate::users::email::{self, Address};
use crate::users::store::Credentials;

/// Confirmation links sent again per account: a person needs one or two.
pub const RESEND_PER_ACCOUNT: Limit = Limit {
    name: "verify-resend",
    max: 3,
    window: Duration::from_secs(3600),
};

/// How a change of address must be confirmed, as the overview shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// No second factor: the form asks for the current password.
    Password,
    /// A second factor entered recently: the form needs nothing more.
    Recent,
    /// A second factor, entered too long ago: the page offers to enter it again first.
    StepUp,
}

/// The overview's address section.
pub struct Section {
    pub address: Option<Address>,
    pub proof: Proof,
}

async fn proof(
    state: &AppState,
    session: &TypedSession,
    signed_in: &SignedIn,
    user: &Credentials,
) -> Result<Proof, PageError> {
    if !has_second_factor(state, user).await? {
        Ok(Proof::Password)
    } else if recent_second_factor(state, session, signed_in).await? {
        Ok(Proof::Recent)
    } else {
        Ok(Proof::StepUp)
    }
}

/// What the overview shows of the address.
pub async fn section(
    state: &AppState,
    session: &TypedSession,
    signed_in: &SignedIn,
    user: &Credentials,
) -> Result<Section, PageError> {
    let mut conn = state.db.acquire().await?;
    Ok(Section {
        address: email::address(&mut conn, user.id).await?,
        proof: proof(state, session, signed_in, user).await?,
    })
}

/// A problem with the request, on the overview; nothing changed.
async fn problem(session: &TypedSession, message: &str) -> Result<Response, PageError> {
    session.set_flash(message).await?;
    Ok(see_other(&urls::account::overview()))
}

/// Sends the confirmation link again, within the limit; a notice either way.
pub async fn resend(
    State(state): State<AppState>,
    SignedInPerson { user, .. }: SignedInPerson,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    let subject = user.id.to_string();
    let limits = [(RESEND_PER_ACCOUNT, subject.as_str())];
    if let Some(wait) = ratelimit::take(&state.redis, &limits).await? {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "A link was sent several times already. Check your inbox and spam folder, or ask again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return notice(&session, &message).await;
    }
    if email::resend(&state.db, user.id).await? {
        notice(
            &session,
            "A new confirmation link is on its way. It replaces the links sent before.",
        )
        .await
    } else {
        notice(&session, "There is no address waiting to be confirmed.").await
    }
}

/// Asks for the second factor again, coming back to the overview.
pub async fn confirm(
    SignedInPerson { user, .. }: SignedInPerson,
    session: TypedSession,
    _: Csrf<Form<NoFields>>,
) -> Result<Response, PageError> {
    let why = "Confirm it is you before changing your email address.";
    step_up(&session, user.id, &urls::account::overview(), why).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    email: String,
    /// The current password, for an account without a second factor.
    #[serde(default)]
    current: String,
    /// `remove` to remove the address; anything else sets `email`.
    #[serde(default)]
    action: String,
}

/// Changes or removes the address, once the person proved it is them.
pub async fn change(
    State(state): State<AppState>,
    SignedInPerson { signed_in, user }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<ChangeForm>>,
) -> Result<Response, PageError> {
    let new = if form.action == "remove" {
        None
    } else {
        match Email::parse(&form.email) {
            Ok(email) => Some(email),
            Err(_) => {
                return problem(
                    &session,
                    "Nothing changed: enter an email address like name@example.com.",
                )
                .await;
            }
        }
    };
    match proof(&state, &session, &signed_in, &user).await? {
        Proof::Recent => {}
        Proof::StepUp => {
            let why = "Confirm it is you before changing your email address.";
            return step_up(&session, user.id, &urls::account::overview(), why).await;
        }
        Proof::Password => {
            if form.current.is_empty() {
                return problem(
                    &session,
                    "Enter your current password to change your address.",
                )
                .await;
            }
            if !password::current_password_ok(&state, &user, form.current, peer).await? {
                return problem(
                    &session,
                    "The password is not correct; nothing was changed.",
                )
                .await;
            }
        }
    }
    let by = By::new(Actor::User(user.id), Some(peer.ip()));
    match email::set(&state.db, user.id, new.as_ref(), &by).await {
        Ok(true) => match new {
            Some(new) => {
                let message = format!(
                    "Your address is now {}. Open the link we sent there to confirm it.",
                    new.as_str()
                );
                notice(&session, &message).await
            }
            None => notice(&session, "Your email address was removed.").await,
        },
        Ok(false) => notice(&session, "That is your address already; nothing changed.").await,
        Err(e) if e.is_caller_error() => problem(&session, &format!("Nothing changed: {e}.")).await,
        Err(e) => Err(e.into()),
    }
}
