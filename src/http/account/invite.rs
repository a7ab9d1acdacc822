//! Inviting someone from the account page, routed only with `PORTCULLIS_SIGNUP=invite`: a signed-in person
//! gives an address (and perhaps a name), and the invitee gets the same invitation an
//! administrator sends ([`crate::users::invite`]), recorded as sent by this person and never as
//! an administrator's (the account made is never an administrator). Each person may invite
//! [`INVITATIONS_PER_PERSON`] a day, counted atomically; the allowed domains apply. Whether the
//! address already has an account is not told: the notice reads the same either way.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::notice;
use crate::audit::{Actor, By};
use crate::error::Error;
use crate::http::client_addr::ClientAddr;
use crate::http::error::PageError;
use crate::http::extract::{Csrf, SignedInPerson};
use crate::http::page::see_other;
use crate::ratelimit;
use crate::sessions::TypedSession;
use crate::state::AppState;
use crate::urls;
use crate::users::invite::{InviteSpec, invite};
use crate::users::signup::{self, INVITATIONS_PER_PERSON, Mode};
use crate::users::{DisplayName, Email};

/// What the account page shows of inviting: `Some` in invite mode, with the domains allowed.
pub struct InviteBox {
    /// `example.com or example.org` when only those are accepted.
    pub domains: Option<String>,
    pub per_day: u32,
}

impl InviteBox {
    pub fn of(state: &AppState) -> Option<Self> {
        (state.config.signup == Mode::Invite).then(|| InviteBox {
            domains: state.config.signup_domains.as_ref().map(|d| d.listed()),
            per_day: INVITATIONS_PER_PERSON.max,
        })
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

/// Back to the account page with `problem`, nothing sent.
async fn refuse(session: &TypedSession, problem: &str) -> Result<Response, PageError> {
    session.set_flash(problem).await?;
    Ok(see_other(&urls::account::overview()))
}

pub async fn send(
    State(state): State<AppState>,
    SignedInPerson { signed_in, .. }: SignedInPerson,
    ClientAddr(peer): ClientAddr,
    session: TypedSession,
    Csrf(Form(form)): Csrf<Form<InviteForm>>,
) -> Result<Response, PageError> {
    let Ok(email) = Email::parse(&form.email) else {
        return refuse(&session, "Enter the email address of the person to invite.").await;
    };
    if let Some(refused) = signup::outside(state.config.signup_domains.as_ref(), &email) {
        return refuse(&session, &format!("{refused} Nobody was invited.")).await;
    }
    if !form.name.trim().is_empty() && DisplayName::parse(&form.name).is_err() {
        return refuse(
            &session,
            "A name must be at most 200 characters, without control characters.",
        )
        .await;
    }
    let person = signed_in.user_id.to_string();
    if let Some(wait) = ratelimit::take(&state.redis, &[(INVITATIONS_PER_PERSON, &person)]).await? {
        let hours = wait.as_secs().div_ceil(3600).max(1);
        let message = format!(
            "You have sent {} invitations today, as many as a day allows. You can invite more in {hours} hour{}.",
            INVITATIONS_PER_PERSON.max,
            if hours == 1 { "" } else { "s" }
        );
        return refuse(&session, &message).await;
    }
    let spec = InviteSpec {
        email: email.as_str().to_owned(),
        username: String::new(),
        name: form.name,
        is_admin: false,
    };
    let by = By::new(Actor::User(signed_in.user_id), Some(peer.ip()));
    match invite(&state, spec, &by).await {
        // Taken (the address, or the username made from it): the same words as sent.
        Ok(_) | Err(Error::Conflict(_)) => {}
        Err(Error::Invalid(problem)) => return refuse(&session, &problem).await,
        Err(other) => return Err(other.into()),
    }
    let days = crate::mail::links::Purpose::Invite.lifetime().as_secs() / 86_400;
    let message = format!(
        "If {} has no account here yet, an invitation is on its way; its link works for {days} days.",
        email.as_str()
    );
    notice(&session, &message).await
}
