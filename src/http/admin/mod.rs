//! `/admin`: the administration pages. [`Admin`] ([`gate`]) is the gate every page passes; a
//! change also needs a recent second factor. Every change is a POST with the session's CSRF
//! token to an action parsed into its enum ([`crate::admin::actions`]; anything else is a 404);
//! destructive ones go through a confirmation page first, shown only for an object that exists.
//! Every URL these pages write comes from [`crate::urls`]. The operations themselves are in
//! [`crate::admin`], shared with the JSON API.

pub mod api;
pub mod audit;
pub mod client_form;
pub mod clients;
pub mod dashboard;
mod gate;
pub mod keys;
pub mod outbox;
pub mod roles;
pub mod users;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::Error;
use crate::http::error::PageError;
use crate::http::page::see_other;
use crate::state::AppState;
use crate::urls::Href;
pub use gate::{Admin, FreshAdmin};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/clients", get(clients::list))
        .route(
            "/admin/clients/new",
            get(clients::new_form).post(clients::create),
        )
        .route("/admin/clients/{id}", get(clients::show))
        .route(
            "/admin/clients/{id}/edit",
            get(clients::edit_form).post(clients::update),
        )
        .route(
            "/admin/clients/{id}/{action}",
            get(clients::confirm).post(clients::act),
        )
        .route("/admin/users", get(users::list))
        .route("/admin/users/new", get(users::new_form).post(users::create))
        .route("/admin/users/{id}", get(users::show))
        .route(
            "/admin/users/{id}/{action}",
            get(users::confirm).post(users::act),
        )
        .route("/admin/roles", get(roles::show))
        .route("/admin/roles/{which}", post(roles::define))
        .route("/admin/roles/{which}/{name}", get(roles::show_one))
        .route(
            "/admin/roles/{which}/{name}/delete",
            get(roles::confirm_delete).post(roles::delete),
        )
        .route("/admin/keys", get(keys::show))
        .route("/admin/keys/{action}", get(keys::confirm).post(keys::act))
        .route("/admin/audit", get(audit::show))
        .route("/admin/outbox", get(outbox::show))
}

impl Admin {
    /// Shows `message` on the next admin page and goes to `location`.
    pub async fn done(&self, message: &str, location: &Href) -> Result<Response, PageError> {
        self.session.set_admin_notice(message).await?;
        Ok(see_other(location))
    }

    /// Says what went wrong on the next admin page (nothing changed) and goes to `location`.
    pub async fn failed(&self, message: &str, location: &Href) -> Result<Response, PageError> {
        self.session.set_admin_problem(message).await?;
        Ok(see_other(location))
    }

    /// The notice left by the last action, once.
    pub async fn notice(&self) -> Result<Option<String>, PageError> {
        Ok(self.session.take_admin_notice().await?)
    }
}

/// "Are you sure?" before a destructive action: a form that posts to `action`, or a way back.
#[derive(Template, WebTemplate)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub frame: Frame,
    pub title: String,
    pub message: String,
    pub action: Href,
    pub button: &'static str,
    pub cancel: Href,
}

/// What a confirmation page asks: title, explanation, and the button's label.
pub type Question = (String, String, &'static str);

impl ConfirmPage {
    /// The page asking `question` before posting to `action`, or going back to `cancel`; 404
    /// when the action needs no confirmation (`None`). Callers look the object up first, so a
    /// confirmation is never shown for something that does not exist.
    pub async fn ask(
        admin: &Admin,
        section: Section,
        question: Option<Question>,
        action: Href,
        cancel: Href,
    ) -> Result<Response, PageError> {
        let Some((title, message, button)) = question else {
            return Err(PageError::NotFound);
        };
        let page = Self {
            frame: Frame::new(admin, section).await?,
            title,
            message,
            action,
            button,
            cancel,
        };
        Ok(page.into_response())
    }
}

/// The admin pages' navigation: which section is open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Clients,
    Users,
    Roles,
    Keys,
    Audit,
    Outbox,
}

impl Section {
    /// The section's page, for the navigation and its search forms.
    pub fn href(self) -> Href {
        use crate::urls::admin;
        match self {
            Section::Dashboard => admin::dashboard(),
            Section::Clients => admin::clients(),
            Section::Users => admin::users(),
            Section::Roles => admin::roles(),
            Section::Keys => admin::keys(),
            Section::Audit => admin::audit(),
            Section::Outbox => admin::outbox(),
        }
    }
}

/// What every admin page shows around its content.
pub struct Frame {
    pub section: Section,
    pub username: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub problem: Option<String>,
}

impl Frame {
    pub async fn new(admin: &Admin, section: Section) -> Result<Self, PageError> {
        Ok(Self {
            section,
            username: admin.username.clone(),
            csrf: admin.csrf.clone(),
            notice: admin.notice().await?,
            problem: admin.session.take_admin_problem().await?,
        })
    }

    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}

/// A form body as name/value pairs in order; repeated names (checkboxes) are kept.
pub struct FormData(Vec<(String, String)>);

/// The body as it came, whatever its content type (as `Bytes` would take it).
impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = BytesRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, BytesRejection> {
        let body = Bytes::from_request(request, state).await?;
        Ok(Self::parse(&body))
    }
}

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, or empty.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every non-empty value of `name` (checkboxes, multi-selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The non-empty lines of a text area.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// The `page` query parameter, and how many rows a page shows.
pub const PAGE_SIZE: i64 = 25;

/// Paging links for a list of `total` rows.
pub struct Paging {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

impl Paging {
    pub fn new(page: Option<i64>, total: i64) -> Self {
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        Self {
            page: page.unwrap_or(1).clamp(1, pages),
            pages,
            total,
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE
    }

    /// The previous and next pages of `list` with the same `filters`, from the URL builder.
    pub fn links(&self, list: Href, filters: &[(&str, &str)]) -> PageLinks {
        let at = |page: i64| {
            let page = page.to_string();
            let mut pairs = filters.to_vec();
            pairs.push(("page", &page));
            list.clone().query(&pairs)
        };
        PageLinks {
            prev: (self.page > 1).then(|| at(self.page - 1)),
            next: (self.page < self.pages).then(|| at(self.page + 1)),
        }
    }
}

/// Links to the neighbouring pages of a list, where there are any.
pub struct PageLinks {
    pub prev: Option<Href>,
    pub next: Option<Href>,
}

/// Fetches page `page` with `fetch(offset, limit)`, which returns rows and the total count.
pub async fn paginate<T, F, Fut>(
    page: Option<i64>,
    fetch: F,
) -> crate::error::Result<(Vec<T>, Paging)>
where
    F: Fn(i64, i64) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<(Vec<T>, i64)>>,
{
    let asked = page.unwrap_or(1).max(1);
    let (rows, total) = fetch((asked - 1).saturating_mul(PAGE_SIZE), PAGE_SIZE).await?;
    let paging = Paging::new(Some(asked), total);
    if paging.page == asked {
        return Ok((rows, paging));
    }
    // Past the last page: show the last one.
    let (rows, _) = fetch(paging.offset(), PAGE_SIZE).await?;
    Ok((rows, paging))
}

/// A failed change: the caller's mistake goes back to the form as a message; anything else is a
/// server error page.
pub fn caller_message(error: Error) -> Result<String, PageError> {
    if error.is_caller_error() {
        Ok(error.to_string())
    } else {
        Err(error.into())
    }
}
