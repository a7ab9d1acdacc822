//! [`SignedInPerson`]: the person signed in with this browser session, whose account is still
//! enabled. Every page that acts for a person finds them here: the account pages (as an
//! extractor: anyone else is sent to sign in), the admin gate, and the authorization, consent
//! and device steps (through [`SignedInPerson::of`], since each sends elsewhere when nobody is).
//! A session whose person was disabled or deleted is ended where it is found.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::http::error::PageError;
use crate::http::page::see_other;
use crate::sessions::{SignedIn, TypedSession};
use crate::state::AppState;
use crate::urls;
use crate::users::store::{self as users, Credentials};

/// A signed-in, enabled person and their record.
pub struct SignedInPerson {
    pub signed_in: SignedIn,
    pub user: Credentials,
}

impl SignedInPerson {
    /// The person signed in with `session`, unless the session ended (see
    /// [`TypedSession::signed_in`]) or the person is disabled or gone (the session then ends).
    pub async fn of(state: &AppState, session: &TypedSession) -> Result<Option<Self>, PageError> {
        let lifetime = state.config.session_lifetime;
        let Some(signed_in) = session.signed_in(lifetime, &state.redis).await? else {
            return Ok(None);
        };
        match users::credentials_by_id(&state.db, signed_in.user_id)
            .await?
            .filter(|u| !u.disabled)
        {
            Some(user) => Ok(Some(Self { signed_in, user })),
            None => {
                session.sign_out().await?;
                Ok(None)
            }
        }
    }
}

/// For the pages of a signed-in person: anyone else is sent to sign in.
impl FromRequestParts<AppState> for SignedInPerson {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = TypedSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match Self::of(state, &session).await {
            Ok(Some(person)) => Ok(person),
            Ok(None) => Err(see_other(&urls::login::password())),
            Err(error) => Err(error.into_response()),
        }
    }
}
