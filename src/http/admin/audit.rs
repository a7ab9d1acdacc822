//! `/admin/audit`: the audit log, newest first, paged, filtered by actor, event type and time.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Admin, Frame, PageLinks, Paging, Section, paginate};
use crate::admin::audit_log::{self, Entry, Filter, parse_time};
use crate::http::error::PageError;
use crate::http::page::filters;
use crate::state::AppState;
use crate::urls;

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    page: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    frame: Frame,
    actor: String,
    event: String,
    since: String,
    until: String,
    events: Vec<String>,
    entries: Vec<Entry>,
    paging: Paging,
    /// More events match than are counted ([`audit_log::COUNT_CAP`]).
    capped: bool,
    /// The neighbouring pages, with the same filter.
    links: PageLinks,
    error: Option<String>,
}

impl AuditPage {
    /// An entry's details, unless there are none.
    fn details(&self, entry: &Entry) -> Option<String> {
        let empty = entry.details.as_object().is_none_or(|o| o.is_empty());
        (!empty).then(|| entry.details.to_string())
    }
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let times = parse_time(&query.since).and_then(|s| Ok((s, parse_time(&query.until)?)));
    let (error, filter) = match times {
        Ok((since, until)) => (
            None,
            Filter {
                actor: query.actor.clone(),
                event: query.event.clone(),
                since,
                until,
            },
        ),
        Err(message) => (Some(message), Filter::default()),
    };
    let (entries, paging) = paginate(query.page, |offset, limit| {
        audit_log::page(&state.db, &filter, offset, limit)
    })
    .await?;
    let links = paging.links(
        urls::admin::audit(),
        &[
            ("actor", &query.actor),
            ("event", &query.event),
            ("since", &query.since),
            ("until", &query.until),
        ],
    );
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = AuditPage {
        frame: Frame::new(&admin, Section::Audit).await?,
        actor: query.actor,
        event: query.event,
        since: query.since,
        until: query.until,
        events: audit_log::event_names(&state.db).await?,
        entries,
        capped: paging.total > audit_log::COUNT_CAP,
        paging,
        links,
        error,
    };
    Ok((status, page).into_response())
}
