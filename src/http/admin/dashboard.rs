//! `/admin`: the dashboard, with counts of what Portcullis holds and does, and the
//! sizes of the tables that grow with use.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{Admin, Frame, Section};
use crate::admin::dashboard::{self, Counts, TableSize};
use crate::http::error::PageError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    counts: Counts,
    tables: Vec<TableSize>,
}

pub async fn show(admin: Admin, State(state): State<AppState>) -> Result<Response, PageError> {
    let page = DashboardPage {
        frame: Frame::new(&admin, Section::Dashboard).await?,
        counts: dashboard::counts(&state).await?,
        tables: dashboard::table_sizes(&state.db).await?,
    };
    Ok(page.into_response())
}
