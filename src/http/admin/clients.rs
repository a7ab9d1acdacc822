//! `/admin/clients`: list and search, create (the secret is shown once), edit, rotate the secret,
//! disable or enable, delete, and a service account's roles. The form is in
//! [`super::client_form`], validated by the same rules as the CLI; a mistake comes back as the
//! form with a message and what was typed, and changes nothing.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::client_form::{FormPage, spec};
use super::{
    Admin, ConfirmPage, FormData, Frame, FreshAdmin, PageLinks, Paging, Question, Section,
    caller_message,
};
use crate::admin::actions::ClientAction;
use crate::admin::clients as ops;
use crate::clients::store::{self, Client};
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::rbac::Kind;
use crate::state::AppState;
use crate::urls;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    pub page: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/clients.html")]
struct ListPage {
    frame: Frame,
    q: String,
    clients: Vec<Client>,
    paging: Paging,
    links: PageLinks,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (clients, paging) = super::paginate(query.page, |offset, limit| {
        store::page(&state.db, &query.q, offset, limit)
    })
    .await?;
    let page = ListPage {
        frame: Frame::new(&admin, Section::Clients).await?,
        links: paging.links(urls::admin::clients(), &[("q", &query.q)]),
        q: query.q,
        clients,
        paging,
    };
    Ok(page.into_response())
}

pub async fn new_form(admin: FreshAdmin) -> Result<Response, PageError> {
    let frame = Frame::new(&admin, Section::Clients).await?;
    Ok(FormPage::blank(frame).into_response())
}

pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let created = match spec(&form) {
        Ok(spec) => ops::create(&state, spec, &admin.by).await,
        Err(message) => Err(crate::error::Error::Invalid(message)),
    };
    match created {
        Ok(created) => {
            if let Some(secret) = created.client_secret {
                admin
                    .session
                    .set_new_client_secret(&created.client_id, secret.expose())
                    .await?;
            }
            let location = urls::admin::client(&created.client_id);
            admin.done("The client was created.", &location).await
        }
        Err(e) => {
            let frame = Frame::new(&admin, Section::Clients).await?;
            Ok(FormPage::typed(frame, None, &form, caller_message(e)?))
        }
    }
}

async fn find(state: &AppState, client_id: &str) -> Result<Client, PageError> {
    store::get(&state.db, client_id)
        .await?
        .ok_or(PageError::NotFound)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/client.html")]
struct ShowPage {
    frame: Frame,
    client: Client,
    secret: Option<String>,
    roles: Vec<super::users::Choice>,
}

impl ShowPage {
    /// Where the form or link for `action` on this client goes.
    fn to(&self, action: ClientAction) -> urls::Href {
        urls::admin::client_action(&self.client.client_id, action)
    }
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client = find(&state, &client_id).await?;
    let secret = admin
        .session
        .take_new_client_secret(&client.client_id)
        .await?;
    let roles = super::users::choices(&state, Kind::Role, &client.roles).await?;
    let page = ShowPage {
        frame: Frame::new(&admin, Section::Clients).await?,
        client,
        secret,
        roles,
    };
    // The page may hold a secret: never cached.
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
}

pub async fn edit_form(
    admin: FreshAdmin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client = find(&state, &client_id).await?;
    let frame = Frame::new(&admin, Section::Clients).await?;
    Ok(FormPage::of(frame, &client).into_response())
}

pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let updated = match spec(&form) {
        Ok(spec) => ops::update(&state, &client_id, spec, &admin.by).await,
        Err(message) => Err(crate::error::Error::Invalid(message)),
    };
    match updated {
        Ok(()) => {
            let location = urls::admin::client(&client_id);
            admin.done("The client was saved.", &location).await
        }
        Err(crate::error::Error::NotFound(_)) => Err(PageError::NotFound),
        Err(e) => {
            let frame = Frame::new(&admin, Section::Clients).await?;
            Ok(FormPage::typed(
                frame,
                Some(client_id),
                &form,
                caller_message(e)?,
            ))
        }
    }
}

/// The actions on one client that the confirmation page asks about.
fn confirmation(action: ClientAction, client: &Client) -> Option<Question> {
    let name = &client.name;
    match action {
        ClientAction::RotateSecret if !client.is_public() => Some((
            format!("Rotate the secret of {name}?"),
            "A new secret is shown once. The current secret stops working at once, so the application fails until it is given the new one.".into(),
            "Rotate secret",
        )),
        ClientAction::Disable => Some((
            format!("Disable {name}?"),
            "The client gets invalid_client at once, on every replica, until it is enabled again. Its tokens stay valid until they expire.".into(),
            "Disable client",
        )),
        ClientAction::Delete => Some((
            format!("Delete {name}?"),
            "The client, its refresh tokens and the consents given to it are deleted. This cannot be undone.".into(),
            "Delete client",
        )),
        _ => None,
    }
}

fn action(raw: &str) -> Result<ClientAction, PageError> {
    ClientAction::parse(raw).ok_or(PageError::NotFound)
}

pub async fn confirm(
    admin: FreshAdmin,
    State(state): State<AppState>,
    Path((client_id, raw)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let action = action(&raw)?;
    let client = find(&state, &client_id).await?;
    let question = confirmation(action, &client);
    let href = urls::admin::client_action(&client.client_id, action);
    let cancel = urls::admin::client(&client.client_id);
    ConfirmPage::ask(&admin, Section::Clients, question, href, cancel).await
}

/// Runs one action on a client (after its confirmation page, where it has one).
pub async fn act(
    admin: Admin,
    State(state): State<AppState>,
    Path((client_id, raw)): Path<(String, String)>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let action = action(&raw)?;
    let here = urls::admin::client(&client_id);
    let by = &admin.by;
    match action {
        ClientAction::RotateSecret => {
            let secret = ops::rotate_secret(&state, &client_id, by).await?;
            admin
                .session
                .set_new_client_secret(&client_id, secret.expose())
                .await?;
            admin.done("The secret was rotated.", &here).await
        }
        ClientAction::Disable => {
            ops::set_enabled(&state, &client_id, false, by).await?;
            admin.done("The client was disabled.", &here).await
        }
        ClientAction::Enable => {
            ops::set_enabled(&state, &client_id, true, by).await?;
            admin.done("The client was enabled.", &here).await
        }
        ClientAction::Delete => {
            ops::delete(&state, &client_id, by).await?;
            admin
                .done("The client was deleted.", &urls::admin::clients())
                .await
        }
        ClientAction::Roles => {
            ops::set_roles(&state, &client_id, &form.all("role"), by).await?;
            admin.done("The client's roles were saved.", &here).await
        }
    }
}
