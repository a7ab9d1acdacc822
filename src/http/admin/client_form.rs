//! The client form, shared by "new client" and "edit": what an administrator typed (or what is
//! stored), turned into a [`ClientSpec`] for the same rules as the CLI. A mistake shows the form
//! again, as typed, with the message.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{FormData, Frame, Section};
use crate::clients::store::Client;
use crate::clients::{ClientSpec, GrantType};
use crate::urls;

/// A grant type checkbox.
struct Grant {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// The client form, as typed (or as stored, when editing).
#[derive(Template, WebTemplate)]
#[template(path = "admin/client_form.html")]
pub struct FormPage {
    frame: Frame,
    /// `None` when creating.
    client_id: Option<String>,
    error: Option<String>,
    name: String,
    public: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grants: Vec<Grant>,
    scopes: String,
    skip_consent: bool,
    audiences: String,
    resource_uri: String,
    id_token_alg: String,
    access_ttl: String,
    refresh_ttl: String,
}

impl FormPage {
    /// Where the form posts: the client's edit page, or the new-client page.
    fn action(&self) -> urls::Href {
        self.client_id
            .as_ref()
            .map_or_else(urls::admin::new_client, urls::admin::edit_client)
    }

    /// Where "Cancel" goes: the client's page, or the list.
    fn cancel(&self) -> urls::Href {
        self.client_id
            .as_ref()
            .map_or_else(urls::admin::clients, urls::admin::client)
    }
}

fn grant_label(grant: GrantType) -> &'static str {
    match grant {
        GrantType::AuthorizationCode => "Authorization code (people sign in)",
        GrantType::RefreshToken => "Refresh token",
        GrantType::ClientCredentials => "Client credentials (the client acts for itself)",
        GrantType::DeviceCode => "Device authorization (TVs and CLIs)",
    }
}

fn grants(checked: impl Fn(&str) -> bool) -> Vec<Grant> {
    GrantType::ALL
        .into_iter()
        .map(|g| Grant {
            value: g.as_str(),
            label: grant_label(g),
            checked: checked(g.as_str()),
        })
        .collect()
}

impl FormPage {
    pub fn blank(frame: Frame) -> Self {
        let defaults = [GrantType::AuthorizationCode, GrantType::RefreshToken];
        Self {
            frame,
            client_id: None,
            error: None,
            name: String::new(),
            public: false,
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            grants: grants(|g| defaults.iter().any(|d| d.as_str() == g)),
            scopes: crate::clients::DEFAULT_SCOPES.join(" "),
            skip_consent: false,
            audiences: String::new(),
            resource_uri: String::new(),
            id_token_alg: "RS256".into(),
            access_ttl: String::new(),
            refresh_ttl: String::new(),
        }
    }

    pub fn of(frame: Frame, client: &Client) -> Self {
        Self {
            frame,
            client_id: Some(client.client_id.clone()),
            error: None,
            name: client.name.clone(),
            public: client.is_public(),
            redirect_uris: client.redirect_uris.join("\n"),
            post_logout_redirect_uris: client.post_logout_redirect_uris.join("\n"),
            grants: grants(|g| client.grant_types.iter().any(|c| c == g)),
            scopes: client.scopes.join(" "),
            skip_consent: !client.require_consent,
            audiences: client.audiences.join("\n"),
            resource_uri: client.resource_uri.clone().unwrap_or_default(),
            id_token_alg: client.id_token_alg.clone(),
            access_ttl: client
                .access_token_ttl_secs
                .map(|s| s.to_string())
                .unwrap_or_default(),
            refresh_ttl: client
                .refresh_token_ttl_secs
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    /// The form again, as typed, with what is wrong (400).
    pub fn typed(
        frame: Frame,
        client_id: Option<String>,
        form: &FormData,
        error: String,
    ) -> Response {
        let chosen = form.all("grant_type");
        let page = Self {
            frame,
            client_id,
            error: Some(error),
            name: form.get("name").to_owned(),
            public: form.get("client_type") == "public",
            redirect_uris: form.get("redirect_uris").to_owned(),
            post_logout_redirect_uris: form.get("post_logout_redirect_uris").to_owned(),
            grants: grants(|g| chosen.iter().any(|c| c == g)),
            scopes: form.get("scopes").to_owned(),
            skip_consent: form.checked("skip_consent"),
            audiences: form.get("audiences").to_owned(),
            resource_uri: form.get("resource_uri").to_owned(),
            id_token_alg: form.get("id_token_alg").to_owned(),
            access_ttl: form.get("access_token_ttl").to_owned(),
            refresh_ttl: form.get("refresh_token_ttl").to_owned(),
        };
        (StatusCode::BAD_REQUEST, page).into_response()
    }
}

/// A lifetime field: empty means the default.
fn seconds(form: &FormData, name: &str, what: &str) -> Result<Option<i64>, String> {
    let raw = form.get(name).trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| format!("the {what} lifetime must be a whole number of seconds"))
}

/// The form as a [`ClientSpec`] (validated by the caller).
pub fn spec(form: &FormData) -> Result<ClientSpec, String> {
    let grant_types = form.all("grant_type");
    if grant_types.is_empty() {
        return Err("choose at least one grant type".into());
    }
    Ok(ClientSpec {
        name: form.get("name").to_owned(),
        public: form.get("client_type") == "public",
        redirect_uris: form.lines("redirect_uris"),
        post_logout_redirect_uris: form.lines("post_logout_redirect_uris"),
        grant_types,
        scopes: vec![form.get("scopes").to_owned()],
        skip_consent: form.checked("skip_consent"),
        audiences: form.lines("audiences"),
        resource_uri: Some(form.get("resource_uri").to_owned()),
        id_token_alg: form.get("id_token_alg").to_owned(),
        access_token_ttl_secs: seconds(form, "access_token_ttl", "access token")?,
        refresh_token_ttl_secs: seconds(form, "refresh_token_ttl", "refresh token")?,
    })
}
