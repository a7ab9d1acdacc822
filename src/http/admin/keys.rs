//! `/admin/keys`: every signing key with its algorithm, state and times; rotate now; revoke a key
//! (gone from the JWKS at once, and a new key signs).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{Admin, ConfirmPage, FormData, Frame, FreshAdmin, Section};
use crate::admin::actions::KeyAction;
use crate::admin::keys::{self as ops, KeyView};
use crate::http::error::PageError;
use crate::http::extract::Csrf;
use crate::http::page::filters;
use crate::keys::Alg;
use crate::state::AppState;
use crate::urls;

#[derive(Template, WebTemplate)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    frame: Frame,
    keys: Vec<KeyView>,
}

impl KeysPage {
    fn rotate(&self, alg: Alg) -> urls::Href {
        urls::admin::key_action(&KeyAction::Rotate(alg))
    }

    fn revoke(&self, kid: &str) -> urls::Href {
        urls::admin::key_action(&KeyAction::Revoke(kid.to_owned()))
    }

    /// The colour of a key state's pill: signing, gone, or published but not signing.
    fn pill_kind(&self, state: &str) -> &'static str {
        match state {
            "active" => "ok",
            "revoked" | "expired" => "off",
            _ => "info",
        }
    }
}

pub async fn show(admin: Admin, State(state): State<AppState>) -> Result<Response, PageError> {
    let page = KeysPage {
        frame: Frame::new(&admin, Section::Keys).await?,
        keys: ops::list(&state).await?,
    };
    Ok(page.into_response())
}

/// The action a path names, for a key that can still be revoked; 404 for anything else.
async fn action_of(state: &AppState, raw: &str) -> Result<KeyAction, PageError> {
    let action = KeyAction::parse(raw).ok_or(PageError::NotFound)?;
    if let KeyAction::Revoke(kid) = &action {
        let live = ops::list(state)
            .await?
            .into_iter()
            .any(|k| &k.kid == kid && k.state != "revoked" && k.state != "expired");
        if !live {
            return Err(PageError::NotFound);
        }
    }
    Ok(action)
}

/// `rotate-RS256`, `rotate-ES256` or `revoke-<kid>` of a live key: asks first.
pub async fn confirm(
    admin: FreshAdmin,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let action = action_of(&state, &raw).await?;
    let question = match &action {
        KeyAction::Rotate(alg) => (
            format!("Rotate the {} key now?", alg.as_str()),
            "A new key is published at once and starts signing after the pre-publish period, so verifiers that cache the JWKS have it in time. The current key keeps verifying until its tokens expire.".to_owned(),
            "Rotate now",
        ),
        KeyAction::Revoke(kid) => (
            format!("Revoke key {kid}?"),
            "The key leaves the JWKS at once: every token it signed stops verifying everywhere. Do this when the key may be compromised. If it was signing, another key takes over.".to_owned(),
            "Revoke key",
        ),
    };
    let href = urls::admin::key_action(&action);
    ConfirmPage::ask(
        &admin,
        Section::Keys,
        Some(question),
        href,
        urls::admin::keys(),
    )
    .await
}

pub async fn act(
    admin: Admin,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    _: Csrf<FormData>,
) -> Result<Response, PageError> {
    let action = action_of(&state, &raw).await?;
    let message = match action {
        KeyAction::Rotate(alg) => {
            ops::rotate(&state, alg.as_str(), &admin.by).await?;
            format!("A new {} key was published.", alg.as_str())
        }
        KeyAction::Revoke(kid) => {
            ops::revoke(&state, &kid, &admin.by).await?;
            format!("Key {kid} was revoked.")
        }
    };
    admin.done(&message, &urls::admin::keys()).await
}
