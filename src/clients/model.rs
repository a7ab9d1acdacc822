//! The registered client as the rest of the code sees it: typed values, decoded once when its
//! row is read ([`ClientRow`] → [`Client`]), so no request re-parses a grant type or an
//! algorithm. It serializes (admin API, CLI listing) as the plain strings of the row.

use serde::Serialize;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::origin::WebOrigin;
use super::{Audience, ClientId, ClientType, GrantType, RedirectUri, ResourceUri};
use crate::acr::Level;
use crate::keys::Alg;
#[cfg(any(test, fuzzing))]
use crate::oauth::scope::Scope;
use crate::oauth::scope::Scopes;

/// A registered client. Serialized (for listings) without its secret hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Client {
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub name: String,
    #[schema(value_type = String)]
    pub client_type: ClientType,
    #[serde(skip_serializing)]
    #[schema(ignore)]
    pub secret_hash: Option<Vec<u8>>,
    #[schema(value_type = Vec<String>)]
    pub redirect_uris: Vec<RedirectUri>,
    #[schema(value_type = Vec<String>)]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    #[schema(value_type = Vec<String>)]
    pub grant_types: Vec<GrantType>,
    #[schema(value_type = Vec<String>)]
    pub scopes: Scopes,
    #[schema(value_type = Vec<String>)]
    pub audiences: Vec<Audience>,
    /// The resource server this client is (RFC 8707 URI): it may introspect tokens for it.
    #[schema(value_type = Option<String>)]
    pub resource_uri: Option<ResourceUri>,
    /// The origins of its redirect URIs, derived from them (for CORS).
    #[serde(skip_serializing)]
    #[schema(ignore)]
    pub web_origins: Vec<WebOrigin>,
    pub require_consent: bool,
    #[schema(value_type = String)]
    pub id_token_alg: Alg,
    pub access_token_ttl_secs: Option<i32>,
    pub refresh_token_ttl_secs: Option<i32>,
    /// The least a person must have signed in with to get a code for this client
    /// (`password`, `two-factor`, `phishing-resistant`).
    #[schema(value_type = String)]
    pub min_level: Level,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Roles of the client itself (a service account), released with the `roles` scope.
    pub roles: Vec<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The grant types, comma-separated (for listings).
    pub fn grant_list(&self) -> String {
        GrantType::join(&self.grant_types, ", ")
    }
}

/// A row of `clients` (with the client's roles) as stored: strings, checked by
/// [`Client::try_from`].
#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    name: String,
    client_type: String,
    secret_hash: Option<Vec<u8>>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    audiences: Vec<String>,
    resource_uri: Option<String>,
    web_origins: Vec<String>,
    require_consent: bool,
    id_token_alg: String,
    access_token_ttl_secs: Option<i32>,
    refresh_token_ttl_secs: Option<i32>,
    min_level: String,
    enabled: bool,
    created_at: OffsetDateTime,
    roles: Vec<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = String;

    fn try_from(row: ClientRow) -> Result<Client, String> {
        let uris = |raw: &[String]| -> Result<Vec<RedirectUri>, String> {
            raw.iter().map(|u| RedirectUri::parse(u)).collect()
        };
        Ok(Client {
            client_type: ClientType::parse(&row.client_type)?,
            redirect_uris: uris(&row.redirect_uris)?,
            post_logout_redirect_uris: uris(&row.post_logout_redirect_uris)?,
            grant_types: row
                .grant_types
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<_, _>>()?,
            scopes: Scopes::parse_all(&row.scopes)?,
            audiences: row
                .audiences
                .iter()
                .map(|a| Audience::parse(a))
                .collect::<Result<_, _>>()?,
            resource_uri: row
                .resource_uri
                .as_deref()
                .map(ResourceUri::parse)
                .transpose()?,
            web_origins: row
                .web_origins
                .iter()
                .map(|o| WebOrigin::parse(o))
                .collect::<Result<_, _>>()?,
            id_token_alg: Alg::parse(&row.id_token_alg)
                .ok_or_else(|| format!("`{}` is not a signing algorithm", row.id_token_alg))?,
            min_level: Level::parse(&row.min_level)
                .ok_or_else(|| format!("`{}` is not a sign-in level", row.min_level))?,
            client_id: ClientId::stored(row.client_id),
            name: row.name,
            secret_hash: row.secret_hash,
            require_consent: row.require_consent,
            access_token_ttl_secs: row.access_token_ttl_secs,
            refresh_token_ttl_secs: row.refresh_token_ttl_secs,
            enabled: row.enabled,
            created_at: row.created_at,
            roles: row.roles,
        })
    }
}

/// Every query of `clients` yields a typed [`Client`], or a decode error naming the client and
/// the column's problem.
impl<'r> sqlx::FromRow<'r, PgRow> for Client {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Client> {
        crate::storage::decode_row::<ClientRow, _>(row, |raw| format!("client {}", raw.client_id))
    }
}

