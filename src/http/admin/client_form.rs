//! The client form, shared by "new client" and "edit". It has no field list of its own: what an
//! administrator typed (or what is stored) is a [`ClientSpec`], checked by the same rules as the
//! CLI and the admin API. Only the two lifetimes are also kept as typed, since text that is not a
//! number cannot be a spec's lifetime but must be shown again. A mistake shows the form again, as
//! typed, with the message.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{FormData, Frame, Section};
use crate::acr::Level;
use crate::clients::store::Client;
use crate::clients::{ClientSpec, ClientType, GrantType};
use crate::keys::Alg;
use crate::oauth::scope::Scope;
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
    spec: ClientSpec,
    /// The lifetimes as typed (empty: the default).
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

/// The form's field names that differ from the spec's (the rest are the same).
const CLIENT_TYPE: &str = "client_type";
const GRANT_TYPE: &str = "grant_type";
const ACCESS_TTL: &str = "access_token_ttl";
const REFRESH_TTL: &str = "refresh_token_ttl";

fn optional(secs: Option<i64>) -> String {
    secs.map(|s| s.to_string()).unwrap_or_default()
}

impl FormPage {
    fn new(frame: Frame, client_id: Option<String>, spec: ClientSpec) -> Self {
        Self {
            frame,
            client_id,
            error: None,
            access_ttl: optional(spec.access_token_ttl_secs),
            refresh_ttl: optional(spec.refresh_token_ttl_secs),
            spec,
        }
    }

    pub fn blank(frame: Frame) -> Self {
        let spec = ClientSpec {
            grant_types: GrantType::DEFAULT.map(|g| g.as_str().to_owned()).to_vec(),
            scopes: Scope::CLIENT_DEFAULT.map(|s| s.to_string()).to_vec(),
            ..ClientSpec::default()
        };
        Self::new(frame, None, spec)
    }

    pub fn of(frame: Frame, client: &Client) -> Self {
        Self::new(frame, Some(client.client_id.to_string()), spec_of(client))
    }

    /// The form again, as typed, with what is wrong (400).
    pub fn typed(
        frame: Frame,
        client_id: Option<String>,
        form: &FormData,
        error: String,
    ) -> Response {
        let page = Self {
            error: Some(error),
            access_ttl: form.get(ACCESS_TTL).to_owned(),
            refresh_ttl: form.get(REFRESH_TTL).to_owned(),
            ..Self::new(frame, client_id, read(form))
        };
        (StatusCode::BAD_REQUEST, page).into_response()
    }

    /// A checkbox per grant type, checked as in the spec.
    fn grants(&self) -> Vec<Grant> {
        GrantType::ALL
            .into_iter()
            .map(|g| Grant {
                value: g.as_str(),
                label: grant_label(g),
                checked: self.spec.grant_types.iter().any(|c| c == g.as_str()),
            })
            .collect()
    }

    /// The scopes that mean something here, as an example of what to type.
    fn example_scopes(&self) -> String {
        crate::oauth::scope::Scopes::from(Scope::SUPPORTED.to_vec()).to_string()
    }

    /// The ID token algorithms to choose from.
    fn algs(&self) -> [Alg; 2] {
        Alg::ALL
    }

    /// Whether `alg` is the one chosen (RS256 when none, or none that is known, is).
    fn alg_chosen(&self, alg: &Alg) -> bool {
        *alg == Alg::parse(self.spec.id_token_alg.trim()).unwrap_or(Alg::RS256)
    }

    /// The levels a client may require, lowest first.
    fn levels(&self) -> [Level; 3] {
        Level::ALL
    }

    /// Whether `level` is the minimum chosen (the lowest when none, or none that is known, is).
    fn level_chosen(&self, level: &Level) -> bool {
        let chosen = self.spec.min_level.as_deref().map(str::trim);
        *level == chosen.and_then(Level::parse).unwrap_or_default()
    }
}

/// The stored client as the spec that would register it again (to edit it).
fn spec_of(client: &Client) -> ClientSpec {
    use crate::clients::strings;
    ClientSpec {
        name: client.name.clone(),
        public: client.is_public(),
        redirect_uris: strings(&client.redirect_uris),
        post_logout_redirect_uris: strings(&client.post_logout_redirect_uris),
        grant_types: strings(&client.grant_types),
        scopes: vec![client.scopes.to_string()],
        skip_consent: !client.require_consent,
        audiences: strings(&client.audiences),
        resource_uri: client.resource_uri.as_ref().map(ToString::to_string),
        id_token_alg: client.id_token_alg.to_string(),
        access_token_ttl_secs: client.access_token_ttl_secs.map(i64::from),
        refresh_token_ttl_secs: client.refresh_token_ttl_secs.map(i64::from),
        min_level: Some(client.min_level.as_str().to_owned()),
    }
}

/// What was typed, as a spec without its lifetimes (see [`spec`]).
fn read(form: &FormData) -> ClientSpec {
    ClientSpec {
        name: form.get("name").to_owned(),
        public: form.get(CLIENT_TYPE) == ClientType::Public.as_str(),
        redirect_uris: form.lines("redirect_uris"),
        post_logout_redirect_uris: form.lines("post_logout_redirect_uris"),
        grant_types: form.all(GRANT_TYPE),
        scopes: vec![form.get("scopes").to_owned()],
        skip_consent: form.checked("skip_consent"),
        audiences: form.lines("audiences"),
        resource_uri: Some(form.get("resource_uri").to_owned()),
        id_token_alg: form.get("id_token_alg").to_owned(),
        access_token_ttl_secs: None,
        refresh_token_ttl_secs: None,
        min_level: Some(form.get("min_level").to_owned()),
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
    let spec = read(form);
    if spec.grant_types.is_empty() {
        return Err("choose at least one grant type".into());
    }
    Ok(ClientSpec {
        access_token_ttl_secs: seconds(form, ACCESS_TTL, "access token")?,
        refresh_token_ttl_secs: seconds(form, REFRESH_TTL, "refresh token")?,
        ..spec
    })
}
