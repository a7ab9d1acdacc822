//! `/admin/keys`: every signing key with its algorithm, state and times; rotate now; revoke a key
//! (gone from the JWKS at once, and a new key signs).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{Admin, ConfirmPage, FormData, Frame, Section};
use crate::admin::keys::{self as ops, KeyView};
use crate::http::error::PageError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    frame: Frame,
    keys: Vec<KeyView>,
}

impl KeysPage {
    /// A time as a UTC date and minute.
    fn minute(&self, t: &time::OffsetDateTime) -> String {
        super::users::when(&t.unix_timestamp())
    }
}

pub async fn show(admin: Admin, State(state): State<AppState>) -> Result<Response, PageError> {
    let page = KeysPage {
        frame: Frame::new(&admin, Section::Keys).await?,
        keys: ops::list(&state).await?,
    };
    Ok(page.into_response())
}

/// `rotate-RS256`, `rotate-ES256` or `revoke-<kid>`: asks first.
pub async fn confirm(admin: Admin, Path(action): Path<String>) -> Result<Response, PageError> {
    let question = if let Some(alg) = action.strip_prefix("rotate-") {
        Some((
            format!("Rotate the {alg} key now?"),
            "A new key is published at once and starts signing after the pre-publish period, so verifiers that cache the JWKS have it in time. The current key keeps verifying until its tokens expire.".to_owned(),
            "Rotate now",
        ))
    } else {
        action.strip_prefix("revoke-").map(|kid| {
            (
                format!("Revoke key {kid}?"),
                "The key leaves the JWKS at once: every token it signed stops verifying everywhere. Do this when the key may be compromised. If it was signing, another key takes over.".to_owned(),
                "Revoke key",
            )
        })
    };
    ConfirmPage::ask(&admin, Section::Keys, question, "/admin/keys", &action).await
}

pub async fn act(
    admin: Admin,
    State(state): State<AppState>,
    Path(action): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = FormData::parse(&body);
    admin.check_csrf(form.get("csrf")).await?;
    if let Some(alg) = action.strip_prefix("rotate-") {
        ops::rotate(&state, alg, &admin.by).await?;
        admin
            .done(&format!("A new {alg} key was published."), "/admin/keys")
            .await
    } else if let Some(kid) = action.strip_prefix("revoke-") {
        ops::revoke(&state, kid, &admin.by).await?;
        admin
            .done(&format!("Key {kid} was revoked."), "/admin/keys")
            .await
    } else {
        Err(PageError::NotFound)
    }
}