/// A row as a confidential code-flow client `app` writes it, for unit tests and fuzz targets.
#[cfg(any(test, fuzzing))]
fn example_row() -> ClientRow {
    ClientRow {
        client_id: "app".into(),
        name: "App".into(),
        client_type: ClientType::Confidential.as_str().into(),
        secret_hash: Some(vec![0; 32]),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: GrantType::DEFAULT.map(|g| g.as_str().to_owned()).to_vec(),
        scopes: Scope::CLIENT_DEFAULT
            .map(|s| s.as_str().to_owned())
            .to_vec(),
        audiences: vec![],
        resource_uri: None,
        web_origins: vec!["https://app.example.com".into()],
        require_consent: true,
        id_token_alg: Alg::RS256.as_str().into(),
        access_token_ttl_secs: None,
        refresh_token_ttl_secs: None,
        min_level: Level::Password.as_str().into(),
        enabled: true,
        created_at: OffsetDateTime::UNIX_EPOCH,
        roles: vec![],
    }
}

/// The one client the unit tests and the fuzz targets (built with `--cfg fuzzing`) start from.
#[cfg(any(test, fuzzing))]
impl Client {
    /// A code-flow client `app` of `kind` (a confidential one has a secret): the default grant
    /// types and scopes, the redirect URI `https://app.example.com/cb`, consent required. A test
    /// changes what it is about: `Client { scopes, ..Client::sample(ClientType::Public) }`.
    #[allow(
        clippy::panic,
        reason = "a fixture only tests and fuzz targets build; a row it cannot decode is its own bug"
    )]
    pub fn sample(kind: ClientType) -> Client {
        let row = ClientRow {
            client_type: kind.as_str().into(),
            secret_hash: (kind == ClientType::Confidential).then(|| vec![0; 32]),
            ..example_row()
        };
        match Client::try_from(row) {
            Ok(client) => client,
            Err(e) => panic!("the sample row does not decode: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_decodes_into_typed_values_and_serializes_back_as_strings() {
        let row = ClientRow {
            client_type: "public".into(),
            secret_hash: None,
            scopes: vec![Scope::OPENID.to_string(), Scope::EMAIL.to_string()],
            id_token_alg: "ES256".into(),
            audiences: vec!["https://api.example.com".into()],
            resource_uri: Some("https://app.example.com/api".into()),
            min_level: "two-factor".into(),
            ..example_row()
        };
        let client = Client::try_from(row).unwrap();
        assert_eq!(client.min_level, Level::TwoFactor);
        assert!(client.is_public());
        assert!(client.allows_grant(GrantType::RefreshToken));
        assert!(!client.allows_grant(GrantType::ClientCredentials));
        assert_eq!(client.id_token_alg, Alg::ES256);
        assert_eq!(client.grant_list(), "authorization_code, refresh_token");
        let json = serde_json::to_value(&client).unwrap();
        assert_eq!(json["client_id"], "app");
        assert_eq!(json["client_type"], "public");
        assert_eq!(
            json["grant_types"],
            serde_json::json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(
            json["scopes"],
            serde_json::json!([Scope::OPENID.as_str(), Scope::EMAIL.as_str()])
        );
        assert_eq!(
            json["redirect_uris"],
            serde_json::json!(["https://app.example.com/cb"])
        );
        assert_eq!(json["id_token_alg"], "ES256");
        assert_eq!(
            json["audiences"],
            serde_json::json!(["https://api.example.com"])
        );
        assert_eq!(json["resource_uri"], "https://app.example.com/api");
        assert_eq!(json["min_level"], "two-factor");
        assert_eq!(client.web_origins[0].as_str(), "https://app.example.com");
        assert!(json.get("secret_hash").is_none() && json.get("web_origins").is_none());
    }

    #[test]
    fn a_row_with_a_value_the_code_does_not_know_is_refused() {
        let refused = [
            ClientRow {
                grant_types: vec!["password".into()],
                ..example_row()
            },
            ClientRow {
                id_token_alg: "HS256".into(),
                ..example_row()
            },
            ClientRow {
                client_type: "trusted".into(),
                ..example_row()
            },
            ClientRow {
                redirect_uris: vec!["https://app.example.com/*".into()],
                ..example_row()
            },
            ClientRow {
                audiences: vec!["api".into()],
                ..example_row()
            },
            ClientRow {
                resource_uri: Some("https://api.example.com/#x".into()),
                ..example_row()
            },
            ClientRow {
                web_origins: vec!["https://app.example.com/".into()],
                ..example_row()
            },
            ClientRow {
                min_level: "urn:portcullis:acr:mfa".into(),
                ..example_row()
            },
        ];
        for row in refused {
            let id = row.client_id.clone();
            assert!(Client::try_from(row).is_err(), "{id}");
        }
    }
}
