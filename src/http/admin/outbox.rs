//! `/admin/outbox`: the mail waiting, sent and given up, newest first, paged
//! ([`crate::outbox::view`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Admin, Frame, PageLinks, Paging, Section, paginate};
use crate::http::error::PageError;
use crate::http::page::filters;
use crate::outbox::view::{self, Counts, Message, Status};
use crate::state::AppState;
use crate::urls;

#[derive(Deserialize)]
pub struct OutboxQuery {
    page: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    frame: Frame,
    counts: Counts,
    messages: Vec<Message>,
    paging: Paging,
    links: PageLinks,
    /// Whether mail leaves by SMTP (else it is written to the log).
    smtp: bool,
}

impl OutboxPage {
    fn status(&self, message: &Message) -> (&'static str, &'static str) {
        match message.status() {
            Status::Sent => ("ok", "sent"),
            Status::Waiting => ("info", "waiting"),
            Status::GivenUp => ("off", "given up"),
        }
    }
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Query(query): Query<OutboxQuery>,
) -> Result<Response, PageError> {
    let (messages, paging) = paginate(query.page, |offset, limit| {
        view::page(&state.db, offset, limit)
    })
    .await?;
    let links = paging.links(urls::admin::outbox(), &[]);
    let page = OutboxPage {
        frame: Frame::new(&admin, Section::Outbox).await?,
        counts: view::counts(&state.db).await?,
        messages,
        paging,
        links,
        smtp: state.config.smtp_url.is_some() && !state.config.demo,
    };
    Ok(page.into_response())
}
