//! `/admin/roles`: define and delete role and group names. Assigning them is on each user's page
//! (and, for roles of service accounts, on each client's page).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{Admin, ConfirmPage, FormData, Frame, FreshAdmin, Section, caller_message};
use crate::admin::roles as ops;
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::rbac::store::{self, Definition};
use crate::rbac::{Kind, Name};
use crate::state::AppState;
use crate::urls::{self, Href};

/// One half of the page: roles or groups.
struct Part {
    title: &'static str,
    kind: Kind,
    /// `roles` or `groups`, for element ids.
    which: &'static str,
    noun: &'static str,
    /// Roles can also be held by clients.
    roles: bool,
    items: Vec<Definition>,
}

impl Part {
    async fn of(state: &AppState, kind: Kind, title: &'static str) -> Result<Self, PageError> {
        Ok(Self {
            title,
            kind,
            which: kind.plural(),
            noun: kind.noun(),
            roles: kind == Kind::Role,
            items: store::list(&state.db, kind).await?,
        })
    }

    fn define(&self) -> Href {
        urls::admin::define(self.kind)
    }

    fn view(&self, name: &str) -> Href {
        urls::admin::role(self.kind, name)
    }

    fn delete(&self, name: &str) -> Href {
        urls::admin::delete_role(self.kind, name)
    }
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
            Part::of(&state, Kind::Role, "Roles").await?,
            Part::of(&state, Kind::Group, "Groups").await?,
        ],
    };
    Ok(page.into_response())
}

fn kind(raw: &str) -> Result<Kind, PageError> {
    Kind::from_plural(raw).ok_or(PageError::NotFound)
}

/// The defined role or group a path names; 404 if it is not a valid name or not defined.
async fn find(state: &AppState, which: &str, name: &str) -> Result<(Kind, Definition), PageError> {
    let kind = kind(which)?;
    let name = Name::parse(kind, name).map_err(|_| PageError::NotFound)?;
    let found = store::list(&state.db, kind)
        .await?
        .into_iter()
        .find(|d| d.name == name.as_str())
        .ok_or(PageError::NotFound)?;
    Ok((kind, found))
}

/// Defines a role or a group (`/admin/roles/roles` or `/admin/roles/groups`).
pub async fn define(
    admin: Admin,
    State(state): State<AppState>,
    Path(which): Path<String>,
    Csrf(form): Csrf<FormData>,
) -> Result<Response, PageError> {
    let kind = kind(&which)?;
    let (name, description) = (form.get("name"), form.get("description"));
    let defined = ops::define(&state, kind, name, description, &admin.by).await;
    let back = urls::admin::roles();
    match defined {
        Ok(()) => {
            let message = format!("The {} was defined.", kind.noun());
            admin.done(&message, &back).await
        }
        Err(e) => admin.failed(&caller_message(e)?, &back).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/role.html")]
struct RolePage {
    frame: Frame,
    kind: Kind,
    definition: Definition,
}

impl RolePage {
    fn delete(&self) -> Href {
        urls::admin::delete_role(self.kind, &self.definition.name)
    }
}

/// One role or group: what it is and who holds it, with the way to delete it.
pub async fn show_one(
    admin: Admin,
    State(state): State<AppState>,
    Path((which, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (kind, definition) = find(&state, &which, &name).await?;
    let page = RolePage {
        frame: Frame::new(&admin, Section::Roles).await?,
        kind,
        definition,
    };
    Ok(page.into_response())
}

pub async fn confirm_delete(
    admin: FreshAdmin,
    State(state): State<AppState>,
    Path((which, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (kind, definition) = find(&state, &which, &name).await?;
    let question = (
        format!("Delete the {} {}?", kind.noun(), definition.name),
        "Everyone who has it loses it. Tokens issued from now on no longer carry it; tokens already issued keep it until they expire.".into(),
        "Delete",
    );
    let action = urls::admin::delete_role(kind, &definition.name);
    let cancel = urls::admin::role(kind, &definition.name);
    ConfirmPage::ask(&admin, Section::Roles, Some(question), action, cancel).await
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((which, name)): Path<(String, String)>,
    _: Csrf<FormData>,
) -> Result<Response, PageError> {
    let (kind, definition) = find(&state, &which, &name).await?;
    ops::remove(&state, kind, &definition.name, &admin.by).await?;
    let message = format!("The {} {} was deleted.", kind.noun(), definition.name);
    admin.done(&message, &urls::admin::roles()).await
}
