//! `/admin/roles`: define and delete role and group names. Assigning them is on each user's page
//! (and, for roles of service accounts, on each client's page).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{Admin, ConfirmPage, FormData, Frame, Section, caller_message};
use crate::error::StoreError;
use crate::http::error::PageError;
use crate::rbac::store::{self, Definition};
use crate::rbac::{Kind, Name};
use crate::state::AppState;

/// One half of the page: roles or groups.
struct Part {
    title: &'static str,
    /// The path segment: `roles` or `groups`.
    which: &'static str,
    noun: &'static str,
    /// Roles can also be held by clients.
    roles: bool,
    items: Vec<Definition>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    frame: Frame,
    parts: Vec<Part>,
}

pub async fn show(admin: Admin, State(state): State<AppState>) -> Result<Response, PageError> {
    let page = RolesPage {
        frame: Frame::new(&admin, Section::Roles).await?,
        parts: vec![
            Part {
                title: "Roles",
                which: "roles",
                noun: "role",
                roles: true,
                items: store::list(&state.db, Kind::Role).await?,
            },
            Part {
                title: "Groups",
                which: "groups",
                noun: "group",
                roles: false,
                items: store::list(&state.db, Kind::Group).await?,
            },
        ],
    };
    Ok(page.into_response())
}

fn kind(raw: &str) -> Result<Kind, PageError> {
    match raw {
        "roles" => Ok(Kind::Role),
        "groups" => Ok(Kind::Group),
        _ => Err(PageError::NotFound),
    }
}

/// Defines a role or a group (`/admin/roles/roles` or `/admin/roles/groups`).
pub async fn define(
    admin: Admin,
    State(state): State<AppState>,
    Path(which): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let kind = kind(&which)?;
    let form = FormData::parse(&body);
    admin.check_csrf(form.get("csrf")).await?;
    let defined = match Name::parse(kind, form.get("name")) {
        Ok(name) => store::define(&state.db, kind, &name, form.get("description"), &admin.by).await,
        Err(message) => Err(StoreError::Invalid(message)),
    };
    match defined {
        Ok(()) => {
            let message = format!("The {} was defined.", kind.noun());
            admin.done(&message, "/admin/roles").await
        }
        Err(e) => admin.failed(&caller_message(e)?, "/admin/roles").await,
    }
}

pub async fn confirm_delete(
    admin: Admin,
    Path((which, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let kind = kind(&which)?;
    let question = (
        format!("Delete the {} {name}?", kind.noun()),
        "Everyone who has it loses it. Tokens issued from now on no longer carry it; tokens already issued keep it until they expire.".into(),
        "Delete",
    );
    let action = format!("{which}/{name}/delete");
    ConfirmPage::ask(
        &admin,
        Section::Roles,
        Some(question),
        "/admin/roles",
        &action,
    )
    .await
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((which, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let kind = kind(&which)?;
    let form = FormData::parse(&body);
    admin.check_csrf(form.get("csrf")).await?;
    for client_id in store::remove(&state.db, kind, &name, &admin.by).await? {
        crate::admin::client_changed(&state, &client_id).await;
    }
    let message = format!("The {} {name} was deleted.", kind.noun());
    admin.done(&message, "/admin/roles").await
}
