//! `/admin/users`: list and search, create, and on a user's page: disable or enable, reset the
//! password or the second factor, clear throttling, grant or remove the admin role, see and end
//! sessions, see and remove passkeys, assign roles and groups, see whether the email address is
//! confirmed and change it (which sends a link to the new address and word to the old one, see
//! [`crate::users::email::set`]). Destructive actions go through a confirmation page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::{
    Admin, ConfirmPage, FormData, Frame, FreshAdmin, PageLinks, Paging, Question, Section,
    caller_message, paginate,
};
use crate::admin::actions::UserAction;
use crate::admin::users::{self as ops, NewUserSpec};
use crate::audit::By;
use crate::error::Error;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::page::filters;
use crate::passkeys::store::PasskeySummary;
use crate::rbac::{self, Kind};
use crate::sessions::index::LiveSession;
use crate::state::AppState;
use crate::urls;
use crate::users::email;
use crate::users::store::{self, UserSummary};

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct ListPage {
    frame: Frame,
    q: String,
    users: Vec<UserSummary>,
    paging: Paging,
    links: PageLinks,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(query): Query<super::clients::ListQuery>,
) -> Result<Response, PageError> {
    let (users, paging) = paginate(query.page, |offset, limit| {
        store::page(&state.db, &query.q, offset, limit)
    })
    .await?;
    let page = ListPage {
        frame: Frame::new(&admin, Section::Users).await?,
        links: paging.links(urls::admin::users(), &[("q", &query.q)]),
        q: query.q,
        users,
        paging,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    frame: Frame,
    error: Option<String>,
    username: String,
    email: String,
    name: String,
    is_admin: bool,
}

pub async fn new_form(admin: FreshAdmin) -> Result<Response, PageError> {
    let page = FormPage {
        frame: Frame::new(&admin, Section::Users).await?,
        error: None,
        username: String::new(),
        email: String::new(),
        name: String::new(),
        is_admin: false,
    };
    Ok(page.into_response())
}

pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let spec = NewUserSpec {
        username: form.get("username").to_owned(),
        email: form.get("email").to_owned(),
        name: form.get("name").to_owned(),
        password: form.get("password").to_owned(),
        is_admin: form.checked("is_admin"),
    };
    let done = match spec.password.is_empty() {
        true => "The invitation is on its way to the address.",
        false => "The user was created.",
    };
    match ops::create(&state, spec, &admin.by).await {
        Ok(id) => admin.done(done, &urls::admin::user(id)).await,
        Err(e) => {
            let page = FormPage {
                frame: Frame::new(&admin, Section::Users).await?,
                error: Some(caller_message(e)?),
                username: form.get("username").to_owned(),
                email: form.get("email").to_owned(),
                name: form.get("name").to_owned(),
                is_admin: form.checked("is_admin"),
            };
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

/// A role or group checkbox.
pub struct Choice {
    pub name: String,
    pub checked: bool,
}

/// Every defined name of `kind`, checked where `held` has it.
pub async fn choices(
    state: &AppState,
    kind: Kind,
    held: &[String],
) -> Result<Vec<Choice>, PageError> {
    Ok(rbac::store::list(&state.db, kind)
        .await?
        .into_iter()
        .map(|d| Choice {
            checked: held.contains(&d.name),
            name: d.name,
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct ShowPage {
    frame: Frame,
    user: UserSummary,
    /// Whether the user's address (if any) is confirmed.
    email_verified: bool,
    sessions: Vec<LiveSession>,
    roles: Vec<Choice>,
    groups: Vec<Choice>,
    /// The user's passkeys; `None` when passkeys are off.
    passkeys: Option<Vec<PasskeySummary>>,
}

impl ShowPage {
    /// Where the form or link for `action` on this user goes.
    fn to(&self, action: UserAction) -> urls::Href {
        urls::admin::user_action(self.user.id, action)
    }
}

async fn find(state: &AppState, id: Uuid) -> Result<UserSummary, PageError> {
    store::summary(&state.db, id)
        .await?
        .ok_or(PageError::NotFound)
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let user = find(&state, id).await?;
    let profile = store::profile(&state.db, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let mut conn = state.db.acquire().await?;
    let email_verified = email::address(&mut conn, id)
        .await?
        .is_some_and(|a| a.verified);
    drop(conn);
    let page = ShowPage {
        frame: Frame::new(&admin, Section::Users).await?,
        email_verified,
        sessions: ops::sessions(&state, id).await?,
        roles: choices(&state, Kind::Role, &profile.roles).await?,
        groups: choices(&state, Kind::Group, &profile.groups).await?,
        passkeys: match state.passkeys {
            Some(_) => Some(crate::passkeys::store::list(&state.db, id).await?),
            None => None,
        },
        user,
    };
    Ok(page.into_response())
}

/// The actions on a user that ask first: title, explanation, button.
fn confirmation(action: UserAction, user: &UserSummary) -> Option<Question> {
    let name = &user.username;
    match action {
        UserAction::Disable => Some((
            format!("Disable {name}?"),
            "They cannot sign in, every session they have ends, and every refresh token they were given stops working.".into(),
            "Disable user",
        )),
        UserAction::ResetMfa => Some((
            format!("Reset two-step verification for {name}?"),
            "Their authenticator and recovery codes stop working; they sign in with their password alone until they set it up again. Make sure you know who asked.".into(),
            "Reset two-step verification",
        )),
        UserAction::RemoveAdmin => Some((
            format!("Remove the admin role from {name}?"),
            "They can no longer open these pages.".into(),
            "Remove admin role",
        )),
        UserAction::EndSessions => Some((
            format!("End every session of {name}?"),
            "They are signed out in every browser. Applications they allowed keep working.".into(),
            "End sessions",
        )),
        _ => None,
    }
}

fn action(raw: &str) -> Result<UserAction, PageError> {
    UserAction::parse(raw).ok_or(PageError::NotFound)
}

pub async fn confirm(
    admin: FreshAdmin,
    State(state): State<AppState>,
    Path((id, raw)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let action = action(&raw)?;
    let user = find(&state, id).await?;
    let question = confirmation(action, &user);
    let href = urls::admin::user_action(id, action);
    ConfirmPage::ask(
        &admin,
        Section::Users,
        question,
        href,
        urls::admin::user(id),
    )
    .await
}

/// Runs one action on a user. A caller's mistake (a short password, the last administrator)
/// comes back as a notice on the user's page and changes nothing.
pub async fn act(
    admin: Admin,
    State(state): State<AppState>,
    Path((id, raw)): Path<(Uuid, String)>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let action = action(&raw)?;
    let by = &admin.by;
    let outcome: Result<&str, Error> = match action {
        UserAction::Disable => ops::set_disabled(&state, id, true, by)
            .await
            .map(|()| "The user was disabled; their sessions and refresh tokens ended."),
        UserAction::Enable => ops::set_disabled(&state, id, false, by)
            .await
            .map(|()| "The user was enabled."),
        UserAction::GrantAdmin => ops::set_admin(&state, id, true, by)
            .await
            .map(|()| "The user is now an administrator."),
        UserAction::RemoveAdmin => ops::set_admin(&state, id, false, by)
            .await
            .map(|()| "The admin role was removed."),
        UserAction::ResetMfa => ops::reset_mfa(&state, id, by)
            .await
            .map(|()| "Two-step verification was reset."),
        UserAction::ClearThrottling => ops::clear_throttling(&state, id, by)
            .await
            .map(|()| "Failed sign-in counts were cleared."),
        UserAction::Password => {
            ops::reset_password(&state, id, form.get("password").to_owned(), by)
                .await
                .map(|()| "The password was set; their sessions and refresh tokens ended.")
        }
        UserAction::Email => set_email(&state, id, form.get("email"), by).await,
        UserAction::EndSessions => ops::end_sessions(&state, id, by)
            .await
            .map(|()| "Every session ended."),
        UserAction::EndSession => ops::end_session(&state, id, form.get("session"), by)
            .await
            .map(|()| "The session ended."),
        UserAction::RemovePasskey => ops::remove_passkey(&state, id, form.get("passkey"), by)
            .await
            .map(|()| "The passkey was removed."),
        UserAction::Roles => ops::set_names(&state, id, Kind::Role, &form.all("role"), by)
            .await
            .map(|()| "Roles saved. Tokens issued from now on carry them."),
        UserAction::Groups => ops::set_names(&state, id, Kind::Group, &form.all("group"), by)
            .await
            .map(|()| "Groups saved. Tokens issued from now on carry them."),
    };
    let here = urls::admin::user(id);
    match outcome {
        Ok(message) => admin.done(message, &here).await,
        Err(Error::NotFound(_)) => Err(PageError::NotFound),
        Err(e) => {
            let message = caller_message(e)?;
            admin
                .failed(&format!("Nothing changed: {message}."), &here)
                .await
        }
    }
}

/// Sets the user's address to `raw`, or removes it when `raw` is blank.
async fn set_email(state: &AppState, id: Uuid, raw: &str, by: &By) -> Result<&'static str, Error> {
    let removing = raw.trim().is_empty();
    Ok(
        match (ops::set_email(state, id, Some(raw), by).await?, removing) {
            (false, _) => "That is their address already.",
            (true, false) => "The address was changed; a confirmation link was sent to it.",
            (true, true) => "The address was removed.",
        },
    )
}
